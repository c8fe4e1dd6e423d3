"""Numba kernel of the atom-centred symmetry functions (ACSF), their compressions and derivatives.

One kernel computes the values and, when asked, their position derivatives in
the same pass over the neighbour pairs: each radial term comes with its slope,
each angular term with its gradients along both neighbour vectors.
"""

import numpy as np
from numba import njit


# compression modes understood by the kernel
NU2 = 0  # full, element-pair resolved (dscribe's layout)
NU1MU1 = 1  # angular block per element: sum over the partner element
MU2 = 2  # element agnostic
WEIGHTED = 3  # element agnostic + element weighted (wACSF)


@njit(cache=True, nogil=True)
def pair_block(a, b):
    """Triangular index of the element pair {a, b}, in dscribe's order.

    ``(0,0), (0,1), (1,1), (0,2), (1,2), (2,2), ...``: the pair with larger
    index ``h`` and smaller index ``l`` sits at ``h (h + 1) / 2 + l``.
    """
    if a < b:
        return b * (b + 1) // 2 + a
    return a * (a + 1) // 2 + b


@njit(cache=True, nogil=True)
def n_acsf_features(n_rad, n_ang, n_species, mode, weighted_copy):
    """Length of the per-atom vector for a compression mode."""
    if mode == NU2:
        return n_rad * n_species + n_ang * (n_species * (n_species + 1) // 2)
    if mode == NU1MU1:
        return (n_rad + n_ang) * n_species
    if mode == MU2:
        return n_rad + n_ang
    block = n_rad + n_ang
    return 2 * block if weighted_copy else block


@njit(cache=True, nogil=True)
def _add(row, start, terms, scale):
    for q in range(terms.shape[0]):
        row[start + q] += scale * terms[q]


@njit(cache=True, nogil=True)
def _scatter(dv, target, centre, start, gradient, scale):
    """dv[target, :, start + q] += scale * gradient[q]; the centre gets minus that."""
    for q in range(gradient.shape[0]):
        for c in range(3):
            g = scale * gradient[q, c]
            dv[target, c, start + q] += g
            dv[centre, c, start + q] -= g


@njit(cache=True, nogil=True)
def _angular_gradients(vj, vk, rj, rk, fj, fk, dfj, dfk, r_cut, g4, g5, grad_j, grad_k, uj, uk, w_jk, dcos_j, dcos_k):
    """Gradients of the angular terms [G4..., G5...] of one neighbour pair along v_j and v_k (1/Å).

    With ``c = cos theta_jik = u_j . u_k`` and ``B = (1 + lambda c) / 2`` an
    angular term is ``2 B^zeta E F`` (E: Gaussians, F: cutoff functions); its
    gradient along v_j is ``2 (zeta B^(zeta-1) lambda/2 (u_k - c u_j)/r_j E F
    + B^zeta grad(E F))``, and G4's ``r_jk`` factors depend on v_k - v_j.
    """
    n_g4 = g4.shape[0]
    n_g5 = g5.shape[0]
    pi = np.pi
    for c in range(3):
        uj[c] = vj[c] / rj
        uk[c] = vk[c] / rk
        w_jk[c] = vk[c] - vj[c]
    cos_t = uj[0] * uk[0] + uj[1] * uk[1] + uj[2] * uk[2]
    cos_t = min(1.0, max(-1.0, cos_t))
    for c in range(3):
        dcos_j[c] = (uk[c] - cos_t * uj[c]) / rj
        dcos_k[c] = (uj[c] - cos_t * uk[c]) / rk
    # ln-derivatives of the cutoff product along u_j and u_k
    lfj = dfj / fj if fj > 0.0 else 0.0
    lfk = dfk / fk if fk > 0.0 else 0.0
    f_jk = fj * fk
    r_jk = np.sqrt(w_jk[0] ** 2 + w_jk[1] ** 2 + w_jk[2] ** 2)
    for q in range(n_g4 + n_g5):
        if q < n_g4:
            eta, zeta, lam = g4[q, 0], g4[q, 1], g4[q, 2]
            if r_jk >= r_cut:
                for c in range(3):
                    grad_j[q, c] = 0.0
                    grad_k[q, c] = 0.0
                continue
            f3 = 0.5 * (np.cos(pi * r_jk / r_cut) + 1.0)
            df3 = -0.5 * pi / r_cut * np.sin(pi * r_jk / r_cut)
            radial = np.exp(-eta * (rj * rj + rk * rk + r_jk * r_jk)) * f_jk * f3
        else:
            eta, zeta, lam = g5[q - n_g4, 0], g5[q - n_g4, 1], g5[q - n_g4, 2]
            radial = np.exp(-eta * (rj * rj + rk * rk)) * f_jk
        base = 0.5 * (1.0 + lam * cos_t)
        power = base**zeta
        # base < 0 only with |lambda| > 1 and an integer zeta; at base = 0 the
        # slope is finite for zeta >= 1 (0^0 = 1) and taken as 0 below
        if base != 0.0 or zeta >= 1.0:
            dpower = zeta * base ** (zeta - 1.0) * 0.5 * lam
        else:
            dpower = 0.0
        # d radial / d v_j = radial * (ln-derivative along u_j) (+ r_jk part for G4)
        along_j = -2.0 * eta * rj + lfj
        along_k = -2.0 * eta * rk + lfk
        dr_scale = 0.0
        if q < n_g4:
            e_jk = np.exp(-eta * (rj * rj + rk * rk + r_jk * r_jk)) * f_jk
            dr_scale = power * e_jk * (-2.0 * eta * r_jk * f3 + df3) / r_jk
        for c in range(3):
            gj = dpower * dcos_j[c] * radial + power * radial * along_j * uj[c]
            gk = dpower * dcos_k[c] * radial + power * radial * along_k * uk[c]
            if q < n_g4:
                # r_jk = |v_k - v_j|: d/dv_k = +w/r_jk, d/dv_j = -w/r_jk
                dr = dr_scale * w_jk[c]
                gj -= dr
                gk += dr
            grad_j[q, c] = 2.0 * gj
            grad_k[q, c] = 2.0 * gk


@njit(cache=True, nogil=True)
def acsf_kernel(
    first,
    index,
    vectors,
    distances,
    species_index,
    r_cut,
    g2,
    g3,
    g4,
    g5,
    n_species,
    mode,
    element_weight,
    weighted_copy,
    values,
    gradients,
    pair_of_entry,
    own_pair,
    dv,
):
    """ACSF of every atom of a batch and, with ``gradients``, their position derivatives.

    Parameters
    ----------
    first, index, vectors, distances
        The CSR lists (cutoff ``r_cut``) of ``skdesc.neighbors.BatchNeighbors``.
    g2 : (n_g2, 2) float64, rows (eta [Å^-2], R_s [Å])
    g3 : (n_g3,) float64, kappa [Å^-1]
    g4, g5 : (n_g4, 3), (n_g5, 3) float64, rows (eta [Å^-2], zeta, lambda)
    mode : int, one of NU2, NU1MU1, MU2, WEIGHTED
    element_weight : (n_species,) float64, used by WEIGHTED only
    weighted_copy : bool, WEIGHTED only: append the element-weighted block
    values : (n_atoms, n_features) float64, zeroed, filled
    gradients : bool, whether to fill ``dv``
    pair_of_entry, own_pair : int64
        The derivative pairs of each neighbour entry and of each centre
        (``skdesc.neighbors.DerivativePairs``); unused without ``gradients``.
    dv : (n_pairs, 3, n_features) float64, zeroed
        ``d x_centre / d r_atom`` in 1/Å; unused without ``gradients``.

    Per neighbour j the radial terms are ``[G1, G2..., G3...]``, per unordered
    neighbour pair {j, k} the angular terms are ``[G4..., G5...]``; the mode
    decides where they are added (see ``skdesc.ACSF``).
    """
    n_g2 = g2.shape[0]
    n_g3 = g3.shape[0]
    n_g4 = g4.shape[0]
    n_g5 = g5.shape[0]
    n_rad = 1 + n_g2 + n_g3
    n_ang = n_g4 + n_g5
    block = n_rad + n_ang  # start of the weighted copy (WEIGHTED)
    ang_base = n_rad * n_species if (mode == NU2 or mode == NU1MU1) else n_rad
    rad = np.empty(n_rad)
    ang = np.empty(n_ang)
    slope = np.empty(n_rad)
    rad_grad = np.empty((n_rad, 3))
    grad_j = np.empty((n_ang, 3))
    grad_k = np.empty((n_ang, 3))
    uj = np.empty(3)
    uk = np.empty(3)
    w_jk = np.empty(3)
    dcos_j = np.empty(3)
    dcos_k = np.empty(3)
    pi = np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    # per-centre scratch for the angular terms
    nb_vec = np.empty((max_nbr, 3))
    nb_r = np.empty(max_nbr)
    nb_fc = np.empty(max_nbr)
    nb_dfc = np.empty(max_nbr)
    nb_sp = np.empty(max_nbr, dtype=np.int64)
    nb_w = np.empty(max_nbr)
    nb_pair = np.empty(max_nbr, dtype=np.int64)
    # exp(-eta r_ij^2) per neighbour and G4 / G5 parameter
    e4 = np.empty((max_nbr, n_g4))
    e5 = np.empty((max_nbr, n_g5))
    for i in range(first.shape[0] - 1):
        row = values[i]
        centre = own_pair[i] if gradients else 0
        m = 0
        for p in range(first[i], first[i + 1]):
            d = distances[p]
            fc = 0.5 * (np.cos(pi * d / r_cut) + 1.0)
            sj = species_index[index[p]]
            rad[0] = fc
            for q in range(n_g2):
                x = d - g2[q, 1]
                rad[1 + q] = np.exp(-g2[q, 0] * x * x) * fc
            for q in range(n_g3):
                rad[1 + n_g2 + q] = np.cos(g3[q] * d) * fc
            if mode == NU2 or mode == NU1MU1:
                _add(row, sj * n_rad, rad, 1.0)
            else:
                _add(row, 0, rad, 1.0)
                if mode == WEIGHTED and weighted_copy:
                    _add(row, block, rad, element_weight[sj])
            dfc = 0.0
            if gradients:
                # radial terms g(d): gradient g'(d) u
                dfc = -0.5 * pi / r_cut * np.sin(pi * d / r_cut)
                slope[0] = dfc
                for q in range(n_g2):
                    x = d - g2[q, 1]
                    e = np.exp(-g2[q, 0] * x * x)
                    slope[1 + q] = e * (dfc - 2.0 * g2[q, 0] * x * fc)
                for q in range(n_g3):
                    slope[1 + n_g2 + q] = np.cos(g3[q] * d) * dfc - g3[q] * np.sin(g3[q] * d) * fc
                for q in range(n_rad):
                    for c in range(3):
                        rad_grad[q, c] = slope[q] * vectors[p, c] / d
                target = pair_of_entry[p]
                if mode == NU2 or mode == NU1MU1:
                    _scatter(dv, target, centre, sj * n_rad, rad_grad, 1.0)
                else:
                    _scatter(dv, target, centre, 0, rad_grad, 1.0)
                    if mode == WEIGHTED and weighted_copy:
                        _scatter(dv, target, centre, block, rad_grad, element_weight[sj])
            if n_ang > 0:
                for k in range(3):
                    nb_vec[m, k] = vectors[p, k]
                nb_r[m] = d
                nb_fc[m] = fc
                nb_dfc[m] = dfc
                nb_sp[m] = sj
                nb_w[m] = element_weight[sj]
                nb_pair[m] = pair_of_entry[p] if gradients else 0
                for q in range(n_g4):
                    e4[m, q] = np.exp(-g4[q, 0] * d * d)
                for q in range(n_g5):
                    e5[m, q] = np.exp(-g5[q, 0] * d * d)
                m += 1
        for j in range(m):
            for k in range(j + 1, m):
                dx = nb_vec[k, 0] - nb_vec[j, 0]
                dy = nb_vec[k, 1] - nb_vec[j, 1]
                dz = nb_vec[k, 2] - nb_vec[j, 2]
                r_jk2 = dx * dx + dy * dy + dz * dz
                cos_t = (
                    nb_vec[j, 0] * nb_vec[k, 0] + nb_vec[j, 1] * nb_vec[k, 1] + nb_vec[j, 2] * nb_vec[k, 2]
                ) / (nb_r[j] * nb_r[k])
                cos_t = min(1.0, max(-1.0, cos_t))
                f_jk = nb_fc[j] * nb_fc[k]
                if n_g4 > 0:
                    r_jk = np.sqrt(r_jk2)
                    if r_jk < r_cut:
                        f4 = f_jk * 0.5 * (np.cos(pi * r_jk / r_cut) + 1.0)
                        for q in range(n_g4):
                            base = 0.5 * (1.0 + g4[q, 2] * cos_t)
                            ang[q] = (
                                2.0 * base ** g4[q, 1] * e4[j, q] * e4[k, q] * np.exp(-g4[q, 0] * r_jk2) * f4
                            )
                    else:
                        for q in range(n_g4):
                            ang[q] = 0.0
                for q in range(n_g5):
                    base = 0.5 * (1.0 + g5[q, 2] * cos_t)
                    ang[n_g4 + q] = 2.0 * base ** g5[q, 1] * e5[j, q] * e5[k, q] * f_jk
                sj = nb_sp[j]
                sk = nb_sp[k]
                if mode == NU2:
                    _add(row, ang_base + pair_block(sj, sk) * n_ang, ang, 1.0)
                elif mode == NU1MU1:
                    _add(row, ang_base + sj * n_ang, ang, 1.0)
                    if sk != sj:
                        _add(row, ang_base + sk * n_ang, ang, 1.0)
                else:
                    _add(row, ang_base, ang, 1.0)
                    if mode == WEIGHTED and weighted_copy:
                        _add(row, block + n_rad, ang, nb_w[j] * nb_w[k])
                if not gradients:
                    continue
                _angular_gradients(
                    nb_vec[j], nb_vec[k], nb_r[j], nb_r[k], nb_fc[j], nb_fc[k], nb_dfc[j], nb_dfc[k],
                    r_cut, g4, g5, grad_j, grad_k, uj, uk, w_jk, dcos_j, dcos_k,
                )
                tj = nb_pair[j]
                tk = nb_pair[k]
                if mode == NU2:
                    offset = ang_base + pair_block(sj, sk) * n_ang
                    _scatter(dv, tj, centre, offset, grad_j, 1.0)
                    _scatter(dv, tk, centre, offset, grad_k, 1.0)
                elif mode == NU1MU1:
                    _scatter(dv, tj, centre, ang_base + sj * n_ang, grad_j, 1.0)
                    _scatter(dv, tk, centre, ang_base + sj * n_ang, grad_k, 1.0)
                    if sk != sj:
                        _scatter(dv, tj, centre, ang_base + sk * n_ang, grad_j, 1.0)
                        _scatter(dv, tk, centre, ang_base + sk * n_ang, grad_k, 1.0)
                else:
                    _scatter(dv, tj, centre, ang_base, grad_j, 1.0)
                    _scatter(dv, tk, centre, ang_base, grad_k, 1.0)
                    if mode == WEIGHTED and weighted_copy:
                        ww = nb_w[j] * nb_w[k]
                        _scatter(dv, tj, centre, block + n_rad, grad_j, ww)
                        _scatter(dv, tk, centre, block + n_rad, grad_k, ww)
