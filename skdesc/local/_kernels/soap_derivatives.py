"""Numba kernel of the derivatives of the generalised SOAP power spectra.

A neighbour at vector v = R u from the centre adds
``w const[l, k] exp(-|v|^2 decay[l, k]) G_lm(v)`` to the primitive coefficient
(l, m, k) of its density channel, where ``G_lm(v) = R^l Y_lm(u)`` is a solid
harmonic (see ``soap.py``).  Its gradient with respect to v is

    w const exp(-R^2 decay) (grad G_lm - 2 decay v G_lm),
    grad G_lm = R^(l-1) (l f u + (I - u u^T) grad f),

with f(x, y, z) the real-harmonic polynomial of ``spherical.real_harmonics``
evaluated at u (its partial derivatives are taken with x, y, z independent).
Coefficients are linear in the primitives and every feature is a bilinear form
``pref sum_m A[lm, a] B[lm, b]`` of linear maps of the coefficients, so

    d p = pref sum_m (dA[lm, a] B[lm, b] + A[lm, a] dB[lm, b]).

Moving neighbour atom j changes only its own density channel, which the kernel
exploits by skipping channels whose derivative is zero.  The centre's
derivative is minus the sum over the other atoms (translation invariance);
periodic images of the centre itself do not move relative to it.
"""

import numpy as np
from numba import njit

from ...neighbors._search import guarded_neighbor_list
from .pairs import centre_pairs, overlapping
from .soap import B_MAPPED, B_RAW, B_SAME_AS_A, B_STAR


@njit(cache=True, nogil=True)
def solid_harmonics_gradient(v, r, l_max, norm, values, gradient):
    """Solid harmonics G_lm(v) = r^l Y_lm(v / r) and their gradients w.r.t. v.

    Same real harmonics as ``spherical.real_harmonics`` (index ``l*l + l + m``).

    Parameters
    ----------
    v : (3,) vector, r : its length (> 0)
    values : (n_lm,) output, gradient : (n_lm, 3) output
    """
    x = v[0] / r
    y = v[1] / r
    z = v[2] / r
    p_mm = 1.0
    c_re = 1.0
    c_im = 0.0
    d_re = 0.0  # (x + i y)^(m - 1)
    d_im = 0.0
    for m in range(l_max + 1):
        if m > 0:
            p_mm *= 2 * m - 1
            d_re, d_im = c_re, c_im
            c_re, c_im = c_re * x - c_im * y, c_re * y + c_im * x
        p_prev = 0.0
        p_curr = p_mm
        dp_prev = 0.0
        dp_curr = 0.0
        r_power = r ** (m - 1) if m > 0 else 1.0 / r  # r^(l - 1) at l = m
        for l in range(m, l_max + 1):
            if l == m + 1:
                p_prev, p_curr = p_curr, z * (2 * m + 1) * p_mm
                dp_prev, dp_curr = dp_curr, (2 * m + 1) * p_mm
            elif l > m + 1:
                p_next = ((2 * l - 1) * z * p_curr - (l + m - 1) * p_prev) / (l - m)
                dp_next = ((2 * l - 1) * (p_curr + z * dp_curr) - (l + m - 1) * dp_prev) / (l - m)
                p_prev, p_curr = p_curr, p_next
                dp_prev, dp_curr = dp_curr, dp_next
            if l > m:
                r_power *= r
            base = l * l + l
            for sign in range(2):
                if m == 0 and sign == 1:
                    break
                if sign == 0:
                    c, dcx, dcy, index = c_re, m * d_re, -m * d_im, base + m
                else:
                    c, dcx, dcy, index = c_im, m * d_im, m * d_re, base - m
                k = norm[l, m]
                f = k * p_curr * c
                fx = k * p_curr * dcx
                fy = k * p_curr * dcy
                fz = k * dp_curr * c
                radial = fx * x + fy * y + fz * z
                values[index] = f * r_power * r
                gradient[index, 0] = r_power * (l * f * x + fx - x * radial)
                gradient[index, 1] = r_power * (l * f * y + fy - y * radial)
                gradient[index, 2] = r_power * (l * f * z + fz - z * radial)


@njit(cache=True, nogil=True)
def _expand(prim, dprim, slot, channel, g, dg, v, const, decay, r, weight, l_max, n_prim, radial):
    """Add one neighbour to prim[channel, lm, k] and its gradient to dprim[slot, xyz, lm, k]."""
    r2 = r * r
    for l in range(l_max + 1):
        count = n_prim[l]
        for k in range(count):
            radial[k] = weight * const[l, k] * np.exp(-r2 * decay[l, k])
        for lm in range(l * l, (l + 1) * (l + 1)):
            gl = g[lm]
            target = prim[channel, lm]
            for k in range(count):
                target[k] += radial[k] * gl
            for c in range(3):
                dtarget = dprim[slot, c, lm]
                gc = dg[lm, c]
                vc = v[c] * gl
                for k in range(count):
                    dtarget[k] += radial[k] * (gc - 2.0 * decay[l, k] * vc)


