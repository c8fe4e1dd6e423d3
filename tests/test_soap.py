"""SOAP and its compressions: dscribe agreement, exact linear relations, recovery, sparsity."""

import numpy as np
import pytest
import scipy.sparse as sp
from ase import Atoms
from ase.build import bulk, molecule
from scipy.spatial.transform import Rotation
from sklearn.base import clone

from skdesc import SOAP, CompressedSOAP
from skdesc.local.soap import _layout, embedding_matrix

from .conftest import read_dataset

PARAMS = dict(r_cut=4.5, n_max=4, l_max=4, sigma=0.5)
DSCRIBE_MODES = [("nu2", "off"), ("mu2", "mu2"), ("nu1mu1", "mu1nu1"), ("crossover", "crossover")]


def _dscribe(structures, species, mode, periodic, **params):
    from dscribe.descriptors import SOAP as DscribeSOAP

    p = {**PARAMS, **params}
    desc = DscribeSOAP(species=species, periodic=periodic, compression={"mode": mode}, **p)
    return np.vstack([np.atleast_2d(desc.create(atoms)) for atoms in structures])


def _assert_matches_dscribe(structures, mode, ds_mode, periodic, **params):
    ours = CompressedSOAP(compression=mode, **{**PARAMS, **params}).fit(structures)
    values = ours.transform(structures).values
    species = sorted({s for atoms in structures for s in atoms.get_chemical_symbols()})
    reference = _dscribe(structures, species, ds_mode, periodic, **params)
    assert values.shape == reference.shape
    np.testing.assert_allclose(values, reference, rtol=1e-8, atol=1e-8 * np.abs(reference).max())


@pytest.mark.parametrize("mode, ds_mode", DSCRIBE_MODES)
def test_periodic_tio2_matches_dscribe(tio2_small, mode, ds_mode):
    _assert_matches_dscribe(tio2_small[:12], mode, ds_mode, periodic=True)


@pytest.mark.parametrize("mode, ds_mode", DSCRIBE_MODES)
def test_four_element_alloys_match_dscribe(nbmotaw_small, mode, ds_mode):
    _assert_matches_dscribe(nbmotaw_small[:10], mode, ds_mode, periodic=True, n_max=3, l_max=3)


@pytest.mark.parametrize("mode, ds_mode", DSCRIBE_MODES)
def test_qm7_molecules_match_dscribe(mode, ds_mode):
    molecules = read_dataset("qm7_qmllib.extxyz.gz", "0:7101:500")
    _assert_matches_dscribe(molecules, mode, ds_mode, periodic=False, n_max=5, l_max=6, r_cut=5.0)


# ------------------------------------------------------ exact linear relations
def _gram_blocks(full, species, n_max, l_max):
    """Per-l Gram matrices G_l[(a n), (b n')] rebuilt from nu2 rows (dscribe scaling)."""
    layout = _layout("nu2", species, n_max, l_max, None, None, None)
    width = len(species) * n_max
    grams = np.zeros((full.shape[0], l_max + 1, width, width))
    grams[:, layout.l, layout.a, layout.b] = full
    grams[:, layout.l, layout.b, layout.a] = full
    return grams


@pytest.fixture(scope="module")
def alloy_environments():
    rng = np.random.default_rng(1)
    cell = bulk("W", "bcc", a=3.2, cubic=True).repeat(2)
    cell.numbers = rng.choice([23, 41, 42, 74], size=len(cell))
    cell.rattle(0.1, seed=2)
    return [cell, molecule("CH3CH2OH"), Atoms("WV", positions=[[0, 0, 0], [0, 0, 2.4]])]


