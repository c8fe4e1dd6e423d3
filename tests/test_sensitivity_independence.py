"""Sensitivity matrix (skdesc.audit) and FunctionalIndependenceSelector."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from sklearn.base import clone

from skdesc import SOAP, AtomicDerivatives, ChebyshevLAED, CompressedSOAP, FunctionalIndependenceSelector
from skdesc.audit import count_zero_modes, plot_sensitivity_comparison, sensitivity_matrix, sensitivity_spectrum


@pytest.fixture(scope="module")
def asymmetric_cluster():
    rng = np.random.default_rng(0)
    positions = np.vstack([[0.0, 0.0, 0.0], rng.uniform(-1.6, 1.6, (5, 3))])
    return Atoms("CuCuNiNiCuNi", positions=positions)


@pytest.fixture(scope="module")
def octahedron():
    arms = [[2, 0, 0], [-2, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 2], [0, 0, -2]]
    return Atoms("CuNi6", positions=[[0, 0, 0]] + arms)


DESCRIPTORS = [
    SOAP(r_cut=5.0, n_max=6, l_max=6),
    CompressedSOAP(r_cut=5.0, n_max=6, l_max=6, compression="nu1mu1"),
    ChebyshevLAED(rad_cutoff=5.0, ang_cutoff=5.0),
]


@pytest.mark.parametrize("descriptor", DESCRIPTORS, ids=["nu2", "nu1mu1", "chebyshev"])
def test_asymmetric_environment_has_six_zero_modes(descriptor, asymmetric_cluster, octahedron):
    _, derivatives = clone(descriptor).fit(asymmetric_cluster).transform_with_derivatives(asymmetric_cluster)
    matrix, atoms = sensitivity_matrix(derivatives, 0)
    assert matrix.shape == (18, 18) and np.array_equal(atoms, np.arange(6))
    eigenvalues = sensitivity_spectrum(derivatives, [0])[0]
    assert np.allclose(np.sort(np.linalg.eigvalsh(matrix)) / eigenvalues[-1] / np.linalg.eigvalsh(matrix)[-1]
                       * eigenvalues[-1], eigenvalues, atol=1e-10)
    assert count_zero_modes(eigenvalues) == 6
    # a centre in a regular octahedron: only the breathing mode is seen to first order
    _, derivatives = clone(descriptor).fit(octahedron).transform_with_derivatives(octahedron)
    assert count_zero_modes(sensitivity_spectrum(derivatives, [0])[0]) > 6


def test_zero_modes_are_rigid_motions(asymmetric_cluster):
    _, derivatives = SOAP(r_cut=5.0, n_max=4, l_max=4).fit(asymmetric_cluster).transform_with_derivatives(
        asymmetric_cluster
    )
    matrix, _ = sensitivity_matrix(derivatives, 0)
    x = asymmetric_cluster.positions - asymmetric_cluster.positions[0]
    translations = [np.tile(np.eye(3)[k], 6) for k in range(3)]
    rotations = [np.cross(np.eye(3)[k], x).ravel() for k in range(3)]
    for mode in translations + rotations:
        assert mode @ matrix @ mode < 1e-12 * np.abs(matrix).max() * (mode @ mode)


def test_plot_sensitivity_comparison(asymmetric_cluster):
    spectra = {}
    for name, d in zip(["nu2", "nu1mu1"], DESCRIPTORS[:2]):
        _, derivatives = clone(d).fit(asymmetric_cluster).transform_with_derivatives(asymmetric_cluster)
        spectra[name] = sensitivity_spectrum(derivatives)
    fig = plot_sensitivity_comparison(spectra, reference="nu2")
    assert len(fig.axes) == 1 and fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="reference"):
        plot_sensitivity_comparison(spectra, reference="mu2")


# ---------------------------------------------------------------- selector
def _augmented(features, derivatives):
    """Append x0 (duplicate), x1 + 2 x2 (linear), x3^2 (nonlinear) and x4 * x5 (product)."""
    x = features.values
    d = derivatives.values
    xc = x[derivatives.center]  # centre values per pair
    extra = [d[:, :, 0], d[:, :, 1] + 2 * d[:, :, 2], 2 * xc[:, None, 3] * d[:, :, 3],
             xc[:, None, 5] * d[:, :, 4] + xc[:, None, 4] * d[:, :, 5]]
    values = np.concatenate([d, np.stack(extra, axis=2)], axis=2)
    return AtomicDerivatives(derivatives.center, derivatives.atom, values, derivatives.pair_offsets,
                             derivatives.offsets)


@pytest.fixture(scope="module")
def base_derivatives():
    structures = [molecule(name) for name in ("CH3CH2OH", "CH3COCH3", "C6H6")]
    for k, atoms in enumerate(structures):
        atoms.rattle(0.1, seed=k)
    laed = ChebyshevLAED(species=["C", "H", "O"], rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)
    return laed.fit(structures).transform_with_derivatives(structures)


def test_selector_removes_functions_of_other_columns(base_derivatives):
    features, derivatives = base_derivatives
    d = features.n_features
    augmented = _augmented(features, derivatives)
    for pivoting in (False, True):
        selector = FunctionalIndependenceSelector(n_environments=None, pivoting=pivoting)
        base = clone(selector).fit_derivatives(derivatives).get_support()
        kept = clone(selector).fit_derivatives(augmented).get_support()
        assert kept.sum() == base.sum() >= d - 1
        assert not (kept[0] and kept[d])  # never both copies
        if not pivoting:
            # visiting columns in order: exactly the originally kept ones survive
            assert np.array_equal(kept, np.r_[base, [False] * 4])


def test_selector_drops_linear_dependence_in_soap():
    # 12 atoms give at most 3 * 12 - 6 independent directions per environment, fewer than nu2 has components
    atoms = molecule("C6H6")
    atoms.rattle(0.1, seed=5)
    selector = FunctionalIndependenceSelector(SOAP(r_cut=4.0, n_max=3, l_max=3), random_state=0)
    selected = selector.fit(atoms).transform(atoms)
    full = selector.descriptor_.transform(atoms)
    assert selected.n_features == selector.get_support().sum() < full.n_features
    assert np.array_equal(selected.values, full.values[:, selector.get_support()])
    assert np.array_equal(selector.transform(full).values, selected.values)
    assert len(selector.get_feature_names_out()) == selected.n_features
    # per environment, every dropped column's gradient lies in the span of the kept ones
    _, derivatives = selector.descriptor_.transform_with_derivatives(atoms)
    for center in range(len(atoms)):
        jac = derivatives.values[derivatives.pair_offsets[center] : derivatives.pair_offsets[center + 1]]
        jac = jac.reshape(-1, full.n_features)
        kept, dropped = jac[:, selector.get_support()], jac[:, ~selector.get_support()]
        coefficients = np.linalg.lstsq(kept, dropped, rcond=None)[0]
        residual = np.linalg.norm(dropped - kept @ coefficients, axis=0)
        assert np.all(residual <= 1e-5 * np.linalg.norm(dropped, axis=0) + 1e-12)


def test_selector_validation():
    with pytest.raises(TypeError, match="descriptor"):
        FunctionalIndependenceSelector(descriptor="soap").fit(molecule("H2O"))
    with pytest.raises(ValueError, match="tol"):
        FunctionalIndependenceSelector(ChebyshevLAED(), tol=2.0).fit(molecule("H2O"))
    with pytest.raises(ValueError, match="n_environments"):
        FunctionalIndependenceSelector(ChebyshevLAED(), n_environments=0).fit(molecule("H2O"))
    selector = FunctionalIndependenceSelector(ChebyshevLAED(), random_state=0)
    assert repr(clone(selector)) == repr(selector)


def test_selector_fit_differentiates_only_sampled_structures(base_derivatives):
    structures = [molecule(name) for name in ("CH3CH2OH", "CH3COCH3", "C6H6")]
    for k, atoms in enumerate(structures):
        atoms.rattle(0.1, seed=k)
    laed = ChebyshevLAED(species=["C", "H", "O"], rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)
    for n_environments in (None, 5):
        selector = FunctionalIndependenceSelector(laed, n_environments=n_environments, random_state=3)
        reference = clone(selector).fit_derivatives(base_derivatives[1])
        assert np.array_equal(selector.fit(structures).get_support(), reference.get_support())


def test_fit_derivatives_on_chosen_centers(base_derivatives):
    from skdesc.selection import independent_components
    from skdesc.selection._independence import _environment_jacobians

    _, derivatives = base_derivatives
    centers = np.array([9, 0, 3, 0])  # unsorted, repeated: each environment enters once
    selector = FunctionalIndependenceSelector(n_environments=1).fit_derivatives(derivatives, centers=centers)
    jacobian, owner = _environment_jacobians(derivatives, [0, 3, 9])
    expected = independent_components(jacobian, owner)
    assert np.array_equal(selector.selection_order_, expected)
    # one environment of a 9-atom molecule: at most 3 * 9 - 6 directions
    single = FunctionalIndependenceSelector().fit_derivatives(derivatives, centers=[0])
    assert 0 < single.support_.sum() <= 21
    with pytest.raises(ValueError, match="centers must lie"):
        FunctionalIndependenceSelector().fit_derivatives(derivatives, centers=[derivatives.n_atoms])
    with pytest.raises(TypeError, match="centers"):
        FunctionalIndependenceSelector().fit_derivatives(derivatives, centers=[0.5])
