"""Numba kernel of the Chebyshev descriptor's derivatives w.r.t. atomic positions."""

import numpy as np
from numba import njit

from ...neighbors import guarded_neighbor_list
from .pairs import centre_pairs, overlapping


@njit(cache=True, nogil=True)
def _add_series_gradient(dv, target, centre, start, x, dx, scale, dscale, order):
    """Gradient of ``scale * T_n(x)`` (n = 0..order) added to pair ``target``, subtracted from ``centre``.

    ``dx`` and ``dscale`` are the gradients (3,) of x and of scale with respect to
    the moving atom; ``T_n' `` follows from T_n' = 2 T_{n-1} + 2 x T'_{n-1} - T'_{n-2}.
    """
    t_prev = 0.0
    t_curr = 1.0
    dt_prev = 0.0
    dt_curr = 0.0
    for n in range(order + 1):
        if n == 1:
            t_prev, t_curr = t_curr, x
            dt_prev, dt_curr = dt_curr, 1.0
        elif n > 1:
            t_next = 2.0 * x * t_curr - t_prev
            dt_next = 2.0 * t_curr + 2.0 * x * dt_curr - dt_prev
            t_prev, t_curr = t_curr, t_next
            dt_prev, dt_curr = dt_curr, dt_next
        for c in range(3):
            g = dscale[c] * t_curr + scale * dt_curr * dx[c]
            dv[target, c, start + n] += g
            dv[centre, c, start + n] -= g


@njit(cache=True, nogil=True)
def chebyshev_derivatives_batch(
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
    pair_offsets,
):
    """Derivatives of the Chebyshev descriptor of every atom of a batch.

    ``pair_offsets`` (n_atoms + 1) comes from ``count_pairs`` with the larger
    cutoff.  Feature layout as in ``chebyshev_batch``.

    Returns
    -------
    atom : (n_pairs,) int64, batch row of the moved atom of each pair
    dvalues : (n_pairs, 3, n_features) float64, d x_centre / d r_atom in 1/Å
    """
    n_rad = rad_order + 1
    n_ang = ang_order + 1
    block = n_rad + n_ang
    n_features = 2 * block if weighted else block
    n_pairs = pair_offsets[-1]
    atom = np.empty(n_pairs, dtype=np.int64)
    dv = np.zeros((n_pairs, 3, n_features))
    cutoff = max(rad_cutoff, ang_cutoff)
    pi = np.pi
    dx = np.empty(3)
    dscale = np.empty(3)
    for s in range(offsets.shape[0] - 1):
        a = offsets[s]
        b = offsets[s + 1]
        first, nbr, vec, dist, _, shortest = guarded_neighbor_list(
            positions[a:b], cells[s], pbc[s], cutoff, min_distance
        )
        if overlapping(shortest, min_distance):
            for i in range(b - a):
                atom[pair_offsets[a + i]] = a + i
            continue
        n = b - a
        stamp = np.full(n, -1, dtype=np.int64)
        members = np.empty(n, dtype=np.int64)
        position = np.empty(n, dtype=np.int64)
        pair_of = np.empty(nbr.shape[0], dtype=np.int64)
        max_nbr = 0
        for i in range(n):
            max_nbr = max(max_nbr, first[i + 1] - first[i])
        unit = np.empty((max_nbr, 3))
        r_ang = np.empty(max_nbr)
        fc_ang = np.empty(max_nbr)
        dfc_ang = np.empty(max_nbr)
        w_ang = np.empty(max_nbr)
        pair_ang = np.empty(max_nbr, dtype=np.int64)
        for i in range(n):
            centre = centre_pairs(i, first, nbr, pair_offsets[a + i], a, stamp, members, position, atom, pair_of)
            n_sel = 0
            for p in range(first[i], first[i + 1]):
                d = dist[p]
                if d <= min_cutoff:
                    continue
                w = element_weight[species_index[a + nbr[p]]]
                target = pair_of[p]
                if d <= rad_cutoff:
                    fc = 0.5 * (np.cos(pi * d / rad_cutoff) + 1.0)
                    dfc = -0.5 * pi / rad_cutoff * np.sin(pi * d / rad_cutoff)
                    x = 2.0 * d / rad_cutoff - 1.0
                    for c in range(3):
                        u = vec[p, c] / d
                        dx[c] = 2.0 / rad_cutoff * u
                        dscale[c] = dfc * u
                    _add_series_gradient(dv, target, centre, 0, x, dx, fc, dscale, rad_order)
                    if weighted:
                        for c in range(3):
                            dscale[c] *= w
                        _add_series_gradient(dv, target, centre, block, x, dx, w * fc, dscale, rad_order)
                if d <= ang_cutoff:
                    for c in range(3):
                        unit[n_sel, c] = vec[p, c] / d
                    r_ang[n_sel] = d
                    fc_ang[n_sel] = 0.5 * (np.cos(pi * d / ang_cutoff) + 1.0)
                    dfc_ang[n_sel] = -0.5 * pi / ang_cutoff * np.sin(pi * d / ang_cutoff)
                    w_ang[n_sel] = w
                    pair_ang[n_sel] = target
                    n_sel += 1
            for j in range(n_sel):
                for k in range(j + 1, n_sel):
                    cos_t = unit[j, 0] * unit[k, 0] + unit[j, 1] * unit[k, 1] + unit[j, 2] * unit[k, 2]
                    cos_t = min(1.0, max(-1.0, cos_t))
                    f = fc_ang[j] * fc_ang[k]
                    ww = w_ang[j] * w_ang[k]
                    # moving neighbour j, then neighbour k
                    for side in range(2):
                        m = j if side == 0 else k
                        o = k if side == 0 else j
                        for c in range(3):
                            dx[c] = (unit[o, c] - cos_t * unit[m, c]) / r_ang[m]
                            dscale[c] = dfc_ang[m] * fc_ang[o] * unit[m, c]
                        _add_series_gradient(dv, pair_ang[m], centre, n_rad, cos_t, dx, f, dscale, ang_order)
                        if weighted:
                            for c in range(3):
                                dscale[c] *= ww
                            _add_series_gradient(
                                dv, pair_ang[m], centre, block + n_rad, cos_t, dx, ww * f, dscale, ang_order
                            )
    return atom, dv
