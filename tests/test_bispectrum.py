"""SOAPBispectrum: coupling coefficients, values against an independent reference, invariances, degeneracy."""

import re

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.neighborlist import neighbor_list
from scipy.spatial.transform import Rotation
from scipy.special import sph_harm_y
from sklearn.base import clone

from skdesc import SOAP, SOAPBispectrum
from skdesc._wigner import clebsch_gordan, complex_to_real, real_coupling
from skdesc.local._kernels.soap import gto_basis, radial_exact
from skdesc.local._kernels.spherical import real_harmonics, real_harmonics_norm
from skdesc.local.soap import _PADDING

sympy_wigner = pytest.importorskip("sympy.physics.wigner")

SMALL = dict(r_cut=3.5, n_max=2, l_max=2, sigma=0.5)


# ---------------------------------------------------------------- coupling
def test_clebsch_gordan_matches_sympy():
    worst = 0.0
    for l1 in range(5):
        for l2 in range(5):
            for l3 in range(7):
                for m1 in range(-l1, l1 + 1):
                    for m2 in range(-l2, l2 + 1):
                        for m3 in (m1 + m2, m1 + m2 + 1):  # the second breaks the selection rule
                            ref = float(sympy_wigner.clebsch_gordan(l1, l2, l3, m1, m2, m3)) if abs(m3) <= l3 else 0.0
                            worst = max(worst, abs(clebsch_gordan(l1, m1, l2, m2, l3, m3) - ref))
    assert worst < 1e-15
    # a large case, where log-factorial formulas lose digits
    ref = float(sympy_wigner.clebsch_gordan(12, 10, 20, 7, -5, 2).evalf(30))
    assert abs(clebsch_gordan(12, 7, 10, -5, 20, 2) - ref) < 1e-15


def _complex_harmonics(l, u):
    theta = np.arccos(np.clip(u[:, 2], -1.0, 1.0))
    phi = np.arctan2(u[:, 1], u[:, 0])
    return np.stack([sph_harm_y(l, m, theta, phi) for m in range(-l, l + 1)], axis=1)


def _real_harmonics(u, l_max):
    norm = real_harmonics_norm(l_max)
    out = np.zeros((len(u), (l_max + 1) ** 2))
    for p, v in enumerate(u):
        real_harmonics(v[0], v[1], v[2], l_max, norm, out[p])
    return out