def test_compressions_are_the_documented_maps_of_the_full_gram(alloy_environments):
    structures = alloy_environments
    N, L = 4, 3
    base = CompressedSOAP(r_cut=4.5, n_max=N, l_max=L).fit(structures)
    S = len(base.species_)
    grams = _gram_blocks(base.transform(structures).values, base.species_, N, L)
    w = np.array([0.5, 1.0, -2.0, 3.0, 1.5, 0.25, 2.0])[:S]
    eye = np.eye(N)
    total = np.kron(w[:, None], eye)
    maps = {
        "mu2": (total, total),
        "nu1mu1": (np.eye(S * N), total),
        "nu1nu1hat": (np.eye(S * N), np.kron(np.eye(S), np.ones((N, 1)))),
        "nu1nu1hat_crossover": (np.eye(S * N), np.kron(np.eye(S), np.ones((N, 1)))),
        "nu1mu1hat": (np.eye(S * N), np.kron(w[:, None], np.ones((N, 1)))),
        "embedding": None,
    }
    for mode, pair in maps.items():
        est = CompressedSOAP(r_cut=4.5, n_max=N, l_max=L, compression=mode, element_weights=w).fit(structures)
        values = est.transform(structures).values
        layout = est._layout_
        if mode == "embedding":
            E = np.kron(embedding_matrix("dJ2", est.species_), eye)
            pair = (E, E)
        left, right = pair
        mapped = np.einsum("ca,rlcd,db->rlab", left, grams, right)
        expected = mapped[:, layout.l, layout.a, layout.b]
        np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-10 * np.abs(expected).max(), err_msg=mode)


def test_nu1mu1_is_the_sum_over_the_second_element(alloy_environments):
    """p^a_{nn'l} = sum_b p^{ab}_{nn'l} (unit weights)."""
    N, L = 4, 3
    full = SOAP(r_cut=4.5, n_max=N, l_max=L).fit(alloy_environments)
    S = len(full.species_)
    grams = _gram_blocks(full.transform(alloy_environments).values, full.species_, N, L)
    blocks = grams.reshape(grams.shape[0], L + 1, S, N, S, N)
    expected = blocks.sum(axis=4).transpose(0, 2, 1, 3, 4).reshape(grams.shape[0], -1)  # order a, l, n, n'
    got = CompressedSOAP(r_cut=4.5, n_max=N, l_max=L, compression="mu1nu1").fit(alloy_environments)
    np.testing.assert_allclose(got.transform(alloy_environments).values, expected, rtol=1e-9, atol=1e-12)


def test_nu1nu1hat_pairs_every_element_with_every_radial_sum(alloy_environments):
    """p^{ab}_{nl} = sum_n' p^{ab}_{nn'l} for every (a, b): Darby et al.'s nu, nu-hat = 1, 1 (GAP's 1, 2)."""
    N, L = 4, 3
    full = SOAP(r_cut=4.5, n_max=N, l_max=L).fit(alloy_environments)
    S = len(full.species_)
    grams = _gram_blocks(full.transform(alloy_environments).values, full.species_, N, L)
    blocks = grams.reshape(grams.shape[0], L + 1, S, N, S, N)
    # sum over n' of block (a, n; b, n'), ordered a, b, l, n as nu2's pair blocks
    expected = blocks.sum(axis=5).transpose(0, 2, 4, 1, 3).reshape(grams.shape[0], -1)
    est = CompressedSOAP(r_cut=4.5, n_max=N, l_max=L, compression="nu1nu1hat").fit(alloy_environments)
    values = est.transform(alloy_environments).values
    assert values.shape[1] == N * S**2 * (L + 1)
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-12 * np.abs(expected).max())
    names = est.get_feature_names_out()
    z = est.species_
    assert names[0] == f"soap[nu1nu1hat|Z1={z[0]},Z2={z[0]},l=0,n=0]"
    assert names[(L + 1) * N] == f"soap[nu1nu1hat|Z1={z[0]},Z2={z[1]},l=0,n=0]"
    assert names[-1] == f"soap[nu1nu1hat|Z1={z[-1]},Z2={z[-1]},l={L},n={N - 1}]"
    # the same-element variant is the a = b part
    diagonal = blocks.sum(axis=5)[:, :, np.arange(S), :, np.arange(S)]  # (S, rows, L+1, N)
    crossover = CompressedSOAP(r_cut=4.5, n_max=N, l_max=L, compression="nu1nu1hat_crossover")
    np.testing.assert_allclose(
        crossover.fit(alloy_environments).transform(alloy_environments).values,
        diagonal.transpose(1, 0, 2, 3).reshape(grams.shape[0], -1),
        rtol=1e-9,
        atol=1e-12 * np.abs(expected).max(),
    )


