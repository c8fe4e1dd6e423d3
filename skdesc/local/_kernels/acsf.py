"""Numba kernel of the atom-centred symmetry functions (ACSF) and their compressions."""

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
):
    """ACSF of every atom of a batch of structures, from the batch's neighbour lists.

    Parameters
    ----------
    g2 : (n_g2, 2) float64, rows (eta [Å^-2], R_s [Å])
    g3 : (n_g3,) float64, kappa [Å^-1]
    g4, g5 : (n_g4, 3), (n_g5, 3) float64, rows (eta [Å^-2], zeta, lambda)
    mode : int, one of NU2, NU1MU1, MU2, WEIGHTED
    element_weight : (n_species,) float64, used by WEIGHTED only
    weighted_copy : bool, WEIGHTED only: append the element-weighted block

    Per neighbour j the radial terms are ``[G1, G2..., G3...]``, per unordered
    neighbour pair {j, k} the angular terms are ``[G4..., G5...]``; the mode
    decides where they are added (see ``skdesc.ACSF``).

    ``first, index, vectors, distances`` are the CSR lists (cutoff ``r_cut``)
    of ``skdesc.neighbors.BatchNeighbors``; ``values`` (n_atoms, n_features)
    is zeroed and filled.
    """
    n_g2 = g2.shape[0]
    n_g3 = g3.shape[0]
    n_g4 = g4.shape[0]
    n_g5 = g5.shape[0]
    n_rad = 1 + n_g2 + n_g3
    n_ang = n_g4 + n_g5
    n_features = n_acsf_features(n_rad, n_ang, n_species, mode, weighted_copy)
    block = n_rad + n_ang  # start of the weighted copy (WEIGHTED)
    ang_base = n_rad * n_species if (mode == NU2 or mode == NU1MU1) else n_rad
    rad = np.empty(n_rad)
    ang = np.empty(n_ang)
    pi = np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    # per-centre scratch for the angular terms
    nb_vec = np.empty((max_nbr, 3))
    nb_r = np.empty(max_nbr)
    nb_fc = np.empty(max_nbr)
    nb_sp = np.empty(max_nbr, dtype=np.int64)
    nb_w = np.empty(max_nbr)
    # exp(-eta r_ij^2) per neighbour and G4 / G5 parameter
    e4 = np.empty((max_nbr, n_g4))
    e5 = np.empty((max_nbr, n_g5))
    for i in range(first.shape[0] - 1):
        row = values[i]
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
            if n_ang > 0:
                for k in range(3):
                    nb_vec[m, k] = vectors[p, k]
                nb_r[m] = d
                nb_fc[m] = fc
                nb_sp[m] = sj
                nb_w[m] = element_weight[sj]
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
