"""Numba kernel of the derivatives of the generalised SOAP power spectra.

A neighbour of weight w at vector v = R u from the centre adds
``w h_ln(R) Y_lm(u)`` to the coefficient (n, l, m) of its density channel,
with h_ln the tabulated radial functions of ``soap.radial_table`` (the same
piecewise polynomials as the value kernel, so these are the derivatives of the
values it computes).  Its gradient with respect to v is

    w (h_ln'(R) u Y_lm(u) + h_ln(R) grad Y_lm(u) / R),

with h_ln' the derivative of the same polynomial and grad Y_lm the gradient
of ``spherical.real_harmonics`` at unit length.  Every feature is a bilinear
form ``pref sum_m A[lm, a] B[lm, b]`` of linear maps of the coefficients, so

    d p = pref sum_m (dA[lm, a] B[lm, b] + A[lm, a] dB[lm, b]).

Moving neighbour atom j changes only its own density channel, which the kernel
exploits by skipping channels whose derivative is zero.  The centre's
derivative is minus the sum over the other atoms (translation invariance);
periodic images of the centre itself do not move relative to it.
"""

import numpy as np
from numba import njit

from .soap import B_MAPPED, B_RAW, B_SAME_AS_A, B_STAR, _radial_values, _radial_values_and_slopes
from .spherical import real_harmonics