def test_nu1mu1_star_against_direct_quadrature():
    """The 2l+1-function total density and the element densities, integrated on a grid."""
    from scipy.special import roots_legendre

    from skdesc.local._kernels import soap as kernel
    from skdesc.local._kernels.spherical import real_harmonics, real_harmonics_norm

    atoms = Atoms("HOH", positions=[[0, 0, 0], [0.9, 0.3, 0.1], [-0.4, 1.0, 0.5]])
    N, L, sigma, rc = 3, 2, 0.5, 3.0
    est = CompressedSOAP(r_cut=rc, n_max=N, l_max=L, sigma=sigma, compression="nu1mu1*", element_weights=[1.0, 2.0])
    values = est.fit([atoms]).transform([atoms]).values[0]

    # quadrature grid centred on atom 0: Gauss-Legendre in r and cos(theta), uniform in phi
    r, wr = roots_legendre(120)
    r, wr = 5.0 * (r + 1), 5.0 * wr
    ct, wt = roots_legendre(40)
    phi = np.linspace(0, 2 * np.pi, 80, endpoint=False)
    R, CT, PHI = np.meshgrid(r, ct, phi, indexing="ij")
    ST = np.sqrt(1 - CT**2)
    points = np.stack([R * ST * np.cos(PHI), R * ST * np.sin(PHI), R * CT], axis=-1)
    weight = (wr * r**2)[:, None, None] * wt[None, :, None] * (2 * np.pi / 80)
    dens = {1: 0.0, 8: 0.0}
    for z, pos in zip(atoms.numbers, atoms.positions):
        dens[z] = dens[z] + np.exp(-np.sum((points - pos) ** 2, axis=-1) / (2 * sigma**2))
    norm = real_harmonics_norm(L)
    ylm = np.empty((*R.shape, (L + 1) ** 2))
    unit = points / R[..., None]
    for idx in np.ndindex(R.shape):
        real_harmonics(*unit[idx], L, norm, ylm[idx])

    def radial(alpha, beta, l, count):
        prim = np.array([R**l * np.exp(-alpha[l, k] * R**2) for k in range(count)])
        return np.tensordot(beta[l, :count, :count], prim, axes=1)

    alpha, beta = kernel.gto_basis(rc, N, L)
    star_alpha, star_beta = kernel.star_basis(rc, L)
    expected = []
    for z in (1, 8):
        for l in range(L + 1):
            lm = slice(l * l, (l + 1) ** 2)
            g = radial(alpha, beta, l, N)
            gs = radial(star_alpha, star_beta, l, 2 * l + 1)
            c = np.einsum("nijk,ijkm,ijk->nm", g, ylm[..., lm], weight * dens[z])
            total = dens[1] + 2.0 * dens[8]
            cs = np.einsum("nijk,ijkm,ijk->nm", gs, ylm[..., lm], weight * total)
            expected.append(np.pi * np.sqrt(8 / (2 * l + 1)) * (c @ cs.T).ravel())
    np.testing.assert_allclose(values, np.concatenate(expected), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ recovery
@pytest.mark.parametrize("mode", ["random", "random_symmetric"])
@pytest.mark.parametrize("normalize", ["dscribe", "kernel"])
def test_lossless_recovery(tio2_small, alloy_environments, mode, normalize):
    structures = tio2_small[:3] + alloy_environments
    params = dict(r_cut=4.5, n_max=5, l_max=4, normalize=normalize)
    compressed = CompressedSOAP(compression=mode, random_state=3, **params).fit(structures)
    values = compressed.transform(structures)
    full = SOAP(**params).fit(structures).transform(structures).values
    recovered = compressed.recover_power_spectrum(values)
    scale = np.abs(full).max(axis=1, keepdims=True)
    np.testing.assert_allclose(recovered / scale, full / scale, rtol=0, atol=1e-8)
    assert values.n_features < full.shape[1]


def test_recovery_refuses_lossy_modes():
    est = CompressedSOAP(compression="mu2").fit([molecule("H2O")])
    with pytest.raises(ValueError, match="not lossless"):
        est.recover_power_spectrum(est.transform([molecule("H2O")]))


def test_lengths_for_the_paper_parameters():
    structure = Atoms("NbMoTaW", positions=np.eye(4, 3) * 2.2)
    lengths = {
        "nu2": 11760,
        "nu1mu1": 5760,
        "nu1mu1*": 4800,
        "nu1nu1hat": 1920,  # N S^2 (L + 1)
        "nu1nu1hat_crossover": 480,
        "nu1mu1hat": 480,
        "embedding": 3000,
        "random": 4800,
        "mu2": 780,
        "crossover": 3120,
    }
    for mode, length in lengths.items():
        est = CompressedSOAP(n_max=12, l_max=9, compression=mode).fit([structure])
        assert est.n_features_out_ == length == len(est.get_feature_names_out()), mode


# ------------------------------------------------- invariances and behaviour
def test_rotation_and_supercell_invariance(tio2_small):
    atoms = tio2_small[5]
    est = CompressedSOAP(compression="nu1mu1", **PARAMS).fit([atoms])
    reference = est.transform([atoms]).values
    rotation = Rotation.random(random_state=1).as_matrix()
    turned = atoms.copy()
    turned.set_cell(atoms.cell.array @ rotation.T)
    turned.positions = atoms.positions @ rotation.T
    scale = np.abs(reference).max()
    np.testing.assert_allclose(est.transform([turned]).values, reference, rtol=0, atol=1e-10 * scale)
    supercell = est.transform([atoms.repeat((2, 2, 2))]).values
    np.testing.assert_allclose(supercell, np.tile(reference, (8, 1)), rtol=0, atol=1e-10 * scale)


def test_sparse_output_skips_absent_elements():
    structures = [bulk("W", "bcc", a=3.2, cubic=True), bulk("NaCl", "rocksalt", a=5.6)]
    dense = SOAP(**PARAMS).fit(structures).transform(structures)
    sparse = SOAP(sparse=True, **PARAMS).fit(structures).transform(structures)
    assert sp.issparse(sparse.values) and sparse.values.format == "csr"  # as documented
    assert sp.issparse(SOAP(sparse=True, **PARAMS).fit(structures).transform(structures[:1]).values)
    np.testing.assert_array_equal(sparse.values.toarray(), dense.values)
    # W atoms: only the (W, W) block is stored
    names = SOAP(**PARAMS).fit(structures).get_feature_names_out()
    w_row = sparse.values[0]
    stored = names[w_row.indices]
    assert all("Z1=74,Z2=74" in name for name in stored)
    assert w_row.nnz < 0.2 * dense.n_features


def test_normalisations(alloy_environments):
    structures = alloy_environments
    kernel_values = SOAP(normalize="kernel", **PARAMS).fit(structures).transform(structures).values
    plain = SOAP(**PARAMS).fit(structures)
    grams = _gram_blocks(plain.transform(structures).values, plain.species_, PARAMS["n_max"], PARAMS["l_max"])
    expected = np.einsum("rlab,slab->rs", grams, grams)
    np.testing.assert_allclose(kernel_values @ kernel_values.T, expected, rtol=1e-10)
    unit = SOAP(normalize="l2", **PARAMS).fit(structures).transform(structures).values
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0)
    np.testing.assert_allclose(unit, kernel_values / np.linalg.norm(kernel_values, axis=1, keepdims=True))


