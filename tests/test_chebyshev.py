"""ChebyshevLAED: aenet reference values, invariances, layout, parallel equality."""

import ase
import ase.io
import numpy as np
import pytest
from ase.build import bulk, molecule
from scipy.spatial.transform import Rotation

from skdesc import ChebyshevLAED

from .conftest import AENET_REFERENCE, require

REF_PARAMS = dict(rad_order=10, rad_cutoff=4.0, ang_order=3, ang_cutoff=1.5)


def test_water_matches_aenet_fortran():
    water = ase.io.read(require(AENET_REFERENCE / "water.xyz"))
    reference = np.loadtxt(AENET_REFERENCE / "water_ref.csv", delimiter=",")
    values = ChebyshevLAED(species=["O", "H"], **REF_PARAMS).fit_transform([water]).values
    assert values.shape == reference.shape == (3, 30)
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-10)


def test_periodic_five_element_structure_matches_aenet_fortran():
    structure = ase.io.read(require(AENET_REFERENCE / "lmnto_structure001.xsf"), format="xsf")
    reference = np.loadtxt(AENET_REFERENCE / "lmnto_ref.csv", delimiter=",")
    laed = ChebyshevLAED(species=["Li", "Mo", "Ni", "Ti", "O"], **REF_PARAMS)
    values = laed.fit_transform([structure]).values
    assert structure.pbc.all() and len(structure) == 56
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(laed.element_weights_, [-2, -1, 0, 1, 2])


def test_explicit_weights_equal_default_typespin():
    water = ase.io.read(require(AENET_REFERENCE / "water.xyz"))
    default = ChebyshevLAED(species=["O", "H"], **REF_PARAMS).fit_transform([water]).values
    explicit = ChebyshevLAED(species=["O", "H"], element_weights={"H": 1, 8: -1}, **REF_PARAMS)
    np.testing.assert_array_equal(explicit.fit_transform([water]).values, default)
    # swapping the species order flips the sign of the weighted blocks only
    swapped = ChebyshevLAED(species=["H", "O"], **REF_PARAMS).fit_transform([water]).values
    np.testing.assert_allclose(swapped[:, :15], default[:, :15], atol=1e-14)
    np.testing.assert_allclose(swapped[:, 15:26], -default[:, 15:26], atol=1e-14)


def test_closed_form_dimer():
    """Two atoms at distance r: G_n = T_n(2r/Rc - 1) f_c(r), no angular term."""
    r, rc = 1.7, 4.0
    dimer = ase.Atoms("HO", positions=[[0, 0, 0], [0, 0, r]])
    laed = ChebyshevLAED(rad_cutoff=rc, rad_order=4, ang_cutoff=2.0, ang_order=2)
    values = laed.fit_transform(dimer).values
    x = 2 * r / rc - 1
    fc = 0.5 * (np.cos(np.pi * r / rc) + 1)
    expected = np.cos(np.arange(5) * np.arccos(x)) * fc
    np.testing.assert_allclose(values[0, :5], expected, atol=1e-14)
    np.testing.assert_allclose(values[:, 5:8], 0.0)
    # weighted radial block: neighbour weight (H -1, O +1 in sorted-Z order)
    np.testing.assert_allclose(values[0, 8:13], +1 * expected, atol=1e-14)
    np.testing.assert_allclose(values[1, 8:13], -1 * expected, atol=1e-14)


def test_dimensions_and_names():
    laed = ChebyshevLAED().fit([molecule("CH4")])
    assert laed.n_features_out_ == 2 * (20 + 6) == len(laed.get_feature_names_out())
    assert laed.get_feature_names_out()[0] == "cheb[rad,n=0]"
    single = ChebyshevLAED().fit([bulk("Cu")])
    assert single.n_features_out_ == 26


def _laed():
    return ChebyshevLAED(rad_cutoff=5.0, rad_order=8, ang_cutoff=3.2, ang_order=4)


def test_rotation_translation_permutation(tio2_small):
    atoms = tio2_small[3]
    reference = _laed().fit_transform(atoms).values
    rotation = Rotation.random(random_state=0).as_matrix()
    moved = atoms.copy()
    moved.set_cell(atoms.cell.array @ rotation.T)
    moved.set_positions(atoms.positions @ rotation.T + [1.3, -7.2, 0.4])
    np.testing.assert_allclose(_laed().fit_transform(moved).values, reference, rtol=0, atol=1e-10)
    perm = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[perm]
    np.testing.assert_allclose(_laed().fit_transform(permuted).values, reference[perm], rtol=0, atol=1e-10)