@njit(cache=True, nogil=True)
def _expand(coef, offset, dcoef, harmonics, gradient, values, slopes, u, inv_r, weight, width, l_max):
    """Add one neighbour's terms to ``coef`` and their gradient to ``dcoef``.

    ``coef[lm, offset + n] += weight Y_lm h_ln`` and
    ``dcoef[c, lm, n] += weight (h'_ln u_c Y_lm + h_ln dY_lm/dv_c)``, with
    ``values`` / ``slopes`` the radial functions h_ln and dh_ln/dr (flattened
    ``l * width + n``) and ``gradient`` the harmonics' gradient at unit length
    (times ``inv_r`` = 1 / R at the neighbour's distance R).
    """
    for l in range(l_max + 1):
        h = values[l * width : (l + 1) * width]
        dh = slopes[l * width : (l + 1) * width]
        for lm in range(l * l, (l + 1) * (l + 1)):
            y = harmonics[lm]
            row = coef[lm]
            for n in range(width):
                row[offset + n] += weight * (y * h[n])
            wy = weight * y
            for c in range(3):
                along = wy * u[c]
                across = weight * inv_r * gradient[lm, c]
                target = dcoef[c, lm]
                for n in range(width):
                    target[n] += along * dh[n] + across * h[n]


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
def soap_derivatives_kernel(
    first,
    index,
    vectors,
    distances,
    pair_first,
    pair_atom,
    pair_of_entry,
    own_pair,
    species_index,
    n_species,
    l_max,
    harmonics_norm,
    radial_tab,
    radial_inv_width,
    star_tab,
    star_inv_width,
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
    values,
    dv,
):
    """Generalised SOAP power spectra and their position derivatives for a batch.

    Reads the neighbour stage's full lists (``first``, ``index`` = batch rows,
    ``vectors``, ``distances``) and its derivative pair layout (``pair_first``,
    ``pair_atom``, ``pair_of_entry``, ``own_pair``); the other arguments as
    ``soap.soap_kernel`` (the same radial tables, so the derivatives are those
    of the values it computes), except that ``map_a`` and ``map_b`` are not
    transposed, shape (l_max + 1, n_in, n_out).

    Writes ``values`` (n_atoms, n_features), before any l2 normalisation, and
    ``dv`` (n_pairs, 3, n_features), d values / d r_atom in 1/Å, both zeroed
    by the caller.
    """
    n_max = radial_tab.shape[2] // (l_max + 1)
    n_lm = (l_max + 1) * (l_max + 1)
    n_chan = n_species * n_max
    n_star = star_tab.shape[2] // (l_max + 1)
    n_features = table_l.shape[0]
    n_atoms = first.shape[0] - 1

    harmonics = np.empty(n_lm)
    gradient = np.empty((n_lm, 3))
    radial = np.empty(radial_tab.shape[2])
    slopes = np.empty(radial_tab.shape[2])
    star_radial = np.empty(star_tab.shape[2])
    star_slopes = np.empty(star_tab.shape[2])
    radial_zero = np.empty(radial_tab.shape[2])
    star_zero = np.empty(star_tab.shape[2])
    _radial_values(radial_tab, radial_inv_width, 0.0, radial_zero)
    _radial_values(star_tab, star_inv_width, 0.0, star_zero)
    y00 = harmonics_norm[0, 0]
    coef = np.empty((n_lm, n_chan))
    cstar = np.empty((n_lm, n_star))
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
    dgram_b = np.empty((l_max + 1, 3, n_right, n_left) if b_kind != B_SAME_AS_A else (1, 1, 1, 1))
    by_a_start, by_a = _features_by_channel(table_a, n_left)
    by_b_start, by_b = _features_by_channel(table_b, n_right)
    u = np.empty(3)
    max_pairs = 1
    for i in range(n_atoms):
        max_pairs = max(max_pairs, pair_first[i + 1] - pair_first[i])
    # per moved atom, d coefficients of its own density channel: (xyz, lm, n)
    dcoef = np.empty((max_pairs, 3, n_lm, n_max))
    dstar = np.empty((max_pairs if use_star else 1, 3, n_lm, n_star))

    for i in range(n_atoms):
        base = pair_first[i]
        count = pair_first[i + 1] - base
        centre = own_pair[i]
        coef[:] = 0.0
        cstar[:] = 0.0
        dcoef[:count] = 0.0
        if use_star:
            dstar[:count] = 0.0
        e_i = species_index[i]
        # the centre's own Gaussian: r = 0, only l = 0, no derivative
        weight = center_weight * atom_weight[i] * y00
        for k in range(n_max):
            coef[0, e_i * n_max + k] += weight * radial_zero[k]
        if use_star:
            weight = center_weight * element_weight[e_i] * y00
            for k in range(n_star):
                cstar[0, k] += weight * star_zero[k]
        for p in range(first[i], first[i + 1]):
            r = distances[p]
            inv = 1.0 / r
            for c in range(3):
                u[c] = vectors[p, c] * inv
            real_harmonics(u[0], u[1], u[2], l_max, harmonics_norm, harmonics, gradient)
            _radial_values_and_slopes(radial_tab, radial_inv_width, r, radial, slopes)
            e = species_index[index[p]]
            # images of the centre itself keep a fixed offset: their slot is the
            # centre's, which is overwritten below by minus the others' sum
            slot = pair_of_entry[p] - base
            _expand(coef, e * n_max, dcoef[slot], harmonics, gradient, radial, slopes, u, inv,
                    atom_weight[index[p]], n_max, l_max)
            if use_star:
                _radial_values_and_slopes(star_tab, star_inv_width, r, star_radial, star_slopes)
                _expand(cstar, 0, dstar[slot], harmonics, gradient, star_radial, star_slopes, u, inv,
                        element_weight[e], n_star, l_max)
        # the channel matrices A (left) and B (right)
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
            for ch in range(n_left):
                for lm in range(n_lm):
                    right[ch, lm] = left[ch, lm]
        row = values[i]
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
            e = species_index[pair_atom[target]]
            for c in range(3):
                moved = dcoef[slot, c]
                if use_map_a:
                    _channels(moved, map_a, e * n_max, n_max, dleft[c], mask_left, l_max)
                else:
                    _placed(moved, e * n_max, n_max, dleft[c], mask_left)
                if b_kind == B_MAPPED:
                    _channels(moved, map_b, e * n_max, n_max, dright[c], mask_right, l_max)
                elif b_kind == B_STAR:
                    _placed(dstar[slot, c], 0, n_star, dright[c], mask_right)
                elif b_kind == B_RAW:
                    _placed(moved, e * n_max, n_max, dright[c], mask_right)
            n_nz_left = _nonzero(mask_left, nz_left, position_left)
            # dGA[l, c, ia, cb] = sum_m dA[c, nz_left[ia], lm] B[lm, cb]
            _gram_blocks(dleft, nz_left, n_nz_left, right_lm, dgram_a, l_max)
            # dGB[l, c, ib, ca] = sum_m dB[c, nz_right[ib], lm] A[lm, ca] (= dGA when B is A)
            if b_kind == B_SAME_AS_A:
                gram_b, nz_b, n_nz_right = dgram_a, nz_left, n_nz_left
            else:
                n_nz_right = _nonzero(mask_right, nz_right, position_right)
                _gram_blocks(dright, nz_right, n_nz_right, left_lm, dgram_b, l_max)
                gram_b, nz_b = dgram_b, nz_right
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
                ch = nz_b[k]
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
