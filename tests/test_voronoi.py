"""VoronoiCellStatistics against closed forms, pymatgen's VoronoiNN and matminer's VoronoiFingerprint."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, fcc111
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from .conftest import read_dataset
from skdesc import VoronoiCellStatistics


def _table(descriptor, structures):
    features = descriptor.transform(structures)
    return {name: features.values[:, k] for k, name in enumerate(features.feature_names)}


def test_bcc_cell_is_the_truncated_octahedron():
    a = 2.87
    atoms = bulk("Fe", "bcc", a=a, cubic=True)
    table = _table(VoronoiCellStatistics().fit([atoms]), [atoms])
    square, hexagon = a**2 / 8, 3 * np.sqrt(3) * a**2 / 16  # edge a sqrt(2) / 4
    areas = np.array([square] * 6 + [hexagon] * 8)
    np.testing.assert_allclose(table["voronoi[cn]"], 14)
    np.testing.assert_allclose(table["voronoi[faces[edges=4]]"], 6)
    np.testing.assert_allclose(table["voronoi[faces[edges=6]]"], 8)
    np.testing.assert_allclose(table["voronoi[volume]"], a**3 / 2, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,min]"], square, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,max]"], hexagon, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,mean]"], areas.mean(), rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,std]"], areas.std(), rtol=1e-10)
    np.testing.assert_allclose(table["voronoi[cn_eff]"], areas.sum() ** 2 / (areas**2).sum(), rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[dist,min]"], a * np.sqrt(3) / 2, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[dist,max]"], a, rtol=1e-12)
    np.testing.assert_array_equal(table["voronoi[exposed]"], 0.0)
    # a relative threshold above square / hexagon keeps the eight nearest neighbours only
    strict = _table(VoronoiCellStatistics(area_threshold=0.4).fit([atoms]), [atoms])
    np.testing.assert_allclose(strict["voronoi[cn]"], 8)
    np.testing.assert_allclose(strict["voronoi[cn_eff]"], 8)
    np.testing.assert_allclose(strict["voronoi[volume]"], a**3 / 2, rtol=1e-12)  # the cell is unchanged
    absolute = _table(VoronoiCellStatistics(area_threshold=square + 0.01, threshold_mode="absolute").fit([atoms]), [atoms])
    np.testing.assert_allclose(absolute["voronoi[cn]"], 8)
    loose = _table(VoronoiCellStatistics(area_threshold=square - 0.01, threshold_mode="absolute").fit([atoms]), [atoms])
    np.testing.assert_allclose(loose["voronoi[cn]"], 14)


def test_fcc_cell_is_the_rhombic_dodecahedron():
    a = 3.6
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    table = _table(VoronoiCellStatistics().fit([atoms]), [atoms])
    np.testing.assert_allclose(table["voronoi[cn]"], 12)
    np.testing.assert_allclose(table["voronoi[faces[edges=4]]"], 12)
    np.testing.assert_allclose(table["voronoi[volume]"], a**3 / 4, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,mean]"], a**2 / (4 * np.sqrt(2)), rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,std]"], 0.0, atol=1e-12)
    np.testing.assert_allclose(table["voronoi[dist,mean]"], a / np.sqrt(2), rtol=1e-12)


def test_rock_salt_faces_border_the_other_element():
    atoms = bulk("NaCl", "rocksalt", a=5.64)
    table = _table(VoronoiCellStatistics().fit([atoms]), [atoms])
    np.testing.assert_allclose(table["voronoi[cn]"], 6)
    np.testing.assert_allclose(table["voronoi[area_frac,el=Na]"], [0, 1])  # Na row, Cl row
    np.testing.assert_allclose(table["voronoi[area_frac,el=Cl]"], [1, 0])
    np.testing.assert_allclose(table["voronoi[volume]"], 5.64**3 / 8, rtol=1e-12)


def test_open_cells_are_bounded_by_the_sphere():
    R = 3.0
    laed = VoronoiCellStatistics(cutoff=2 * R).fit([Atoms("Cu")])
    single = _table(laed, [Atoms("Cu", positions=[[0.3, -1.0, 2.0]])])
    np.testing.assert_allclose(single["voronoi[volume]"], 4 / 3 * np.pi * R**3, rtol=1e-12)
    np.testing.assert_allclose(single["voronoi[exposed]"], 1.0)
    np.testing.assert_array_equal(single["voronoi[cn]"], 0.0)
    # a dimer: each cell is the ball minus the cap beyond the bisector at h = d / 2
    h = 1.1
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [0.6, 0.8 * 2 * h, 1.2 * h]])
    dimer.positions[1] = dimer.positions[1] / np.linalg.norm(dimer.positions[1]) * 2 * h
    table = _table(laed, [dimer])
    cap = np.pi * (R - h) ** 2 * (2 * R + h) / 3
    np.testing.assert_allclose(table["voronoi[volume]"], 4 / 3 * np.pi * R**3 - cap, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[area,mean]"], np.pi * (R**2 - h**2), rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[exposed]"], 1 - (1 - h / R) / 2, rtol=1e-12)
    np.testing.assert_allclose(table["voronoi[cn]"], 1)


def test_slab_surface_atoms_are_exposed_and_the_bulk_is_not():
    slab = fcc111("Cu", size=(1, 1, 5), a=3.6, vacuum=6.0)
    table = _table(VoronoiCellStatistics(cutoff=10.0).fit([slab]), [slab])
    top_bottom = np.isin(np.arange(5), [0, 4])
    np.testing.assert_allclose(table["voronoi[cn]"][top_bottom], 9)
    np.testing.assert_allclose(table["voronoi[cn]"][~top_bottom], 12)
    assert (table["voronoi[exposed]"][top_bottom] > 0.01).all()
    np.testing.assert_array_equal(table["voronoi[exposed]"][~top_bottom], 0.0)
    np.testing.assert_allclose(table["voronoi[volume]"][~top_bottom], 3.6**3 / 4, rtol=1e-10)
    # the surface cell grows with the sphere; the bulk cells do not
    wider = _table(VoronoiCellStatistics(cutoff=14.0).fit([slab]), [slab])
    assert (wider["voronoi[volume]"][top_bottom] > table["voronoi[volume]"][top_bottom] + 1).all()
    np.testing.assert_allclose(wider["voronoi[volume]"][~top_bottom], table["voronoi[volume]"][~top_bottom], rtol=1e-10)


def test_noisy_crystal_invariances_and_cell_boundary_atoms():
    rng = np.random.default_rng(3)
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat((2, 1, 1))
    atoms.positions += rng.normal(scale=0.15, size=atoms.positions.shape)
    laed = VoronoiCellStatistics(cutoff=9.0).fit([atoms])
    reference = laed.transform([atoms]).values
    assert np.ptp(reference[:, 0]) > 0  # the noise changes the cells
    # atoms moved by lattice vectors (outside the cell, on its boundary) and a wrapped copy
    shifted = atoms.copy()
    shifted.positions += np.array([[1, 0, -1]] * 3 + [[0, 0, 0]] * 13)[: len(atoms)] @ atoms.cell.array
    wrapped = atoms.copy()
    wrapped.wrap()
    moved = atoms.copy()
    matrix = Rotation.random(random_state=2).as_matrix()
    moved.positions = atoms.positions @ matrix.T + [0.3, 7.0, -2.0]
    moved.cell = atoms.cell.array @ matrix.T
    order = rng.permutation(len(atoms))
    for other, rows in ((shifted, slice(None)), (wrapped, slice(None)), (moved[order], order)):
        np.testing.assert_allclose(laed.transform([other]).values, reference[rows], rtol=0, atol=1e-9)
    supercell = laed.transform([atoms.repeat((1, 2, 2))]).values
    np.testing.assert_allclose(supercell, np.tile(reference, (4, 1)), rtol=0, atol=1e-9)


def test_atom_exactly_on_the_cell_boundary():
    atoms = bulk("Fe", "bcc", a=2.87, cubic=True)
    atoms.positions[0] = [2.87, 0.0, 2.87]  # a corner of the cell
    atoms.positions[1] = [1.5 * 2.87, 0.5 * 2.87, -0.5 * 2.87]  # the body centre, moved outside the cell
    table = _table(VoronoiCellStatistics().fit([atoms]), [atoms])
    np.testing.assert_allclose(table["voronoi[cn]"], 14)
    np.testing.assert_allclose(table["voronoi[volume]"], 2.87**3 / 2, rtol=1e-12)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="must be below 1"):
        VoronoiCellStatistics(area_threshold=1.0).fit([bulk("Cu")])
    with pytest.raises(ValueError, match="threshold_mode"):
        VoronoiCellStatistics(threshold_mode="fraction").fit([bulk("Cu")])


def _pymatgen_faces(atoms, index):
    from pymatgen.analysis.local_env import VoronoiNN
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(atoms)
    nn = VoronoiNN(cutoff=13.0, weight="area", compute_adj_neighbors=False)
    return [nn.get_voronoi_polyhedra(structure, i) for i in index]


@pytest.mark.parametrize(
    "name, index",
    [("tio2_artrith2016.extxyz.gz", 1500), ("tio2_artrith2016.extxyz.gz", 0), ("nbmotaw_li2020_partial.extxyz.gz", 0)],
)
@pytest.mark.parametrize("tol", [0.0, 0.05])
def test_faces_match_pymatgen_voronoinn(name, index, tol):
    """Faces (neighbour, area, solid angle, vertices), counts and volumes against pymatgen's VoronoiNN."""
    pytest.importorskip("pymatgen.analysis.local_env")
    atoms = read_dataset(name, f"{index}:{index + 1}")[0]
    laed = VoronoiCellStatistics(cutoff=12.0, area_threshold=tol).fit([atoms])
    first, area, solid, n_edges, distance, _, key = laed._structure_faces(atoms)
    rows = laed.transform([atoms]).values
    sites = range(min(len(atoms), 12))
    for i, polyhedron in zip(sites, _pymatgen_faces(atoms, sites)):
        faces = list(polyhedron.values())
        largest = max(face["area"] for face in faces)
        theirs = [face for face in faces if face["area"] > max(tol, 1e-8) * largest]
        own = np.arange(first[i], first[i + 1])
        own = own[area[own] > max(tol, 1e-8) * area[own].max()]
        assert len(own) == len(theirs) == rows[i, 0]
        where = atoms.positions[key[own, 0]] + key[own, 1:] @ atoms.cell.array
        gap, match = cKDTree([face["site"].coords for face in theirs]).query(where)
        assert gap.max() < 1e-6 and len(set(match)) == len(own)
        np.testing.assert_allclose(area[own], [theirs[k]["area"] for k in match], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(solid[own], [theirs[k]["solid_angle"] for k in match], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(distance[own], [2 * theirs[k]["face_dist"] for k in match], rtol=1e-12)
        np.testing.assert_array_equal(n_edges[own], [theirs[k]["n_verts"] for k in match])
        np.testing.assert_allclose(rows[i, 2], sum(face["volume"] for face in faces), rtol=1e-10)


def test_statistics_match_matminer_voronoi_fingerprint():
    pytest.importorskip("matminer")
    from matminer.featurizers.site import VoronoiFingerprint
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = read_dataset("tio2_artrith2016.extxyz.gz", "0:1")[0]
    structure = AseAtomsAdaptor.get_structure(atoms)
    # matminer keeps every face (VoronoiNN's tol=0): compare without a threshold
    laed = VoronoiCellStatistics(cutoff=12.0, area_threshold=0.0).fit([atoms])
    table = _table(laed, [atoms])
    fingerprint = VoronoiFingerprint(cutoff=13.0)
    labels = fingerprint.feature_labels()
    pairs = [("Voro_vol_sum", "voronoi[volume]")]
    for theirs, ours in (("mean", "mean"), ("std_dev", "std"), ("minimum", "min"), ("maximum", "max")):
        pairs += [(f"Voro_area_{theirs}", f"voronoi[area,{ours}]"), (f"Voro_dist_{theirs}", f"voronoi[dist,{ours}]")]
    pairs += [(f"Voro_index_{k}", f"voronoi[faces[edges={k}]]") for k in range(4, 10)]
    for i in range(0, len(atoms), 3):
        reference = dict(zip(labels, fingerprint.featurize(structure, i)))
        for theirs, ours in pairs:
            np.testing.assert_allclose(table[ours][i], reference[theirs], rtol=1e-9, atol=1e-12, err_msg=ours)
        np.testing.assert_allclose(table["voronoi[faces[edges=<=3]]"][i], reference["Voro_index_3"])
        np.testing.assert_allclose(table["voronoi[faces[edges=>=10]]"][i], reference["Voro_index_10"])
