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
from the Loewdin matrix beta_l.  Every output feature is then
``pref[p] * sum_m A[l m, a] B[l m, b]`` for a table of (l, a, b) triples, where
the channel matrices A and B are linear maps of the coefficients (identity,
element sums, embeddings, random projections) chosen by the compression.
"""

import numpy as np
from numba import njit
from scipy.linalg import sqrtm
from scipy.special import gamma

from ...neighbors import guarded_neighbor_list
from .spherical import real_harmonics

# b_kind values: what the right-hand channel matrix B is
B_SAME_AS_A = 0
B_MAPPED = 1
B_STAR = 2
B_RAW = 3


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


@njit(cache=True, nogil=True)
def _add_primitives(prim, row, harmonics, const, decay, r, weight, l_max, n_prim, radial):
    """prim[row, lm, k] += weight * const[l, k] r^l exp(-r^2 decay[l, k]) Y_lm.

    The innermost loop runs over k, contiguous in ``prim``, so it vectorises;
    ``radial`` is scratch space of length >= const.shape[1].
    """
    r_power = 1.0
    r2 = r * r
    for l in range(l_max + 1):
        count = n_prim[l]
        for k in range(count):
            radial[k] = weight * const[l, k] * r_power * np.exp(-r2 * decay[l, k])
        for lm in range(l * l, (l + 1) * (l + 1)):
            y = harmonics[lm]
            target = prim[row, lm]
            for k in range(count):
                target[k] += radial[k] * y
        r_power *= r


@njit(cache=True, nogil=True)
def soap_batch(
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
):
    """Generalised SOAP power spectrum of every atom of a batch of structures.

    ``species_index`` selects each atom's density channel (all 0 to expand
    one total density) and ``atom_weight`` its Gaussian amplitude;
    ``element_weight[species_index]`` weights the nu,mu* total density.

    Returns
    -------
    values : (n_atoms, n_features) float64
    shortest : (n_frames,) float64, shortest interatomic distance per frame
    """
    n_max = const.shape[1]
    n_lm = (l_max + 1) * (l_max + 1)
    n_chan = n_species * n_max
    n_star = star_const.shape[1]
    n_features = table_l.shape[0]
    n_frames = offsets.shape[0] - 1
    values = np.zeros((positions.shape[0], n_features))
    shortest = np.empty(n_frames)

    prim_count = np.full(l_max + 1, n_max)
    star_count = np.empty(l_max + 1, dtype=np.int64)
    for l in range(l_max + 1):
        star_count[l] = min(2 * l + 1, n_star)
    harmonics = np.empty(n_lm)
    y00 = np.empty(n_lm)
    y00[:] = 0.0
    y00[0] = harmonics_norm[0, 0]
    prim = np.empty((n_species, n_lm, n_max))
    radial = np.empty(max(n_max, n_star))
    star_prim = np.empty((1, n_lm, n_star))
    coef = np.empty((n_lm, n_chan))
    cstar = np.empty((n_lm, n_star))
    chan_a = np.empty((n_lm, map_a.shape[2] if use_map_a else n_chan))
    chan_b = np.empty((n_lm, map_b.shape[2]))
    n_cols = max(n_chan, n_star, map_b.shape[2], map_a.shape[2] if use_map_a else 0)
    gram = np.empty((l_max + 1, n_cols, n_cols))

    for s in range(n_frames):
        a0 = offsets[s]
        a1 = offsets[s + 1]
        first, nbr, vec, dist, _, shortest[s] = guarded_neighbor_list(
            positions[a0:a1], cells[s], pbc[s], cutoff, min_distance
        )
        if shortest[s] < min_distance:
            continue
        for i in range(a1 - a0):
            prim[:] = 0.0
            star_prim[:] = 0.0
            e_i = species_index[a0 + i]
            # the centre itself: R = 0, only l = 0 survives
            _add_primitives(
                prim, e_i, y00, const, decay, 0.0, center_weight * atom_weight[a0 + i], 0, prim_count, radial
            )
            if use_star:
                _add_primitives(
                    star_prim, 0, y00, star_const, star_decay, 0.0,
                    center_weight * element_weight[e_i], 0, star_count, radial,
                )
            for p in range(first[i], first[i + 1]):
                r = dist[p]
                inv = 1.0 / r
                real_harmonics(vec[p, 0] * inv, vec[p, 1] * inv, vec[p, 2] * inv, l_max, harmonics_norm, harmonics)
                e = species_index[a0 + nbr[p]]
                _add_primitives(prim, e, harmonics, const, decay, r, atom_weight[a0 + nbr[p]], l_max, prim_count, radial)
                if use_star:
                    _add_primitives(
                        star_prim, 0, harmonics, star_const, star_decay, r, element_weight[e], l_max, star_count, radial
                    )
            # orthonormal coefficients: coef[lm, e N + n] = sum_k beta[l, n, k] prim[e, lm, k]
            for l in range(l_max + 1):
                for lm in range(l * l, (l + 1) * (l + 1)):
                    for e in range(n_species):
                        for n in range(n_max):
                            total = 0.0
                            for k in range(n_max):
                                total += beta[l, n, k] * prim[e, lm, k]
                            coef[lm, e * n_max + n] = total
                    if use_star:
                        for n in range(star_count[l]):
                            total = 0.0
                            for k in range(star_count[l]):
                                total += star_beta[l, n, k] * star_prim[0, lm, k]
                            cstar[lm, n] = total
            left = coef
            if use_map_a:
                _apply_map(coef, map_a, chan_a, l_max)
                left = chan_a
            right = left
            if b_kind == B_MAPPED:
                _apply_map(coef, map_b, chan_b, l_max)
                right = chan_b
            elif b_kind == B_STAR:
                right = cstar
            elif b_kind == B_RAW:
                right = coef
            # per-l products of all channel pairs (contiguous, vectorisable),
            # then the table picks the stored ones
            n_left = left.shape[1]
            n_right = right.shape[1]
            for l in range(l_max + 1):
                block = gram[l]
                for ca in range(n_left):
                    for cb in range(n_right):
                        block[ca, cb] = 0.0
                for lm in range(l * l, (l + 1) * (l + 1)):
                    source = right[lm]
                    for ca in range(n_left):
                        x = left[lm, ca]
                        if x == 0.0:
                            continue
                        target = block[ca]
                        for cb in range(n_right):
                            target[cb] += x * source[cb]
            row = values[a0 + i]
            for q in range(n_features):
                row[q] = pref[q] * gram[table_l[q], table_a[q], table_b[q]]
    return values, shortest


@njit(cache=True, nogil=True)
def _apply_map(coef, mapping, out, l_max):
    """out[lm, c'] = sum_c coef[lm, c] mapping[l, c, c'] (a per-l linear map of channels)."""
    n_in = coef.shape[1]
    n_out = mapping.shape[2]
    for l in range(l_max + 1):
        for lm in range(l * l, (l + 1) * (l + 1)):
            for c2 in range(n_out):
                out[lm, c2] = 0.0
            for c in range(n_in):
                x = coef[lm, c]
                if x == 0.0:
                    continue
                for c2 in range(n_out):
                    out[lm, c2] += x * mapping[l, c, c2]

