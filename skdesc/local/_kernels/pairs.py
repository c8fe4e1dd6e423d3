"""Numba helpers for the (centre, atom) pair layout of descriptor derivatives.

A centre's descriptor depends on itself and on every atom with an image inside
its cutoff.  Each such atom gets one "pair" (images summed), listed in
ascending atom order, the centre included.
"""

import numpy as np
from numba import njit



@njit(cache=True, nogil=True)
def overlapping(shortest, min_distance):
    """Whether a frame whose shortest interatomic distance is ``shortest`` (Å) has overlapping atoms.

    Atoms closer than ``min_distance`` overlap, and so do coincident atoms
    (distance 0) whatever ``min_distance``: no descriptor is defined for them
    (unit vectors and 1/r terms), so even ``min_distance=0`` rejects them.
    """
    return shortest < min_distance or shortest <= 0.0


@njit(cache=True, nogil=True)
def centre_pairs(i, first, nbr, base, a0, stamp, members, position, atom_out, pair_of):
    """Fill the pairs of local centre ``i`` starting at global pair ``base``.

    Writes ``atom_out[base + k]`` (global atom rows, ascending, ``a0`` is the
    frame's first row) and ``pair_of[p]`` (pair of neighbour entry ``p``);
    ``stamp``, ``members`` and ``position`` are scratch arrays of the frame's
    size (``stamp`` must hold no value equal to ``i`` on entry).

    Returns
    -------
    int : the centre's own pair index
    """
    count = 0
    stamp[i] = i
    members[count] = i
    count += 1
    for p in range(first[i], first[i + 1]):
        j = nbr[p]
        if stamp[j] != i:
            stamp[j] = i
            members[count] = j
            count += 1
    ordered = np.sort(members[:count])
    for k in range(count):
        position[ordered[k]] = k
        atom_out[base + k] = a0 + ordered[k]
    for p in range(first[i], first[i + 1]):
        pair_of[p] = base + position[nbr[p]]
    return base + position[i]
