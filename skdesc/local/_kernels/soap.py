"""Numba kernels of the SOAP density expansion and its generalised power spectra.

The density of element e around a centre is a sum of unnormalised Gaussians,
rho_e(r) = sum_{j in e} w_j exp(-|r - R_j|^2 / (2 sigma^2)), expanded on GTO
radial functions g_nl and real spherical harmonics Y_lm.  With the primitive
functions r^l exp(-alpha_kl r^2) the radial integral is analytic:

    int r^{l+2} e^{-a r^2} i_l(b r) dr = sqrt(pi/2) b^l / (2a)^{l+3/2} e^{b^2/(4a)}

(i_l: modified spherical Bessel function, a = alpha + 1/(2 sigma^2),
b = R / sigma^2), so a neighbour at distance R along unit vector u adds

    4 pi sqrt(pi/2) (2a)^{-(l+3/2)} sigma^{-2l} R^l exp(-R^2 alpha / (2 sigma^2 alpha + 1)) Y_lm(u)

to the primitive coefficient (l, k); the orthonormal GTO coefficients follow
from the Loewdin matrix beta_l.  The kernel does not evaluate this closed form
per neighbour: the combined radial functions are tabulated once
(:func:`radial_table`, checked against :func:`radial_exact`).  Every output
feature is then
``pref[p] * sum_m A[l m, a] B[l m, b]`` for a table of (l, a, b) triples, where
the channel matrices A and B are linear maps of the coefficients (identity,
element sums, embeddings, random projections) chosen by the compression.

Per centre the kernel takes its full neighbour list, groups the neighbours
by element, evaluates their real harmonics four neighbours at a time
(:func:`.spherical.real_harmonics_batch`) and their radial functions by
Estrin's scheme (:func:`_weighted_radial_values`), and forms each element's
coefficients as one register-tiled product ``sum_k Y_lm(k) w_k R_nl(k)``
(:func:`.tiles.tile_product`).  It then maps the channels, builds one Gram
matrix per l from the same tiles (only the entries the feature table reads)
and gathers the output columns.
"""

import numpy as np
from numba import njit
from scipy.linalg import sqrtm
from scipy.special import gamma

from .simd import broadcast4, load4, mul4, multiply_add, multiply_add4, store4, zeros4
from .spherical import real_harmonics_batch
from .tiles import tile_product

# b_kind values: what the right-hand channel matrix B is
B_SAME_AS_A = 0
B_MAPPED = 1
B_STAR = 2
B_RAW = 3

# degree of the radial table's polynomials (_radial_values writes the Horner out)
_RADIAL_DEGREE = 7


def gto_basis(r_cut, n_max, l_max):
    """dscribe's GTO radial basis: exponents and Loewdin orthonormalisation.

    ``a_n = linspace(1, r_cut, n_max)``, ``alpha_nl = -ln(1e-3 / a_n^l) / a_n^2``,
    overlap ``S_nn' = Gamma(l + 3/2) / (2 (alpha_n + alpha_n')^{l+3/2})`` and
    ``beta_l = S^{-1/2}``.

    Returns
    -------
    alpha : ndarray of shape (l_max + 1, n_max)
    beta : ndarray of shape (l_max + 1, n_max, n_max)
    """
    centres = np.linspace(1.0, r_cut, n_max)
    alpha = np.zeros((l_max + 1, n_max))
    beta = np.zeros((l_max + 1, n_max, n_max))
    for l in range(l_max + 1):
        alpha[l] = -np.log(1e-3 / centres**l) / centres**2
        overlap = 0.5 * gamma(l + 1.5) * (alpha[l][:, None] + alpha[l][None, :]) ** (-l - 1.5)
        root = sqrtm(np.linalg.inv(overlap))
        if np.iscomplexobj(root) and np.abs(root.imag).max() > 1e-8 * np.abs(root.real).max():
            raise ValueError(
                f"the GTO basis with n_max={n_max}, r_cut={r_cut} is numerically singular; "
                "lower n_max or raise r_cut"
            )
        beta[l] = np.real(root)
    return alpha, beta