def test_supercell_gives_equal_per_atom_descriptors(tio2_small):
    for atoms in tio2_small[:6]:
        reference = _laed().fit_transform(atoms).values
        supercell = atoms.repeat((2, 2, 2))
        values = _laed().fit_transform(supercell).values
        np.testing.assert_allclose(values, np.tile(reference, (8, 1)), rtol=0, atol=1e-10)


def test_atoms_on_the_cell_boundary():
    rocksalt = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    laed = _laed().fit(rocksalt)
    reference = laed.transform(rocksalt).values
    # atoms exactly on faces/corners, or pushed just outside, describe the same crystal
    for delta in (0.0, -1e-12, 1e-12):
        shifted = rocksalt.copy()
        shifted.positions += delta
        np.testing.assert_allclose(laed.transform(shifted).values, reference, rtol=0, atol=1e-10)
    outside = rocksalt.copy()
    outside.positions[0] += rocksalt.cell[0] * 3 - rocksalt.cell[2]
    np.testing.assert_allclose(laed.transform(outside).values, reference, rtol=0, atol=1e-10)
    # all Na (and all Cl) sites are equivalent
    na = reference[rocksalt.numbers == 11]
    np.testing.assert_allclose(na, np.tile(na[0], (len(na), 1)), atol=1e-10)


def test_slab_is_valid_input():
    slab = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 3))
    slab.pbc = (True, True, False)
    values = _laed().fit_transform(slab).values
    z = slab.positions[:, 2]
    surface, middle = np.argmin(z), np.argmin(np.abs(z - np.median(z)))
    assert values[surface, 0] < values[middle, 0]  # fewer neighbours at the surface
    slab.cell[2] = 0.0  # the vacuum axis needs no cell vector
    np.testing.assert_allclose(_laed().fit_transform(slab).values, values, atol=1e-12)


def test_n_jobs_gives_identical_results(tio2_small):
    serial = _laed().set_params(n_jobs=1).fit_transform(tio2_small)
    parallel = _laed().set_params(n_jobs=2).fit_transform(tio2_small)
    assert serial == parallel
    assert serial.n_structures == len(tio2_small)


def test_pymatgen_inputs_equal_ase():
    from pymatgen.core import IStructure, Molecule
    from pymatgen.io.ase import AseAtomsAdaptor

    crystal = bulk("NaCl", "rocksalt", a=5.64)
    structure = AseAtomsAdaptor.get_structure(crystal)
    methane = molecule("CH4")
    mol = Molecule(methane.get_chemical_symbols(), methane.positions)
    laed = _laed().fit([crystal, methane])
    expected = laed.transform([crystal, methane])
    for inputs in ([structure, mol], [IStructure.from_sites(structure), mol]):
        got = laed.transform(inputs)
        np.testing.assert_allclose(got.values, expected.values, atol=1e-10)


def test_unknown_species_at_transform():
    laed = _laed().fit([molecule("H2O")])
    with pytest.raises(ValueError, match=r"structure 1 contains elements \['C'\]"):
        laed.transform([molecule("H2O"), molecule("CH4")])
    dropped = _laed().set_params(handle_unknown="ignore").fit([molecule("H2O")]).transform([molecule("CH3OH")])
    assert dropped.n_atoms == 5  # the carbon atom is dropped


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(rad_cutoff=-1.0), "rad_cutoff"),
        (dict(rad_order=2.5), "rad_order"),
        (dict(ang_order=-1), "ang_order"),
        (dict(min_cutoff=5.0), "min_cutoff"),
        (dict(handle_unknown="skip"), "handle_unknown"),
        (dict(element_weights={"H": 1.0}), "no weight for"),
        (dict(species=["H", "H", "O"]), "twice"),
        (dict(species=["H", "Xx"]), "unknown element"),
        (dict(n_jobs=0), "n_jobs"),
    ],
)
def test_invalid_hyperparameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ChebyshevLAED(**params).fit([molecule("H2O")])


def test_transform_requires_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ChebyshevLAED().transform([molecule("H2O")])
