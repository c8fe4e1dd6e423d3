"""Structure kernel and its kernel ridge regression (Darby, Kermode & Csányi 2022, §IV.5)."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skdesc import AtomicFeatures, ChebyshevLAED
from skdesc.models import StructureKernel, StructureKernelRidge, structure_kernel

from .conftest import _read


def _random_atomic(seed, n_structures=7, n_features=4, sparse=False):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 6, n_structures)
    values = rng.normal(size=(counts.sum(), n_features))
    values[rng.random(values.shape) < 0.3] = 0.0
    values[0] = 0.0  # an all-zero atom vector stays zero when normalised
    numbers = rng.choice([13, 29, 79], counts.sum())
    numbers[:3] = [13, 29, 79]
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return AtomicFeatures(sp.csr_matrix(values) if sparse else values, offsets, numbers, species=(13, 29, 79))


def _double_loop(A, B, zeta, normalize):
    def rows(atomic):
        x = atomic.values.toarray() if sp.issparse(atomic.values) else atomic.values
        if normalize:
            norms = np.linalg.norm(x, axis=1)
            x = x / np.where(norms > 0, norms, 1.0)[:, None]
        return [x[a:b] for a, b in zip(atomic.offsets[:-1], atomic.offsets[1:])]

    K = np.zeros((len(A), len(B)))
    for s, xa in enumerate(rows(A)):
        for t, xb in enumerate(rows(B)):
            K[s, t] = sum(np.dot(u, v) ** zeta for u in xa for v in xb)
    return K


@pytest.mark.parametrize("zeta", [1, 2, 3])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_kernel_matches_double_loop(zeta, normalize, sparse):
    A = _random_atomic(0, sparse=sparse)
    B = _random_atomic(1, n_structures=5, sparse=sparse)
    expected = _double_loop(A, B, zeta, normalize)
    methods = [("pairs", 1), ("pairs", 4), ("pairs", 2048), ("auto", 2048)]  # one structure per block, a few, all
    if zeta == 1 or (zeta == 2 and not sparse):
        methods.append(("features", 2048))
    for method, block_atoms in methods:
        K = structure_kernel(A, B, zeta=zeta, normalize=normalize, block_atoms=block_atoms, method=method)
        np.testing.assert_allclose(K, expected, rtol=1e-12, atol=1e-12)
        G = structure_kernel(A, zeta=zeta, normalize=normalize, block_atoms=block_atoms, method=method)
        np.testing.assert_allclose(G, _double_loop(A, A, zeta, normalize), rtol=1e-12, atol=1e-12)
        assert np.array_equal(G, G.T)


def test_kernel_of_a_structure_with_no_atoms_is_zero():
    A = AtomicFeatures(np.ones((2, 3)), [0, 2, 2], [1, 1])
    np.testing.assert_allclose(structure_kernel(A), [[4.0, 0.0], [0.0, 0.0]], rtol=1e-14)


def test_structure_kernel_transformer_with_precomputed_kernel_ridge():
    train, test = _random_atomic(2, n_structures=12), _random_atomic(3)
    y = np.arange(12.0)
    model = make_pipeline(StructureKernel(zeta=2), KernelRidge(alpha=0.1, kernel="precomputed")).fit(train, y)
    K = structure_kernel(train, zeta=2)
    coef = np.linalg.solve(K + 0.1 * np.eye(12), y)
    np.testing.assert_allclose(model.predict(test), structure_kernel(test, train, zeta=2) @ coef, rtol=1e-10)
    assert model[0].get_feature_names_out()[-1] == "k[train=11]"


@pytest.mark.parametrize("scaling", ["n_atoms", "sqrt_n_atoms", "none"])
def test_regressor_matches_closed_form(scaling):
    train, test = _random_atomic(4, n_structures=15), _random_atomic(5)
    rng = np.random.default_rng(0)
    y = rng.normal(size=15) * 3
    model = StructureKernelRidge(zeta=2, sigma=0.3, noise_scaling=scaling).fit(train, y)
    counts = np.array([[np.sum(train[s].numbers == z) for z in (13, 29, 79)] for s in range(15)])
    mu = np.linalg.lstsq(counts, y, rcond=None)[0]
    n = train.n_atoms_per_structure
    noise = {"n_atoms": 0.3 * n, "sqrt_n_atoms": 0.3 * np.sqrt(n), "none": 0.3 * np.ones(15)}[scaling]
    beta = np.linalg.solve(_double_loop(train, train, 2, True) + np.diag(noise**2), y - counts @ mu)
    test_counts = np.array([[np.sum(test[s].numbers == z) for z in (13, 29, 79)] for s in range(len(test))])
    expected = test_counts @ mu + _double_loop(test, train, 2, True) @ beta
    np.testing.assert_allclose(model.chemical_potentials_, mu, rtol=1e-10)
    np.testing.assert_allclose(model.predict(test), expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(model.predict_baseline(test), test_counts @ mu, rtol=1e-10)


def test_baseline_recovers_energies_linear_in_counts():
    train, test = _random_atomic(6, n_structures=20), _random_atomic(7)
    mu = np.array([-3.7, -4.1, -2.9])  # eV/atom for Al, Cu, Au
    energy = lambda atomic: np.array([[np.sum(atomic[s].numbers == z) for z in (13, 29, 79)] for s in range(len(atomic))]) @ mu
    model = StructureKernelRidge(zeta=2, sigma=1e-2).fit(train, energy(train))
    np.testing.assert_allclose(model.chemical_potentials_, mu, rtol=1e-12)
    np.testing.assert_allclose(model.dual_coef_, 0.0, atol=1e-10)
    np.testing.assert_allclose(model.predict(test), energy(test), rtol=1e-12)
    # without the baseline the kernel alone cannot represent it as well
    plain = StructureKernelRidge(zeta=2, sigma=1e-2, baseline=False).fit(train, energy(train))
    assert np.abs(plain.predict(test) - energy(test)).max() > 1e-6


def test_grid_search_over_zeta_and_sigma_on_atomic_features():
    atomic = _random_atomic(8, n_structures=24)
    y = np.random.default_rng(1).normal(size=24)
    grid = GridSearchCV(StructureKernelRidge(), {"zeta": [1, 2], "sigma": [0.01, 0.1, 1.0]}, cv=KFold(3))
    grid.fit(atomic, y)
    assert len(grid.cv_results_["params"]) == 6 and np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.predict(atomic[:4]).shape == (4,)
    assert clone(StructureKernelRidge(zeta=4)).get_params()["zeta"] == 4


def test_nbmotaw_krr_beats_the_baseline_only_model():
    structures = list(_read("nbmotaw_li2020_partial.extxyz.gz", "0:5658:190"))
    energy = np.array([atoms.get_potential_energy() for atoms in structures])  # eV, total
    n_atoms = np.array([len(atoms) for atoms in structures])
    atomic = ChebyshevLAED(rad_cutoff=5.0, rad_order=8, ang_cutoff=3.5, ang_order=4).fit_transform(structures)
    order = np.random.default_rng(0).permutation(len(structures))
    train, test = order[:20], order[20:]
    grid = GridSearchCV(
        StructureKernelRidge(), {"zeta": [1, 2, 4], "sigma": [1e-3, 1e-2, 1e-1]}, cv=KFold(4),
        scoring="neg_mean_absolute_error",
    ).fit(atomic[train], energy[train])
    model = grid.best_estimator_
    krr = np.mean(np.abs(model.predict(atomic[test]) - energy[test]) / n_atoms[test])
    baseline = np.mean(np.abs(model.predict_baseline(atomic[test]) - energy[test]) / n_atoms[test])
    assert krr < 0.6 * baseline  # measured: 0.094 (CV picks zeta=4, sigma=0.01) vs 0.240 eV/atom


def test_bad_input_messages():
    atomic = _random_atomic(9)
    y = np.zeros(len(atomic))
    with pytest.raises(ValueError, match="sigma must be a finite number > 0"):
        StructureKernelRidge(sigma=0).fit(atomic, y)
    with pytest.raises(TypeError, match="zeta must be an integer >= 1"):
        StructureKernelRidge(zeta=1.5).fit(atomic, y)
    with pytest.raises(ValueError, match="noise_scaling"):
        StructureKernelRidge(noise_scaling="atoms").fit(atomic, y)
    with pytest.raises(ValueError, match="method='features' needs"):
        structure_kernel(atomic, zeta=3, method="features")
    with pytest.raises(ValueError, match="method must be one of"):
        StructureKernelRidge(method="exact").fit(atomic, y)
    with pytest.raises(TypeError, match="AtomicFeatures"):
        StructureKernelRidge().fit(np.ones((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="one value per structure"):
        StructureKernelRidge().fit(atomic, y[:-1])
    model = StructureKernelRidge().fit(atomic, y)
    with pytest.raises(ValueError, match=r"\['Fe'\]"):
        model.predict(AtomicFeatures(np.ones((1, 4)), [0, 1], [26]))
    with pytest.raises(ValueError, match="features per atom"):
        model.predict(AtomicFeatures(np.ones((1, 2)), [0, 1], [13]))