def test_complex_to_real_matrix_maps_scipy_harmonics_to_skdesc_harmonics():
    u = np.random.default_rng(0).normal(size=(20, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    real = _real_harmonics(u, 5)
    for l in range(6):
        U = complex_to_real(l)
        np.testing.assert_allclose(U @ U.conj().T, np.eye(2 * l + 1), atol=1e-15)
        mapped = _complex_harmonics(l, u) @ U.T
        np.testing.assert_allclose(mapped.imag, 0.0, atol=1e-14)
        np.testing.assert_allclose(mapped.real, real[:, l * l : (l + 1) ** 2], atol=1e-14)


def test_real_coupling_is_equivariant():
    # (a (x) b) of rotated inputs is the rotated product: check through the invariant with a third vector
    rng = np.random.default_rng(1)
    for l1, l2, l3 in [(1, 1, 2), (2, 1, 1), (2, 2, 2), (1, 2, 2), (3, 2, 1), (2, 2, 1)]:
        R = real_coupling(l1, l2, l3)
        points = rng.normal(size=(3, 3))
        weights = rng.normal(size=3)

        def invariant(rotation):
            u = rotation.apply(points)
            u /= np.linalg.norm(u, axis=1, keepdims=True)
            Y = _real_harmonics(u, 3)
            c = [weights @ Y[:, l * l : (l + 1) ** 2] for l in (l1, l2, l3)]
            return np.einsum("ijk,i,j,k->", R, *c)

        base = invariant(Rotation.identity())
        for seed in range(3):
            assert abs(invariant(Rotation.random(random_state=seed)) - base) < 1e-12 * max(1.0, abs(base))


# ------------------------------------------------------- independent reference
def _complex_coefficients(atoms, centre, species, params, agnostic):
    """c^C_{k l m} = sum_j h_nl(r_j) conj(Y_lm(u_j)) + the centre's own Gaussian (numpy, ASE neighbours)."""
    r_cut, n_max, l_max, sigma = params["r_cut"], params["n_max"], params["l_max"], params["sigma"]
    alpha, beta = gto_basis(r_cut, n_max, l_max)
    counts = np.full(l_max + 1, n_max)
    i, j, D = neighbor_list("ijD", atoms, r_cut + sigma * _PADDING)
    mask = i == centre
    j, D = j[mask], D[mask]
    r = np.linalg.norm(D, axis=1)
    groups = 1 if agnostic else len(species)
    channel = np.zeros(len(atoms), dtype=int) if agnostic else np.searchsorted(species, atoms.numbers)
    coefficients = [np.zeros((groups * n_max, 2 * l + 1), dtype=complex) for l in range(l_max + 1)]
    h = radial_exact(r, alpha, beta, counts, sigma)  # (n_neigh, l, n)
    h0 = radial_exact(np.zeros(1), alpha, beta, counts, sigma)[0]
    for l in range(l_max + 1):
        Y = _complex_harmonics(l, D / r[:, None]) if len(r) else np.zeros((0, 2 * l + 1))
        for e in range(groups):
            sel = channel[j] == e
            coefficients[l][e * n_max : (e + 1) * n_max] = h[sel, l, :].T @ np.conj(Y[sel])
        if l == 0:
            coefficients[0][channel[centre] * n_max : (channel[centre] + 1) * n_max, 0] += h0[0] / np.sqrt(4 * np.pi)
    return coefficients


def _sympy_cg(l1, l2, L):
    cg = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * L + 1))
    for m1 in range(-l1, l1 + 1):
        for m2 in range(-l2, l2 + 1):
            if abs(m1 + m2) <= L:
                cg[m1 + l1, m2 + l2, m1 + m2 + L] = float(sympy_wigner.clebsch_gordan(l1, l2, L, m1, m2, m1 + m2))
    return cg


_ITEM = re.compile(r"(?:Z=(\d+),)?n=(\d+),l=(\d+)")


def _channel(match, species, n_max):
    z, n, l = match.groups()
    e = 0 if z is None else list(species).index(int(z))
    return e * n_max + int(n), int(l)


def _reference_values(atoms, centre, estimator, params):
    """Every feature of ``centre`` from its name, with sympy's Clebsch-Gordan coefficients (complex basis)."""
    species = list(estimator.species_)
    agnostic = estimator.compression == "element_agnostic"
    c = _complex_coefficients(atoms, centre, np.array(species), params, agnostic)
    cache = {}

    def cg(l1, l2, L):
        if (l1, l2, L) not in cache:
            cache[l1, l2, L] = _sympy_cg(l1, l2, L)
        return cache[l1, l2, L]

    out = []
    for name in estimator.get_feature_names_out():
        body, *parts = name[len("bispectrum[") : -1].split("|")
        items = [_channel(_ITEM.fullmatch(p), species, params["n_max"]) for p in parts if not p.startswith("L=")]
        vec = [c[l][k] for k, l in items]
        if body == "nu3":
            (_, l1), (_, l2), (_, l3) = items
            value = np.einsum("abc,a,b,c->", cg(l1, l2, l3), vec[0], vec[1], np.conj(vec[2]))
        else:
            L = int(parts[2][2:])
            (_, l1), (_, l2), (_, l3), (_, l4) = items
            left = np.einsum("abc,a,b->c", cg(l1, l2, L), vec[0], vec[1])
            right = np.einsum("abc,a,b->c", cg(l3, l4, L), vec[2], vec[3])
            value = np.sum(left * np.conj(right))
        out.append(value)
    out = np.array(out)
    assert np.abs(out.imag).max() <= 1e-12 * max(1.0, np.abs(out).max())
    return out.real


