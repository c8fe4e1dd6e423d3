"""Numba kernels of the geometric LAEDs: coordination, bond lengths, bond angles.

Each kernel takes a batch's neighbour lists (``skdesc.neighbors.BatchNeighbors``:
CSR over the batch rows) and fills one row per atom of a zeroed output.  A
neighbour's "group" is 0 (all neighbours) or ``1 + element index`` for the
element-resolved blocks (``1 + pair index`` for angles).
"""

import numpy as np
from numba import njit


BOND_STATS = 5  # count, min, max, mean, std
ANGLE_STATS = 5  # count, mean, std, min, max

# The cos-theta bins are [lower - tol, upper - tol): symmetric structures put
# cosines exactly on the edges of equal bins (cos 60°, 90°, 120° with four
# bins), where the rounding of the positions (an equivalent cell, wrapping, a
# large shift: errors of about 1e-8) would decide the bin.  Such a tie goes
# to the upper bin, the one it belongs to in exact arithmetic.
COS_EDGE_TOLERANCE = 1e-6


@njit(cache=True, nogil=True)
def _switch(d, cutoff, width):
    """1 below ``cutoff - width``, a cosine taper to 0 at ``cutoff`` (1 everywhere for width 0)."""
    if width <= 0.0:
        return 1.0
    inner = cutoff - width
    if d <= inner:
        return 1.0
    return 0.5 * (np.cos(np.pi * (d - inner) / width) + 1.0)


@njit(cache=True, nogil=True)
def coordination_kernel(first, index, distances, species_index, per_element, cutoff, width, values):
    """Coordination number per atom: [all, per neighbour element...] (weighted by the switch)."""
    for i in range(first.shape[0] - 1):
        for p in range(first[i], first[i + 1]):
            w = _switch(distances[p], cutoff, width)
            values[i, 0] += w
            if per_element:
                values[i, 1 + species_index[index[p]]] += w


@njit(cache=True, nogil=True)
def bond_length_kernel(first, index, distances, species_index, n_species, per_element, values):
    """Bond-length statistics per atom and group: [count, min, max, mean, std] (Å; zeros without bonds)."""
    n_groups = 1 + n_species if per_element else 1
    count = np.empty(n_groups)
    total = np.empty(n_groups)
    lowest = np.empty(n_groups)
    highest = np.empty(n_groups)
    squares = np.empty(n_groups)
    for i in range(first.shape[0] - 1):
        count[:] = 0.0
        total[:] = 0.0
        squares[:] = 0.0
        lowest[:] = np.inf
        highest[:] = 0.0
        for p in range(first[i], first[i + 1]):
            d = distances[p]
            for g in (0, 1 + species_index[index[p]]):
                if g > 0 and not per_element:
                    break
                count[g] += 1.0
                total[g] += d
                lowest[g] = min(lowest[g], d)
                highest[g] = max(highest[g], d)
        # second pass for the spread: no cancellation for near-regular shells
        for p in range(first[i], first[i + 1]):
            d = distances[p]
            for g in (0, 1 + species_index[index[p]]):
                if g > 0 and not per_element:
                    break
                deviation = d - total[g] / count[g]
                squares[g] += deviation * deviation
        row = values[i]
        for g in range(n_groups):
            if count[g] == 0.0:
                continue
            k = g * BOND_STATS
            row[k] = count[g]
            row[k + 1] = lowest[g]
            row[k + 2] = highest[g]
            row[k + 3] = total[g] / count[g]
            row[k + 4] = np.sqrt(squares[g] / count[g])


@njit(cache=True, nogil=True)
def _pair_index(x, y, n_species):
    """Index of the unordered element pair (x, y) among n_species (n_species + 1) / 2."""
    if x > y:
        x, y = y, x
    return x * n_species - (x * (x - 1)) // 2 + (y - x)


@njit(cache=True, nogil=True)
def bond_angle_kernel(first, index, vectors, distances, species_index, n_species, per_pair, n_bins, values):
    """Bond-angle statistics per atom and group.

    Per group: [count, mean, std, min, max] of theta_jik in degrees over the
    unordered neighbour pairs j < k, then ``n_bins`` fractions of the pairs
    whose cos(theta) falls in equal bins over [-1, 1] (edges lowered by
    ``COS_EDGE_TOLERANCE``).  Zeros without pairs.
    """
    n_groups = 1 + (n_species * (n_species + 1)) // 2 if per_pair else 1
    width = ANGLE_STATS + n_bins
    count = np.empty(n_groups)
    total = np.empty(n_groups)
    squares = np.empty(n_groups)
    lowest = np.empty(n_groups)
    highest = np.empty(n_groups)
    to_degrees = 180.0 / np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    unit = np.empty((max_nbr, 3))
    element = np.empty(max_nbr, dtype=np.int64)
    max_pairs = (max_nbr * (max_nbr - 1)) // 2
    angle = np.empty(max_pairs)
    cosine = np.empty(max_pairs)
    group = np.empty(max_pairs, dtype=np.int64)
    for i in range(first.shape[0] - 1):
        n = first[i + 1] - first[i]
        for q in range(n):
            p = first[i] + q
            for k in range(3):
                unit[q, k] = vectors[p, k] / distances[p]
            element[q] = species_index[index[p]]
        n_pairs = 0
        for j in range(n):
            for k in range(j + 1, n):
                c = unit[j, 0] * unit[k, 0] + unit[j, 1] * unit[k, 1] + unit[j, 2] * unit[k, 2]
                # atan2(|u x v|, u . v) stays accurate near 0° and 180°, where arccos is ill-conditioned
                x = unit[j, 1] * unit[k, 2] - unit[j, 2] * unit[k, 1]
                y = unit[j, 2] * unit[k, 0] - unit[j, 0] * unit[k, 2]
                z = unit[j, 0] * unit[k, 1] - unit[j, 1] * unit[k, 0]
                angle[n_pairs] = np.arctan2(np.sqrt(x * x + y * y + z * z), c) * to_degrees
                cosine[n_pairs] = min(1.0, max(-1.0, c))
                group[n_pairs] = 1 + _pair_index(element[j], element[k], n_species) if per_pair else 0
                n_pairs += 1
        if n_pairs == 0:
            continue
        row = values[i]
        count[:] = 0.0
        total[:] = 0.0
        squares[:] = 0.0
        lowest[:] = np.inf
        highest[:] = 0.0
        for t in range(n_pairs):
            for g in (0, group[t]):
                count[g] += 1.0
                total[g] += angle[t]
                lowest[g] = min(lowest[g], angle[t])
                highest[g] = max(highest[g], angle[t])
                if n_bins > 0:
                    bin_ = min(int((cosine[t] + COS_EDGE_TOLERANCE + 1.0) * 0.5 * n_bins), n_bins - 1)
                    row[g * width + ANGLE_STATS + bin_] += 1.0
                if group[t] == 0:
                    break
        for t in range(n_pairs):
            for g in (0, group[t]):
                deviation = angle[t] - total[g] / count[g]
                squares[g] += deviation * deviation
                if group[t] == 0:
                    break
        for g in range(n_groups):
            if count[g] == 0.0:
                continue
            k = g * width
            row[k] = count[g]
            row[k + 1] = total[g] / count[g]
            row[k + 2] = np.sqrt(squares[g] / count[g])
            row[k + 3] = lowest[g]
            row[k + 4] = highest[g]
            for m in range(n_bins):
                row[k + ANGLE_STATS + m] /= count[g]
