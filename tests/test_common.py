"""Checks every estimator must pass, parametrised over the registries (no hand-kept lists).

Local descriptors come from :func:`skdesc.local.all_descriptors`, the other
estimators from :func:`skdesc.all_estimators`; a new descriptor is checked here
as soon as it is exported.  ``CHEAP`` only shrinks default hyper-parameters so
the checks stay fast; a class missing from it is checked with its defaults.
"""

import pickle

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, fcc111, molecule
from scipy.spatial.transform import Rotation
from sklearn.base import clone

import skdesc
from skdesc import AtomicFeatures, config_context
from skdesc._bibliography import CITATIONS
from skdesc.cli import descriptor_choices
from skdesc.local import all_descriptors

CHEAP = {
    "ACSF": dict(r_cut=4.0, g2_params=[[1.0, 0.0], [0.5, 2.0]], g4_params=[[0.05, 1.0, 1.0], [0.05, 2.0, -1.0]]),
    "ChebyshevLAED": dict(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2),
    "CompressedSOAP": dict(r_cut=4.0, n_max=3, l_max=3, compression="mu2"),
    "SOAP": dict(r_cut=4.0, n_max=3, l_max=3),
    "CoordinationNumber": dict(cutoff=3.2, smooth_width=0.5),
    "BondLengthStatistics": dict(cutoff=3.2),
    "BondAngleStatistics": dict(cutoff=3.2, n_bins=3),
    "CartesianInvariants": dict(r_cut=4.0, n_radial=2),
    "SOAPBispectrum": dict(r_cut=4.0, n_max=2, l_max=2, nu=3),
    "VoronoiCellStatistics": dict(cutoff=8.0),
}

def _builtin_descriptors():
    """The registry's descriptors that skdesc ships (other test modules register toy ones)."""
    return {name: cls for name, cls in all_descriptors().items() if cls.__module__.startswith("skdesc.")}


DESCRIPTORS = sorted(_builtin_descriptors())


def _make(name):
    return _builtin_descriptors()[name](**CHEAP.get(name, {}))


def _structures():
    """A molecule, a periodic crystal and a slab (mixed periodicity), two elements each at most."""
    water = molecule("H2O")
    water.center(vacuum=3.0)
    salt = bulk("NaCl", "rocksalt", a=5.64)
    slab = fcc111("Cu", size=(2, 2, 3), vacuum=5.0)
    slab.numbers[[0, 5]] = 79
    return [water, salt, slab]


def _rows(features):
    values = features.values
    return values.toarray() if hasattr(values, "toarray") else np.asarray(values)


@pytest.fixture(scope="module")
def structures():
    return _structures()


def test_the_registries_find_every_builtin_estimator():
    descriptors = set(_builtin_descriptors())
    assert {"ACSF", "ChebyshevLAED", "CompressedSOAP", "SOAP", "CoordinationNumber",
            "BondLengthStatistics", "BondAngleStatistics"} <= descriptors
    estimators = skdesc.all_estimators()
    assert descriptors <= set(estimators)
    assert {"MomentGSD", "MeanPooling", "StructureKernelRidge", "InformationImbalanceSelector",
            "FunctionalIndependenceSelector"} <= set(estimators)
    assert "LocalDescriptor" not in estimators


