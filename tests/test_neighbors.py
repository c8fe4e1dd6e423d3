"""The numba neighbour list against ASE's, on real and random skewed cells."""

import ase
import numpy as np
import pytest
from ase.neighborlist import neighbor_list as ase_neighbor_list

from skdesc import neighbor_list


def _as_sorted_table(i, j, shifts, distances):
    table = np.column_stack([i, j, shifts])
    order = np.lexsort(table.T[::-1])
    return table[order], distances[order]


def assert_same_as_ase(atoms, cutoff):
    i, j, S, d = ase_neighbor_list("ijSd", atoms, cutoff)
    nl = neighbor_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    ours, our_d = _as_sorted_table(nl.centers, nl.index, nl.shifts, nl.distances)
    theirs, their_d = _as_sorted_table(i, j, S, d)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(our_d, their_d, rtol=0, atol=1e-10)
    # vectors are consistent with the caller's positions and the shifts
    expected = atoms.positions[nl.index] - atoms.positions[nl.centers] + nl.shifts @ atoms.cell.array
    np.testing.assert_allclose(nl.vectors, expected, rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(nl.vectors, axis=1), nl.distances, atol=1e-12)
    return len(i)


def test_tio2_against_ase(tio2_small):
    pairs = 0
    for atoms in tio2_small:
        pairs += assert_same_as_ase(atoms, 6.0)
        assert_same_as_ase(atoms, 3.0)
    assert pairs > 10_000


@pytest.mark.parametrize("seed", range(12))
def test_random_skewed_cells_against_ase(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 15))
    cell = np.eye(3) * rng.uniform(2.0, 5.0) + rng.normal(scale=1.5, size=(3, 3))
    if abs(np.linalg.det(cell)) < 1.0:
        cell += np.eye(3) * 3
    # atoms partly outside the home cell; cutoff often larger than the cell widths
    positions = rng.uniform(-0.7, 1.7, size=(n, 3)) @ cell
    pbc = [True, True, True] if seed < 6 else list(rng.random(3) < 0.5)
    atoms = ase.Atoms(numbers=rng.integers(1, 30, n), positions=positions, cell=cell, pbc=pbc)
    widths = 1.0 / np.linalg.norm(np.linalg.inv(cell), axis=0)
    cutoff = float(rng.uniform(0.8, 2.5) * widths.min() + 0.5)
    assert_same_as_ase(atoms, cutoff)


@pytest.mark.parametrize("pbc", [(True, True, False), (False, True, False), (True, False, True)])
def test_mixed_periodicity_with_degenerate_free_axis(pbc):
    rng = np.random.default_rng(3)
    cell = np.array([[3.1, 0.0, 0.0], [1.2, 2.9, 0.0], [0.3, 0.4, 4.0]])
    positions = rng.uniform(0, 1, size=(7, 3)) @ cell
    atoms = ase.Atoms("Cu7", positions=positions, cell=cell, pbc=pbc)
    assert_same_as_ase(atoms, 5.5)
    # the cell vectors of non-periodic axes are irrelevant: zero them
    free_zero = cell.copy()
    free_zero[~np.array(pbc)] = 0.0
    zeroed = neighbor_list(positions, free_zero, pbc, 5.5)
    reference = neighbor_list(positions, cell, pbc, 5.5)
    assert np.array_equal(np.sort(zeroed.distances), np.sort(reference.distances))


def test_molecule_without_cell():
    rng = np.random.default_rng(5)
    atoms = ase.Atoms("C20", positions=rng.uniform(0, 8, size=(20, 3)))
    n = assert_same_as_ase(atoms, 3.5)
    assert n > 0


def test_single_atom_in_small_cell_sees_its_images():
    atoms = ase.Atoms("Po", positions=[[0.2, 0.1, 0.0]], cell=np.eye(3) * 3.0, pbc=True)
    nl = neighbor_list(atoms.positions, atoms.cell.array, atoms.pbc, 3.5)
    assert len(nl.index) == 6 and np.all(nl.index == 0)
    assert_same_as_ase(atoms, 7.0)


