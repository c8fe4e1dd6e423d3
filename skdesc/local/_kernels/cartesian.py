"""Numba kernel of the Cartesian moment-tensor invariants and their position derivatives.

Per centre i the kernel accumulates the moment tensors
``M[c, l] = sum_j w_b(Z_j) R_n(r_ij) T_l(u_ij)`` (channel c = (block b,
radial n), ``T_l`` the symmetric traceless part of ``u^{(x) l}``) in
symmetric-component storage, then evaluates every invariant as the
polynomial given by its term table (see ``skdesc.local._cartesian_graphs``).
The gradient of a feature w.r.t. the moment components, ``G``, is formed
from the same terms; the position derivative then follows neighbour by
neighbour from ``d M / d r_j = w (R_n' u T_l + R_n d T_l / d r_j)``.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _monomial(u, idx, k, scale, grad):
    """``prod_m u[idx[m]]`` (m < k); adds ``scale`` times its gradient w.r.t. u to ``grad``."""
    value = 1.0
    for m in range(k):
        value *= u[idx[m]]
    for m in range(k):
        rest = scale
        for q in range(k):
            if q != m:
                rest *= u[idx[q]]
        grad[idx[m]] += rest
    return value


@njit(cache=True, nogil=True)
def _traceless(u, order, a, grad, idx):
    """Component ``a`` (sorted Cartesian indices, order ``order``) of the traceless part of u^{(x) order}.

    ``u`` is a unit vector; ``grad`` (3,) receives the gradient w.r.t. u of
    the expression used (valid along the sphere, which is all that is
    projected later).  ``idx`` is (4,) int64 scratch.
    """
    for x in range(3):
        grad[x] = 0.0
    if order == 0:
        return 1.0
    if order == 1:
        grad[a[0]] = 1.0
        return u[a[0]]
    if order == 2:
        idx[0] = a[0]
        idx[1] = a[1]
        value = _monomial(u, idx, 2, 1.0, grad)
        if a[0] == a[1]:
            value -= 1.0 / 3.0
        return value
    if order == 3:
        for m in range(3):
            idx[m] = a[m]
        value = _monomial(u, idx, 3, 1.0, grad)
        # - (u_a d_bc + u_b d_ac + u_c d_ab) / 5
        for m in range(3):
            p = a[(m + 1) % 3]
            q = a[(m + 2) % 3]
            if p == q:
                idx[0] = a[m]
                value -= _monomial(u, idx, 1, -0.2, grad) * 0.2
        return value
    # order 4
    for m in range(4):
        idx[m] = a[m]
    value = _monomial(u, idx, 4, 1.0, grad)
    # - sum over the 6 index pairs {p, q} of u_r u_s d_pq / 7 (r, s the other two)
    for p in range(4):
        for q in range(p + 1, 4):
            if a[p] == a[q]:
                n = 0
                for r in range(4):
                    if r != p and r != q:
                        idx[n] = a[r]
                        n += 1
                value -= _monomial(u, idx, 2, -1.0 / 7.0, grad) / 7.0
    # + (d_ab d_cd + d_ac d_bd + d_ad d_bc) / 35
    pairs = 0
    if a[0] == a[1] and a[2] == a[3]:
        pairs += 1
    if a[0] == a[2] and a[1] == a[3]:
        pairs += 1
    if a[0] == a[3] and a[1] == a[2]:
        pairs += 1
    return value + pairs / 35.0


@njit(cache=True, nogil=True)
def cartesian_kernel(
    first,
    index,
    vectors,
    distances,
    species_index,
    block_weight,
    r_cut,
    n_radial,
    components,
    comp_order,
    comp_offset,
    slot_order,
    n_slots,
    term_start,
    term_coef,
    term_comp,
    feature_graph,
    feature_channel,
    values,
    gradients,
    pair_of_entry,
    own_pair,
    dvalues,
):
    """Cartesian invariants of every atom of a batch and, if ``gradients``, their position derivatives.

    Parameters
    ----------
    first, index, vectors, distances
        The batch's full CSR neighbour list (``BatchNeighbors``), cutoff ``r_cut``.
    species_index : (n_atoms,) int64
    block_weight : (n_species, n_blocks) float64
        Weight of a neighbour of each element in each density block.
    r_cut : float
        Cutoff in Å.
    n_radial : int
        Radial functions per block; channel ``c = block * n_radial + n``.
    components : (n_comp, 4) int64
        Sorted Cartesian indices of each symmetric component (-1 padded).
    comp_order : (n_comp,) int64
    comp_offset : (max_order + 2,) int64
        First component of each order.
    slot_order : (n_graphs, 4) int64
        Tensor order of each slot of each contraction (-1: unused).
    n_slots : (n_graphs,) int64
    term_start : (n_graphs + 1,) int64
        Terms of graph g: ``term_start[g]:term_start[g + 1]``.
    term_coef : (n_terms,) float64
    term_comp : (n_terms, 4) int64
        Component of each slot in each term.
    feature_graph : (n_features,) int64
    feature_channel : (n_features, 4) int64
        Channel of each slot of each feature.
    values : (n_atoms, n_features) float64, zeroed; filled.
    gradients : bool
    pair_of_entry, own_pair, dvalues
        With ``gradients``: the derivative pair of each neighbour entry and of
        each centre with itself, and the zeroed (n_pairs, 3, n_features)
        output in 1/Å.  Otherwise ignored (pass empty arrays).
    """
    n_comp = components.shape[0]
    n_blocks = block_weight.shape[1]
    n_channels = n_blocks * n_radial
    n_features = feature_graph.shape[0]
    pi = np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    tens = np.zeros((max_nbr, n_comp))
    dtens = np.zeros((max_nbr, n_comp, 3))
    rad = np.zeros((max_nbr, n_radial))
    drad = np.zeros((max_nbr, n_radial))
    unit = np.zeros((max_nbr, 3))
    moment = np.zeros((n_channels, n_comp))
    gmom = np.zeros((4, n_comp))
    grad_u = np.zeros(3)
    idx = np.zeros(4, dtype=np.int64)
    factor = np.zeros(4)
    gsum = np.zeros(3)
    for i in range(first.shape[0] - 1):
        n_nbr = first[i + 1] - first[i]
        moment[:, :] = 0.0
        for e in range(n_nbr):
            p = first[i] + e
            d = distances[p]
            if d > r_cut:
                # outside the cutoff: no contribution (zero radial functions)
                for n in range(n_radial):
                    rad[e, n] = 0.0
                    drad[e, n] = 0.0
                continue
            for x in range(3):
                unit[e, x] = vectors[p, x] / d
            fc = 0.5 * (np.cos(pi * d / r_cut) + 1.0)
            dfc = -0.5 * pi / r_cut * np.sin(pi * d / r_cut)
            for n in range(n_radial):
                k = (n + 1) * pi / r_cut
                z = k * d
                j0 = np.sin(z) / z
                dj0 = (z * np.cos(z) - np.sin(z)) / (z * z) * k
                rad[e, n] = j0 * fc
                drad[e, n] = dj0 * fc + j0 * dfc
            for q in range(n_comp):
                tens[e, q] = _traceless(unit[e], comp_order[q], components[q], grad_u, idx)
                if gradients:
                    # chain rule through u = r / |r|: (1 - u u^T) / r
                    radial = grad_u[0] * unit[e, 0] + grad_u[1] * unit[e, 1] + grad_u[2] * unit[e, 2]
                    for x in range(3):
                        dtens[e, q, x] = (grad_u[x] - radial * unit[e, x]) / d
            s = species_index[index[p]]
            for b in range(n_blocks):
                w = block_weight[s, b]
                if w == 0.0:
                    continue
                for n in range(n_radial):
                    wr = w * rad[e, n]
                    c = b * n_radial + n
                    for q in range(n_comp):
                        moment[c, q] += wr * tens[e, q]
        for f in range(n_features):
            g = feature_graph[f]
            k = n_slots[g]
            total = 0.0
            if gradients:
                gmom[:, :] = 0.0
            for t in range(term_start[g], term_start[g + 1]):
                prod = term_coef[t]
                for v in range(k):
                    factor[v] = moment[feature_channel[f, v], term_comp[t, v]]
                    prod *= factor[v]
                total += prod
                if gradients:
                    for v in range(k):
                        rest = term_coef[t]
                        for o in range(k):
                            if o != v:
                                rest *= factor[o]
                        gmom[v, term_comp[t, v]] += rest
            values[i, f] = total
            if not gradients:
                continue
            centre = own_pair[i]
            for e in range(n_nbr):
                p = first[i] + e
                if distances[p] > r_cut:
                    continue
                s = species_index[index[p]]
                for x in range(3):
                    gsum[x] = 0.0
                for v in range(k):
                    c = feature_channel[f, v]
                    b = c // n_radial
                    n = c - b * n_radial
                    w = block_weight[s, b]
                    if w == 0.0:
                        continue
                    l = slot_order[g, v]
                    g_t = 0.0
                    g0 = 0.0
                    g1 = 0.0
                    g2 = 0.0
                    for q in range(comp_offset[l], comp_offset[l + 1]):
                        gq = gmom[v, q]
                        g_t += gq * tens[e, q]
                        g0 += gq * dtens[e, q, 0]
                        g1 += gq * dtens[e, q, 1]
                        g2 += gq * dtens[e, q, 2]
                    a = w * drad[e, n] * g_t
                    r = w * rad[e, n]
                    gsum[0] += a * unit[e, 0] + r * g0
                    gsum[1] += a * unit[e, 1] + r * g1
                    gsum[2] += a * unit[e, 2] + r * g2
                target = pair_of_entry[p]
                for x in range(3):
                    dvalues[target, x, f] += gsum[x]
                    dvalues[centre, x, f] -= gsum[x]
