"""Numba kernels of the SOAP bispectrum and the four-density (nu = 4) invariants.

Per centre the kernel expands the neighbour density on the SOAP basis (the
tabulated GTO radial functions of :mod:`.soap` and the real harmonics of
:mod:`.spherical`, so the coefficients are those of ``SOAP``) into one flat
work vector ``V``:

* *singles*: the coefficient vector (c_{k l mu})_{mu} of every channel k
  (element and radial index) and degree l, at ``single_offset[l] + k (2l + 1)``;
* *couples*: coupled products ``(c_x (x) c_y)_{L mu} = sum R[mu1, mu2, mu]
  c_{x mu1} c_{y mu2}`` of two vectors, from the sparse real coupling tables
  (:func:`skdesc._wigner.real_coupling`), in blocks of one x and consecutive
  channels of y.

Every feature is then one dot product of two vectors of the same degree (a
couple with a single: nu = 3, in runs over consecutive channels of the
single; two couples: nu = 4).  Vectors are strided: singles by the number
of channels K, couples by their block's width.  The tables (which couples, which dot products) are built once in
``fit``; the kernel only follows them.
"""

import numpy as np
from numba import njit

from ...neighbors._search import _positive_shift
from .soap import _radial_values, _radial_values_and_slopes
from .spherical import real_harmonics


@njit(cache=True, nogil=True, inline="always")
def _add_terms(row, harmonics, radial, weight, parity, k0, K, n_max, l_max, single_offset):
    """row[single_offset[l] + mu K + k0 + n] += weight (-1)^(l parity) Y_{l mu} R_{n l}: one neighbour's terms."""
    for l in range(l_max + 1):
        factor = -weight if parity and l % 2 else weight
        for mu in range(2 * l + 1):
            y = factor * harmonics[l * l + mu]
            base = single_offset[l] + mu * K + k0
            for n in range(n_max):
                row[base + n] += y * radial[l * n_max + n]


@njit(cache=True, nogil=True, inline="always")
def _expand_block(
    a0, c0, c1, first, index, vectors, distances, shifts, channel, atom_weight, center_weight, n_max, l_max,
    harmonics_norm, radial_tab, radial_inv_width, radial_zero, single_offset, harmonics, radial, singles,
):
    """singles[i - c0] = the density coefficients of the centres ``a0 + c0 .. a0 + c1 - 1`` (layout ``[l][mu][k]``).

    ``a0`` is the structure's first atom.  A pair of centres of the block is
    expanded once and added to both ends (Y_lm(-u) = (-1)^l Y_lm(u)); its
    reverse entry, present in a full list, is skipped, so the list may be
    half or full (half only if the structure fits in one block).
    """
    K = single_offset[1]
    singles[: c1 - c0] = 0.0
    for i in range(c0, c1):
        row_i = singles[i - c0]
        k_i = channel[a0 + i] * n_max
        w_i = atom_weight[a0 + i]
        # the centre's own Gaussian: r = 0, only l = 0 survives (Y_00 = norm[0, 0])
        weight = center_weight * w_i * harmonics_norm[0, 0]
        for n in range(n_max):
            row_i[single_offset[0] + k_i + n] += weight * radial_zero[n]
        for p in range(first[a0 + i], first[a0 + i + 1]):
            j = index[p] - a0
            both = c0 <= j < c1
            if both and (j < i or (j == i and not _positive_shift(shifts[p]))):
                continue  # expanded from the other end (or the opposite image)
            r = distances[p]
            inv = 1.0 / r
            real_harmonics(vectors[p, 0] * inv, vectors[p, 1] * inv, vectors[p, 2] * inv, l_max, harmonics_norm, harmonics)
            _radial_values(radial_tab, radial_inv_width, r, radial)
            _add_terms(row_i, harmonics, radial, atom_weight[a0 + j], False, channel[a0 + j] * n_max, K, n_max, l_max,
                       single_offset)
            if both:
                _add_terms(singles[j - c0], harmonics, radial, w_i, True, k_i, K, n_max, l_max, single_offset)