@pytest.mark.parametrize(
    "nu, compression, structure",
    [(3, "full", "molecule"), (3, "element_agnostic", "periodic"), (3, "full", "periodic"),
     (4, "element_agnostic", "molecule"), (4, "full", "periodic")],
)
def test_values_match_independent_reference(nu, compression, structure):
    if structure == "molecule":
        atoms = molecule("CH3CH2OH")
        params = dict(r_cut=3.0, n_max=3, l_max=3, sigma=0.5)
    else:
        atoms = bulk("NaCl", "rocksalt", a=4.0, cubic=True)
        atoms.rattle(0.1, seed=3)
        params = dict(r_cut=2.5, n_max=2, l_max=2, sigma=0.4)
    if nu == 4 and compression == "full":
        params = dict(params, n_max=1)
    estimator = SOAPBispectrum(nu=nu, compression=compression, **params).fit([atoms])
    values = estimator.transform([atoms]).values
    for centre in (0, 1, len(atoms) - 1):
        reference = _reference_values(atoms, centre, estimator, params)
        np.testing.assert_allclose(values[centre], reference, rtol=1e-10, atol=1e-10 * np.abs(reference).max())


def test_feature_set_is_the_canonical_non_redundant_set():
    est = SOAPBispectrum(nu=4, compression="element_agnostic", r_cut=3.0, n_max=2, l_max=2).fit([molecule("H2O")])
    names = list(est.get_feature_names_out())
    assert len(set(names)) == len(names)
    nu3 = [n for n in names if n.startswith("bispectrum[nu3")]
    nu4 = [n for n in names if n.startswith("bispectrum[nu4")]
    items = [(l, n) for l in range(3) for n in range(2)]
    # brute force: every multiset of three items with a triangle and even l1 + l2 + l3
    expected = set()
    for a in items:
        for b in items:
            for c in items:
                x = tuple(sorted((a, b, c)))
                (l1, _), (l2, _), (l3, _) = x
                if abs(l1 - l2) <= l3 <= l1 + l2 and (l1 + l2 + l3) % 2 == 0:
                    expected.add(x)
    assert len(nu3) == len(expected)
    # four items: per multiset, as many features as O(3) invariants of the symmetrised tensor product
    counts = {}
    for name in nu4:
        parts = name[len("bispectrum[nu4|") : -1].split("|")
        key = tuple(sorted(_channel(_ITEM.fullmatch(p), [], 2)[::-1] for p in parts if not p.startswith("L=")))
        counts[key] = counts.get(key, 0) + 1
    expected4 = {}
    for a in range(len(items)):
        for b in range(a, len(items)):
            for c in range(b, len(items)):
                for d in range(c, len(items)):
                    multiset = (items[a], items[b], items[c], items[d])
                    n = _invariant_count(multiset)
                    if n:
                        expected4[multiset] = n
    assert counts == expected4


def _invariant_count(multiset):
    """Number of O(3) invariants of the symmetrised tensor product of the items, from the characters.

    chi_l(theta) = sin((2l + 1) theta / 2) / sin(theta / 2); a repeated item enters through the
    character of the symmetric power (cycle index of the symmetric group); the invariants of SO(3)
    number (1 / pi) int_0^pi chi (1 - cos theta) d theta; inversion multiplies V_l by (-1)^l.
    """
    if sum(l for l, _ in multiset) % 2:
        return 0
    theta = (np.arange(4000) + 0.5) * np.pi / 4000

    def chi(l, k=1):
        return np.sin((2 * l + 1) * k * theta / 2) / np.sin(k * theta / 2)

    def symmetric_power(l, m):
        c1, c2, c3, c4 = (chi(l, k) for k in (1, 2, 3, 4))
        return {1: c1, 2: (c1**2 + c2) / 2, 3: (c1**3 + 3 * c1 * c2 + 2 * c3) / 6,
                4: (c1**4 + 6 * c1**2 * c2 + 3 * c2**2 + 8 * c1 * c3 + 6 * c4) / 24}[m]

    total = np.ones_like(theta)
    for item in set(multiset):
        total *= symmetric_power(item[0], multiset.count(item))
    return int(round(np.mean(total * (1 - np.cos(theta)))))