def star_basis(r_cut, l_max, ratio=1.4):
    """Radial bases with 2l + 1 functions for each l (the total density of nu,mu*).

    dscribe's construction (decay points evenly spaced between 1 Å and r_cut)
    is numerically singular beyond about 12 functions, and nu,mu* needs up to
    2 l_max + 1 = 41.  So these bases are even-tempered instead:
    ``alpha_k = alpha_0 ratio^k`` (k < 2l + 1), where ``r^l exp(-alpha_0 r^2)``
    decays to 1e-3 at r_cut, orthonormalised by Loewdin's S^{-1/2}.  With
    ratio 1.4 the overlap matrix stays well conditioned (condition number
    about 1e5 for 19 functions).

    Returns
    -------
    alpha : ndarray of shape (l_max + 1, 2 l_max + 1), zero-padded
    beta : ndarray of shape (l_max + 1, 2 l_max + 1, 2 l_max + 1), zero-padded
    """
    size = 2 * l_max + 1
    alpha = np.zeros((l_max + 1, size))
    beta = np.zeros((l_max + 1, size, size))
    for l in range(l_max + 1):
        k = 2 * l + 1
        alpha[l, :k] = (np.log(1e3) + l * np.log(r_cut)) / r_cut**2 * ratio ** np.arange(k)
        overlap = 0.5 * gamma(l + 1.5) * (alpha[l, :k][:, None] + alpha[l, :k][None, :]) ** (-l - 1.5)
        lam, vectors = np.linalg.eigh(overlap)
        beta[l, :k, :k] = (vectors / np.sqrt(lam)) @ vectors.T
    return alpha, beta


def radial_constants(alpha, sigma):
    """Per-(l, k) prefactor and decay rate of a neighbour's primitive coefficient."""
    l = np.arange(alpha.shape[0])[:, None]
    a = alpha + 1.0 / (2.0 * sigma**2)
    const = 4.0 * np.pi * np.sqrt(np.pi / 2.0) * (2.0 * a) ** (-(l + 1.5)) * sigma ** (-2.0 * l)
    decay = alpha / (2.0 * sigma**2 * alpha + 1.0)
    return np.ascontiguousarray(const), np.ascontiguousarray(decay)


def radial_exact(r, alpha, beta, counts, sigma, magnitude=False):
    """Orthonormal radial functions of a neighbour at distances ``r``, from the closed form.

    ``h[p, l, n] = sum_k beta[l, n, k] const[l, k] r_p^l exp(-r_p^2 decay[l, k])`` for
    ``n, k < counts[l]`` (zero beyond): the contribution of a unit Gaussian at
    distance ``r_p`` to the coefficient (n, l, m) is ``h[p, l, n] Y_lm``.

    With ``magnitude=True`` it returns ``sum_k |beta[l, n, k] const[l, k] ...|``
    instead, the size of the terms that cancel in the sum (its rounding
    error is about 1e-16 times that).

    Returns
    -------
    ndarray of shape (len(r), l_max + 1, alpha.shape[1])
    """
    r = np.asarray(r, dtype=np.float64)
    const, decay = radial_constants(alpha, sigma)
    out = np.zeros((r.shape[0],) + alpha.shape)
    for l in range(alpha.shape[0]):
        k = counts[l]
        prim = const[l, :k] * r[:, None] ** l * np.exp(-(r[:, None] ** 2) * decay[l, :k])
        out[:, l, :k] = np.abs(prim) @ np.abs(beta[l, :k, :k]).T if magnitude else prim @ beta[l, :k, :k].T
    return out


