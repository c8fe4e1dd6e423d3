"""Edge cases of the local descriptors' numerics.

Zero vectors under l2 normalisation, coincident atoms, cos-theta bins at bin
edges, ACSF with |lambda| > 1 (against dscribe) and subclasses of the input
structure types.
"""

import warnings

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from scipy.spatial.transform import Rotation

from skdesc import (
    ACSF,
    SOAP,
    BondAngleStatistics,
    BondLengthStatistics,
    ChebyshevLAED,
    CompressedSOAP,
    CoordinationNumber,
    MeanPooling,
)
from skdesc.local.soap import COMPRESSIONS
from skdesc.structures import is_structure, to_frames

from .test_derivatives import assert_matches_finite_differences

SMALL_SOAP = dict(r_cut=3.0, n_max=3, l_max=2, sigma=0.5)


# ------------------------------------------------- l2 normalisation of zero vectors
@pytest.fixture(scope="module")
def lonely_atom():
    """Water plus a far-away Cu atom: with center_weight=0 the Cu density is exactly zero."""
    atoms = molecule("H2O")
    atoms.rattle(0.05, seed=4)
    atoms += Atoms("Cu", positions=[[30.0, 0.0, 0.0]])
    return atoms


@pytest.mark.parametrize("mode", sorted(COMPRESSIONS))
def test_l2_zero_density_gives_a_zero_row(mode, lonely_atom):
    soap = CompressedSOAP(compression=mode, normalize="l2", center_weight=0.0, random_state=0, **SMALL_SOAP)
    features, derivatives = soap.fit(lonely_atom).transform_with_derivatives(lonely_atom)
    values = features.values
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(derivatives.values))
    np.testing.assert_array_equal(values[3], 0.0)
    np.testing.assert_allclose(np.linalg.norm(values[:3], axis=1), 1.0)
    # the same rows as transform, and the molecule's rows as without the Cu atom
    np.testing.assert_array_equal(values, soap.transform(lonely_atom).values)
    np.testing.assert_allclose(values[:3, :], soap.transform(lonely_atom[:3]).values, rtol=1e-12, atol=1e-15)
    moved = derivatives.to_dense(0)
    np.testing.assert_array_equal(moved[3], 0.0)  # no d(zero row)
    np.testing.assert_array_equal(moved[:, 3], 0.0)  # the Cu atom moves nothing


def test_l2_zero_rows_sparse_and_soap(lonely_atom):
    dense = SOAP(normalize="l2", center_weight=0.0, **SMALL_SOAP).fit(lonely_atom).transform(lonely_atom).values
    sparse = SOAP(normalize="l2", center_weight=0.0, sparse=True, **SMALL_SOAP).fit(lonely_atom)
    stored = sparse.transform(lonely_atom).values
    assert np.all(np.isfinite(stored.data))
    np.testing.assert_array_equal(stored.toarray(), dense)
    assert stored[3].nnz == 0


def test_l2_derivatives_with_an_isolated_atom_match_finite_differences(lonely_atom):
    soap = CompressedSOAP(compression="nu1mu1", normalize="l2", center_weight=0.0, **SMALL_SOAP)
    assert_matches_finite_differences(soap.fit(lonely_atom), lonely_atom)


@pytest.mark.parametrize("normalize", ["dscribe", "kernel"])
def test_other_normalisations_of_a_zero_density_are_zero(normalize, lonely_atom):
    soap = SOAP(normalize=normalize, center_weight=0.0, **SMALL_SOAP).fit(lonely_atom)
    features, derivatives = soap.transform_with_derivatives(lonely_atom)
    np.testing.assert_array_equal(features.values[3], 0.0)
    assert np.all(np.isfinite(derivatives.values))


def test_acsf_isolated_atom_is_zero_not_nan(lonely_atom):
    acsf = ACSF(
        r_cut=3.0,
        g2_params=[[1.0, 0.0]],
        g4_params=[[0.1, 1.0, 1.0]],
        g5_params=[[0.1, 2.0, -1.0]],
        element_weights=[1.0, 2.0, 3.0],
    )
    for compression in ("nu2", "nu1mu1", "mu2", "weighted"):
        est = acsf.set_params(compression=compression).fit(lonely_atom)
        features, derivatives = est.transform_with_derivatives(lonely_atom)
        np.testing.assert_array_equal(features.values[3], 0.0)
        assert np.all(np.isfinite(features.values)) and np.all(np.isfinite(derivatives.values))


