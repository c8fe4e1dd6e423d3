"""RDF, partial RDF and bond-angle distribution: against brute force over periodic images and matminer."""

import itertools
import pickle
import warnings

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from scipy.spatial.transform import Rotation
from scipy.special import erf
from sklearn.base import clone

from skdesc import AngularDistributionFunction, PartialRadialDistributionFunction, RadialDistributionFunction

from .conftest import read_dataset

ESTIMATORS = {
    "rdf": lambda **kw: RadialDistributionFunction(r_cut=5.0, bin_width=0.25, **kw),
    "prdf": lambda **kw: PartialRadialDistributionFunction(r_cut=5.0, bin_width=0.25, **kw),
    "adf": lambda **kw: AngularDistributionFunction(r_cut=3.2, bin_width=10.0, **kw),
}


def _rattled(atoms, seed, amount=0.08):
    atoms = atoms.copy()
    atoms.positions += np.random.default_rng(seed).normal(scale=amount, size=atoms.positions.shape)
    return atoms


def _perovskite():
    atoms = Atoms(
        "SrTiO3",
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        cell=3.9 * np.eye(3),
        pbc=True,
    )
    return atoms


@pytest.fixture(scope="module")
def crystals():
    """Periodic structures with several elements, rattled (no distance on a bin edge), one triclinic."""
    salt = _rattled(bulk("NaCl", "rocksalt", a=5.64, cubic=True), 0)
    triclinic = bulk("Cu", "fcc", a=3.6).repeat((2, 1, 1))  # primitive fcc cells: 60° between the cell vectors
    triclinic.symbols[0] = "Au"
    triclinic = _rattled(triclinic, 1)
    perovskite = _rattled(_perovskite().repeat((2, 1, 1)), 2)
    return [salt, triclinic, perovskite]


# ------------------------------------------------------------------ brute force
def _image_pairs(atoms, cutoff):
    """(i, j, vector) of every ordered pair of atoms and periodic images closer than ``cutoff`` (numpy only)."""
    positions = atoms.positions
    cell = np.asarray(atoms.cell)
    pbc = atoms.pbc
    if pbc.any():
        heights = 1.0 / np.linalg.norm(np.linalg.inv(cell).T, axis=1)
        reach = np.where(pbc, np.ceil(cutoff / heights).astype(int) + 1, 0)
    else:
        reach = np.zeros(3, dtype=int)
    shifts = np.array(list(itertools.product(*(range(-k, k + 1) for k in reach))))
    images = shifts @ cell  # (n_images, 3)
    vectors = positions[None, :, None, :] + images[None, None, :, :] - positions[:, None, None, :]
    distances = np.linalg.norm(vectors, axis=-1)
    keep = (distances < cutoff) & (distances > 1e-8)
    i, j, _ = np.nonzero(keep)
    return i, j, vectors[keep]


def _smeared_histogram(values, edges, sigma):
    if sigma == 0:
        return np.histogram(values, bins=edges)[0].astype(float)
    cdf = 0.5 * (1.0 + erf((edges[None, :] - values[:, None]) / (np.sqrt(2.0) * sigma)))
    return np.diff(cdf, axis=1).sum(axis=0)


def _brute_rdf(atoms, edges, sigma, pair=None):
    """g(r) (or g_AB(r) for ``pair``) from the definition: V / (N_A N_B shell) times the pair count."""
    i, j, vectors = _image_pairs(atoms, edges[-1] + 8 * sigma)
    distances = np.linalg.norm(vectors, axis=1)
    numbers = atoms.numbers
    if pair is None:
        n_a = n_b = len(atoms)
    else:
        a, b = pair
        keep = (numbers[i] == a) & (numbers[j] == b)
        distances = distances[keep]
        n_a, n_b = np.sum(numbers == a), np.sum(numbers == b)
    shells = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    return atoms.get_volume() * _smeared_histogram(distances, edges, sigma) / (n_a * n_b * shells)