def test_bispectrum_features_are_linearly_independent():
    rng = np.random.default_rng(5)
    frames = []
    for _ in range(120):
        positions = rng.uniform(-2.0, 2.0, size=(6, 3))
        positions[0] = 0.0
        frames.append(Atoms("C6", positions=positions))
    est = SOAPBispectrum(compression="element_agnostic", r_cut=3.0, n_max=2, l_max=2, min_distance=0.0)
    values = est.fit_transform(frames).values
    values = values[::6]  # the centres at the origin
    scaled = values / np.linalg.norm(values, axis=0)
    s = np.linalg.svd(scaled, compute_uv=False)
    assert s[-1] / s[0] > 1e-6, s


def test_nu4_features_are_linearly_independent():
    rng = np.random.default_rng(6)
    frames = []
    for _ in range(400):
        positions = rng.uniform(-2.0, 2.0, size=(7, 3))
        positions[0] = 0.0
        frames.append(Atoms("C7", positions=positions))
    est = SOAPBispectrum(
        nu=4, l_max_nu4=2, compression="element_agnostic", r_cut=3.0, n_max=2, l_max=2, min_distance=0.0
    )
    values = est.fit_transform(frames).values[::7]
    nu4 = np.array([n.startswith("bispectrum[nu4") for n in est.get_feature_names_out()])
    scaled = values[:, nu4] / np.linalg.norm(values[:, nu4], axis=0)
    s = np.linalg.svd(scaled, compute_uv=False)
    assert s[-1] / s[0] > 1e-8, (nu4.sum(), s[-5:] / s[0])


# --------------------------------------------------------------- invariances
def _alloy():
    atoms = bulk("Fe", "bcc", a=2.9, cubic=True).repeat((2, 2, 1))
    atoms.numbers[[1, 4, 6]] = [24, 28, 24]
    atoms.rattle(0.08, seed=1)
    return atoms


@pytest.mark.parametrize("nu", [3, 4])
def test_rotation_reflection_permutation_translation_supercell_invariance(nu):
    atoms = _alloy()
    params = dict(r_cut=3.0, n_max=2, l_max=2, sigma=0.5, nu=nu)
    est = SOAPBispectrum(**params).fit([atoms])
    base = est.transform([atoms]).values
    tol = dict(rtol=1e-10, atol=1e-10 * np.abs(base).max())
    rotated = atoms.copy()
    rotated.set_cell(Rotation.random(random_state=2).apply(atoms.cell.array), scale_atoms=True)
    reflected = atoms.copy()
    mirror = np.diag([1.0, -1.0, 1.0]) @ Rotation.random(random_state=4).as_matrix()
    reflected.set_cell(atoms.cell.array @ mirror.T, scale_atoms=True)
    translated = atoms.copy()
    translated.translate([0.31, -1.7, 2.2])
    order = np.random.default_rng(0).permutation(len(atoms))
    supercell = atoms.repeat((2, 1, 2))
    np.testing.assert_allclose(est.transform([rotated]).values, base, **tol)
    np.testing.assert_allclose(est.transform([reflected]).values, base, **tol)
    np.testing.assert_allclose(est.transform([translated]).values, base, **tol)
    np.testing.assert_allclose(est.transform([atoms[order]]).values, base[order], **tol)
    np.testing.assert_allclose(est.transform([supercell]).values, np.tile(base, (4, 1)), **tol)
    # a molecule: improper rotation (inversion times a rotation) too
    mol = molecule("CH3CH2OH")
    est = SOAPBispectrum(**params).fit([mol])
    base = est.transform([mol]).values
    inverted = mol.copy()
    inverted.positions = -Rotation.random(random_state=7).apply(mol.positions)
    np.testing.assert_allclose(est.transform([inverted]).values, base, rtol=1e-10, atol=1e-10 * np.abs(base).max())


def test_odd_parity_couplings_would_break_reflection_invariance():
    # the excluded pseudoscalars (l1 + l2 + l3 odd) change sign under a mirror: why they are left out
    # (ethanol has a mirror plane, where they vanish: a chiral environment)
    mol = Atoms("CHOCN", positions=np.random.default_rng(2).uniform(-1.5, 1.5, size=(5, 3)))
    mirrored = mol.copy()
    mirrored.positions[:, 1] *= -1
    params = dict(r_cut=3.0, n_max=3, l_max=2, sigma=0.5)
    for atoms, sign in ((mol, 1), (mirrored, -1)):
        c = _complex_coefficients(atoms, 0, np.array([1, 6, 8]), params, agnostic=True)
        # (c_0 (x) c_1)_1 is the cross product of two l = 1 vectors: a triple product with c_2
        value = np.einsum("abc,a,b,c->", _sympy_cg(1, 1, 1), c[1][0], c[1][1], np.conj(c[1][2]))
        if sign == 1:
            first = value
    assert abs(first) > 1e-6
    assert abs(value + first) < 1e-10 * abs(first)