def test_invalid_cutoff():
    with pytest.raises(ValueError, match="cutoff"):
        neighbor_list(np.zeros((1, 3)), np.eye(3), [True] * 3, -1.0)


@pytest.mark.parametrize("seed", range(4))
def test_half_list_holds_each_pair_once(seed):
    from skdesc.neighbors import guarded_neighbor_list

    rng = np.random.default_rng(seed)
    cell = np.eye(3) * 3.0 + rng.uniform(-0.6, 0.6, (3, 3))
    positions = rng.uniform(-1, 4, (7, 3))
    pbc = np.array([True, True, seed % 2 == 0])
    full = neighbor_list(positions, cell, pbc, 5.0)
    first, index, vectors, distances, shifts, shortest = guarded_neighbor_list(positions, cell, pbc, 5.0, 0.0, True)
    centers = np.repeat(np.arange(len(positions)), np.diff(first))
    # the half list plus its reversal (j, i, -S) is the full list
    both = np.vstack(
        [np.column_stack([centers, index, shifts]), np.column_stack([index, centers, -shifts])]
    )
    ours, _ = _as_sorted_table(both[:, 0], both[:, 1], both[:, 2:], np.zeros(len(both)))
    theirs, _ = _as_sorted_table(full.centers, full.index, full.shifts, full.distances)
    np.testing.assert_array_equal(ours, theirs)
    assert shortest == pytest.approx(full.distances.min())


def test_singular_periodic_cell_is_an_error():
    positions = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    flat = np.array([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [3.0, 3.0, 0.0]])  # third vector in the plane
    with pytest.raises(ValueError, match="zero volume"):
        neighbor_list(positions, flat, [True, True, True], 2.0)
    # the same cell is fine when the degenerate axis is not periodic
    assert len(neighbor_list(positions, flat, [True, True, False], 2.0).index) > 0


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True)])
def test_dense_box_against_ase_many_pairs_near_the_cutoff(pbc):
    """Rows of bins are pruned against the cutoff sphere: no neighbour may be lost near its surface."""
    rng = np.random.default_rng(11)
    cell = np.array([[21.0, 0.0, 0.0], [3.0, 19.5, 0.0], [-2.0, 1.5, 20.0]])
    positions = rng.uniform(0.0, 1.0, size=(1200, 3)) @ cell
    atoms = ase.Atoms(numbers=np.full(1200, 26), positions=positions, cell=cell, pbc=pbc)
    cutoff = 5.3
    pairs = assert_same_as_ase(atoms, cutoff)
    d = ase_neighbor_list("d", atoms, cutoff)
    assert pairs > 90_000 and np.sum(d > cutoff - 0.01) > 500  # many pairs within 0.01 Å of the cutoff


@pytest.mark.parametrize("half_below", [0, 1000])
def test_lists_are_the_same_when_the_buffers_must_grow(half_below):
    """The pair buffers are sized by an estimate; one far too small must only cost a regrowth."""
    from skdesc.neighbors import batch_neighbor_lists

    rng = np.random.default_rng(5)
    sizes = [40, 300, 7, 600]
    positions = rng.uniform(0.0, 9.0, size=(sum(sizes), 3))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    cells = np.stack([np.eye(3) * 9.0] * len(sizes))
    pbc = np.array([[True, True, True], [True, True, False], [False] * 3, [True, True, True]])
    sized = batch_neighbor_lists(positions, offsets, cells, pbc, 4.5, 0.0, half_below)
    # an estimate of zero neighbours: 16 entries per atom, while the dense cells hold ~80
    starved = batch_neighbor_lists(positions, offsets, cells, pbc, 4.5, 0.0, half_below, np.zeros(len(sizes)))
    assert np.diff(sized.first).mean() > 16 * (1 if half_below == 0 else 0.5) * 1.5
    for ours, reference in zip(starved, sized):
        np.testing.assert_array_equal(ours, reference)