def radial_table(alpha, beta, counts, sigma, r_max, rtol=1e-12):
    """Piecewise-polynomial table of :func:`radial_exact` on ``[0, r_max]``.

    The closed form costs one exponential per primitive and neighbour (56 for
    n_max 8, l_max 6), which dominated the expansion.  On each of ``n``
    equal intervals the functions are interpolated at Chebyshev nodes by a
    polynomial of degree 7 (written out in :func:`_radial_values`) in the
    local variable t in [-1, 1]; intervals are
    doubled until the error at off-node points is below ``rtol`` times the
    largest magnitude of the terms summed by the closed form, whose own
    rounding error is about 1e-16 times that (the Loewdin coefficients
    cancel: with n_max 12 to about 1e-10 of the function's size).  The
    derivative kernel differentiates the same polynomials
    (:func:`_radial_values_and_slopes`), so its gradients are those of the
    values computed here.

    Returns
    -------
    table : ndarray of shape (n, 8, (l_max + 1) * alpha.shape[1])
        Monomial coefficients in t, lowest order first; functions flattened as
        ``l * alpha.shape[1] + n``.
    inv_width : float
        1 / interval width, in 1/Å.
    """
    n_func = alpha.shape[0] * alpha.shape[1]
    degree = _RADIAL_DEGREE
    nodes = np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
    # Chebyshev coefficients -> monomial coefficients
    to_monomial = np.zeros((degree + 1, degree + 1))
    for j in range(degree + 1):
        unit = np.zeros(degree + 1)
        unit[j] = 1.0
        mono = np.polynomial.chebyshev.cheb2poly(unit)
        to_monomial[: mono.shape[0], j] = mono
    vander = np.polynomial.chebyshev.chebvander(nodes, degree)
    probes = np.linspace(-1.0, 1.0, 7)[1:-1] * 0.97
    n_intervals = max(8, int(np.ceil(r_max / (0.5 * sigma))))
    while True:
        width = r_max / n_intervals
        starts = width * np.arange(n_intervals)
        at_nodes = radial_exact((starts[:, None] + (nodes + 1.0) * width / 2).ravel(), alpha, beta, counts, sigma)
        values = at_nodes.reshape(n_intervals, degree + 1, n_func)
        cheb = np.linalg.solve(vander, values)  # (n_intervals, degree + 1, n_func)
        table = np.ascontiguousarray(np.einsum("ij,njf->nif", to_monomial, cheb))
        check_r = (starts[:, None] + (probes + 1.0) * width / 2).ravel()
        exact = radial_exact(check_r, alpha, beta, counts, sigma).reshape(n_intervals, probes.size, n_func)
        approx = np.einsum("pd,ndf->npf", probes[:, None] ** np.arange(degree + 1), table)
        scale = radial_exact(check_r, alpha, beta, counts, sigma, magnitude=True).max(axis=0).ravel() + 1e-300
        error = (np.abs(approx - exact) / scale).max()
        if error <= rtol or n_intervals >= 4096:
            break
        n_intervals *= 2
    if error > rtol:
        raise ValueError(f"could not tabulate the radial basis to {rtol:g} (error {error:.2g}); lower n_max")
    return table, 1.0 / width


# coefficient memory per block of centres (about the L2 + a share of L3 cache)
_BLOCK_BYTES = 4 << 20