def test_soap_equals_compressed_nu2_and_clones(alloy_environments):
    soap = SOAP(**PARAMS)
    assert "compression" not in soap.get_params()
    a = soap.fit(alloy_environments).transform(alloy_environments)
    b = CompressedSOAP(compression="off", **PARAMS).fit(alloy_environments).transform(alloy_environments)
    assert a == b
    random = CompressedSOAP(compression="random", random_state=7, **PARAMS)
    first = clone(random).fit(alloy_environments).transform(alloy_environments)
    second = clone(random).set_params(n_jobs=2).fit(alloy_environments).transform(alloy_environments)
    assert first == second


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(l_max=21), "l_max"),
        (dict(n_max=0), "n_max"),
        (dict(r_cut=1.0), "r_cut"),
        (dict(sigma=0.0), "sigma"),
        (dict(compression="nu3"), "compression must be one of"),
        (dict(normalize="max"), "normalize"),
        (dict(compression="embedding", embedding=np.ones((5, 2))), "embedding"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        CompressedSOAP(**params).fit([molecule("H2O")])


def test_unknown_species_at_transform():
    est = SOAP(**PARAMS).fit([molecule("H2O")])
    with pytest.raises(ValueError, match=r"\['C'\]"):
        est.transform([molecule("CH4")])


@pytest.mark.parametrize(
    "r_cut, n_max, l_max, sigma, star",
    [(5.0, 8, 6, 0.5, False), (5.0, 12, 9, 0.5, False), (3.0, 4, 3, 0.2, False), (5.0, 8, 6, 0.5, True)],
)
def test_radial_table_matches_closed_form(r_cut, n_max, l_max, sigma, star):
    """The tabulated radial functions equal the analytic GTO integrals at random distances."""
    from skdesc.local._kernels import soap as kernel

    if star:
        alpha, beta = kernel.star_basis(r_cut, l_max)
        counts = 2 * np.arange(l_max + 1) + 1
    else:
        alpha, beta = kernel.gto_basis(r_cut, n_max, l_max)
        counts = np.full(l_max + 1, n_max)
    r_max = r_cut + 3.72 * sigma
    table, inv_width = kernel.radial_table(alpha, beta, counts, sigma, r_max)
    r = np.concatenate([[0.0, r_max * (1 - 1e-12)], np.random.default_rng(0).uniform(0, r_max, 2000)])
    exact = kernel.radial_exact(r, alpha, beta, counts, sigma).reshape(len(r), -1)
    magnitude = kernel.radial_exact(r, alpha, beta, counts, sigma, magnitude=True).reshape(len(r), -1).max(axis=0)
    got = np.empty_like(exact)
    for p, distance in enumerate(r):
        kernel._radial_values(table, inv_width, distance, got[p])
    assert np.all(np.abs(got - exact) <= 1e-11 * magnitude + 1e-300)
    # relative to each function's own largest value; with n_max 12 the closed form itself is only
    # good to ~1e-8 there (its Loewdin terms cancel by 1e-8), the tabulation adds nothing above that
    assert np.max(np.abs(got - exact) / np.abs(exact).max(axis=0).clip(1e-300)) < (1e-7 if n_max > 8 else 1e-10)


def test_supercell_across_blocks_of_centres():
    """A cell small enough for the half-pair path and a supercell split into several blocks agree."""
    from skdesc.local._kernels import soap as kernel

    rng = np.random.default_rng(3)
    atoms = bulk("W", "bcc", a=3.2, cubic=True).repeat((3, 3, 3))
    atoms.set_chemical_symbols(rng.choice(["W", "Ta", "Nb", "Mo"], len(atoms)))
    atoms.positions += rng.normal(scale=0.1, size=atoms.positions.shape)
    est = CompressedSOAP(compression="nu2", r_cut=3.5, n_max=12, l_max=9, sigma=0.5).fit([atoms])
    per_centre = (est.l_max + 1) ** 2 * (4 * est.n_max + 1) * 8
    block = kernel._BLOCK_BYTES // per_centre
    repeat = (3, 1, 1)
    assert len(atoms) <= block < len(atoms) * 3  # cell: one block; supercell: several
    cell_values = est.transform([atoms]).values
    super_values = est.transform([atoms.repeat(repeat)]).values
    scale = np.abs(cell_values).max()
    np.testing.assert_allclose(super_values, np.tile(cell_values, (3, 1)), rtol=0, atol=1e-10 * scale)


# ------------------------------------------- radial slopes and harmonic gradients
def _old_real_harmonics(x, y, z, l_max, norm, out):
    """The value-only recurrence as it was before the gradient was added (kept here only, for bit-identity)."""
    from skdesc.local._kernels.spherical import _INVERSE

    p_mm = 1.0
    c_re = 1.0
    c_im = 0.0
    for m in range(l_max + 1):
        if m > 0:
            p_mm *= 2 * m - 1
            c_re, c_im = c_re * x - c_im * y, c_re * y + c_im * x
        p_prev = 0.0
        p_curr = p_mm
        for l in range(m, l_max + 1):
            if l == m + 1:
                p_prev, p_curr = p_curr, z * (2 * m + 1) * p_mm
            elif l > m + 1:
                p_prev, p_curr = p_curr, ((2 * l - 1) * z * p_curr - (l + m - 1) * p_prev) * _INVERSE[l - m - 1]
            base = l * l + l
            if m == 0:
                out[base] = norm[l, 0] * p_curr
            else:
                out[base + m] = norm[l, m] * p_curr * c_re
                out[base - m] = norm[l, m] * p_curr * c_im


def _unit_vectors(count, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(count, 3))
    v = np.vstack([v, [[0, 0, 1], [0, 0, -1], [1, 0, 0], [0, -1, 0], [1e-9, 0, 1], [1, 1, 1]]])
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("l_max", [0, 1, 6, 20])
def test_real_harmonics_values_unchanged_with_and_without_gradient(l_max):
    """The value-only call, the call with a gradient and the former routine give the same bits."""
    from skdesc.local._kernels.spherical import real_harmonics, real_harmonics_norm

    norm = real_harmonics_norm(l_max)
    n_lm = (l_max + 1) ** 2
    for u in _unit_vectors(200):
        old, plain, both = np.empty(n_lm), np.empty(n_lm), np.empty(n_lm)
        _old_real_harmonics(*u, l_max, norm, old)
        real_harmonics(*u, l_max, norm, plain)
        real_harmonics(*u, l_max, norm, both, np.empty((n_lm, 3)))
        assert np.array_equal(plain, old) and np.array_equal(both, old)


@pytest.mark.parametrize("length", [1.0, 0.37, 4.2])
def test_real_harmonics_gradient_matches_finite_differences(length):
    """gradient / R = d Y_lm(v / |v|) / dv, by central differences in every direction."""
    from skdesc.local._kernels.spherical import real_harmonics, real_harmonics_norm

    l_max, step = 8, 1e-6
    norm = real_harmonics_norm(l_max)
    n_lm = (l_max + 1) ** 2

    def harmonics(v):
        out = np.empty(n_lm)
        real_harmonics(*(v / np.linalg.norm(v)), l_max, norm, out)
        return out

    worst = 0.0
    for u in _unit_vectors(50, seed=1):
        gradient = np.empty((n_lm, 3))
        real_harmonics(*u, l_max, norm, np.empty(n_lm), gradient)
        v = length * u
        for c in range(3):
            shift = np.zeros(3)
            shift[c] = step * length
            numeric = (harmonics(v + shift) - harmonics(v - shift)) / (2 * step * length)
            worst = max(worst, np.abs(gradient[:, c] / length - numeric).max() * length)
        # Y_lm(v / |v|) does not change along v
        assert np.abs(gradient @ u).max() < 1e-12 * np.abs(gradient).max()
    # the largest gradients (l = 8) are about 7 at unit length; the differences' own error is ~1e-9
    assert worst < 1e-8


def _radial_slopes_exact(r, alpha, beta, counts, sigma):
    """d/dr of kernel.radial_exact, from the closed form (shape (len(r), l_max + 1, alpha.shape[1]))."""
    from skdesc.local._kernels import soap as kernel

    const, decay = kernel.radial_constants(alpha, sigma)
    out = np.zeros((len(r),) + alpha.shape)
    for l in range(alpha.shape[0]):
        k = counts[l]
        grow = l * r[:, None] ** max(l - 1, 0) if l else np.zeros((len(r), 1))
        prim = const[l, :k] * np.exp(-(r[:, None] ** 2) * decay[l, :k]) * (
            grow - 2.0 * decay[l, :k] * r[:, None] ** (l + 1)
        )
        out[:, l, :k] = prim @ beta[l, :k, :k].T
    return out


@pytest.mark.parametrize(
    "r_cut, n_max, l_max, sigma, star",
    [(5.0, 8, 6, 0.5, False), (5.0, 12, 9, 0.5, False), (3.0, 4, 3, 0.2, False), (3.5, 3, 3, 0.5, True),
     (5.0, 8, 6, 0.5, True)],
)
def test_radial_table_slopes(r_cut, n_max, l_max, sigma, star):
    """Values and slopes of the table: same values as _radial_values, slopes = derivative of the table."""
    from skdesc.local._kernels import soap as kernel

    if star:
        alpha, beta = kernel.star_basis(r_cut, l_max)
        counts = 2 * np.arange(l_max + 1) + 1
    else:
        alpha, beta = kernel.gto_basis(r_cut, n_max, l_max)
        counts = np.full(l_max + 1, n_max)
    r_max = r_cut + 3.72 * sigma
    table, inv_width = kernel.radial_table(alpha, beta, counts, sigma, r_max)
    n_func = table.shape[2]
    rng = np.random.default_rng(1)
    r = np.concatenate([[0.0, r_max * (1 - 1e-12)], rng.uniform(0, r_max, 1000)])
    # finite differences inside one interval (the polynomial pieces join only to ~1e-12)
    step = 1e-5 / inv_width
    local = r * inv_width - np.floor(r * inv_width)
    inside = (local > 2e-5) & (local < 1 - 2e-5)
    values, slopes, plain = np.empty((len(r), n_func)), np.empty((len(r), n_func)), np.empty((len(r), n_func))
    high, low = np.empty(n_func), np.empty(n_func)
    numeric = np.zeros((len(r), n_func))
    for p, distance in enumerate(r):
        kernel._radial_values_and_slopes(table, inv_width, distance, values[p], slopes[p])
        kernel._radial_values(table, inv_width, distance, plain[p])
        if inside[p]:
            kernel._radial_values(table, inv_width, distance + step, high)
            kernel._radial_values(table, inv_width, distance - step, low)
            numeric[p] = (high - low) / (2 * step)
    assert np.array_equal(values, plain)
    # scale of the slopes: the closed form's largest terms over the interval width
    magnitude = kernel.radial_exact(r, alpha, beta, counts, sigma, magnitude=True).reshape(len(r), -1).max(axis=0)
    scale = magnitude * inv_width + 1e-300
    # (measured: at most 1.3e-11 and 2.4e-11 of that scale)
    assert np.all(np.abs(slopes - numeric)[inside] <= 1e-10 * scale)
    exact = _radial_slopes_exact(r, alpha, beta, counts, sigma).reshape(len(r), -1)
    assert np.all(np.abs(slopes - exact) <= 1e-10 * scale)
    # functions beyond counts[l] (the zero padding of the star basis) stay exactly zero
    padded = (np.arange(alpha.shape[1])[None, :] >= counts[:, None]).ravel()
    assert np.all(values[:, padded] == 0.0) and np.all(slopes[:, padded] == 0.0)


def _kernel_values(est, structures, table):
    """CompressedSOAP's numba kernel on ``structures`` with another (l, a, b, pref) feature table."""
    from skdesc.local._kernels import soap as kernel
    from skdesc.local.base import FrameBatch
    from skdesc.neighbors import batch_neighbor_lists

    lookup = np.full(119, -1, dtype=np.int64)
    lookup[list(est.species_)] = np.arange(len(est.species_))
    batch = FrameBatch.from_structures(structures, 0, lookup)
    request = est._neighbor_request()
    nb = batch_neighbor_lists(batch.positions, batch.offsets, batch.cells, batch.pbc, request.cutoff,
                              float(est.min_distance), request.half_below)
    channel, atom_weight, n_channels = est._density_channels(batch)
    layout = est._layout_
    t_l, t_a, t_b, pref = (np.ascontiguousarray(x, dtype=dt) for x, dt in zip(table, (np.int64,) * 3 + (float,)))
    out = np.full((batch.positions.shape[0], t_l.shape[0]), np.nan)
    kernel.soap_kernel(
        nb.first, nb.index, nb.vectors, nb.distances, channel, batch.offsets, n_channels,
        int(est.l_max), est._norm, *est._radial, *est._star_radial, layout.use_star,
        np.ascontiguousarray(est.element_weights_, dtype=np.float64), atom_weight, float(est.center_weight),
        est._maps_t[0], layout.map_a is not None, est._maps_t[1], layout.b_kind, t_l, t_a, t_b, pref, out,
    )
    return out


@pytest.mark.parametrize("mode", ["nu2", "nu1mu1", "nu1mu1*", "embedding", "mu2"])
def test_any_feature_table_reads_the_same_gram_entries(alloy_environments, mode):
    """The kernel forms only the Gram entries its table reads (one triangle when symmetric): any
    subset, order or orientation of the features must give exactly the full table's values."""
    est = CompressedSOAP(r_cut=4.5, n_max=4, l_max=3, compression=mode).fit(alloy_environments)
    full = est.transform(alloy_environments).values
    t_l, t_a, t_b = est._table
    pref = np.asarray(est._pref, dtype=float)
    rng = np.random.default_rng(0)
    pick = rng.permutation(len(t_l))[: max(1, len(t_l) // 3)]
    np.testing.assert_array_equal(_kernel_values(est, alloy_environments, (t_l[pick], t_a[pick], t_b[pick],
                                                                           pref[pick])), full[:, pick])
    symmetric = est._layout_.b_kind == 0 or (est._layout_.b_kind == 3 and est._layout_.map_a is None)
    if symmetric:
        # the other triangle reads the same numbers: the Gram matrix is symmetric to the last bit
        swapped = _kernel_values(est, alloy_environments, (t_l, t_b, t_a, pref))
        np.testing.assert_array_equal(swapped, full)
    assert mode != "nu2" or symmetric