@njit(cache=True, nogil=True)
def _transform(beta, prim_block, out, l_max, count):
    """out[lm, n] = sum_k beta[l, n, k] prim_block[lm, k] for n, k < count[l] (Loewdin map)."""
    for l in range(l_max + 1):
        size = count[l]
        for lm in range(l * l, (l + 1) * (l + 1)):
            for n in range(size):
                total = 0.0
                for k in range(size):
                    total += beta[l, n, k] * prim_block[lm, k]
                out[lm, n] = total


@njit(cache=True, nogil=True)
def _channels(source, mapping, offset, width, out, mask, l_max):
    """Transposed channels out[c', lm] = sum_{n < width} source[lm, n] mapping[l, offset + n, c'].

    ``mask[c']`` tells whether channel c' is non-zero.
    """
    n_out = mapping.shape[2]
    out[:] = 0.0
    mask[:] = False
    for l in range(l_max + 1):
        for n in range(width):
            row = mapping[l, offset + n]
            for c2 in range(n_out):
                factor = row[c2]
                if factor == 0.0:
                    continue
                mask[c2] = True
                for lm in range(l * l, (l + 1) * (l + 1)):
                    out[c2, lm] += source[lm, n] * factor


@njit(cache=True, nogil=True)
def _placed(source, offset, width, out, mask):
    """Transposed channels with ``source`` (n_lm, width) placed at channels offset.. (rest zero)."""
    out[:] = 0.0
    mask[:] = False
    for n in range(width):
        mask[offset + n] = True
        for lm in range(source.shape[0]):
            out[offset + n, lm] = source[lm, n]


@njit(cache=True, nogil=True)
def _features_by_channel(table, n_channels):
    """CSR lists of the features that use each channel (counting sort of ``table``)."""
    start = np.zeros(n_channels + 1, dtype=np.int64)
    for q in range(table.shape[0]):
        start[table[q] + 1] += 1
    for ch in range(n_channels):
        start[ch + 1] += start[ch]
    fill = start[:-1].copy()
    order = np.empty(table.shape[0], dtype=np.int64)
    for q in range(table.shape[0]):
        order[fill[table[q]]] = q
        fill[table[q]] += 1
    return start, order


@njit(cache=True, nogil=True)
def _nonzero(mask, indices, position):
    count = 0
    for ch in range(mask.shape[0]):
        if mask[ch]:
            indices[count] = ch
            position[ch] = count
            count += 1
    return count


@njit(cache=True, nogil=True)
def _gram_blocks(dchannels, nonzero, n_nonzero, other_lm, out, l_max):
    """out[l, c, k, ch'] = sum_{lm in l} dchannels[c, nonzero[k], lm] other_lm[lm, ch']."""
    width = other_lm.shape[1]
    for l in range(l_max + 1):
        for c in range(3):
            for k in range(n_nonzero):
                target = out[l, c, k]
                for ch2 in range(width):
                    target[ch2] = 0.0
                source = dchannels[c, nonzero[k]]
                for lm in range(l * l, (l + 1) * (l + 1)):
                    x = source[lm]
                    if x == 0.0:
                        continue
                    row = other_lm[lm]
                    for ch2 in range(width):
                        target[ch2] += x * row[ch2]


