"""The neighbour stage: the neighbour lists of a batch of structures, built once.

A local descriptor's batch is many structures flattened into one array of
atoms (rows).  :func:`batch_neighbor_lists` searches each structure once and
concatenates the lists into one CSR layout over the batch rows, which every
kernel of the descriptor (values, gradients) then reads; the shortest
interatomic distance of each structure comes with it, so the overlap check
happens once, in the estimator, before any kernel runs.
:func:`derivative_pairs` adds, on request, the layout of the position
derivatives: for each centre, the distinct atoms it depends on.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from ._search import _batch_arrays, _cell_geometry, _search_lists

__all__ = ["BatchNeighbors", "batch_neighbor_lists", "derivative_pairs"]


class BatchNeighbors(NamedTuple):
    """Neighbour lists of a batch of structures, in one CSR layout over the batch rows.

    Attributes
    ----------
    first : ndarray of shape (n_atoms + 1,), int64
        The neighbours of row ``i`` are entries ``first[i]:first[i + 1]``.
    index : ndarray of shape (n_entries,), int64
        Batch row of each neighbour (an atom of the same structure).
    vectors : ndarray of shape (n_entries, 3), float64
        Vector from the centre to the neighbour's image, in Å.
    distances : ndarray of shape (n_entries,), float64
        Length of ``vectors``, in Å.
    shifts : ndarray of shape (n_entries, 3), int64
        Integer image shift of each entry.
    shortest : ndarray of shape (n_structures,), float64
        Shortest interatomic distance of each structure, in Å (``inf`` if none
        within the cutoff).  A structure with atoms closer than
        ``min_distance`` has no entries.
    half : ndarray of shape (n_structures,), bool
        Whether the structure's list is a half list (each pair once, see
        :func:`~skdesc.neighbors.guarded_neighbor_list`).
    """

    first: np.ndarray
    index: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    shifts: np.ndarray
    shortest: np.ndarray
    half: np.ndarray


class DerivativePairs(NamedTuple):
    """Layout of position derivatives: one (centre, atom) pair per atom a centre depends on.

    The atoms of a centre are itself and every atom with an image among its
    neighbours (images summed), in ascending row order.

    Attributes
    ----------
    first : ndarray of shape (n_atoms + 1,), int64
        The pairs of centre ``i`` are ``first[i]:first[i + 1]``.
    atom : ndarray of shape (n_pairs,), int64
        Batch row of the moved atom of each pair.
    of_entry : ndarray of shape (n_entries,), int64
        Pair of each neighbour-list entry (its centre and its atom).
    own : ndarray of shape (n_atoms,), int64
        Pair of each centre with itself.
    """

    first: np.ndarray
    atom: np.ndarray
    of_entry: np.ndarray
    own: np.ndarray


def batch_neighbor_lists(positions, offsets, cells, pbc, cutoff, min_distance, half_below=0, expected=None):
    """Neighbour lists of a batch of structures, searched once per structure.

    Parameters
    ----------
    positions : ndarray of shape (n_atoms, 3), float64
        Cartesian positions of all structures, in Å.
    offsets : ndarray of shape (n_structures + 1,), int64
        Rows ``offsets[s]:offsets[s + 1]`` are structure ``s``.
    cells : ndarray of shape (n_structures, 3, 3), float64
        Lattice vectors as rows, in Å.
    pbc : ndarray of shape (n_structures, 3), bool
        Periodicity of each structure.
    cutoff : float
        Neighbours closer than this are listed, in Å.
    min_distance : float
        Structures with atoms closer than this (Å) get no entries; their
        ``shortest`` distance tells the caller to refuse them.
    half_below : int, default=0
        Structures of at most this many atoms get half lists (each pair once).
    expected : ndarray of shape (n_structures,), float64, optional
        Expected neighbours per atom of each structure at ``cutoff``, from
        :func:`~skdesc.neighbors.estimate_neighbors`, to size the lists'
        buffers (computed here if not given; it only affects speed).

    Returns
    -------
    BatchNeighbors
    """
    positions, offsets, cells, pbc = _batch_arrays(positions, offsets, cells, pbc)
    half = np.diff(offsets) <= half_below
    geometry = _cell_geometry(cells, pbc)
    lists = _search_lists(positions, offsets, pbc, geometry, float(cutoff), float(min_distance), half, False, expected)
    return BatchNeighbors(*lists, half)


@njit(cache=True, nogil=True)
def _insertion_sort(values, count):
    for k in range(1, count):
        v = values[k]
        m = k - 1
        while m >= 0 and values[m] > v:
            values[m + 1] = values[m]
            m -= 1
        values[m + 1] = v


@njit(cache=True, nogil=True)
def _derivative_pairs(first, index):
    n_atoms = first.shape[0] - 1
    counts = np.ones(n_atoms, dtype=np.int64)
    stamp = np.empty(n_atoms, dtype=np.int64)
    for i in range(n_atoms):
        stamp[i] = -1
    for i in range(n_atoms):
        stamp[i] = i
        for p in range(first[i], first[i + 1]):
            j = index[p]
            if stamp[j] != i:
                stamp[j] = i
                counts[i] += 1
    pair_first = np.zeros(n_atoms + 1, dtype=np.int64)
    for i in range(n_atoms):
        pair_first[i + 1] = pair_first[i] + counts[i]
    atom = np.empty(pair_first[n_atoms], dtype=np.int64)
    of_entry = np.empty(index.shape[0], dtype=np.int64)
    own = np.empty(n_atoms, dtype=np.int64)
    position = np.empty(n_atoms, dtype=np.int64)
    for i in range(n_atoms):
        stamp[i] = -1
    for i in range(n_atoms):
        base = pair_first[i]
        members = atom[base : pair_first[i + 1]]
        count = 1
        members[0] = i
        stamp[i] = n_atoms + i  # a mark no other centre uses
        for p in range(first[i], first[i + 1]):
            j = index[p]
            if stamp[j] != n_atoms + i:
                stamp[j] = n_atoms + i
                members[count] = j
                count += 1
        _insertion_sort(members, count)
        for k in range(count):
            position[members[k]] = base + k
        own[i] = position[i]
        for p in range(first[i], first[i + 1]):
            of_entry[p] = position[index[p]]
    return pair_first, atom, of_entry, own


def derivative_pairs(neighbors):
    """The (centre, atom) pairs of a batch's position derivatives, from its full neighbour lists.

    Parameters
    ----------
    neighbors : BatchNeighbors
        Full lists (``half`` all False).
    Returns
    -------
    DerivativePairs
    """
    if neighbors.half.any():
        raise ValueError("derivative pairs need full neighbour lists, not half lists")
    return DerivativePairs(*_derivative_pairs(neighbors.first, neighbors.index))
