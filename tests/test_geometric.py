"""Coordination numbers, bond-length and bond-angle statistics against ASE-based references."""

from itertools import combinations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, fcc111, molecule
from ase.neighborlist import neighbor_list
from sklearn.base import clone

from skdesc import BondAngleStatistics, BondLengthStatistics, CoordinationNumber

TETRAHEDRAL = np.degrees(np.arccos(-1.0 / 3.0))  # 109.4712...


# ------------------------------------------------------------- slow references
def _neighbours(atoms, cutoff):
    """Per atom: (distances, vectors, neighbour atomic numbers) from ase.neighborlist."""
    i, j, d, D = neighbor_list("ijdD", atoms, cutoff)
    return [(d[i == a], D[i == a], atoms.numbers[j[i == a]]) for a in range(len(atoms))]


def _switch(d, cutoff, width):
    if width == 0:
        return np.ones_like(d)
    inner = cutoff - width
    return np.where(d <= inner, 1.0, 0.5 * (np.cos(np.pi * (d - inner) / width) + 1.0))


def reference_coordination(atoms, cutoff, species, width=0.0):
    rows = []
    for d, _, z in _neighbours(atoms, cutoff):
        s = _switch(d, cutoff, width)
        rows.append([s.sum()] + [s[z == e].sum() for e in species])
    return np.array(rows)


def reference_bonds(atoms, cutoff, species):
    rows = []
    for d, _, z in _neighbours(atoms, cutoff):
        row = []
        for mask in [np.ones(len(d), bool)] + [z == e for e in species]:
            x = d[mask]
            row += [len(x), x.min(), x.max(), x.mean(), x.std()] if len(x) else [0.0] * 5
        rows.append(row)
    return np.array(rows)


def reference_angles(atoms, cutoff, species, n_bins, per_pair):
    pairs = [(a, b) for k, a in enumerate(species) for b in species[k:]]
    rows = []
    for _, D, z in _neighbours(atoms, cutoff):
        cos, theta, labels = [], [], []
        for j, k in combinations(range(len(D)), 2):
            cos.append(np.dot(D[j], D[k]) / np.linalg.norm(D[j]) / np.linalg.norm(D[k]))
            # well-conditioned at 0° and 180° (arccos is not)
            theta.append(np.degrees(np.arctan2(np.linalg.norm(np.cross(D[j], D[k])), np.dot(D[j], D[k]))))
            labels.append(tuple(sorted((z[j], z[k]), key=list(species).index)))
        cos, theta_all, labels = np.clip(cos, -1, 1), np.array(theta), np.array(labels).reshape(-1, 2)
        groups = [np.ones(len(cos), bool)]
        if per_pair:
            groups += [np.all(labels == p, axis=1) for p in pairs]
        row = []
        for mask in groups:
            theta = theta_all[mask]
            if len(theta) == 0:
                row += [0.0] * (5 + n_bins)
                continue
            row += [len(theta), theta.mean(), theta.std(), theta.min(), theta.max()]
            if n_bins:
                row += list(np.histogram(cos[mask], bins=np.linspace(-1, 1, n_bins + 1))[0] / len(theta))
        rows.append(row)
    return np.array(rows)


# ------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tio2(tio2_small):
    return tio2_small[::4]  # ten structures, 6-95 atoms


def _stack(structures, reference, *args):
    return np.vstack([reference(atoms, *args) for atoms in structures])


# ------------------------------------------------------- against ASE on TiO2
@pytest.mark.parametrize("width", [0.0, 0.7])
def test_coordination_matches_ase_on_tio2(tio2, width):
    laed = CoordinationNumber(cutoff=2.6, smooth_width=width).fit(tio2)
    assert laed.species_ == (8, 22)
    expected = _stack(tio2, reference_coordination, 2.6, (8, 22), width)
    np.testing.assert_allclose(laed.transform(tio2).values, expected, rtol=1e-12, atol=1e-12)
    assert list(laed.get_feature_names_out()) == ["cn[all]", "cn[el=O]", "cn[el=Ti]"]


def test_bond_lengths_match_ase_on_tio2(tio2):
    laed = BondLengthStatistics(cutoff=3.2).fit(tio2)
    expected = _stack(tio2, reference_bonds, 3.2, (8, 22))
    np.testing.assert_allclose(laed.transform(tio2).values, expected, rtol=1e-10, atol=1e-10)
    assert laed.get_feature_names_out()[8] == "bond[el=O,mean]" and laed.n_features_out_ == 15


