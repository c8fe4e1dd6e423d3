"""Position derivatives of the local descriptors: finite differences, layout, API."""

import numpy as np
import pytest

from skdesc import AtomicDerivatives, ChebyshevLAED, config_context


def finite_difference_jacobian(descriptor, atoms, step=1e-5):
    """Central differences of transform(), shape (n_atoms, n_atoms, 3, d)."""
    n = len(atoms)
    d = descriptor.n_features_out_
    out = np.zeros((n, n, 3, d))
    for k in range(n):
        for c in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[k, c] += step
            minus.positions[k, c] -= step
            high = descriptor.transform(plus).values
            low = descriptor.transform(minus).values
            high = high.toarray() if hasattr(high, "toarray") else high
            low = low.toarray() if hasattr(low, "toarray") else low
            out[:, k, c] = (high - low) / (2 * step)
    return out


def assert_matches_finite_differences(descriptor, atoms, rtol=1e-6):
    features, derivatives = descriptor.transform_with_derivatives(atoms)
    reference = descriptor.transform(atoms)
    assert np.array_equal(
        features.values.toarray() if hasattr(features.values, "toarray") else features.values,
        reference.values.toarray() if hasattr(reference.values, "toarray") else reference.values,
    )
    analytic = derivatives.to_dense(0)
    numeric = finite_difference_jacobian(descriptor, atoms)
    scale = np.abs(numeric).max()
    assert scale > 0
    error = np.abs(analytic - numeric).max() / scale
    assert error < rtol, error
    return analytic


@pytest.mark.parametrize("structure", ["ethanol", "small_cell", "skewed_slab"])
def test_chebyshev_matches_finite_differences(structure, request):
    atoms = request.getfixturevalue(structure)
    laed = ChebyshevLAED(rad_cutoff=4.5, rad_order=6, ang_cutoff=3.5, ang_order=4).fit(atoms)
    analytic = assert_matches_finite_differences(laed, atoms)
    # translation invariance: the derivatives of each centre sum to zero over atoms
    assert np.abs(analytic.sum(axis=1)).max() < 1e-10 * np.abs(analytic).max()


def test_layout_and_indexing(ethanol, small_cell):
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=3, ang_cutoff=3.0, ang_order=2).fit([ethanol, small_cell])
    features, derivatives = laed.transform_with_derivatives([ethanol, small_cell, ethanol])
    assert isinstance(derivatives, AtomicDerivatives)
    assert len(derivatives) == 3
    assert np.array_equal(derivatives.offsets, features.offsets)
    # each centre lists itself, pairs stay inside their structure and are sorted by atom
    for c in range(features.n_atoms):
        atoms = derivatives.atom[derivatives.pair_offsets[c] : derivatives.pair_offsets[c + 1]]
        assert c in atoms and np.all(np.diff(atoms) > 0)
    structure = np.searchsorted(features.offsets, derivatives.center, side="right")
    assert np.array_equal(structure, np.searchsorted(features.offsets, derivatives.atom, side="right"))
    assert np.array_equal(derivatives[2].to_dense(0), derivatives.to_dense(0))
    assert np.array_equal(derivatives[[1]].to_dense(0), derivatives.to_dense(1))
    assert derivatives[1:] == AtomicDerivatives.concatenate([derivatives[1], derivatives[2]])


def test_parallel_batches_identical(tio2_small):
    structures = tio2_small[:12]
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=5, ang_cutoff=3.0, ang_order=3).fit(structures)
    one = laed.transform_with_derivatives(structures)
    laed.set_params(n_jobs=2)
    with config_context(atoms_per_batch=64):  # several batches
        two = laed.transform_with_derivatives(structures)
    assert one[0] == two[0] and one[1] == two[1]
    assert one[0] == laed.transform(structures)


# ----------------------------------------------------------------------- SOAP
SOAP_MODES = [
    "nu2", "crossover", "mu2", "nu1mu1", "nu1mu1*", "nu1nu1hat", "nu1nu1hat_crossover", "nu1mu1hat", "embedding",
    "random", "random_symmetric",
]
SOAP_RTOL = 1e-8


@pytest.mark.parametrize("mode", SOAP_MODES)
@pytest.mark.parametrize("structure", ["ethanol", "small_cell"])
def test_soap_matches_finite_differences(mode, structure, request):
    from skdesc import CompressedSOAP

    atoms = request.getfixturevalue(structure)
    soap = CompressedSOAP(r_cut=3.5, n_max=3, l_max=3, compression=mode, random_state=0).fit(atoms)
    # the kernel differentiates the tabulated radial functions transform() uses, so only the
    # differences' own error (about 2e-10 here) is left
    analytic = assert_matches_finite_differences(soap, atoms, rtol=SOAP_RTOL)
    assert np.abs(analytic.sum(axis=1)).max() < 1e-9 * np.abs(analytic).max()


