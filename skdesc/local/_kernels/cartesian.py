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
def cartesian_kernel(
    first,
    index,
    vectors,
    distances,
    species_index,
    block_weight,
    r_cut,
    n_radial,
    mono_parent,
    mono_last,
    trace_start,
    trace_coef,
    trace_index,
    comp_offset,
    slot_order,
    n_slots,
    term_start,
    term_coef,
    term_comp,
    graph_feature_start,
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
    mono_parent, mono_last : (n_comp,) int64
        Monomial ``u^a`` of component q (sorted indices a) is
        ``u^a[mono_parent[q]] * u[mono_last[q]]`` (component 0: 1).
    trace_start, trace_coef, trace_index
        CSR table of the traceless part: ``T[q] = sum trace_coef[k] *
        u^a[trace_index[k]]`` over ``k = trace_start[q]:trace_start[q + 1]``.
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
    graph_feature_start : (n_graphs + 1,) int64
        Features of graph g: ``graph_feature_start[g]:graph_feature_start[g + 1]``.
    feature_channel : (n_features, 4) int64
        Channel of each slot of each feature.
    values : (n_atoms, n_features) float64, zeroed; filled.
    gradients : bool
    pair_of_entry, own_pair, dvalues
        With ``gradients``: the derivative pair of each neighbour entry and of
        each centre with itself, and the zeroed (n_pairs, 3, n_features)
        output in 1/Å.  Otherwise ignored (pass empty arrays).
    """
    n_comp = mono_parent.shape[0]
    n_blocks = block_weight.shape[1]
    n_channels = n_blocks * n_radial
    n_graphs = n_slots.shape[0]
    pi = np.pi
    max_nbr = 0
    for i in range(first.shape[0] - 1):
        max_nbr = max(max_nbr, first[i + 1] - first[i])
    max_feat = 0
    for g in range(n_graphs):
        max_feat = max(max_feat, graph_feature_start[g + 1] - graph_feature_start[g])
    tens = np.zeros((max_nbr, n_comp))
    dtens = np.zeros((max_nbr, n_comp, 3))
    rad = np.zeros((max_nbr, n_radial))
    drad = np.zeros((max_nbr, n_radial))
    unit = np.zeros((max_nbr, 3))
    mono = np.zeros(n_comp)
    dmono = np.zeros((n_comp, 3))
    grad_u = np.zeros(3)
    # moments component-major: the features of one contraction read neighbouring channels
    moment = np.zeros((n_comp, n_channels))
    gmom = np.zeros((max_feat if gradients else 0, 4, n_comp))
    gsum = np.zeros(3)
    for i in range(first.shape[0] - 1):
        n_nbr = first[i + 1] - first[i]
        moment[:, :] = 0.0
        for e in range(n_nbr):
            p = first[i] + e
            d = distances[p]
            if d > r_cut:
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
            # monomials u^a of all orders, and (with gradients) their gradients w.r.t. u
            mono[0] = 1.0
            for x in range(3):
                dmono[0, x] = 0.0
            for q in range(1, n_comp):
                par = mono_parent[q]
                last = mono_last[q]
                mono[q] = mono[par] * unit[e, last]
                if gradients:
                    for x in range(3):
                        dmono[q, x] = dmono[par, x] * unit[e, last]
                    dmono[q, last] += mono[par]
            for q in range(n_comp):
                t = 0.0
                for x in range(3):
                    grad_u[x] = 0.0
                for kk in range(trace_start[q], trace_start[q + 1]):
                    t += trace_coef[kk] * mono[trace_index[kk]]
                    if gradients:
                        for x in range(3):
                            grad_u[x] += trace_coef[kk] * dmono[trace_index[kk], x]
                tens[e, q] = t
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
                        moment[q, c] += wr * tens[e, q]
        row = values[i]
        for g in range(n_graphs):
            f0 = graph_feature_start[g]
            f1 = graph_feature_start[g + 1]
            k = n_slots[g]
            t0 = term_start[g]
            t1 = term_start[g + 1]
            if not gradients:
                # values only: one tight loop per number of tensors
                if k == 1:
                    for t in range(t0, t1):
                        for f in range(f0, f1):
                            row[f] += term_coef[t] * moment[term_comp[t, 0], feature_channel[f, 0]]
                elif k == 2:
                    for t in range(t0, t1):
                        coef = term_coef[t]
                        q0 = term_comp[t, 0]
                        q1 = term_comp[t, 1]
                        for f in range(f0, f1):
                            row[f] += coef * moment[q0, feature_channel[f, 0]] * moment[q1, feature_channel[f, 1]]
                elif k == 3:
                    for t in range(t0, t1):
                        coef = term_coef[t]
                        q0 = term_comp[t, 0]
                        q1 = term_comp[t, 1]
                        q2 = term_comp[t, 2]
                        for f in range(f0, f1):
                            row[f] += (
                                coef * moment[q0, feature_channel[f, 0]] * moment[q1, feature_channel[f, 1]]
                                * moment[q2, feature_channel[f, 2]]
                            )
                else:
                    for t in range(t0, t1):
                        coef = term_coef[t]
                        q0 = term_comp[t, 0]
                        q1 = term_comp[t, 1]
                        q2 = term_comp[t, 2]
                        q3 = term_comp[t, 3]
                        for f in range(f0, f1):
                            # grouped as in the gradient path, so values are identical with or without it
                            row[f] += (coef * moment[q0, feature_channel[f, 0]] * moment[q1, feature_channel[f, 1]]) * (
                                moment[q2, feature_channel[f, 2]] * moment[q3, feature_channel[f, 3]]
                            )
                continue
            gmom[: f1 - f0, :, :] = 0.0
            for t in range(t0, t1):
                coef = term_coef[t]
                for f in range(f0, f1):
                    # the product of the other slots' factors, for the gradient of each slot
                    m0 = moment[term_comp[t, 0], feature_channel[f, 0]]
                    m1 = moment[term_comp[t, 1], feature_channel[f, 1]] if k > 1 else 1.0
                    m2 = moment[term_comp[t, 2], feature_channel[f, 2]] if k > 2 else 1.0
                    m3 = moment[term_comp[t, 3], feature_channel[f, 3]] if k > 3 else 1.0
                    m01 = coef * m0 * m1
                    m23 = m2 * m3
                    row[f] += m01 * m23
                    gmom[f - f0, 0, term_comp[t, 0]] += coef * m1 * m23
                    if k > 1:
                        gmom[f - f0, 1, term_comp[t, 1]] += coef * m0 * m23
                    if k > 2:
                        gmom[f - f0, 2, term_comp[t, 2]] += m01 * m3
                    if k > 3:
                        gmom[f - f0, 3, term_comp[t, 3]] += m01 * m2
            centre = own_pair[i]
            for f in range(f0, f1):
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
                            gq = gmom[f - f0, v, q]
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