def test_bond_angles_match_ase_on_tio2(tio2):
    laed = BondAngleStatistics(cutoff=2.6, n_bins=7, per_element_pair=True).fit(tio2)
    expected = _stack(tio2, reference_angles, 2.6, (8, 22), 7, True)
    np.testing.assert_allclose(laed.transform(tio2).values, expected, rtol=1e-9, atol=1e-9)
    names = laed.get_feature_names_out()
    assert laed.n_features_out_ == 12 * 4 and names[12] == "angle[O-O,count]" and names[-1] == "angle[Ti-Ti,cos_bin=6]"


def test_n_jobs_does_not_change_results(tio2):
    for laed in [CoordinationNumber(cutoff=2.6), BondLengthStatistics(cutoff=3.0), BondAngleStatistics(cutoff=2.6, n_bins=5)]:
        one = clone(laed).set_params(n_jobs=1).fit_transform(tio2 * 3)
        two = clone(laed).set_params(n_jobs=2).fit_transform(tio2 * 3)
        assert one == two


# --------------------------------------------------------------- closed forms
def test_fcc_and_bcc_coordination():
    fcc = bulk("Cu", "fcc", a=3.6)  # first shell 2.546 Å, second 3.6 Å
    bcc = bulk("Fe", "bcc", a=2.87)  # first shell 2.485 Å, second 2.87 Å
    np.testing.assert_array_equal(CoordinationNumber(cutoff=3.0, per_element=False).fit_transform([fcc]).values, [[12]])
    np.testing.assert_array_equal(CoordinationNumber(cutoff=2.7, per_element=False).fit_transform([bcc]).values, [[8]])
    np.testing.assert_array_equal(CoordinationNumber(cutoff=3.0, per_element=False).fit_transform([bcc]).values, [[14]])
    bonds = BondLengthStatistics(cutoff=2.7, per_element=False).fit_transform([bcc]).values[0]
    np.testing.assert_allclose(bonds, [8, 2.87 * np.sqrt(3) / 2, 2.87 * np.sqrt(3) / 2, 2.87 * np.sqrt(3) / 2, 0], atol=1e-12)


def test_tetrahedral_and_octahedral_angles():
    methane = BondAngleStatistics(cutoff=1.3).fit_transform([molecule("CH4")]).values
    np.testing.assert_allclose(methane[0], [6, TETRAHEDRAL, 0, TETRAHEDRAL, TETRAHEDRAL], atol=1e-6)
    silicon = BondAngleStatistics(cutoff=2.6).fit_transform([bulk("Si", "diamond", a=5.43)]).values
    np.testing.assert_allclose(silicon, [[6, TETRAHEDRAL, 0, TETRAHEDRAL, TETRAHEDRAL]] * 2, atol=1e-10)
    # rock salt: 12 pairs at 90°, 3 at 180°: mean 108°, std 36°; three cos-theta bins, so that
    # no angle lies on a bin edge (cos 90° = 0 would, with an even number of bins, and its
    # bin would then depend on the last bit of the neighbour vectors)
    salt = BondAngleStatistics(cutoff=3.0, n_bins=3, per_element_pair=True).fit_transform([bulk("NaCl", "rocksalt", a=5.64)])
    na = salt.values[0].reshape(4, 8)  # blocks all, Na-Na, Na-Cl, Cl-Cl (species sorted: Na=11, Cl=17)
    np.testing.assert_allclose(na[0], [15, 108, 36, 90, 180, 3 / 15, 12 / 15, 0], atol=1e-9)
    np.testing.assert_allclose(na[3], na[0], atol=1e-12)  # every neighbour of Na is Cl
    np.testing.assert_array_equal(na[1:3], 0)


