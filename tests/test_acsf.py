"""ACSF: dscribe reference values, compressed modes, layout, invariances, validation."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from scipy.spatial.transform import Rotation

from skdesc import ACSF

G2 = [[1.0, 0.0], [0.5, 1.5], [0.1, 3.0]]
G3 = [1.0, 2.3]
G4 = [[0.01, 1.0, 1.0], [0.05, 2.0, -1.0], [0.005, 4.0, 1.0]]
G5 = [[0.02, 1.0, -1.0], [0.01, 3.0, 1.0]]
PARAMS = dict(g2_params=G2, g3_params=G3, g4_params=G4, g5_params=G5)
N_RAD = 1 + len(G2) + len(G3)
N_ANG = len(G4) + len(G5)
MOLECULES = ["CH3CH2OH", "C6H6", "CH3CONH2", "H2O", "NH3", "CO2", "CH3COOH"]


def _dscribe(atoms_list, species, r_cut, periodic):
    dscribe = pytest.importorskip("dscribe.descriptors")
    reference = dscribe.ACSF(species=list(species), r_cut=r_cut, periodic=periodic, **PARAMS)
    return reference, np.concatenate([reference.create(atoms) for atoms in atoms_list])


def _assert_matches_dscribe(structures, r_cut, periodic):
    acsf = ACSF(r_cut=r_cut, **PARAMS).fit(structures)
    values = acsf.transform(structures).values
    reference, expected = _dscribe(structures, acsf.species_, r_cut, periodic)
    assert acsf.n_features_out_ == reference.get_number_of_features() == values.shape[1]
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-10)
    return values


def nu2_blocks(values, n_species, n_rad=N_RAD, n_ang=N_ANG):
    """Split nu2 output into radial (n, S, n_rad) and symmetric angular (n, S, S, n_ang) blocks."""
    radial = values[:, : n_species * n_rad].reshape(len(values), n_species, n_rad)
    angular = np.zeros((len(values), n_species, n_species, n_ang))
    start = n_species * n_rad
    for high in range(n_species):  # dscribe's triangular order (0,0), (0,1), (1,1), (0,2), ...
        for low in range(high + 1):
            angular[:, low, high] = angular[:, high, low] = values[:, start : start + n_ang]
            start += n_ang
    assert start == values.shape[1]
    return radial, angular


# ---------------------------------------------------------------- dscribe values
def test_molecules_match_dscribe():
    structures = [molecule(name) for name in MOLECULES]
    for r_cut in (2.0, 4.5):  # 2.0: neighbour pairs with r_jk > r_cut (e.g. O-C-O)
        _assert_matches_dscribe(structures, r_cut, periodic=False)


def test_tio2_matches_dscribe(tio2_small):
    assert all(atoms.pbc.all() for atoms in tio2_small)
    _assert_matches_dscribe(tio2_small, 5.0, periodic=True)


def test_nbmotaw_matches_dscribe(nbmotaw_small):
    # four elements check the triangular pair order; 2-atom cells are much smaller than r_cut
    values = _assert_matches_dscribe(nbmotaw_small, 5.0, periodic=True)
    assert values.shape[1] == 4 * N_RAD + 10 * N_ANG


def test_small_cells_match_dscribe():
    crystals = [bulk("Cu", "fcc", a=3.6), bulk("NaCl", "rocksalt", a=5.64), bulk("Si", "diamond", a=5.43)]
    skewed = bulk("Ti", "hcp", a=2.95, c=4.68)
    skewed.set_cell(skewed.cell.array + [[0, 0, 0], [0.4, 0, 0], [0.3, -0.2, 0]], scale_atoms=True)
    _assert_matches_dscribe(crystals + [skewed], 6.0, periodic=True)


def test_closed_form_triangle():
    """Equilateral triangle of side r: every term has a closed form."""
    r, r_cut, eta, zeta, lam = 1.3, 3.0, 0.2, 2.0, -1.0
    atoms = Atoms("H3", positions=[[0, 0, 0], [r, 0, 0], [r / 2, r * np.sqrt(3) / 2, 0]])
    acsf = ACSF(r_cut=r_cut, g2_params=[[eta, 0.5]], g4_params=[[eta, zeta, lam]], g5_params=[[eta, zeta, lam]])
    values = acsf.fit_transform(atoms).values
    fc = 0.5 * (np.cos(np.pi * r / r_cut) + 1)
    angle = 2 ** (1 - zeta) * (1 + lam * 0.5) ** zeta
    expected = [
        2 * fc,
        2 * np.exp(-eta * (r - 0.5) ** 2) * fc,
        angle * np.exp(-3 * eta * r**2) * fc**3,
        angle * np.exp(-2 * eta * r**2) * fc**2,
    ]
    np.testing.assert_allclose(values, np.tile(expected, (3, 1)), rtol=1e-13)


# ------------------------------------------------------------ compressed modes
def _modes(structures, species=None, element_weights=None):
    out = {}
    for mode in ("nu2", "nu1mu1", "mu2", "weighted"):
        acsf = ACSF(species=species, r_cut=5.0, compression=mode, element_weights=element_weights, **PARAMS)
        out[mode] = acsf.fit_transform(structures).values
        assert out[mode].shape[1] == acsf.n_features_out_ == len(acsf.get_feature_names_out())
    return out, acsf


@pytest.mark.filterwarnings("ignore:.*weight 0")
@pytest.mark.parametrize("element_weights", [None, {"H": 0.7, "C": -1.3, "N": 2.0, "O": 0.25}])
def test_compressed_modes_are_sums_of_nu2_blocks_molecules(element_weights):
    _check_compressed([molecule(name) for name in MOLECULES], element_weights)


def test_compressed_modes_are_sums_of_nu2_blocks_nbmotaw(nbmotaw_small):
    _check_compressed(nbmotaw_small[:12], None)


def _check_compressed(structures, element_weights):
    out, acsf = _modes(structures, element_weights=element_weights)
    n_species = len(acsf.species_)
    weights = acsf.element_weights_
    radial, angular = nu2_blocks(out["nu2"], n_species)
    triangle = np.triu(np.ones((n_species, n_species)))  # each unordered element pair once

    # nu1mu1: radial blocks unchanged, angular G^a = sum_b G^{ab}
    expected = np.hstack([radial.reshape(len(radial), -1), angular.sum(axis=2).reshape(len(radial), -1)])
    np.testing.assert_allclose(out["nu1mu1"], expected, rtol=1e-12, atol=1e-12)
    assert out["nu1mu1"].shape[1] == (N_RAD + N_ANG) * n_species

    # mu2: sums over all blocks of each kind
    agnostic = np.hstack([radial.sum(axis=1), np.einsum("nabq,ab->nq", angular, triangle)])
    np.testing.assert_allclose(out["mu2"], agnostic, rtol=1e-12, atol=1e-12)
    assert out["mu2"].shape[1] == N_RAD + N_ANG

    # weighted: mu2 blocks, then w_j radially and w_j w_k angularly
    pair_weights = np.outer(weights, weights) * triangle
    expected = np.hstack(
        [
            agnostic,
            np.einsum("naq,a->nq", radial, weights),
            np.einsum("nabq,ab->nq", angular, pair_weights),
        ]
    )
    np.testing.assert_allclose(out["weighted"], expected, rtol=1e-12, atol=1e-12)
    assert out["weighted"].shape[1] == 2 * (N_RAD + N_ANG)


def test_aliases_and_single_element_weighted():
    structures = [molecule("CH3CH2OH"), molecule("H2O")]
    for alias, mode in (("off", "nu2"), ("mu1nu1", "nu1mu1")):
        a = ACSF(compression=alias, r_cut=4.0, **PARAMS).fit_transform(structures)
        b = ACSF(compression=mode, r_cut=4.0, **PARAMS).fit_transform(structures)
        assert a == b
    # one element: wACSF has no weighted copy, and every mode reduces to mu2
    copper = [bulk("Cu", "fcc", a=3.6).repeat(2)]
    out, acsf = _modes(copper)
    assert acsf.n_features_out_ == N_RAD + N_ANG
    for mode in ("nu2", "nu1mu1", "weighted"):
        np.testing.assert_array_equal(out[mode], out["mu2"])


def test_species_order_permutes_blocks():
    structures = [molecule("CH3CONH2"), molecule("CH3CH2OH")]
    default = ACSF(r_cut=4.0, **PARAMS).fit(structures)
    assert default.species_ == (1, 6, 7, 8)
    order = ["O", "H", "N", "C"]
    custom = ACSF(species=order, r_cut=4.0, **PARAMS).fit(structures)
    radial, angular = nu2_blocks(default.transform(structures).values, 4)
    radial_c, angular_c = nu2_blocks(custom.transform(structures).values, 4)
    perm = [3, 0, 2, 1]  # position in the sorted order of each element of `order`
    np.testing.assert_array_equal(radial_c, radial[:, perm])
    np.testing.assert_array_equal(angular_c, angular[:, perm][:, :, perm])


# -------------------------------------------------------------- layout, names
def test_lengths_and_names():
    water = [molecule("H2O")]
    acsf = ACSF(r_cut=4.0, **PARAMS).fit(water)
    names = list(acsf.get_feature_names_out())
    assert acsf.n_features_out_ == 2 * N_RAD + 3 * N_ANG == len(names) == len(set(names))
    assert names[0] == "acsf[G1,Z=1]"
    assert names[1] == "acsf[G2,Z=1,eta=1.0,Rs=0.0]"
    assert names[N_RAD] == "acsf[G1,Z=8]"
    assert names[2 * N_RAD] == "acsf[G4,Z1=1,Z2=1,eta=0.01,zeta=1.0,lambda=1.0]"
    assert names[2 * N_RAD + N_ANG] == "acsf[G4,Z1=1,Z2=8,eta=0.01,zeta=1.0,lambda=1.0]"
    assert names[-1] == "acsf[G5,Z1=8,Z2=8,eta=0.01,zeta=3.0,lambda=1.0]"
    assert acsf.get_number_of_features() == acsf.n_features_out_
    expected = {"nu1mu1": 2 * (N_RAD + N_ANG), "mu2": N_RAD + N_ANG, "weighted": 2 * (N_RAD + N_ANG)}
    for mode, length in expected.items():
        fitted = ACSF(r_cut=4.0, compression=mode, **PARAMS).fit(water)
        names = list(fitted.get_feature_names_out())
        assert fitted.n_features_out_ == length == len(names) == len(set(names))
    assert "acsf[G4,Z1=8,Z2=any,eta=0.01,zeta=1.0,lambda=1.0]" in ACSF(
        compression="nu1mu1", **PARAMS
    ).fit(water).get_feature_names_out()
    assert ACSF(compression="weighted", **PARAMS).fit(water).get_feature_names_out()[N_RAD + N_ANG] == (
        "acsf[G1,weighted]"
    )
    # G1 only
    assert ACSF().fit(water).n_features_out_ == 2
    assert ACSF(g3_params=[], g4_params=np.empty((0, 3))).fit(water).n_features_out_ == 2


# ------------------------------------------------------------------ invariances
def _acsf(mode="nu2"):
    return ACSF(r_cut=5.0, compression=mode, **PARAMS)


@pytest.mark.filterwarnings("ignore:.*weight 0")
@pytest.mark.parametrize("mode", ["nu2", "weighted"])
def test_rotation_translation_permutation(tio2_small, mode):
    atoms = tio2_small[3]
    reference = _acsf(mode).fit_transform(atoms).values
    rotation = Rotation.random(random_state=0).as_matrix()
    moved = atoms.copy()
    moved.set_cell(atoms.cell.array @ rotation.T)
    moved.set_positions(atoms.positions @ rotation.T + [1.3, -7.2, 0.4])
    np.testing.assert_allclose(_acsf(mode).fit_transform(moved).values, reference, rtol=0, atol=1e-10)
    perm = np.random.default_rng(0).permutation(len(atoms))
    np.testing.assert_allclose(_acsf(mode).fit_transform(atoms[perm]).values, reference[perm], rtol=0, atol=1e-10)
    methanol = molecule("CH3CH2OH")
    flipped = methanol.copy()
    flipped.set_positions(methanol.positions @ rotation.T)
    np.testing.assert_allclose(
        _acsf(mode).fit_transform(flipped).values, _acsf(mode).fit_transform(methanol).values, atol=1e-10
    )


def test_supercell_gives_equal_per_atom_descriptors(tio2_small, nbmotaw_small):
    for atoms in tio2_small[:4] + nbmotaw_small[8:10]:
        acsf = _acsf().fit(atoms)
        reference = acsf.transform(atoms).values
        values = acsf.transform(atoms.repeat((2, 2, 2))).values
        np.testing.assert_allclose(values, np.tile(reference, (8, 1)), rtol=0, atol=1e-10)


def test_n_jobs_gives_identical_results(tio2_small):
    serial = _acsf("nu1mu1").set_params(n_jobs=1).fit_transform(tio2_small)
    parallel = _acsf("nu1mu1").set_params(n_jobs=2).fit_transform(tio2_small)
    assert serial == parallel
    assert serial.n_structures == len(tio2_small)


def test_unknown_species_and_overlap():
    acsf = _acsf().fit([molecule("H2O")])
    with pytest.raises(ValueError, match=r"structure 1 contains elements \['C'\]"):
        acsf.transform([molecule("H2O"), molecule("CH4")])
    dropped = _acsf().set_params(handle_unknown="ignore").fit([molecule("H2O")]).transform([molecule("CH3OH")])
    assert dropped.n_atoms == 5
    with pytest.raises(ValueError, match="min_distance"):
        acsf.transform([Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.05]])])


def test_weighted_default_warns_for_zero_weight():
    with pytest.warns(UserWarning, match="weight 0"):
        ACSF(compression="weighted").fit([molecule("CH3CH2OH")])  # H, C, O -> -1, 0, 1


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(r_cut=0.0), "r_cut"),
        (dict(r_cut="6"), "r_cut"),
        (dict(compression="full"), "compression"),
        (dict(g2_params=[1.0, 0.5]), "g2_params"),
        (dict(g2_params=[[1.0, 0.5, 0.1]]), "g2_params"),
        (dict(g2_params=[[-1.0, 0.5]]), "g2_params"),
        (dict(g3_params=[[1.0]]), "g3_params"),
        (dict(g3_params="abc"), "g3_params"),
        (dict(g4_params=[[0.1, 1.0]]), "g4_params"),
        (dict(g4_params=[[0.1, 0.0, 1.0]]), "zeta"),
        (dict(g4_params=[[0.1, 1.5, 2.0]]), "zeta .* must be an integer"),
        (dict(g5_params=[[0.1, 0.5, -3.0]]), "lambda"),
        (dict(g5_params=[[np.nan, 1.0, 1.0]]), "g5_params"),
        (dict(g5_params=[[-0.1, 1.0, 1.0]]), "g5_params"),
        (dict(element_weights={"H": 1.0}), "no weight for"),
        (dict(handle_unknown="skip"), "handle_unknown"),
        (dict(min_distance=-1.0), "min_distance"),
        (dict(species=["H", "H", "O"]), "twice"),
        (dict(n_jobs=0), "n_jobs"),
    ],
)
def test_invalid_hyperparameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ACSF(**params).fit([molecule("H2O")])


def test_transform_requires_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ACSF().transform([molecule("H2O")])
