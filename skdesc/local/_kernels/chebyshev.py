"""Numba kernel of the Artrith-Urban Chebyshev descriptor."""

import numpy as np
from numba import njit

from ...neighbors import guarded_neighbor_list
from .pairs import overlapping


@njit(cache=True, nogil=True)
def _add_chebyshev(row, start, x, scale, order):
    """row[start + n] += scale * T_n(x) for n = 0..order (three-term recurrence)."""
    t_prev = 1.0
    row[start] += scale
    if order == 0:
        return
    t_curr = x
    row[start + 1] += scale * x
    for n in range(2, order + 1):
        t_next = 2.0 * x * t_curr - t_prev
        row[start + n] += scale * t_next
        t_prev = t_curr
        t_curr = t_next


@njit(cache=True, nogil=True)
def chebyshev_batch(
    positions,
    species_index,
    offsets,
    cells,
    pbc,
    element_weight,
    rad_cutoff,
    rad_order,
    ang_cutoff,
    ang_order,
    min_cutoff,
    weighted,
    min_distance,
):
    """Chebyshev descriptor of every atom of a batch of structures.

    Layout per atom: [radial T_0..T_R, angular T_0..T_A] and, if ``weighted``,
    the same again with neighbour weights (radial: w_j; angular: w_j w_k).

    Returns
    -------
    values : (n_atoms, n_features) float64
    shortest : (n_frames,) float64, shortest interatomic distance per frame
        (frames with atoms closer than ``min_distance`` are left at zero)
    """
    n_rad = rad_order + 1
    n_ang = ang_order + 1
    block = n_rad + n_ang
    n_features = 2 * block if weighted else block
    n_frames = offsets.shape[0] - 1
    values = np.zeros((positions.shape[0], n_features))
    shortest = np.empty(n_frames)
    cutoff = max(rad_cutoff, ang_cutoff)
    pi = np.pi
    for s in range(n_frames):
        a = offsets[s]
        b = offsets[s + 1]
        first, nbr, vec, dist, _, shortest[s] = guarded_neighbor_list(
            positions[a:b], cells[s], pbc[s], cutoff, min_distance
        )
        if overlapping(shortest[s], min_distance):
            continue
        max_nbr = 0
        for i in range(b - a):
            max_nbr = max(max_nbr, first[i + 1] - first[i])
        # per-centre scratch for the angular neighbours
        unit = np.empty((max_nbr, 3))
        fc_ang = np.empty(max_nbr)
        w_ang = np.empty(max_nbr)
        for i in range(b - a):
            row = values[a + i]
            n_sel = 0
            for p in range(first[i], first[i + 1]):
                d = dist[p]
                if d <= min_cutoff:
                    continue
                w = element_weight[species_index[a + nbr[p]]]
                if d <= rad_cutoff:
                    fc = 0.5 * (np.cos(pi * d / rad_cutoff) + 1.0)
                    x = 2.0 * d / rad_cutoff - 1.0
                    _add_chebyshev(row, 0, x, fc, rad_order)
                    if weighted:
                        _add_chebyshev(row, block, x, w * fc, rad_order)
                if d <= ang_cutoff:
                    for k in range(3):
                        unit[n_sel, k] = vec[p, k] / d
                    fc_ang[n_sel] = 0.5 * (np.cos(pi * d / ang_cutoff) + 1.0)
                    w_ang[n_sel] = w
                    n_sel += 1
            for j in range(n_sel):
                for k in range(j + 1, n_sel):
                    cos_t = unit[j, 0] * unit[k, 0] + unit[j, 1] * unit[k, 1] + unit[j, 2] * unit[k, 2]
                    cos_t = min(1.0, max(-1.0, cos_t))
                    f = fc_ang[j] * fc_ang[k]
                    _add_chebyshev(row, n_rad, cos_t, f, ang_order)
                    if weighted:
                        _add_chebyshev(row, block + n_rad, cos_t, w_ang[j] * w_ang[k] * f, ang_order)
    return values, shortest