def test_water():
    water = molecule("H2O")
    o, h1, h2 = water.positions
    r1, r2 = np.linalg.norm(h1 - o), np.linalg.norm(h2 - o)
    angle = np.degrees(np.arccos(np.dot(h1 - o, h2 - o) / r1 / r2))
    cn = CoordinationNumber(cutoff=1.2, species=["H", "O"]).fit_transform([water]).values
    np.testing.assert_array_equal(cn, [[2, 2, 0], [1, 0, 1], [1, 0, 1]])
    bonds = BondLengthStatistics(cutoff=1.2, species=["H", "O"]).fit_transform([water]).values
    np.testing.assert_allclose(bonds[0, :5], [2, r1, r1, r1, 0], atol=1e-12)
    np.testing.assert_array_equal(bonds[1, 5:10], 0)  # no H neighbour of H: count 0 and zeros, no NaN
    angles = BondAngleStatistics(cutoff=1.2).fit_transform([water]).values
    np.testing.assert_allclose(angles[0], [1, angle, 0, angle, angle], atol=1e-10)
    np.testing.assert_array_equal(angles[1:], 0)  # one neighbour: no angle


def test_isolated_atom_has_zero_features():
    atom = Atoms("Ar", positions=[[0, 0, 0]])
    for laed in [CoordinationNumber(), BondLengthStatistics(), BondAngleStatistics(n_bins=3)]:
        values = laed.fit_transform([atom]).values
        assert np.all(values == 0) and np.all(np.isfinite(values))


def test_smooth_cutoff_on_a_dimer():
    for d in [1.0, 2.2, 2.6, 2.99]:
        dimer = Atoms("N2", positions=[[0, 0, 0], [0, 0, d]])
        cn = CoordinationNumber(cutoff=3.0, smooth_width=1.0, per_element=False).fit_transform([dimer]).values
        expected = 1.0 if d <= 2.0 else 0.5 * (np.cos(np.pi * (d - 2.0)) + 1.0)
        np.testing.assert_allclose(cn, [[expected], [expected]], rtol=1e-12)


# ---------------------------------------------------------------- invariances
def _all_descriptors():
    return [
        CoordinationNumber(cutoff=2.6, smooth_width=0.5),
        BondLengthStatistics(cutoff=3.0),
        BondAngleStatistics(cutoff=2.6, n_bins=5, per_element_pair=True),
    ]


def test_rotation_permutation_and_supercell_invariance(tio2):
    atoms = tio2[1]
    rotated = atoms.copy()
    rotated.rotate(37, (1, 2, 3), rotate_cell=True)
    order = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[order]
    supercell = atoms.repeat((2, 1, 2))
    for laed in _all_descriptors():
        laed.fit([atoms])
        base = laed.transform([atoms]).values
        np.testing.assert_allclose(laed.transform([rotated]).values, base, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(laed.transform([permuted]).values, base[order], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(laed.transform([supercell]).values, np.tile(base, (4, 1)), rtol=1e-9, atol=1e-9)


def test_periodic_slab():
    slab = fcc111("Cu", size=(2, 2, 4), a=3.6, vacuum=6.0)  # periodic in x, y only
    assert list(slab.pbc) == [True, True, False]
    cn = CoordinationNumber(cutoff=3.0, per_element=False).fit_transform([slab]).values[:, 0]
    layer = np.round(slab.positions[:, 2], 3)
    surface = (layer == layer.min()) | (layer == layer.max())
    np.testing.assert_array_equal(cn[surface], 9)
    np.testing.assert_array_equal(cn[~surface], 12)
    for laed in _all_descriptors():
        laed.set_params(species=["Cu"]).fit([slab])
        reference = {
            CoordinationNumber: lambda: reference_coordination(slab, 2.6, (29,), 0.5),
            BondLengthStatistics: lambda: reference_bonds(slab, 3.0, (29,)),
            BondAngleStatistics: lambda: reference_angles(slab, 2.6, (29,), 5, True),
        }[type(laed)]()
        np.testing.assert_allclose(laed.transform([slab]).values, reference, rtol=1e-9, atol=1e-9)


def test_bad_parameters():
    atoms = [bulk("Cu")]
    with pytest.raises(ValueError, match="smooth_width"):
        CoordinationNumber(cutoff=2.0, smooth_width=3.0).fit(atoms)
    with pytest.raises(ValueError, match="cutoff must be a finite number > 0"):
        BondLengthStatistics(cutoff=0).fit(atoms)
    with pytest.raises(ValueError, match="n_bins"):
        BondAngleStatistics(n_bins=-1).fit(atoms)
    with pytest.raises(TypeError, match="per_element"):
        CoordinationNumber(per_element="yes").fit(atoms)
    with pytest.raises(ValueError, match="closer than min_distance"):
        CoordinationNumber().fit_transform([Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.05]])])
