"""Neighbour lists: the stage between structures and local descriptors.

:func:`neighbor_list` searches one structure (public API).  The local
descriptors call the batch stage, :func:`batch_neighbor_lists`, once per
batch of structures and hand its CSR arrays to their kernels.
"""

from ._batch import BatchNeighbors, DerivativePairs, batch_neighbor_lists, derivative_pairs
from ._search import NeighborList, estimate_neighbors, guarded_neighbor_list, neighbor_list

__all__ = ["NeighborList", "estimate_neighbors", "neighbor_list"]
