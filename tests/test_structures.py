"""Input adapters and bad-input errors."""

import ase
import numpy as np
import pytest
from ase.build import bulk, molecule

from skdesc import ChebyshevLAED, Frame, to_frames


def _laed():
    return ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=2.0, ang_order=2)


def test_single_structure_and_mixed_list():
    from pymatgen.core import Molecule
    from pymatgen.io.ase import AseAtomsAdaptor

    crystal = bulk("Si")
    inputs = [crystal, AseAtomsAdaptor.get_structure(crystal), Molecule(["H", "H"], [[0, 0, 0], [0, 0, 0.74]])]
    frames = to_frames(inputs)
    assert [len(f) for f in frames] == [2, 2, 2]
    assert frames[0].pbc.all() and frames[1].pbc.all() and not frames[2].pbc.any()
    np.testing.assert_allclose(frames[0].positions, frames[1].positions, atol=1e-10)
    assert len(to_frames(crystal)) == 1
    assert isinstance(frames[0], Frame)


def test_caller_objects_are_not_modified():
    atoms = bulk("NaCl", "rocksalt", a=5.6).repeat(2)
    atoms.positions[0] += [10.0, -3.0, 0.0]  # outside the cell: wrapped internally only
    before = (atoms.positions.copy(), atoms.cell.array.copy(), atoms.pbc.copy(), atoms.numbers.copy())
    _laed().fit_transform([atoms])
    after = (atoms.positions, atoms.cell.array, atoms.pbc, atoms.numbers)
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_positions(bad):
    atoms = molecule("H2O")
    atoms.positions[1, 2] = bad
    with pytest.raises(ValueError, match=r"structure 1: positions of atoms \[1\] are NaN or inf"):
        _laed().fit([molecule("H2O"), atoms])


def test_frames_are_copies_and_huge_finite_positions_pass():
    atoms = molecule("H2O")
    frame = to_frames(atoms)[0]
    frame.positions[0] = 99.0
    assert atoms.positions[0, 0] != 99.0  # a copy, not the caller's array
    # finite coordinates whose sum overflows are still finite
    atoms.positions[:] = 1.5e308
    assert np.isfinite(to_frames(atoms)[0].positions).all()


def test_empty_structure_and_empty_input():
    with pytest.raises(ValueError, match="structure 0: it has no atoms"):
        _laed().fit([ase.Atoms()])
    with pytest.raises(ValueError, match="no structures"):
        _laed().fit([])


def test_zero_volume_cell():
    atoms = ase.Atoms("Cu2", positions=[[0, 0, 0], [1, 1, 1]], cell=[[2, 0, 0], [4, 0, 0], [0, 0, 2]], pbc=True)
    with pytest.raises(ValueError, match="structure 0: the cell has zero volume"):
        _laed().fit([atoms])
    atoms.pbc = (True, False, True)  # the periodic axes span an area: valid
    _laed().fit([atoms])
    with pytest.raises(ValueError, match="zero volume"):
        _laed().fit([ase.Atoms("Cu", pbc=True)])


def test_overlapping_atoms():
    atoms = ase.Atoms("H2O", positions=[[0, 0, 0], [0.05, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"structure 1: two atoms are 0.05 Å apart"):
        _laed().fit_transform([molecule("H2O"), atoms])
    assert _laed().set_params(min_distance=0.01).fit_transform([atoms]).n_atoms == 3
    # an atom overlapping its own periodic image
    tiny = ase.Atoms("H", cell=np.eye(3) * 0.05, pbc=True)
    with pytest.raises(ValueError, match="closer than min_distance"):
        _laed().fit_transform([tiny])


def test_wrong_types():
    with pytest.raises(TypeError, match="structure 1: expected ase.Atoms"):
        _laed().fit([molecule("H2O"), "H2O"])
    with pytest.raises(TypeError, match="numeric array"):
        _laed().fit(np.zeros((3, 3)))


def test_disordered_pymatgen_structure():
    from pymatgen.core import Lattice, Structure

    disordered = Structure(Lattice.cubic(3.0), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]])
    with pytest.raises(ValueError, match="structure 0: .*disordered"):
        _laed().fit([disordered])


def test_periodic_size_matches_numpy():
    from skdesc.structures import _periodic_size

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        cell = rng.normal(scale=4.0, size=(3, 3))
        pbc = rng.random(3) < 0.6
        vectors = cell[pbc]
        if len(vectors) == 0:
            continue
        if len(vectors) == 3:
            expected = abs(np.linalg.det(vectors))
        elif len(vectors) == 2:
            expected = np.linalg.norm(np.cross(vectors[0], vectors[1]))
        else:
            expected = np.linalg.norm(vectors[0])
        assert _periodic_size(cell.tolist(), pbc.tolist()) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        checked += 1
    assert checked > 200


def test_structure_arrays_equal_concatenated_frames():
    from pymatgen.io.ase import AseAtomsAdaptor

    from skdesc.structures import structure_arrays

    inputs = [bulk("Si"), molecule("H2O"), AseAtomsAdaptor.get_structure(bulk("NaCl", "rocksalt", a=5.6))]
    inputs.append(to_frames(molecule("CH4"))[0])
    positions, numbers, offsets, cells, pbc = structure_arrays(inputs)
    frames = to_frames(inputs)
    np.testing.assert_array_equal(positions, np.concatenate([f.positions for f in frames]))
    np.testing.assert_array_equal(numbers, np.concatenate([f.numbers for f in frames]))
    np.testing.assert_array_equal(offsets, np.cumsum([0] + [len(f) for f in frames]))
    np.testing.assert_array_equal(cells, np.stack([f.cell for f in frames]))
    np.testing.assert_array_equal(pbc, np.stack([f.pbc for f in frames]))
    assert positions.dtype == np.float64 and numbers.dtype == np.int64 and pbc.dtype == bool
    assert not np.shares_memory(positions, inputs[0].positions)  # a copy of the caller's data


def test_structure_arrays_name_the_failing_structure():
    from skdesc.structures import structure_arrays

    good = [molecule("H2O") for _ in range(4)]
    bad = molecule("H2O")
    bad.positions[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"structure 12: positions of atoms \[2\] are NaN or inf"):
        structure_arrays(good[:2] + [bad] + good[2:], start=10)
    unknown = molecule("H2O")
    unknown.numbers[0] = 0
    with pytest.raises(ValueError, match="structure 11: atomic numbers must lie in 1..118"):
        structure_arrays([good[0], unknown], start=10)