@pytest.mark.parametrize("mode", SOAP_MODES)
def test_soap_derivative_kernel_values_match_value_kernel(mode, ethanol, small_cell, monkeypatch):
    """The derivative kernel's own values (used by the l2 chain rule) equal transform's to 1e-14.

    Both kernels expand on the same radial table and harmonics; only the order
    in which the pairs are summed differs.
    """
    import skdesc.local.soap as soap_module
    from skdesc import CompressedSOAP

    recorded = []
    original = soap_module.soap_derivatives_kernel

    def recording(*args):
        original(*args)
        recorded.append(args[-2].copy())  # the kernel's values output

    monkeypatch.setattr(soap_module, "soap_derivatives_kernel", recording)
    for atoms in (ethanol, small_cell):
        recorded.clear()
        soap = CompressedSOAP(r_cut=3.5, n_max=3, l_max=3, compression=mode, random_state=0).fit(atoms)
        values = soap.transform_with_derivatives(atoms)[0].values
        raw = np.vstack(recorded)
        scale = np.abs(values).max(axis=1, keepdims=True)
        assert np.all(np.abs(raw - values) <= 1e-14 * scale)


@pytest.mark.parametrize("normalize", ["kernel", "l2"])
@pytest.mark.parametrize("mode", ["nu2", "nu1mu1", "random"])
def test_soap_normalisations_match_finite_differences(mode, normalize, skewed_slab):
    from skdesc import CompressedSOAP

    soap = CompressedSOAP(r_cut=3.0, n_max=3, l_max=2, compression=mode, normalize=normalize, random_state=1)
    assert_matches_finite_differences(soap.fit(skewed_slab), skewed_slab, rtol=SOAP_RTOL)


def test_soap_sparse_values_and_center_weight(small_cell):
    from skdesc import SOAP

    soap = SOAP(r_cut=3.0, n_max=2, l_max=2, sparse=True, center_weight=0.5).fit(small_cell)
    assert_matches_finite_differences(soap, small_cell, rtol=SOAP_RTOL)


@pytest.mark.parametrize("compression", ["off", "crossover"])
def test_soap_matches_dscribe_analytical(compression, ethanol):
    dscribe = pytest.importorskip("dscribe.descriptors")
    from skdesc import CompressedSOAP

    kwargs = dict(r_cut=3.5, n_max=4, l_max=3, sigma=0.5)
    reference = dscribe.SOAP(species=["H", "C", "O"], periodic=False, compression={"mode": compression}, **kwargs)
    # dscribe's analytical derivatives exist for non-periodic systems only; with
    # attach=True its centres move with their atoms, as ours do
    expected, _ = reference.derivatives(ethanol, method="analytical", attach=True)
    ours = CompressedSOAP(species=["H", "C", "O"], compression="nu2" if compression == "off" else compression, **kwargs)
    derivatives = ours.fit(ethanol).derivatives(ethanol)
    assert np.abs(derivatives.to_dense(0) - expected).max() < 1e-8 * np.abs(expected).max()


# ----------------------------------------------------------------------- ACSF
@pytest.mark.parametrize("compression", ["nu2", "nu1mu1", "mu2", "weighted"])
@pytest.mark.parametrize("structure", ["ethanol", "small_cell", "skewed_slab"])
def test_acsf_matches_finite_differences(compression, structure, request):
    from skdesc import ACSF

    atoms = request.getfixturevalue(structure)
    acsf = ACSF(
        r_cut=3.5,
        g2_params=[[1.0, 0.0], [0.5, 1.5]],
        g3_params=[1.0, 2.0],
        g4_params=[[0.01, 1.0, 1.0], [0.02, 2.0, -1.0], [0.01, 0.5, 1.0]],
        g5_params=[[0.01, 1.0, 1.0], [0.03, 3.0, -1.0]],
        compression=compression,
        element_weights=[1.0, 2.0, 3.0][: len(set(atoms.numbers))],
    ).fit(atoms)
    assert_matches_finite_differences(acsf, atoms)


# ------------------------------------------------------------ MomentGSD chain rule
@pytest.mark.parametrize(
    "label,moments",
    [("300", "central"), ("331", "standardized"), ("555", "cumulant"), ("300", "root"), ("332", "root"), ("555", "root")],
)
def test_moment_gsd_chain_rule_matches_finite_differences(label, moments, ethanol, small_cell):
    import warnings

    from skdesc import MomentGSD

    structures = [ethanol, small_cell]
    laed = ChebyshevLAED(rad_cutoff=4.5, rad_order=4, ang_cutoff=3.5, ang_order=3).fit(structures)
    features, derivatives = laed.transform_with_derivatives(structures)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # default typespin weights with three elements
        gsd = MomentGSD.from_sigma(label, moments=moments).fit(features)
    analytic = gsd.derivatives(features, derivatives)
    step = 1e-5
    for s, atoms in enumerate(structures):
        numeric = np.zeros_like(analytic[s])
        for k in range(len(atoms)):
            for c in range(3):
                plus, minus = atoms.copy(), atoms.copy()
                plus.positions[k, c] += step
                minus.positions[k, c] -= step
                high = gsd.transform(laed.transform(plus))[0]
                low = gsd.transform(laed.transform(minus))[0]
                numeric[k, c] = (high - low) / (2 * step)
        assert np.abs(analytic[s] - numeric).max() < 1e-6 * np.abs(numeric).max()