def test_a_user_descriptor_is_registered_everywhere():
    from skdesc.local import LocalDescriptor, NeighborRequest

    class UserCount(LocalDescriptor):
        _cli_name = "user-count"

        def __init__(self, species=None, cutoff=3.0, min_distance=0.1, handle_unknown="error",
                     n_jobs=None, verbose=0):
            self.species, self.cutoff, self.min_distance = species, cutoff, min_distance
            self.handle_unknown, self.n_jobs, self.verbose = handle_unknown, n_jobs, verbose

        def _setup(self):
            return ["n"]

        def _neighbor_request(self):
            return NeighborRequest(self.cutoff, "cutoff")

        def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
            values[:, 0] = np.diff(neighbors.first)

    assert all_descriptors()["UserCount"] is UserCount
    assert descriptor_choices()["user-count"] is UserCount
    counts = UserCount(cutoff=3.0).fit_transform([bulk("Cu", "fcc", a=3.6)]).values
    np.testing.assert_array_equal(counts, [[12.0]])


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_fit_transform_shape_names_and_finite(name, structures):
    descriptor = _make(name)
    features = descriptor.fit_transform(structures)
    assert isinstance(features, AtomicFeatures)
    n_atoms = sum(len(atoms) for atoms in structures)
    assert features.values.shape == (n_atoms, descriptor.n_features_out_)
    names = descriptor.get_feature_names_out()
    assert len(names) == descriptor.n_features_out_ == len(set(names))
    assert list(features.feature_names) == list(names)
    assert np.isfinite(_rows(features)).all()
    assert np.abs(_rows(features)).sum() > 0  # something was computed
    assert features == descriptor.transform(structures)


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_clone_and_pickle_give_the_same_result(name, structures):
    descriptor = _make(name).fit(structures)
    expected = descriptor.transform(structures)
    assert clone(descriptor).get_params() == descriptor.get_params()
    assert clone(descriptor).fit(structures).transform(structures) == expected
    assert pickle.loads(pickle.dumps(descriptor)).transform(structures) == expected


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_n_jobs_and_batch_size_do_not_change_the_result(name, structures):
    many = structures * 6
    serial = _make(name).set_params(n_jobs=1).fit_transform(many)
    with config_context(atoms_per_batch=16):
        parallel = _make(name).set_params(n_jobs=2).fit(many)
        assert len(parallel._batches([len(atoms) for atoms in many], 2)) > 1
        assert parallel.transform(many) == serial


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_rotation_translation_reflection_and_permutation_invariance(name, structures):
    descriptor = _make(name).fit(structures)
    rng = np.random.default_rng(0)
    for atoms in structures:
        reference = _rows(descriptor.transform([atoms]))
        moved = atoms.copy()
        matrix = Rotation.random(random_state=1).as_matrix() @ np.diag([1.0, 1.0, -1.0])  # improper
        moved.positions = atoms.positions @ matrix.T + rng.normal(size=3)
        moved.cell = atoms.cell.array @ matrix.T
        order = rng.permutation(len(atoms))
        moved = moved[order]
        scale = max(1.0, np.abs(reference).max())
        np.testing.assert_allclose(_rows(descriptor.transform([moved])), reference[order], rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_periodic_supercell_repeats_the_rows(name, structures):
    descriptor = _make(name).fit(structures)
    salt = structures[1]
    cell = _rows(descriptor.transform([salt]))
    supercell = _rows(descriptor.transform([salt.repeat((2, 1, 3))]))
    scale = max(1.0, np.abs(cell).max())
    np.testing.assert_allclose(supercell, np.tile(cell, (6, 1)), rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_bad_input_is_refused_and_the_input_kept(name, structures):
    descriptor = _make(name).fit(structures)
    broken = structures[0].copy()
    broken.positions[1, 0] = np.nan
    before = broken.positions.copy()
    with pytest.raises(ValueError, match="structure 0"):
        descriptor.transform([broken])
    np.testing.assert_array_equal(broken.positions, before)
    with pytest.raises(ValueError, match="Fe"):
        descriptor.transform([Atoms("Fe2", positions=[[0, 0, 0], [0, 0, 2.0]])])
    overlapping = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.01]])
    with pytest.raises(ValueError, match="apart"):
        descriptor.transform([overlapping])


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_a_batch_written_into_uninitialised_memory_gives_the_same_values(name, structures):
    # transform allocates its dense output with np.empty: a kernel that adds to it must get its
    # rows zeroed, and one that declares _fills_output must write every entry
    descriptor = _make(name).fit(structures)
    if descriptor._sparse_output():
        pytest.skip("sparse output is allocated per batch")
    expected = _rows(descriptor.transform(structures))
    lookup = np.full(119, -1, dtype=np.int64)
    lookup[list(descriptor.species_)] = np.arange(len(descriptor.species_))
    for derivatives in (False, True) if descriptor._supports_gradients else (False,):
        garbage = np.full(expected.shape, np.nan)
        values, _ = descriptor._run_batch(structures, 0, lookup, garbage, derivatives)
        assert values is garbage
        np.testing.assert_array_equal(garbage, expected)


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_derivatives_are_declared_truthfully(name, structures):
    descriptor = _make(name).fit(structures)
    water = structures[0]
    if not descriptor._supports_gradients:
        with pytest.raises(NotImplementedError, match="derivatives"):
            descriptor.transform_with_derivatives([water])
        return
    features, derivatives = descriptor.transform_with_derivatives([water])
    assert features == descriptor.transform([water])
    dense = derivatives.to_dense(0)  # (centre, atom, xyz, feature)
    step = 1e-5
    for atom in range(len(water)):
        for axis in range(3):
            plus, minus = water.copy(), water.copy()
            plus.positions[atom, axis] += step
            minus.positions[atom, axis] -= step
            numeric = (_rows(descriptor.transform([plus])) - _rows(descriptor.transform([minus]))) / (2 * step)
            scale = max(1.0, np.abs(numeric).max())
            np.testing.assert_allclose(dense[:, atom, axis], numeric, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize("name", DESCRIPTORS)
def test_citations_and_command_line_name(name):
    descriptor = _make(name)
    keys = descriptor._citation_keys()
    assert all(key in CITATIONS for key in keys)
    if name not in ("CoordinationNumber", "BondLengthStatistics", "BondAngleStatistics"):
        assert keys, f"{name} cites nothing"
    cls = type(descriptor)
    assert any(issubclass(cls, reached) for reached in descriptor_choices().values())


@pytest.mark.parametrize("name", sorted(skdesc.all_estimators()))
def test_every_estimator_declares_citations_that_exist(name):
    cls = skdesc.all_estimators()[name]
    assert all(key in CITATIONS for key in getattr(cls, "_citations", ()))