@njit(cache=True, nogil=True, inline="always")
def _fill_couples(
    work, block_a, block_b, block_out, block_count, block_len, block_table, table_start, entry_i, entry_j, entry_k,
    entry_w,
):
    """Fill every block of couples of ``work`` from the singles."""
    for c in range(block_a.shape[0]):
        out = block_out[c]
        count = block_count[c]
        for q in range(block_len[c] * count):
            work[out + q] = 0.0
        a = block_a[c]
        b = block_b[c]
        t = block_table[c]
        for e in range(table_start[t], table_start[t + 1]):
            x = entry_w[e] * work[a + entry_i[e]]
            source = b + entry_j[e]
            target = out + entry_k[e] * count
            for k in range(count):
                work[target + k] += x * work[source + k]


@njit(cache=True, nogil=True, inline="always")
def _features(
    work, K, run_a, run_stride, run_b, run_len, run_count, run_first, dot_a, dot_a_stride, dot_b, dot_b_stride,
    dot_len, dot_feature, row,
):
    """row[f] = the dot products of the runs (nu = 3) and of the couple pairs (nu = 4)."""
    for r in range(run_a.shape[0]):
        f0 = run_first[r]
        count = run_count[r]
        for t in range(count):
            row[f0 + t] = 0.0
        a = run_a[r]
        stride = run_stride[r]
        for mu in range(run_len[r]):
            x = work[a + mu * stride]
            base = run_b[r] + mu * K
            for t in range(count):
                row[f0 + t] += x * work[base + t]
    for d in range(dot_a.shape[0]):
        a = dot_a[d]
        b = dot_b[d]
        sa = dot_a_stride[d]
        sb = dot_b_stride[d]
        total = 0.0
        for mu in range(dot_len[d]):
            total += work[a + mu * sa] * work[b + mu * sb]
        row[dot_feature[d]] = total


@njit(cache=True, nogil=True)
def bispectrum_kernel(
    first,
    index,
    vectors,
    distances,
    shifts,
    half,
    offsets,
    block_limit,
    channel,
    atom_weight,
    center_weight,
    n_max,
    l_max,
    harmonics_norm,
    radial_tab,
    radial_inv_width,
    single_offset,
    n_work,
    block_a,
    block_b,
    block_out,
    block_count,
    block_len,
    block_table,
    table_start,
    entry_i,
    entry_j,
    entry_k,
    entry_w,
    run_a,
    run_stride,
    run_b,
    run_len,
    run_count,
    run_first,
    dot_a,
    dot_a_stride,
    dot_b,
    dot_b_stride,
    dot_len,
    dot_feature,
    out,
):
    """Bispectrum / nu = 4 invariants of every atom of a batch (full neighbour lists).

    Parameters
    ----------
    first, index, vectors, distances, shifts, half
        The batch's neighbour lists (``skdesc.neighbors.BatchNeighbors``); a
        structure's list may be a half list only if the structure fits in one
        block of centres (``block_limit``).
    offsets : (n_structures + 1,) int64
        Structure ``s`` is atoms ``offsets[s]:offsets[s + 1]`` of the batch
        (``offsets[0] == 0``).
    block_limit : int
        Most centres whose coefficients are held at once (a structure's
        list may be half only if it has at most this many atoms).
    channel : (n_atoms,) int64
        Density channel group of each atom (its element, or 0 for the
        element-agnostic total density); channel k of a coefficient is
        ``channel * n_max + n``.
    atom_weight : (n_atoms,) float64
        Gaussian amplitude of each atom.
    single_offset : (l_max + 2,) int64
        Offset of the degree-l singles in the work vector, stored
        ``[mu][k]`` (K = ``single_offset[1]`` channels); the last entry is
        the number of singles (the couples follow them).
    n_work : int
        Length of the work vector (singles and couples).
    block_a, block_b, block_out, block_count, block_len, block_table : (n_blocks,) int64
        Blocks of couples: the single (l1, k1) at ``a``, the first single
        (l2, k2) at ``b`` and ``count`` consecutive channels k2; products
        ``[mu][k2]`` at ``out`` (2L + 1 = ``len`` rows); coupling table
        (l1, l2, L).
    table_start : (n_tables + 1,) int64
        Table t is the coupling entries ``table_start[t]:table_start[t + 1]``.
    entry_i, entry_j, entry_k : int64, entry_w : float64
        Sparse coupling entries (nonzero ``R[mu1, mu2, mu]``, with
        ``entry_i = mu1 K``, ``entry_j = mu2 K``, ``entry_k = mu``):
        ``product[mu, k2] += w * a[mu1] * b[mu2, k2]``.
    run_a, run_stride, run_b, run_len, run_count, run_first : (n_runs,) int64
        nu = 3 runs: ``out[first + t] = sum_{mu < len} V[a + mu stride] V[b + mu K + t]``
        for ``t < count``.
    dot_a, dot_a_stride, dot_b, dot_b_stride, dot_len, dot_feature : (n_dots,) int64
        nu = 4 features: ``out[feature] = sum_{mu < len} V[a + mu sa] V[b + mu sb]``.
    out : (n_atoms, n_features) float64
    """
    K = single_offset[1]
    n_lm = (l_max + 1) * (l_max + 1)
    harmonics = np.empty(n_lm)
    radial = np.empty(radial_tab.shape[2])
    radial_zero = np.empty(radial_tab.shape[2])
    _radial_values(radial_tab, radial_inv_width, 0.0, radial_zero)
    work = np.empty(n_work)
    n_single = single_offset[l_max + 1]
    block_size = _block_size(offsets, block_limit)
    singles = np.empty((block_size, n_single))
    for s in range(offsets.shape[0] - 1):
        a0 = offsets[s]
        n_atoms = offsets[s + 1] - a0
        if half[s] and n_atoms > block_size:
            raise ValueError("internal check failed: a half neighbour list for a structure larger than a block")
        for c0 in range(0, n_atoms, block_size):
            c1 = min(c0 + block_size, n_atoms)
            _expand_block(
                a0, c0, c1, first, index, vectors, distances, shifts, channel, atom_weight, center_weight, n_max,
                l_max, harmonics_norm, radial_tab, radial_inv_width, radial_zero, single_offset, harmonics, radial,
                singles,
            )
            for i in range(c0, c1):
                work[:n_single] = singles[i - c0]
                _fill_couples(
                    work, block_a, block_b, block_out, block_count, block_len, block_table, table_start, entry_i,
                    entry_j, entry_k, entry_w,
                )
                _features(
                    work, K, run_a, run_stride, run_b, run_len, run_count, run_first, dot_a, dot_a_stride, dot_b,
                    dot_b_stride, dot_len, dot_feature, out[a0 + i],
                )