# ------------------------------------------------------------ completeness
def _homometric_pair(radius=2.0):
    """Centre + four neighbours on a circle at 2 pi a / 8: {0, 1, 2, 5} and {0, 1, 3, 4}.

    Both sets have the same multiset of pairwise angular distances (1, 1, 2, 3, 3, 4 eighths of a
    turn): they are homometric (A. L. Patterson, Phys. Rev. 65, 195 (1944)) but not congruent.
    All neighbours are at one distance from the centre, so the SOAP power spectrum, a sum over
    pairs of neighbours of a function of the two distances and their angle, cannot tell them apart
    (the mechanism of the nu = 2 degeneracies of Pozdnyakov et al., Phys. Rev. Lett. 125, 166001
    (2020)); the triangles of three neighbours differ, and the bispectrum sees them.
    """
    frames = []
    for steps in ((0, 1, 2, 5), (0, 1, 3, 4)):
        angles = 2 * np.pi * np.array(steps) / 8
        ring = radius * np.column_stack([np.cos(angles), np.sin(angles), np.zeros(4)])
        tilt = Rotation.from_euler("xyz", [0.3, -0.7, 1.1]).apply(ring)  # a generic orientation
        frames.append(Atoms("C5", positions=np.vstack([np.zeros(3), tilt])))
    return frames


def test_power_spectrum_degenerate_pair_is_resolved_by_the_bispectrum():
    pair = _homometric_pair()
    params = dict(r_cut=3.5, n_max=4, l_max=6, sigma=0.5)
    soap = SOAP(**params).fit(pair)
    p = [soap.transform([frame]).values[0] for frame in pair]
    np.testing.assert_allclose(p[0], p[1], rtol=1e-10, atol=1e-10 * np.abs(p[0]).max())
    bispectrum = SOAPBispectrum(**dict(params, l_max=4)).fit(pair)
    b = [bispectrum.transform([frame]).values[0] for frame in pair]
    difference = np.abs(b[0] - b[1]).max() / np.abs(b[0]).max()
    assert difference > 1e-3, difference
    # not a rotation of one another: the bispectrum is rotation invariant to 1e-10 (tested above)
    assert not np.allclose(np.sort(b[0]), np.sort(b[1]), rtol=1e-6)


# ------------------------------------------------------------- estimator API
def test_feature_names_clone_and_parallel_are_consistent():
    frames = [molecule("H2O"), molecule("CH3CH2OH"), _alloy()]
    est = SOAPBispectrum(nu=4, l_max_nu4=1, **SMALL).fit(frames)
    names = est.get_feature_names_out()
    assert len(names) == est.n_features_out_ == len(set(names))
    assert names[0] == "bispectrum[nu3|Z=1,n=0,l=0|Z=1,n=0,l=0|Z=1,n=0,l=0]"
    assert any(n.startswith("bispectrum[nu4|") for n in names)
    assert all(int(l) <= 1 for n in names if n.startswith("bispectrum[nu4|") for l in re.findall(r"l=(\d)", n))
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    serial = est.transform(frames).values
    np.testing.assert_array_equal(clone(est).set_params(n_jobs=2).fit(frames).transform(frames).values, serial)
    np.testing.assert_array_equal(copy.fit(frames).transform(frames).values, serial)
    assert SOAPBispectrum(**SMALL).fit(frames).n_features_out_ < est.n_features_out_


def test_element_agnostic_equals_full_on_one_element():
    atoms = bulk("Cu", "fcc", a=3.6) * (2, 2, 2)
    atoms.rattle(0.05, seed=0)
    full = SOAPBispectrum(**SMALL).fit_transform([atoms]).values
    agnostic = SOAPBispectrum(compression="element_agnostic", **SMALL).fit_transform([atoms]).values
    np.testing.assert_array_equal(full, agnostic)