@njit(cache=True, nogil=True)
def half_list_limit(n_lm, n_chan, star_stride):
    """Centres per block of coefficients (the bispectrum kernel expands structures up to this size from half lists)."""
    return max(1, _BLOCK_BYTES // (n_lm * (n_chan + star_stride) * 8))


@njit(cache=True, nogil=True, inline="always")
def _radial_values(table, inv_width, r, out):
    """out[f] = the tabulated radial function f at distance r (degree-7 Horner in t).

    The whole Horner chain of a function stays in registers and the loop over
    functions vectorises; updating out[f] once per degree (a loop over the
    degree) kept every partial sum in memory and ran scalar, 1.5x slower
    overall in mu2.  Same operations in the same order, so the same values.
    """
    x = r * inv_width
    index = min(np.int64(x), table.shape[0] - 1)
    t = 2.0 * (x - index) - 1.0
    c = table[index]
    c0, c1, c2, c3, c4, c5, c6, c7 = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for f in range(out.shape[0]):
        out[f] = ((((((c7[f] * t + c6[f]) * t + c5[f]) * t + c4[f]) * t + c3[f]) * t + c2[f]) * t + c1[f]) * t + c0[f]


@njit(cache=True, nogil=True, inline="always")
def _weighted_radial_values(table, flat_table, inv_width, r, weight, out, start):
    """out[start + f] = weight times the tabulated radial function f at distance r.

    The same polynomials as :func:`_radial_values`, evaluated by Estrin's
    scheme (t^2, t^4 and pairs of coefficients: three dependent fused
    multiply-adds instead of Horner's seven) four functions at a time, so
    the loop is bound by loading the coefficients, not by the chain's
    latency; it agrees with the Horner values to rounding (about 1e-16 of
    the coefficients' size).  ``flat_table`` is ``table.reshape(-1)``.
    """
    x = r * inv_width
    index = min(np.int64(x), table.shape[0] - 1)
    t = 2.0 * (x - index) - 1.0
    t2 = t * t
    t4 = t2 * t2
    n = table.shape[2]
    c = index * 8 * n  # coefficient j of function f at c + j n + f
    vt = broadcast4(t)
    vt2 = broadcast4(t2)
    vt4 = broadcast4(t4)
    vw = broadcast4(weight)
    f = 0
    while f + 4 <= n:
        q = c + f
        p01 = multiply_add4(load4(flat_table, q), load4(flat_table, q + n), vt)
        p23 = multiply_add4(load4(flat_table, q + 2 * n), load4(flat_table, q + 3 * n), vt)
        p45 = multiply_add4(load4(flat_table, q + 4 * n), load4(flat_table, q + 5 * n), vt)
        p67 = multiply_add4(load4(flat_table, q + 6 * n), load4(flat_table, q + 7 * n), vt)
        value = multiply_add4(multiply_add4(p01, p23, vt2), multiply_add4(p45, p67, vt2), vt4)
        store4(out, start + f, mul4(vw, value))
        f += 4
    for f in range(f, n):
        q = c + f
        p01 = multiply_add(flat_table[q], flat_table[q + n], t)
        p23 = multiply_add(flat_table[q + 2 * n], flat_table[q + 3 * n], t)
        p45 = multiply_add(flat_table[q + 4 * n], flat_table[q + 5 * n], t)
        p67 = multiply_add(flat_table[q + 6 * n], flat_table[q + 7 * n], t)
        out[start + f] = weight * multiply_add(multiply_add(p01, p23, t2), multiply_add(p45, p67, t2), t4)


@njit(cache=True, nogil=True, inline="always")
def _radial_values_and_slopes(table, inv_width, r, out, slopes):
    """As :func:`_radial_values` (same values), plus ``slopes[f]`` = d out[f] / dr in 1/Å.

    The derivative of the same polynomial: Horner's scheme carries dP/dt
    beside P (d_k = d_(k+1) t + p_(k+1)), and dt/dr = 2 inv_width.  The value
    chain is the same operations in the same order as :func:`_radial_values`.
    """
    x = r * inv_width
    index = min(np.int64(x), table.shape[0] - 1)
    t = 2.0 * (x - index) - 1.0
    scale = 2.0 * inv_width
    c = table[index]
    c0, c1, c2, c3, c4, c5, c6, c7 = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    for f in range(out.shape[0]):
        p = c7[f] * t + c6[f]
        d = c7[f]
        d = d * t + p
        p = p * t + c5[f]
        d = d * t + p
        p = p * t + c4[f]
        d = d * t + p
        p = p * t + c3[f]
        d = d * t + p
        p = p * t + c2[f]
        d = d * t + p
        p = p * t + c1[f]
        d = d * t + p
        out[f] = p * t + c0[f]
        slopes[f] = d * scale


@njit(cache=True, nogil=True)
def soap_kernel(
    first,
    index,
    vectors,
    distances,
    species_index,
    offsets,
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
    out,
):
    """Generalised SOAP power spectrum of every atom of a batch of structures.

    ``species_index`` selects each atom's density channel (all 0 to expand
    one total density) and ``atom_weight`` its Gaussian amplitude;
    ``element_weight[species_index]`` weights the nu,mu* total density.
    ``radial_tab`` / ``star_tab`` are :func:`radial_table` tables of the
    n_max-function and (2l+1)-function bases; ``map_a`` / ``map_b`` are the
    channel maps transposed, shape (l_max + 1, n_out, n_in).

    ``first, index, vectors, distances`` are the batch's full neighbour lists
    (``skdesc.neighbors.BatchNeighbors``, cutoff r_cut plus the Gaussians'
    reach).  Writes row ``a - offsets[0]`` of ``out`` for every atom ``a``
    of the batch.
    """
    n_lm = (l_max + 1) * (l_max + 1)
    n_func = radial_tab.shape[2]
    n_max = n_func // (l_max + 1)
    n_chan = n_species * n_max
    n_star_func = star_tab.shape[2]
    star_stride = n_star_func // (l_max + 1)
    n_features = table_l.shape[0]
    a_first = offsets[0]
    a_end = offsets[offsets.shape[0] - 1]

    # per-centre work arrays, sized for the most neighbours of any centre
    width = 4
    for a in range(a_first, a_end):
        width = max(width, first[a + 1] - first[a])
    width = -(-width // 4) * 4  # the harmonics run four neighbours at a time
    ux = np.zeros(width)
    uy = np.zeros(width)
    uz = np.ones(width)  # (finite padding lanes)
    harmonics = np.empty((n_lm, width))  # Y_lm of the neighbours, grouped by element
    radial = np.empty((width, n_func))  # their weights times R_nl
    star_radial = np.empty((width if use_star else 1, n_star_func))
    slot = np.empty(n_species + 1, dtype=np.int64)
    group = np.empty(n_species + 1, dtype=np.int64)
    radial_zero = np.empty(n_func)
    star_zero = np.empty(n_star_func)
    _radial_values(radial_tab, radial_inv_width, 0.0, radial_zero)
    _radial_values(star_tab, star_inv_width, 0.0, star_zero)
    y00 = harmonics_norm[0, 0]
    flat_harmonics = harmonics.reshape(-1)
    flat_radial = radial.reshape(-1)
    flat_star_radial = star_radial.reshape(-1)
    flat_radial_tab = radial_tab.reshape(-1)
    flat_star_tab = star_tab.reshape(-1)

    # the centre's coefficients: (lm, element channel e * n_max + n)
    coef = np.empty((n_lm, n_chan))
    flat_coef = coef.reshape(-1)
    cstar = np.empty((n_lm, star_stride))  # nu,mu* total density, rows padded to star_stride
    flat_cstar = cstar.reshape(-1)
    present = np.ones(n_chan, dtype=np.bool_)
    # maps of 8 or more channels are applied as tiled products, from their rows
    # over input channels (chan_a, chan_b then have their padded width)
    rows_a = _map_rows(map_a, use_map_a)
    rows_b = _map_rows(map_b, b_kind == B_MAPPED)
    width_a = rows_a.shape[2] if rows_a.shape[0] else map_a.shape[1]
    width_b = rows_b.shape[2] if rows_b.shape[0] else map_b.shape[1]
    # maps kron(W_l, identity over n) (element sums, embeddings) as weighted sums of element blocks
    blocks_a = _map_blocks(map_a, n_max, use_map_a)
    blocks_b = _map_blocks(map_b, n_max, b_kind == B_MAPPED)
    chan_a = np.zeros((n_lm, width_a if use_map_a else n_chan))  # (padding channels stay zero)
    chan_b = np.zeros((n_lm, width_b))
    n_cols = max(n_chan, star_stride, width_b, width_a if use_map_a else 0)
    gram = np.empty((l_max + 1, n_cols, n_cols))
    all_rows = np.ones(n_cols, dtype=np.bool_)
    flat_gram = gram.reshape(-1)
    n_left = map_a.shape[1] if use_map_a else n_chan
    n_right = n_left
    if b_kind == B_MAPPED:
        n_right = map_b.shape[1]
    elif b_kind == B_STAR:
        n_right = star_stride
    elif b_kind == B_RAW:
        n_right = n_chan
    # the Gram tiles are 8 columns wide and 4 rows high: make the columns the longer side
    swap = n_right < n_left
    # B = A (raw or mapped channels): the Gram matrix is symmetric (each entry
    # is the same chain of products), so every feature reads the lower triangle
    # and the upper one is never formed
    symmetric = b_kind == B_SAME_AS_A or (b_kind == B_RAW and not use_map_a)
    position = np.empty(n_features, dtype=np.int64)
    # per l and Gram row, the range of columns some feature reads
    col_start = np.full((l_max + 1, n_cols), n_cols, dtype=np.int64)
    col_end = np.zeros((l_max + 1, n_cols), dtype=np.int64)
    for q in range(n_features):
        l = table_l[q]
        if symmetric:
            ca, cb = max(table_a[q], table_b[q]), min(table_a[q], table_b[q])
        elif swap:
            ca, cb = table_b[q], table_a[q]
        else:
            ca, cb = table_a[q], table_b[q]
        position[q] = (l * n_cols + ca) * n_cols + cb
        col_start[l, ca] = min(col_start[l, ca], cb)
        col_end[l, ca] = max(col_end[l, ca], cb + 1)
    # whole blocks of n_max columns: rows of 1..7 columns cost as much as 8
    n_gram_cols = n_left if swap else n_right
    for l in range(l_max + 1):
        for ca in range(n_cols):
            if col_end[l, ca] > 0:
                col_start[l, ca] = col_start[l, ca] // n_max * n_max
                col_end[l, ca] = min(-(-col_end[l, ca] // n_max) * n_max, n_gram_cols)

    for a in range(a_first, a_end):
        e_a = species_index[a]
        p0 = first[a]
        n_neigh = first[a + 1] - p0
        # group the neighbours by element (a counting sort): each element's
        # expansion is then one product of contiguous blocks
        slot[:] = 0
        for p in range(p0, p0 + n_neigh):
            slot[species_index[index[p]] + 1] += 1
        for e in range(n_species):
            slot[e + 1] += slot[e]
        group[:] = slot
        for p in range(p0, p0 + n_neigh):
            j = index[p]
            e = species_index[j]
            k = slot[e]
            slot[e] = k + 1
            r = distances[p]
            inv = 1.0 / r
            ux[k] = vectors[p, 0] * inv
            uy[k] = vectors[p, 1] * inv
            uz[k] = vectors[p, 2] * inv
            _weighted_radial_values(radial_tab, flat_radial_tab, radial_inv_width, r, atom_weight[j], flat_radial,
                                    k * n_func)
            if use_star:
                _weighted_radial_values(star_tab, flat_star_tab, star_inv_width, r, element_weight[e],
                                        flat_star_radial, k * n_star_func)
        real_harmonics_batch(ux, uy, uz, n_neigh, l_max, harmonics_norm, harmonics)
        # coef[lm, e n_max + n] = sum over neighbours k of element e of Y_lm(k) w_k R_nl(k)
        for e in range(n_species):
            k0 = group[e]
            for l in range(l_max + 1):
                tile_product(flat_harmonics, l * l * width + k0, 1, width,
                             flat_radial, k0 * n_func + l * n_max, n_func,
                             flat_coef, l * l * n_chan + e * n_max, n_chan,
                             group[e + 1] - k0, 2 * l + 1, n_max)
            for n in range(e * n_max, (e + 1) * n_max):
                present[n] = group[e + 1] > k0 or e == e_a
        # the centre itself: r = 0, only l = 0 survives
        weight = center_weight * atom_weight[a] * y00
        for n in range(n_max):
            coef[0, e_a * n_max + n] += weight * radial_zero[n]
        if use_star:
            for l in range(l_max + 1):
                tile_product(flat_harmonics, l * l * width, 1, width,
                             flat_star_radial, l * star_stride, n_star_func,
                             flat_cstar, l * l * star_stride, star_stride,
                             n_neigh, 2 * l + 1, star_stride)
            weight = center_weight * element_weight[e_a] * y00
            for n in range(star_stride):
                cstar[0, n] += weight * star_zero[n]
        left = coef
        if use_map_a:
            _apply_map(coef, map_a, rows_a, blocks_a, n_max, chan_a, l_max)
            left = chan_a
        right = left
        if b_kind == B_MAPPED:
            _apply_map(coef, map_b, rows_b, blocks_b, n_max, chan_b, l_max)
            right = chan_b
        elif b_kind == B_STAR:
            right = cstar
        elif b_kind == B_RAW:
            right = coef
        if swap:
            _channel_gram(right, left, l_max, present if b_kind == B_RAW else all_rows, col_start, col_end, gram)
        else:
            _channel_gram(left, right, l_max, all_rows if use_map_a else present, col_start, col_end, gram)
        row_out = out[a - a_first]
        for q in range(n_features):
            row_out[q] = pref[q] * flat_gram[position[q]]


@njit(cache=True, nogil=True)
def _channel_gram(left, right, l_max, rows, col_start, col_end, gram):
    """gram[l, a, b] = sum_m left[lm, a] right[lm, b], for col_start[l, a] <= b < col_end[l, a] only.

    ``col_end`` comes from the feature table, so only the columns that some
    feature reads are formed (for a symmetric spectrum, read from the lower
    triangle of element blocks: S (S + 1) / 2 of the S^2 blocks).  Rows ``a``
    with ``rows[a]`` False are known to be zero (channels of elements absent
    from the environment): a group of four such rows is only cleared.

    Each group of four rows is one :func:`~.tiles.tile_product` over its
    longest row (the shorter rows get a few columns nobody reads), so every
    entry is the same chain of products whatever its row's length.
    """
    n_left = left.shape[1]
    n_right = right.shape[1]
    n_cols = gram.shape[2]
    flat_left = left.reshape(-1)
    flat_right = right.reshape(-1)
    flat_gram = gram.reshape(-1)
    for l in range(l_max + 1):
        start_l = col_start[l]
        end_l = col_end[l]
        for ca in range(0, n_left, 4):
            n_rows = min(4, n_left - ca)
            start = n_cols
            end = 0
            needed = False
            for c in range(ca, ca + n_rows):
                start = min(start, start_l[c])
                end = max(end, end_l[c])
                needed = needed or rows[c]
            if end <= start:
                continue
            if not needed:
                gram[l, ca : ca + n_rows, start:end] = 0.0
                continue
            tile_product(flat_left, l * l * n_left + ca, n_left, 1,
                         flat_right, l * l * n_right + start, n_right,
                         flat_gram, (l * n_cols + ca) * n_cols + start, n_cols,
                         2 * l + 1, n_rows, end - start)


@njit(cache=True, nogil=True)
def _map_rows(mapping_t, used):
    """The transposed channel map ``mapping_t`` (l_max + 1, n_out, n_in) as (l_max + 1, n_in, n_out').

    n_out' is n_out rounded up to a multiple of 4, the extra columns zero, so
    the tiled product has no scalar remainder.  Empty (shape (0, 0, 0)) if the
    map is not ``used`` or narrower than one 8-column tile: :func:`_apply_map`
    then takes dot products.
    """
    n_l, n_out, n_in = mapping_t.shape
    if not used or n_out < 8:
        return np.zeros((0, 0, 0))
    rows = np.zeros((n_l, n_in, -(-n_out // 4) * 4))
    for l in range(n_l):
        for c in range(n_in):
            for c2 in range(n_out):
                rows[l, c, c2] = mapping_t[l, c2, c]
    return rows


@njit(cache=True, nogil=True)
def _map_blocks(mapping_t, n_max, used):
    """``W`` (l_max + 1, n_in / n_max, n_out / n_max) if the map is kron(W_l, identity over n), else empty.

    ``mapping_t`` is the transposed map (l_max + 1, n_out, n_in):
    ``mapping_t[l, j n_max + n', e n_max + n] = W[l, e, j]`` if n = n', zero
    otherwise, exactly (the element sums of nu1mu1, the embeddings).
    """
    n_l, n_out, n_in = mapping_t.shape
    if not used or n_out % n_max or n_in % n_max:
        return np.zeros((0, 0, 0))
    weights = np.empty((n_l, n_in // n_max, n_out // n_max))
    for l in range(n_l):
        for c2 in range(n_out):
            for c in range(n_in):
                value = mapping_t[l, c2, c]
                if c % n_max != c2 % n_max:
                    if value != 0.0:
                        return np.zeros((0, 0, 0))
                elif c % n_max == 0:
                    weights[l, c // n_max, c2 // n_max] = value
                elif value != weights[l, c // n_max, c2 // n_max]:
                    return np.zeros((0, 0, 0))
    return weights


@njit(cache=True, nogil=True)
def _apply_map(coef, mapping_t, rows, blocks, n_max, out, l_max):
    """out[lm, c'] = sum_c coef[lm, c] mapping_t[l, c', c] (a per-l linear map of channels).

    Three forms, fastest first: with ``blocks`` (:func:`_map_blocks`), the
    weighted sums of the elements' blocks of n_max channels, four channels
    at a time; with ``rows`` (:func:`_map_rows`), one
    :func:`~.tiles.tile_product` per l, the 2l + 1 rows (l, m) by the mapped
    channels, summed over the input channels in order (1.1-1.3x faster than
    dot products for 8-40 mapped channels).  Narrower maps (the radial sums of
    nu1nu1hat and nu1mu1hat, one per element) take :func:`_map_dot`: a tile
    of 8 columns would be mostly padding there.  The first two give the same
    values (the same chains of multiply-adds, without the zero terms).
    """
    if blocks.shape[0] != 0:
        _map_element_blocks(coef, blocks, n_max, out, l_max)
        return
    if rows.shape[0] == 0:
        _map_dot(coef, mapping_t, out, l_max)
        return
    n_in = coef.shape[1]
    n_out = rows.shape[2]
    flat_coef = coef.reshape(-1)
    flat_rows = rows.reshape(-1)
    flat_out = out.reshape(-1)
    for l in range(l_max + 1):
        tile_product(flat_coef, l * l * n_in, 1, n_in,
                     flat_rows, l * n_in * n_out, n_out,
                     flat_out, l * l * n_out, n_out,
                     n_in, 2 * l + 1, n_out)


@njit(cache=True, nogil=True)
def _map_element_blocks(coef, weights, n_max, out, l_max):
    """out[lm, j n_max + n] = sum_e weights[l, e, j] coef[lm, e n_max + n], in order of e."""
    n_in = coef.shape[1]
    n_out = out.shape[1]
    n_el = weights.shape[1]
    flat_coef = coef.reshape(-1)
    flat_out = out.reshape(-1)
    for l in range(l_max + 1):
        for lm in range(l * l, (l + 1) * (l + 1)):
            for j in range(weights.shape[2]):
                target = lm * n_out + j * n_max
                n = 0
                while n + 4 <= n_max:
                    total = zeros4()
                    for e in range(n_el):
                        total = multiply_add4(total, broadcast4(weights[l, e, j]),
                                              load4(flat_coef, lm * n_in + e * n_max + n))
                    store4(flat_out, target + n, total)
                    n += 4
                for n in range(n, n_max):
                    total = 0.0
                    for e in range(n_el):
                        total = multiply_add(total, weights[l, e, j], flat_coef[lm * n_in + e * n_max + n])
                    flat_out[target + n] = total


@njit(cache=True, nogil=True, fastmath=True)
def _map_dot(coef, mapping_t, out, l_max):
    """:func:`_apply_map` as dot products: out[lm, c'] = coef[lm] . mapping_t[l, c'].

    The map is transposed so that each output is one contiguous dot product;
    fastmath lets LLVM vectorise that reduction (4x faster), which changes
    only the rounding, identically on every call.
    """
    n_in = coef.shape[1]
    n_out = mapping_t.shape[1]
    for l in range(l_max + 1):
        block = mapping_t[l]
        for lm in range(l * l, (l + 1) * (l + 1)):
            source = coef[lm]
            for c2 in range(n_out):
                row = block[c2]
                total = 0.0
                for c in range(n_in):
                    total += source[c] * row[c]
                out[lm, c2] = total