@njit(cache=True, nogil=True)
def soap_derivatives_batch(
    positions,
    species_index,
    offsets,
    cells,
    pbc,
    cutoff,
    min_distance,
    n_species,
    l_max,
    harmonics_norm,
    const,
    decay,
    beta,
    star_const,
    star_decay,
    star_beta,
    use_star,
    element_weight,
    atom_weight,
    center_weight,
    map_a,
    use_map_a,
    map_b,
    b_kind,
    table_l,
    table_a,
    table_b,
    pref,
    pair_offsets,
):
    """Generalised SOAP power spectra and their position derivatives for a batch.

    Arguments as ``soap.soap_batch``, plus ``pair_offsets`` (n_atoms + 1) from
    ``pairs.count_pairs`` with the same cutoff.

    Returns
    -------
    values : (n_atoms, n_features) float64, before any l2 normalisation
    atom : (n_pairs,) int64, batch row of the moved atom of each pair
    dvalues : (n_pairs, 3, n_features) float64, d values / d r_atom in 1/Å
    """
    n_max = const.shape[1]
    n_lm = (l_max + 1) * (l_max + 1)
    n_chan = n_species * n_max
    n_star = star_const.shape[1]
    n_features = table_l.shape[0]
    n_pairs = pair_offsets[-1]
    values = np.zeros((positions.shape[0], n_features))
    atom = np.empty(n_pairs, dtype=np.int64)
    dv = np.zeros((n_pairs, 3, n_features))

    prim_count = np.full(l_max + 1, n_max)
    star_count = np.empty(l_max + 1, dtype=np.int64)
    for l in range(l_max + 1):
        star_count[l] = min(2 * l + 1, n_star)
    g = np.empty(n_lm)
    dg = np.empty((n_lm, 3))
    radial = np.empty(max(n_max, n_star))
    prim = np.empty((n_species, n_lm, n_max))
    star_prim = np.empty((1, n_lm, n_star))
    coef = np.empty((n_lm, n_chan))
    cstar = np.empty((n_lm, n_star))
    block = np.empty((n_lm, n_max))
    dcoef = np.empty((n_lm, n_max))
    dstar = np.empty((n_lm, n_star))
    n_left = map_a.shape[2] if use_map_a else n_chan
    if b_kind == B_MAPPED:
        n_right = map_b.shape[2]
    elif b_kind == B_STAR:
        n_right = n_star
    elif b_kind == B_RAW:
        n_right = n_chan
    else:
        n_right = n_left
    left = np.empty((n_left, n_lm))  # transposed: channel-major, lm contiguous
    right = np.empty((n_right, n_lm))
    dleft = np.empty((3, n_left, n_lm))
    dright = np.empty((3, n_right, n_lm))
    mask_left = np.empty(n_left, dtype=np.bool_)
    mask_right = np.empty(n_right, dtype=np.bool_)
    scratch_mask = np.empty(max(n_left, n_right), dtype=np.bool_)
    left_lm = np.empty((n_lm, n_left))
    right_lm = np.empty((n_lm, n_right))
    nz_left = np.empty(n_left, dtype=np.int64)
    nz_right = np.empty(n_right, dtype=np.int64)
    position_left = np.empty(n_left, dtype=np.int64)
    position_right = np.empty(n_right, dtype=np.int64)
    dgram_a = np.empty((l_max + 1, 3, n_left, n_right))
    dgram_b = np.empty((l_max + 1, 3, n_right, n_left) if b_kind != B_SAME_AS_A else (l_max + 1, 3, n_left, n_right))
    by_a_start, by_a = _features_by_channel(table_a, n_left)
    by_b_start, by_b = _features_by_channel(table_b, n_right)
    v = np.empty(3)

    for s in range(offsets.shape[0] - 1):
        a0 = offsets[s]
        a1 = offsets[s + 1]
        first, nbr, vec, dist, _, shortest = guarded_neighbor_list(
            positions[a0:a1], cells[s], pbc[s], cutoff, min_distance, False
        )
        if overlapping(shortest, min_distance):
            for i in range(a1 - a0):
                atom[pair_offsets[a0 + i]] = a0 + i
            continue
        n = a1 - a0
        stamp = np.full(n, -1, dtype=np.int64)
        members = np.empty(n, dtype=np.int64)
        position = np.empty(n, dtype=np.int64)
        pair_of = np.empty(nbr.shape[0], dtype=np.int64)
        max_pairs = 1
        for i in range(n):
            max_pairs = max(max_pairs, pair_offsets[a0 + i + 1] - pair_offsets[a0 + i])
        dprim = np.empty((max_pairs, 3, n_lm, n_max))
        dstar_prim = np.empty((max_pairs if use_star else 1, 3, n_lm, n_star))
        for i in range(n):
            base = pair_offsets[a0 + i]
            count = pair_offsets[a0 + i + 1] - base
            centre = centre_pairs(i, first, nbr, base, a0, stamp, members, position, atom, pair_of)
            prim[:] = 0.0
            star_prim[:] = 0.0
            dprim[:count] = 0.0
            if use_star:
                dstar_prim[:count] = 0.0
            e_i = species_index[a0 + i]
            for lm in range(n_lm):
                g[lm] = 0.0
                for c in range(3):
                    dg[lm, c] = 0.0
            # the centre's own Gaussian: only l = 0, and no derivative
            g[0] = harmonics_norm[0, 0]
            v[:] = 0.0
            _expand(prim, dprim, centre - base, e_i, g, dg, v, const, decay, 0.0,
                    center_weight * atom_weight[a0 + i], 0, prim_count, radial)
            if use_star:
                _expand(star_prim, dstar_prim, centre - base, 0, g, dg, v, star_const, star_decay, 0.0,
                        center_weight * element_weight[e_i], 0, star_count, radial)
            for p in range(first[i], first[i + 1]):
                r = dist[p]
                j = nbr[p]
                for c in range(3):
                    v[c] = vec[p, c]
                solid_harmonics_gradient(v, r, l_max, harmonics_norm, g, dg)
                e = species_index[a0 + j]
                # images of the centre itself keep a fixed offset: their slot is the
                # centre's, which is overwritten below by minus the others' sum
                slot = pair_of[p] - base
                _expand(prim, dprim, slot, e, g, dg, v, const, decay, r, atom_weight[a0 + j], l_max, prim_count, radial)
                if use_star:
                    _expand(star_prim, dstar_prim, slot, 0, g, dg, v, star_const, star_decay, r,
                            element_weight[e], l_max, star_count, radial)
            # coefficients and the channel matrices A (left) and B (right)
            for e in range(n_species):
                _transform(beta, prim[e], block, l_max, prim_count)
                for lm in range(n_lm):
                    for k in range(n_max):
                        coef[lm, e * n_max + k] = block[lm, k]
            if use_star:
                _transform(star_beta, star_prim[0], cstar, l_max, star_count)
            if use_map_a:
                _channels(coef, map_a, 0, n_chan, left, scratch_mask, l_max)
            else:
                _placed(coef, 0, n_chan, left, scratch_mask)
            if b_kind == B_MAPPED:
                _channels(coef, map_b, 0, n_chan, right, scratch_mask, l_max)
            elif b_kind == B_STAR:
                _placed(cstar, 0, n_star, right, scratch_mask)
            elif b_kind == B_RAW:
                _placed(coef, 0, n_chan, right, scratch_mask)
            else:
                right[:] = left
            row = values[a0 + i]
            for q in range(n_features):
                l = table_l[q]
                total = 0.0
                la = left[table_a[q]]
                rb = right[table_b[q]]
                for lm in range(l * l, (l + 1) * (l + 1)):
                    total += la[lm] * rb[lm]
                row[q] = pref[q] * total
            # lm-major copies for the contiguous inner loops of the derivative Gram blocks
            for ch in range(n_left):
                for lm in range(n_lm):
                    left_lm[lm, ch] = left[ch, lm]
            for ch in range(n_right):
                for lm in range(n_lm):
                    right_lm[lm, ch] = right[ch, lm]
            # derivatives, one moved atom at a time
            for slot in range(count):
                target = base + slot
                if target == centre:
                    continue
                e = species_index[atom[target]]
                for c in range(3):
                    _transform(beta, dprim[slot, c], dcoef, l_max, prim_count)
                    if use_map_a:
                        _channels(dcoef, map_a, e * n_max, n_max, dleft[c], mask_left, l_max)
                    else:
                        _placed(dcoef, e * n_max, n_max, dleft[c], mask_left)
                    if b_kind == B_MAPPED:
                        _channels(dcoef, map_b, e * n_max, n_max, dright[c], mask_right, l_max)
                    elif b_kind == B_STAR:
                        _transform(star_beta, dstar_prim[slot, c], dstar, l_max, star_count)
                        _placed(dstar, 0, n_star, dright[c], mask_right)
                    elif b_kind == B_RAW:
                        _placed(dcoef, e * n_max, n_max, dright[c], mask_right)
                    else:
                        dright[c, :, :] = dleft[c]
                        mask_right[:] = mask_left
                n_nz_left = _nonzero(mask_left, nz_left, position_left)
                n_nz_right = _nonzero(mask_right, nz_right, position_right)
                # dGA[l, c, ia, cb] = sum_m dA[c, nz_left[ia], lm] B[lm, cb]
                _gram_blocks(dleft, nz_left, n_nz_left, right_lm, dgram_a, l_max)
                # dGB[l, c, ib, ca] = sum_m dB[c, nz_right[ib], lm] A[lm, ca] (= dGA when B is A)
                if b_kind == B_SAME_AS_A:
                    gram_b = dgram_a
                else:
                    _gram_blocks(dright, nz_right, n_nz_right, left_lm, dgram_b, l_max)
                    gram_b = dgram_b
                out = dv[target]
                for k in range(n_nz_left):
                    ch = nz_left[k]
                    for f_index in range(by_a_start[ch], by_a_start[ch + 1]):
                        q = by_a[f_index]
                        l = table_l[q]
                        cb = table_b[q]
                        for c in range(3):
                            out[c, q] += pref[q] * dgram_a[l, c, k, cb]
                for k in range(n_nz_right):
                    ch = nz_right[k]
                    for f_index in range(by_b_start[ch], by_b_start[ch + 1]):
                        q = by_b[f_index]
                        l = table_l[q]
                        ca = table_a[q]
                        for c in range(3):
                            out[c, q] += pref[q] * gram_b[l, c, k, ca]
            # translation invariance: the centre moves opposite to all the others
            centre_row = dv[centre]
            for slot in range(count):
                target = base + slot
                if target == centre:
                    continue
                other = dv[target]
                for c in range(3):
                    row_c = centre_row[c]
                    other_c = other[c]
                    for q in range(n_features):
                        row_c[q] -= other_c[q]
    return values, atom, dv