# ------------------------------------------------------------- coincident atoms
def _coincident_structures():
    pair = Atoms("CuCu", positions=[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    # in a periodic cell, atom 1 sits exactly on an image of atom 0
    image = Atoms("CuO", positions=[[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]], cell=np.eye(3) * 3.0, pbc=True)
    water = molecule("H2O")
    water += Atoms("O", positions=[water.positions[0]])
    return {"pair": pair, "image": image, "water": water}


DESCRIPTORS = {
    "chebyshev": lambda: ChebyshevLAED(rad_cutoff=3.0, rad_order=3, ang_cutoff=3.0, ang_order=2),
    "soap": lambda: SOAP(**SMALL_SOAP),
    "soap_l2": lambda: SOAP(normalize="l2", **SMALL_SOAP),
    "soap_star": lambda: CompressedSOAP(compression="nu1mu1*", **SMALL_SOAP),
    "acsf": lambda: ACSF(r_cut=3.0, g2_params=[[1.0, 0.0]], g4_params=[[0.1, 1.0, 1.0]], g5_params=[[0.1, 1.0, -1.0]]),
    "coordination": lambda: CoordinationNumber(cutoff=3.0),
    "bonds": lambda: BondLengthStatistics(cutoff=3.0),
    "angles": lambda: BondAngleStatistics(cutoff=3.0, n_bins=4),
}
WITH_DERIVATIVES = {"chebyshev", "soap", "soap_l2", "soap_star", "acsf"}


@pytest.mark.parametrize("structure", ["pair", "image", "water"])
@pytest.mark.parametrize("name", sorted(DESCRIPTORS))
def test_coincident_atoms_raise_the_overlap_error_even_with_min_distance_zero(name, structure):
    atoms = _coincident_structures()[structure]
    fine = molecule("H2O") + Atoms("Cu", positions=[[5.0, 0.0, 0.0]])
    descriptor = DESCRIPTORS[name]().set_params(min_distance=0.0).fit([fine, atoms])
    with pytest.raises(ValueError, match=r"structure 1: two atoms are 0 Å apart"):
        descriptor.transform([fine, atoms])
    if name in WITH_DERIVATIVES:
        with pytest.raises(ValueError, match=r"structure 0: two atoms are 0 Å apart"):
            descriptor.transform_with_derivatives(atoms)
    # the same message as an overlap with min_distance > 0
    with pytest.raises(ValueError, match=r"structure 0: two atoms are 0 Å apart"):
        DESCRIPTORS[name]().fit(atoms).transform(atoms)


def test_min_distance_zero_still_accepts_close_atoms():
    atoms = Atoms("HH", positions=[[0.0, 0.0, 0.0], [0.0, 0.0, 0.05]])
    for name, factory in DESCRIPTORS.items():
        values = factory().set_params(min_distance=0.0).fit(atoms).transform(atoms).values
        values = values.toarray() if hasattr(values, "toarray") else values
        assert np.all(np.isfinite(values)), name


# ------------------------------------------------------ cos-theta bins at edges
def _fcc_variants():
    """fcc Cu written in many equivalent ways (all atoms equivalent)."""
    primitive = bulk("Cu", "fcc", a=3.6)
    cubic = bulk("Cu", "fcc", a=3.6, cubic=True)
    variants = {"primitive": primitive, "cubic": cubic, "supercell": primitive.repeat((2, 3, 1))}
    skewed = primitive.copy()
    skewed.set_cell(np.array([[1, 1, 0], [0, 1, 0], [-1, 0, 1]]) @ primitive.cell.array)  # same lattice
    variants["equivalent_cell"] = skewed
    unwrapped = cubic.repeat(2)
    rng = np.random.default_rng(5)
    unwrapped.positions += rng.integers(-3, 4, (len(unwrapped), 3)) @ unwrapped.cell.array
    variants["unwrapped"] = unwrapped
    for shift in (1e3, 1e8):
        shifted = cubic.repeat(2)
        shifted.positions += shift * np.array([1.0, 0.7, 0.3])
        variants[f"shifted_{shift:g}"] = shifted
        wrapped = shifted.copy()
        wrapped.wrap()
        variants[f"shifted_wrapped_{shift:g}"] = wrapped
    for seed in range(3):
        rotated = cubic.repeat(2)
        rotated.set_cell(rotated.cell.array @ Rotation.random(random_state=seed).as_matrix().T, scale_atoms=True)
        variants[f"rotated_{seed}"] = rotated
    return variants


# cosines of fcc's 66 neighbour pairs: -1 (6), -1/2 (24), 0 (12), 1/2 (24); each
# bin holds [lower, upper), a cosine on an edge belongs to the upper bin
FCC_BINS = {
    2: [30, 36],
    3: [30, 12, 24],
    4: [6, 24, 12, 24],
    6: [6, 24, 0, 12, 24, 0],
    8: [6, 0, 24, 0, 12, 0, 24, 0],
}


@pytest.mark.parametrize("n_bins", sorted(FCC_BINS))
def test_fcc_bins_do_not_depend_on_how_the_cell_is_written(n_bins):
    expected = np.array(FCC_BINS[n_bins]) / 66.0
    laed = BondAngleStatistics(cutoff=3.0, n_bins=n_bins)
    for name, atoms in _fcc_variants().items():
        values = laed.fit(atoms).transform(atoms).values
        assert values.shape == (len(atoms), 5 + n_bins)
        np.testing.assert_array_equal(values[:, 0], 66.0, err_msg=name)
        np.testing.assert_allclose(values[:, 5:], np.broadcast_to(expected, values[:, 5:].shape), rtol=0, atol=1e-15,
                                   err_msg=name)
        np.testing.assert_allclose(values[:, 3], 60.0, atol=1e-5, err_msg=name)  # min angle
        np.testing.assert_allclose(values[:, 4], 180.0, atol=1e-5, err_msg=name)


def test_rock_salt_and_molecule_bins_at_edges():
    # rock salt within the first shell: 6 neighbours, 12 pairs at 90°, 3 at 180°
    salt = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    salt.positions += 1e8
    values = BondAngleStatistics(cutoff=3.0, n_bins=2).fit(salt).transform(salt).values
    np.testing.assert_array_equal(values[:, 5:], np.broadcast_to([3 / 15, 12 / 15], (len(salt), 2)))
    # a square planar molecule, rotated: cos 90° = 0 on the edge of two bins
    square = Atoms("PtCl4", positions=[[0, 0, 0], [2.3, 0, 0], [-2.3, 0, 0], [0, 2.3, 0], [0, -2.3, 0]])
    for seed in range(5):
        rotated = square.copy()
        rotated.positions = rotated.positions @ Rotation.random(random_state=seed).as_matrix().T
        row = BondAngleStatistics(cutoff=2.5, n_bins=2).fit(rotated).transform(rotated).values[0]
        np.testing.assert_array_equal(row[5:], [2 / 6, 4 / 6])


# ------------------------------------------------------ ACSF with |lambda| > 1
# dscribe's own ACSF tests use these G4 / G5 rows (eta, zeta, lambda)
DSCRIBE_ANGULAR = [[1, 2, 3], [3, 1, 4], [4, 5, 6], [7, 8, 9]]
ANGULAR = DSCRIBE_ANGULAR + [[0.1, 2, 3], [0.05, 1, 4], [0.02, 5, -6], [0.01, 8, 9], [0.02, 3, -4]]


def _molecules():
    structures = [molecule(name) for name in ("CH3CH2OH", "H2O", "CO2", "C6H6")]
    for seed, atoms in enumerate(structures):
        atoms.rattle(0.02, seed=seed)
    return structures


def _steep_acsf(**params):
    with pytest.warns(UserWarning, match=r"\|lambda\| > 1"):
        return ACSF(r_cut=4.0, g2_params=[[0.5, 1.0]], g4_params=ANGULAR, g5_params=ANGULAR, **params).fit(
            _molecules()
        )


def test_acsf_large_lambda_matches_dscribe_values():
    dscribe = pytest.importorskip("dscribe.descriptors")
    structures = _molecules()
    ours = _steep_acsf()
    reference = dscribe.ACSF(
        species=list(ours.species_), r_cut=4.0, g2_params=[[0.5, 1.0]], g4_params=ANGULAR, g5_params=ANGULAR
    )
    expected = np.concatenate([reference.create(atoms) for atoms in structures])
    values = ours.transform(structures).values
    assert values.shape == expected.shape
    assert (values < 0).any()  # 1 + lambda cos(theta) < 0 with an odd zeta: negative terms
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_acsf_large_lambda_derivatives_match_dscribe_and_finite_differences():
    dscribe = pytest.importorskip("dscribe.descriptors")
    ours = _steep_acsf()
    atoms = _molecules()[0]
    reference = dscribe.ACSF(
        species=list(ours.species_), r_cut=4.0, g2_params=[[0.5, 1.0]], g4_params=ANGULAR, g5_params=ANGULAR
    )
    # dscribe's ACSF derivatives are central differences; attach=True moves the centre with its atom
    expected, _ = reference.derivatives(atoms, method="numerical", attach=True)
    analytic = ours.derivatives(atoms).to_dense(0)
    assert np.abs(analytic - expected).max() < 1e-6 * np.abs(expected).max()
    for compression in ("nu2", "nu1mu1", "weighted"):
        est = ACSF(
            r_cut=4.0,
            g4_params=[[0.05, 1, 4], [0.02, 2, -3]],
            g5_params=[[0.05, 1, -4], [0.01, 3, 6]],
            compression=compression,
            element_weights=[1.0, 2.0, 3.0],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est.fit(atoms)
        assert_matches_finite_differences(est, atoms)


def test_acsf_lambda_warning_and_integer_zeta():
    atoms = molecule("H2O")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ACSF(g4_params=[[0.1, 1.5, 1.0], [0.1, 2.0, -0.5]]).fit(atoms)  # |lambda| <= 1: silent
    with pytest.warns(UserWarning, match="g5_params"):
        ACSF(g5_params=[[0.1, 2.0, 3.0]]).fit(atoms)
    with pytest.raises(ValueError, match=r"g4_params: with \|lambda\| > 1 .* zeta .* must be an integer"):
        ACSF(g4_params=[[0.1, 2.5, 3.0]]).fit(atoms)


# --------------------------------------------------- subclasses of the input types
class MyAtoms(Atoms):
    """A user's subclass of ase.Atoms."""


def test_subclasses_of_ase_and_pymatgen_types_are_structures():
    pytest.importorskip("pymatgen")
    from pymatgen.core import Lattice, Molecule, Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    copper = bulk("Cu", "fcc", a=3.6)
    structure = AseAtomsAdaptor.get_structure(copper)
    mson = AseAtomsAdaptor.get_atoms(structure)
    assert type(mson) is not Atoms and isinstance(mson, Atoms)  # pymatgen's MSONAtoms
    mine = MyAtoms(copper)

    class MyStructure(Structure):
        pass

    custom = MyStructure(Lattice(copper.cell.array), ["Cu"], copper.get_scaled_positions())
    molecule_ = Molecule(["O", "H", "H"], molecule("H2O").positions)
    for obj in (copper, mson, mine, structure, custom, molecule_, to_frames(copper)[0]):
        assert is_structure(obj), type(obj)
    for obj in ([copper], "Cu", np.zeros((2, 3)), None, structure.lattice):
        assert not is_structure(obj), type(obj)

    soap = SOAP(**SMALL_SOAP).fit(copper)
    expected = soap.transform(copper).values
    for obj in (mson, mine, structure, custom):
        np.testing.assert_allclose(soap.transform(obj).values, expected, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(soap.transform([obj, obj]).values, np.vstack([expected, expected]),
                                   rtol=1e-12, atol=1e-14)
    # poolers recognise the subclasses as structures, not as per-atom features
    with pytest.raises(TypeError, match="per-atom descriptors"):
        MeanPooling().fit([mson])


def test_non_structures_still_raise_type_error():
    class NotAtoms:
        __module__ = "ase.fake"
        positions = np.zeros((1, 3))

        def get_positions(self):
            return self.positions

    with pytest.raises(TypeError, match="expected ase.Atoms"):
        to_frames([NotAtoms()])
