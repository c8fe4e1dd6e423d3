"""Numba kernel of the Artrith-Urban Chebyshev descriptor and its position derivatives.

One kernel gives the values and, on request, the gradients: each neighbour
term evaluates the Chebyshev series together with its slope
(T_n' = 2 T_{n-1} + 2 x T'_{n-1} - T'_{n-2}), so values and gradients come
from the same arithmetic, and the values are the same with or without them.
Without gradients only the values' recurrence runs (``_add_values``): the
slope terms cost as much again.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _add_values(row, start, x, scale, order):
    """row[start + n] += scale * T_n(x) for n = 0..order (the values-only path, without slopes)."""
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
def _add_series(row, add_values, dv, target, centre, start, x, dx, scale, dscale, order):
    """Add the gradient of ``scale * T_n(x)`` (n = 0..order) and, if ``add_values``, the values to ``row[start + n]``.

    The gradient, ``dscale T_n + scale T_n' dx`` with the (3,) gradients
    ``dx``, ``dscale`` of x and scale w.r.t. the moving atom, is added to
    derivative pair ``target`` and subtracted from the centre's own pair.
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
        if add_values:
            row[start + n] += scale * t_curr
        for c in range(3):
            g = dscale[c] * t_curr + scale * dt_curr * dx[c]
            dv[target, c, start + n] += g
            dv[centre, c, start + n] -= g


@njit(cache=True, nogil=True)
def chebyshev_kernel(
    first,
    index,
    vectors,
    distances,
    species_index,
    element_weight,
    rad_cutoff,
    rad_order,
    ang_cutoff,
    ang_order,
    min_cutoff,
    weighted,
    values,
    gradients,
    pair_of_entry,
    own_pair,
    dvalues,
):
    """Chebyshev descriptor of every atom of a batch and, if ``gradients``, its position derivatives.

    Layout per atom: [radial T_0..T_R, angular T_0..T_A] and, if ``weighted``,
    the same again with neighbour weights (radial: w_j; angular: w_j w_k).

    Parameters
    ----------
    first, index, vectors, distances
        The batch's CSR neighbour list (``BatchNeighbors``), cutoff at least
        ``max(rad_cutoff, ang_cutoff)``.
    values : (n_atoms, n_features) float64, zeroed; filled.
    gradients : bool
    pair_of_entry, own_pair, dvalues
        With ``gradients``: the derivative pair of each neighbour entry and of
        each centre with itself (``DerivativePairs``), and the zeroed
        (n_pairs, 3, n_features) output ``d x_centre / d r_atom`` in 1/Å.
        Otherwise ignored (pass empty arrays).
    """
    n_rad = rad_order + 1
    block = n_rad + ang_order + 1
    pi = np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    # per-centre scratch for the angular neighbours
    unit = np.empty((max_nbr, 3))
    r_ang = np.empty(max_nbr)
    fc_ang = np.empty(max_nbr)
    dfc_ang = np.empty(max_nbr)
    w_ang = np.empty(max_nbr)
    pair_ang = np.zeros(max_nbr, dtype=np.int64)
    dx = np.zeros(3)
    dscale = np.zeros(3)
    centre = 0
    target = 0
    for i in range(first.shape[0] - 1):
        row = values[i]
        if gradients:
            centre = own_pair[i]
        n_sel = 0
        for p in range(first[i], first[i + 1]):
            d = distances[p]
            if d <= min_cutoff:
                continue
            w = element_weight[species_index[index[p]]]
            if gradients:
                target = pair_of_entry[p]
            if d <= rad_cutoff:
                fc = 0.5 * (np.cos(pi * d / rad_cutoff) + 1.0)
                x = 2.0 * d / rad_cutoff - 1.0
                if gradients:
                    dfc = -0.5 * pi / rad_cutoff * np.sin(pi * d / rad_cutoff)
                    for c in range(3):
                        u = vectors[p, c] / d
                        dx[c] = 2.0 / rad_cutoff * u
                        dscale[c] = dfc * u
                if not gradients:
                    _add_values(row, 0, x, fc, rad_order)
                    if weighted:
                        _add_values(row, block, x, w * fc, rad_order)
                else:
                    _add_series(row, True, dvalues, target, centre, 0, x, dx, fc, dscale, rad_order)
                    if weighted:
                        for c in range(3):
                            dscale[c] *= w
                        _add_series(row, True, dvalues, target, centre, block, x, dx, w * fc, dscale, rad_order)
            if d <= ang_cutoff:
                for c in range(3):
                    unit[n_sel, c] = vectors[p, c] / d
                r_ang[n_sel] = d
                fc_ang[n_sel] = 0.5 * (np.cos(pi * d / ang_cutoff) + 1.0)
                if gradients:
                    dfc_ang[n_sel] = -0.5 * pi / ang_cutoff * np.sin(pi * d / ang_cutoff)
                    pair_ang[n_sel] = target
                w_ang[n_sel] = w
                n_sel += 1
        for j in range(n_sel):
            for k in range(j + 1, n_sel):
                cos_t = unit[j, 0] * unit[k, 0] + unit[j, 1] * unit[k, 1] + unit[j, 2] * unit[k, 2]
                cos_t = min(1.0, max(-1.0, cos_t))
                f = fc_ang[j] * fc_ang[k]
                ww = w_ang[j] * w_ang[k]
                if not gradients:
                    _add_values(row, n_rad, cos_t, f, ang_order)
                    if weighted:
                        _add_values(row, block + n_rad, cos_t, ww * f, ang_order)
                    continue
                # moving neighbour j (which also adds the values), then neighbour k
                for side in range(2):
                    m = j if side == 0 else k
                    o = k if side == 0 else j
                    for c in range(3):
                        dx[c] = (unit[o, c] - cos_t * unit[m, c]) / r_ang[m]
                        dscale[c] = dfc_ang[m] * fc_ang[o] * unit[m, c]
                    _add_series(row, side == 0, dvalues, pair_ang[m], centre, n_rad, cos_t, dx, f, dscale, ang_order)
                    if weighted:
                        for c in range(3):
                            dscale[c] *= ww
                        _add_series(
                            row, side == 0, dvalues, pair_ang[m], centre, block + n_rad, cos_t, dx, ww * f, dscale,
                            ang_order,
                        )