def _brute_adf(atoms, cutoff, edges, sigma):
    i, j, vectors = _image_pairs(atoms, cutoff)
    angles = []
    for centre in range(len(atoms)):
        v = vectors[i == centre]
        u = v / np.linalg.norm(v, axis=1, keepdims=True)
        first, second = np.triu_indices(len(u), k=1)
        angles.append(np.degrees(np.arccos(np.clip(np.sum(u[first] * u[second], axis=1), -1, 1))))
    angles = np.concatenate(angles)
    if sigma == 0:
        counts = _smeared_histogram(angles, edges, 0)
    else:  # reflected at 0 and 180 degrees
        counts = sum(_smeared_histogram(x, edges, sigma) for x in (angles, -angles, 360.0 - angles))
    return counts / (len(angles) * np.diff(edges)[0]), len(angles)


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("sigma", [0.0, 0.15])
def test_rdf_equals_brute_force(crystals, sigma):
    rdf = RadialDistributionFunction(r_cut=6.0, bin_width=0.2, smearing=sigma)
    values = rdf.fit_transform(crystals)
    for atoms, row in zip(crystals, values):
        np.testing.assert_allclose(row, _brute_rdf(atoms, rdf.bin_edges_, sigma), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 0.15])
def test_partial_rdf_equals_brute_force_and_sums_to_the_total(crystals, sigma):
    prdf = PartialRadialDistributionFunction(r_cut=6.0, n_bins=30, smearing=sigma).fit(crystals)
    values = prdf.transform(crystals)
    total = RadialDistributionFunction(r_cut=6.0, n_bins=30, smearing=sigma).fit_transform(crystals)
    n_bins = prdf.n_bins_
    pairs = prdf.pairs()
    assert len(pairs) == 28 and values.shape == (3, 28 * n_bins)  # O Na Cl Ti Cu Sr Au
    for atoms, row, g in zip(crystals, values, total):
        blocks = row.reshape(len(pairs), n_bins)
        from ase.data import atomic_numbers

        recombined = np.zeros(n_bins)
        for (a, b), block in zip(pairs, blocks):
            za, zb = atomic_numbers[a], atomic_numbers[b]
            present = np.sum(atoms.numbers == za) * np.sum(atoms.numbers == zb)
            if not present:
                np.testing.assert_array_equal(block, 0.0)
                continue
            np.testing.assert_allclose(block, _brute_rdf(atoms, prdf.bin_edges_, sigma, (za, zb)), rtol=1e-10, atol=1e-12)
            x = np.bincount(atoms.numbers)[[za, zb]] / len(atoms)
            recombined += (1 if a == b else 2) * x[0] * x[1] * block
        np.testing.assert_allclose(recombined, g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sigma", [0.0, 4.0])
def test_adf_equals_brute_force(crystals, sigma):
    # 17 bins: no edge at the 60°, 90° and 120° between lattice vectors, which rattling does not move
    adf = AngularDistributionFunction(r_cut=3.2, n_bins=17, smearing=sigma)
    values = adf.fit_transform(crystals)
    counts = AngularDistributionFunction(r_cut=3.2, n_bins=17, smearing=sigma, normalization="count").fit_transform(crystals)
    for atoms, row, per_atom in zip(crystals, values, counts):
        expected, n_angles = _brute_adf(atoms, 3.2, adf.bin_edges_, sigma)
        assert n_angles > 0
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(row.sum() * adf.bin_width_, 1.0, rtol=1e-12)
        np.testing.assert_allclose(per_atom.sum(), n_angles / len(atoms), rtol=1e-12)


def test_closed_forms_of_symmetric_crystals():
    # fcc: 12 neighbours at a / sqrt(2); rock salt: 6 unlike at a / 2, 12 like at a / sqrt(2)
    a = 3.6
    cu = bulk("Cu", "fcc", a=a)
    count = RadialDistributionFunction(r_cut=3.0, bin_width=0.5, normalization="count").fit_transform([cu])
    np.testing.assert_array_equal(count, [[0, 0, 0, 0, 0, 12.0]])
    g = RadialDistributionFunction(r_cut=3.0, bin_width=0.5).fit_transform([cu])[0, -1]
    np.testing.assert_allclose(g, (a**3 / 4) * 12 / (4 / 3 * np.pi * (3.0**3 - 2.5**3)), rtol=1e-13)
    # fcc bond angles: 60° (24 per atom), 90° (12), 120° (24), 180° (6) among 66 pairs of 12 neighbours
    adf = AngularDistributionFunction(r_cut=3.0, bin_width=30.0, normalization="count").fit_transform([cu])
    np.testing.assert_array_equal(adf, [[0, 0, 24, 12, 24, 6]])
    # the 90° and 180° lie on bin edges: they stay in the upper bin after any rotation
    rotated = cu.copy()
    rotated.rotate(37.0, (1, 2, 3), rotate_cell=True)
    adf_rotated = AngularDistributionFunction(r_cut=3.0, bin_width=30.0, normalization="count").fit_transform([rotated])
    np.testing.assert_array_equal(adf_rotated, adf)


def test_rdf_tends_to_one_at_large_r_for_a_periodic_liquid_like_cell():
    rng = np.random.default_rng(3)
    box = 18.0
    positions = rng.uniform(0, box, size=(400, 3))
    gas = Atoms("Ar400", positions=positions, cell=box * np.eye(3), pbc=True)
    g = RadialDistributionFunction(r_cut=8.0, n_bins=8, min_distance=0.0).fit_transform([gas])[0]
    # an ideal gas: g = 1 up to counting noise (about 1 / sqrt(pairs per bin), here < 2 % beyond 3 Å)
    np.testing.assert_allclose(g[3:], 1.0, atol=0.05)


# ------------------------------------------------------------------ matminer
def _pymatgen(atoms):
    from pymatgen.io.ase import AseAtomsAdaptor

    return AseAtomsAdaptor.get_structure(atoms)


def _matminer_structures(crystals):
    structures = list(crystals)
    try:
        structures += read_dataset("tio2_artrith2016.extxyz.gz", "0:7815:3000")
        structures += read_dataset("nbmotaw_li2020_partial.extxyz.gz", "0:5658:2500")
    except pytest.skip.Exception:
        pass
    return structures


def test_rdf_matches_matminer_times_n_atoms(crystals):
    rdf_module = pytest.importorskip("matminer.featurizers.structure.rdf")
    structures = _matminer_structures(crystals)
    featurizer = rdf_module.RadialDistributionFunction(cutoff=5.0, bin_size=0.25)
    ours = ESTIMATORS["rdf"]().fit_transform(structures)
    for atoms, row in zip(structures, ours):
        reference = np.asarray(featurizer.featurize(_pymatgen(atoms)))
        assert reference.shape == row.shape
        # matminer divides by the shell volumes and N / V only: its RDF is N g(r)
        np.testing.assert_allclose(len(atoms) * row, reference, rtol=1e-10, atol=1e-10)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_partial_rdf_matches_matminer_pair_density(crystals):
    rdf_module = pytest.importorskip("matminer.featurizers.structure.rdf")
    structures = _matminer_structures(crystals)
    prdf = ESTIMATORS["prdf"](normalization="pair_density").fit(structures)
    ours = prdf.transform(structures)
    featurizer = rdf_module.PartialRadialDistributionFunction(cutoff=5.0, bin_size=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        featurizer.fit([_pymatgen(a) for a in structures])
    n_bins = prdf.n_bins_
    checked = 0
    for atoms, row in zip(structures, ours):
        bins, reference = featurizer.compute_prdf(_pymatgen(atoms))  # keys: (centre, neighbour) elements
        assert len(bins) == n_bins
        for (a, b), block in zip(prdf.pairs(), row.reshape(-1, n_bins)):
            if (a, b) in reference:
                np.testing.assert_allclose(block, reference[(a, b)], rtol=1e-10, atol=1e-10)
                checked += 1
            else:
                np.testing.assert_array_equal(block, 0.0)
        # the physical g_AB is (V / N_B) times matminer's (A, B) block
    assert checked >= 8
    g = ESTIMATORS["prdf"]().fit(structures).transform(crystals[:1])[0].reshape(-1, n_bins)
    salt = crystals[0]
    na_cl = prdf.pairs().index(("Na", "Cl"))
    reference = featurizer.compute_prdf(_pymatgen(salt))[1][("Na", "Cl")]
    np.testing.assert_allclose(g[na_cl], reference * salt.get_volume() / np.sum(salt.numbers == 17), rtol=1e-10)


# ------------------------------------------------------------------ invariances
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_rotation_translation_permutation_and_supercell_invariance(name, crystals):
    model = ESTIMATORS[name]().fit(crystals)
    values = model.transform(crystals)
    rng = np.random.default_rng(7)
    moved = []
    for atoms in crystals:
        atoms = atoms.copy()
        atoms.rotate(Rotation.random(random_state=11).as_matrix() @ [1.0, 0.0, 0.0], (0.3, -0.4, 0.87), rotate_cell=True)
        atoms.translate([1.3, -7.1, 0.4])
        order = rng.permutation(len(atoms))
        moved.append(atoms[order])
    np.testing.assert_allclose(model.transform(moved), values, rtol=1e-9, atol=1e-9)
    supercells = [atoms.repeat((2, 2, 2)) for atoms in crystals]
    np.testing.assert_allclose(model.transform(supercells), values, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_n_jobs_clone_pickle_pandas_and_input_untouched(name, crystals):
    before = [a.copy() for a in crystals]
    model = ESTIMATORS[name]().fit(crystals)
    values = model.transform(crystals)
    assert all(a == b for a, b in zip(crystals, before))
    many = crystals * 40
    np.testing.assert_array_equal(model.set_params(n_jobs=2).transform(many), np.tile(values, (40, 1)))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).transform(crystals), values)
    np.testing.assert_array_equal(clone(model).fit_transform(crystals), values)
    frame = clone(model).set_output(transform="pandas").fit_transform(crystals)
    assert list(frame.columns) == list(model.get_feature_names_out())
    names = model.get_feature_names_out()
    assert len(set(names)) == len(names) == model.n_features_out_ == values.shape[1]


def test_feature_names_and_bins():
    rdf = RadialDistributionFunction(r_cut=3.0, bin_width=0.1).fit([bulk("Cu", "fcc", a=3.6)])
    assert rdf.n_bins_ == 30 and rdf.get_feature_names_out()[3] == "rdf[0.3-0.4]"
    assert RadialDistributionFunction(r_cut=3.0, n_bins=12).fit([bulk("Cu")]).bin_width_ == 0.25
    prdf = PartialRadialDistributionFunction(species=["O", "Ti"], r_cut=2.0, n_bins=2).fit([_perovskite()[1:]])
    assert list(prdf.get_feature_names_out()) == [
        "prdf[O-O,0-1]", "prdf[O-O,1-2]", "prdf[O-Ti,0-1]", "prdf[O-Ti,1-2]", "prdf[Ti-Ti,0-1]", "prdf[Ti-Ti,1-2]",
    ]
    adf = AngularDistributionFunction(n_bins=4).fit([bulk("Cu")])
    assert list(adf.get_feature_names_out()) == ["adf[0-45]", "adf[45-90]", "adf[90-135]", "adf[135-180]"]


def test_molecules_and_bad_input():
    water = molecule("H2O")  # no cell
    with pytest.raises(ValueError, match="no cell volume.*pair_density"):
        RadialDistributionFunction(r_cut=2.0).fit_transform([water])
    density = RadialDistributionFunction(r_cut=2.0, bin_width=0.5, normalization="pair_density").fit_transform([water])
    count = RadialDistributionFunction(r_cut=2.0, bin_width=0.5, normalization="count").fit_transform([water])
    np.testing.assert_allclose(count.sum(), 6 / 3)  # O-H, O-H and H-H (1.5 Å), from both ends, over 3 atoms
    shells = 4 / 3 * np.pi * np.diff((np.arange(5) * 0.5) ** 3)
    np.testing.assert_allclose(density, count / shells)
    boxed = water.copy()
    boxed.center(vacuum=4.0)
    g = RadialDistributionFunction(r_cut=2.0, bin_width=0.5).fit_transform([boxed])
    np.testing.assert_allclose(g, count * boxed.get_volume() / 3 / shells)  # the box is the reference volume
    with pytest.raises(ValueError, match="whole multiple of bin_width"):
        RadialDistributionFunction(r_cut=1.0, bin_width=0.3).fit([water])
    with pytest.raises(ValueError, match="n_bins or bin_width"):
        AngularDistributionFunction(bin_width=None).fit([water])
    with pytest.raises(ValueError, match="180.*whole multiple"):
        AngularDistributionFunction(bin_width=7.0).fit([water])
    with pytest.raises(ValueError, match="closer than min_distance"):
        RadialDistributionFunction(normalization="count").fit_transform([Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.05]])])
    prdf = PartialRadialDistributionFunction(r_cut=2.0, normalization="count").fit([water])
    with pytest.raises(ValueError, match=r"\['C'\].*handle_unknown='ignore'"):
        prdf.transform([molecule("CH3OH")])
    ignored = prdf.set_params(handle_unknown="ignore").fit([water]).transform([molecule("CH3OH")])
    assert ignored.shape == (1, prdf.n_features_out_) and np.isfinite(ignored).all()
    with pytest.raises(TypeError):
        RadialDistributionFunction().fit(np.zeros((2, 3)))