def test_parameter_errors():
    with pytest.raises(ValueError, match="l_max_nu3=3 must not exceed l_max=2"):
        SOAPBispectrum(l_max_nu3=3, **SMALL).fit([molecule("H2O")])
    with pytest.raises(ValueError, match="nu must be"):
        SOAPBispectrum(nu=2, **SMALL).fit([molecule("H2O")])
    from skdesc import config_context

    with config_context(max_memory=1e6), pytest.raises(ValueError, match="element_agnostic"):
        SOAPBispectrum(nu=4, n_max=4, l_max=4).fit([molecule("CH3CH2OH")])


@pytest.mark.parametrize("nu", [3, 4])
def test_blocks_of_centres_and_half_lists_give_the_same_values(nu, monkeypatch):
    # default: the 8-atom cell is one block expanded from a half list (each pair once, both ends);
    # a block limit of 3 centres splits it into blocks over full lists (pairs across blocks from each end)
    atoms = _alloy()
    molecule_ = molecule("CH3CH2OH")
    params = dict(r_cut=3.0, n_max=2, l_max=2, sigma=0.5, nu=nu, species=["H", "C", "O", "Cr", "Fe", "Ni"])
    est = SOAPBispectrum(**params).fit([atoms])
    one_block = est.transform([atoms, molecule_]).values
    one_block_d = est.transform_with_derivatives([atoms])[1].values
    monkeypatch.setattr(est, "_block_limit", lambda: 3)
    blocks = est.transform([atoms, molecule_]).values
    blocks_d = est.transform_with_derivatives([atoms])[1].values
    scale = np.abs(one_block).max()
    np.testing.assert_allclose(blocks, one_block, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(blocks_d, one_block_d, rtol=0, atol=1e-12 * np.abs(one_block_d).max())
    assert np.abs(one_block).min() < scale  # not a constant output


# --------------------------------------------------------------- derivatives
@pytest.mark.parametrize(
    "structure, nu, compression",
    [("ethanol", 3, "full"), ("ethanol", 4, "element_agnostic"), ("small_cell", 3, "full"),
     ("small_cell", 4, "full"), ("skewed_slab", 4, "element_agnostic")],
)
def test_derivatives_match_finite_differences(structure, nu, compression, request):
    from .test_derivatives import assert_matches_finite_differences

    atoms = request.getfixturevalue(structure)
    params = dict(r_cut=3.0, n_max=2, l_max=2, sigma=0.5, nu=nu, compression=compression)
    if nu == 4 and compression == "full":
        params.update(n_max=1, l_max_nu4=1)
    descriptor = SOAPBispectrum(**params).fit([atoms])
    analytic = assert_matches_finite_differences(descriptor, atoms, rtol=1e-6)
    # translation: the derivatives of each centre sum to zero over the atoms
    np.testing.assert_allclose(analytic.sum(axis=1), 0.0, atol=1e-10 * np.abs(analytic).max())


def test_kernel_shape_checks_hold_without_the_fit_guard():
    # bypass the "parameters changed since fit" guard: the checks before the numba calls still refuse
    frames = [molecule("H2O")]
    for change in (dict(l_max=1), dict(n_max=3), dict(compression="element_agnostic", species=["H", "O"])):
        est = SOAPBispectrum(species=["H", "C", "O"], **SMALL).fit(frames)
        est.set_params(**change)._record_fit_params()
        with pytest.raises(ValueError, match="internal shape check"):
            est.transform(frames)
        with pytest.raises(ValueError, match="internal shape check"):
            est.transform_with_derivatives(frames)


def test_matminer_citations():
    pytest.importorskip("matminer")
    from skdesc.matminer import CITATIONS, SkdescFeaturizer

    plain = SkdescFeaturizer(SOAPBispectrum()).citations()
    assert CITATIONS["bartok2013"] in plain and CITATIONS["drautz2019"] not in plain
    nu4 = SkdescFeaturizer(SOAPBispectrum(nu=4, compression="element_agnostic")).citations()
    assert CITATIONS["drautz2019"] in nu4 and CITATIONS["darby2022"] in nu4