@njit(cache=True, nogil=True)
def _block_size(offsets, block_limit):
    """Centres whose coefficients are held at once: the largest structure, at most ``block_limit``."""
    largest = 1
    for s in range(offsets.shape[0] - 1):
        largest = max(largest, offsets[s + 1] - offsets[s])
    return max(1, min(largest, block_limit))


@njit(cache=True, nogil=True)
def bispectrum_derivatives_kernel(
    first,
    index,
    vectors,
    distances,
    shifts,
    half,
    offsets,
    block_limit,
    channel,
    atom_weight,
    center_weight,
    n_max,
    l_max,
    harmonics_norm,
    radial_tab,
    radial_inv_width,
    single_offset,
    n_work,
    block_a,
    block_b,
    block_out,
    block_count,
    block_len,
    block_table,
    table_start,
    entry_i,
    entry_j,
    entry_k,
    entry_w,
    run_a,
    run_stride,
    run_b,
    run_len,
    run_count,
    run_first,
    dot_a,
    dot_a_stride,
    dot_b,
    dot_b_stride,
    dot_len,
    dot_feature,
    pair_first,
    pair_of_entry,
    pair_own,
    out,
    dout,
):
    """Values (as :func:`bispectrum_kernel`) and position derivatives of every atom of a batch.

    ``pair_first, pair_of_entry, pair_own`` are the batch's
    ``skdesc.neighbors.DerivativePairs``; ``dout[q, c, f]`` (zeroed) gets
    ``d out[i, f] / d r_{atom(q), c}`` for every pair q of centre i, in
    feature units per Å.  A neighbour entry moves its coefficients with the
    neighbour and against the centre (its own Gaussian does not move
    relative to it); the derivative of a single is the tabulated radial
    function's slope times Y plus the radial value times the gradient of Y,
    and couples and features follow by the product rule.
    """
    n_atoms = first.shape[0] - 1
    K = single_offset[1]
    n_lm = (l_max + 1) * (l_max + 1)
    n_radial = radial_tab.shape[2]
    harmonics = np.empty(n_lm)
    gradient = np.empty((n_lm, 3))
    radial = np.empty(n_radial)
    slopes = np.empty(n_radial)
    radial_zero = np.empty(n_radial)
    _radial_values(radial_tab, radial_inv_width, 0.0, radial_zero)
    work = np.empty(n_work)
    dwork = np.empty(n_work)
    n_single = single_offset[l_max + 1]
    largest = 1
    for i in range(n_atoms):
        largest = max(largest, pair_first[i + 1] - pair_first[i])
    dsingle = np.empty((largest, 3, n_single))
    block_size = _block_size(offsets, block_limit)
    singles = np.empty((block_size, n_single))
    s = 0
    for i in range(n_atoms):
        while offsets[s + 1] <= i:
            s += 1
        # the values: a block of centres is expanded when its first centre comes
        a0 = offsets[s]
        c = i - a0
        if c % block_size == 0:
            _expand_block(
                a0, c, min(c + block_size, offsets[s + 1] - a0), first, index, vectors, distances, shifts, channel,
                atom_weight, center_weight, n_max, l_max, harmonics_norm, radial_tab, radial_inv_width, radial_zero,
                single_offset, harmonics, radial, singles,
            )
        work[:n_single] = singles[c % block_size]
        _fill_couples(
            work, block_a, block_b, block_out, block_count, block_len, block_table, table_start, entry_i, entry_j,
            entry_k, entry_w,
        )
        _features(
            work, K, run_a, run_stride, run_b, run_len, run_count, run_first, dot_a, dot_a_stride, dot_b,
            dot_b_stride, dot_len, dot_feature, out[i],
        )
        q0 = pair_first[i]
        n_pairs = pair_first[i + 1] - q0
        own = pair_own[i] - q0
        dsingle[:n_pairs] = 0.0
        for p in range(first[i], first[i + 1]):
            r = distances[p]
            inv = 1.0 / r
            ux = vectors[p, 0] * inv
            uy = vectors[p, 1] * inv
            uz = vectors[p, 2] * inv
            real_harmonics(ux, uy, uz, l_max, harmonics_norm, harmonics, gradient)
            _radial_values_and_slopes(radial_tab, radial_inv_width, r, radial, slopes)
            j = index[p]
            w = atom_weight[j]
            k0 = channel[j] * n_max
            q = pair_of_entry[p] - q0
            for c in range(3):
                u_c = ux if c == 0 else (uy if c == 1 else uz)
                moved = dsingle[q, c]
                centre = dsingle[own, c]
                for l in range(l_max + 1):
                    for mu in range(2 * l + 1):
                        lm = l * l + mu
                        along = w * u_c * harmonics[lm]
                        across = w * gradient[lm, c] * inv
                        base = single_offset[l] + mu * K + k0
                        for n in range(n_max):
                            d = slopes[l * n_max + n] * along + radial[l * n_max + n] * across
                            moved[base + n] += d
                            centre[base + n] -= d
        for q in range(n_pairs):
            for c in range(3):
                dwork[:n_single] = dsingle[q, c]
                # couples: d(a (x) b) = da (x) b + a (x) db
                for cp in range(block_a.shape[0]):
                    o = block_out[cp]
                    count = block_count[cp]
                    for k in range(block_len[cp] * count):
                        dwork[o + k] = 0.0
                    a = block_a[cp]
                    b = block_b[cp]
                    t = block_table[cp]
                    for e in range(table_start[t], table_start[t + 1]):
                        x = entry_w[e] * work[a + entry_i[e]]
                        dx = entry_w[e] * dwork[a + entry_i[e]]
                        source = b + entry_j[e]
                        target = o + entry_k[e] * count
                        for k in range(count):
                            dwork[target + k] += dx * work[source + k] + x * dwork[source + k]
                row = dout[q0 + q, c]
                for rr in range(run_a.shape[0]):
                    f0 = run_first[rr]
                    count = run_count[rr]
                    a = run_a[rr]
                    stride = run_stride[rr]
                    for mu in range(run_len[rr]):
                        x = work[a + mu * stride]
                        dx = dwork[a + mu * stride]
                        base = run_b[rr] + mu * K
                        for t in range(count):
                            row[f0 + t] += dx * work[base + t] + x * dwork[base + t]
                for d in range(dot_a.shape[0]):
                    a = dot_a[d]
                    b = dot_b[d]
                    sa = dot_a_stride[d]
                    sb = dot_b_stride[d]
                    total = 0.0
                    for mu in range(dot_len[d]):
                        total += dwork[a + mu * sa] * work[b + mu * sb] + work[a + mu * sa] * dwork[b + mu * sb]
                    row[dot_feature[d]] = total
