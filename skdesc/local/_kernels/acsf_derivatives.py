"""Numba kernel of the ACSF derivatives w.r.t. atomic positions (all compressions)."""

import numpy as np
from numba import njit

from .acsf import NU1MU1, NU2, WEIGHTED, n_acsf_features, pair_block


@njit(cache=True, nogil=True)
def _scatter(dv, target, centre, start, gradient, scale):
    """dv[target, :, start + q] += scale * gradient[q]; the centre gets minus that."""
    for q in range(gradient.shape[0]):
        for c in range(3):
            g = scale * gradient[q, c]
            dv[target, c, start + q] += g
            dv[centre, c, start + q] -= g


@njit(cache=True, nogil=True)
def acsf_derivatives_kernel(
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
    pair_of_entry,
    own_pair,
    dv,
):
    """Derivatives of the ACSF of every atom of a batch (arguments as ``acsf_kernel``).

    With ``c = cos theta_jik = u_j . u_k`` and ``B = (1 + lambda c) / 2`` an
    angular term is ``2 B^zeta E F`` (E: Gaussians, F: cutoff functions); its
    gradient w.r.t. the neighbour vector v_j is
    ``2 (zeta B^(zeta-1) lambda/2 (u_k - c u_j)/r_j E F + B^zeta grad(E F))``,
    and G4's ``r_jk`` factors depend on v_k - v_j.

    ``pair_of_entry`` and ``own_pair`` are the derivative pairs of each
    neighbour entry and of each centre (``skdesc.neighbors.DerivativePairs``);
    ``dv`` (n_pairs, 3, n_features) float64 is zeroed and filled with
    ``d x_centre / d r_atom`` in 1/Å.
    """
    n_g2 = g2.shape[0]
    n_g3 = g3.shape[0]
    n_g4 = g4.shape[0]
    n_g5 = g5.shape[0]
    n_rad = 1 + n_g2 + n_g3
    n_ang = n_g4 + n_g5
    n_features = n_acsf_features(n_rad, n_ang, n_species, mode, weighted_copy)
    block = n_rad + n_ang
    ang_base = n_rad * n_species if (mode == NU2 or mode == NU1MU1) else n_rad
    rad = np.empty((n_rad, 3))
    slope = np.empty(n_rad)
    uj = np.empty(3)
    uk = np.empty(3)
    w_jk = np.empty(3)
    dcos_j = np.empty(3)
    dcos_k = np.empty(3)
    grad_j = np.empty((n_ang, 3))
    grad_k = np.empty((n_ang, 3))
    pi = np.pi
    for i in range(first.shape[0] - 1):
        centre = own_pair[i]
        start = first[i]
        count = first[i + 1] - start
        for p in range(start, start + count):
            d = distances[p]
            fc = 0.5 * (np.cos(pi * d / r_cut) + 1.0)
            dfc = -0.5 * pi / r_cut * np.sin(pi * d / r_cut)
            sj = species_index[index[p]]
            # radial terms g(d): gradient g'(d) u
            slope[0] = dfc
            for q in range(n_g2):
                x = d - g2[q, 1]
                e = np.exp(-g2[q, 0] * x * x)
                slope[1 + q] = e * (dfc - 2.0 * g2[q, 0] * x * fc)
            for q in range(n_g3):
                slope[1 + n_g2 + q] = np.cos(g3[q] * d) * dfc - g3[q] * np.sin(g3[q] * d) * fc
            for q in range(n_rad):
                for c in range(3):
                    rad[q, c] = slope[q] * vectors[p, c] / d
            if mode == NU2 or mode == NU1MU1:
                _scatter(dv, pair_of_entry[p], centre, sj * n_rad, rad, 1.0)
            else:
                _scatter(dv, pair_of_entry[p], centre, 0, rad, 1.0)
                if mode == WEIGHTED and weighted_copy:
                    _scatter(dv, pair_of_entry[p], centre, block, rad, element_weight[sj])
        if n_ang == 0:
            continue
        for pj in range(start, start + count):
            rj = distances[pj]
            fj = 0.5 * (np.cos(pi * rj / r_cut) + 1.0)
            dfj = -0.5 * pi / r_cut * np.sin(pi * rj / r_cut)
            sj = species_index[index[pj]]
            for pk in range(pj + 1, start + count):
                rk = distances[pk]
                fk = 0.5 * (np.cos(pi * rk / r_cut) + 1.0)
                dfk = -0.5 * pi / r_cut * np.sin(pi * rk / r_cut)
                sk = species_index[index[pk]]
                for c in range(3):
                    uj[c] = vectors[pj, c] / rj
                    uk[c] = vectors[pk, c] / rk
                    w_jk[c] = vectors[pk, c] - vectors[pj, c]
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
                if mode == NU2:
                    offset = ang_base + pair_block(sj, sk) * n_ang
                    _scatter(dv, pair_of_entry[pj], centre, offset, grad_j, 1.0)
                    _scatter(dv, pair_of_entry[pk], centre, offset, grad_k, 1.0)
                elif mode == NU1MU1:
                    _scatter(dv, pair_of_entry[pj], centre, ang_base + sj * n_ang, grad_j, 1.0)
                    _scatter(dv, pair_of_entry[pk], centre, ang_base + sj * n_ang, grad_k, 1.0)
                    if sk != sj:
                        _scatter(dv, pair_of_entry[pj], centre, ang_base + sk * n_ang, grad_j, 1.0)
                        _scatter(dv, pair_of_entry[pk], centre, ang_base + sk * n_ang, grad_k, 1.0)
                else:
                    _scatter(dv, pair_of_entry[pj], centre, ang_base, grad_j, 1.0)
                    _scatter(dv, pair_of_entry[pk], centre, ang_base, grad_k, 1.0)
                    if mode == WEIGHTED and weighted_copy:
                        ww = element_weight[sj] * element_weight[sk]
                        _scatter(dv, pair_of_entry[pj], centre, block + n_rad, grad_j, ww)
                        _scatter(dv, pair_of_entry[pk], centre, block + n_rad, grad_k, ww)
