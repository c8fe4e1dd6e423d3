"""Local descriptors copy the input one batch of structures at a time.

``transform`` reads only the atomic numbers of the whole input
(``skdesc.structures.atomic_numbers``); each batch converts and validates its
own structures (``structure_arrays`` on a slice), so errors still name the index of
the structure in the whole input.
"""

import tracemalloc

import ase
import numpy as np
import pytest
from ase.build import molecule

import skdesc.local.base as base
from skdesc import SOAP, ChebyshevLAED, Frame, config_context
from skdesc.structures import atomic_numbers, structure_arrays

N_STRUCTURES = 300


def _cells(n, seed=0, numbers=(41, 42)):
    """``n`` strained, displaced two-atom bcc cells as Frames."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        cell = 3.2 * (np.eye(3) + 0.02 * rng.normal(size=(3, 3)))
        positions = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]) @ cell + 0.05 * rng.normal(size=(2, 3))
        frames.append(Frame(positions, rng.choice(numbers, 2).astype(np.int64), cell, np.ones(3, dtype=bool)))
    return frames


def _laed(**params):
    return ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2, **params)


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of at most 16 atoms, and a record of the sizes of all ``structure_arrays`` calls."""
    calls = []

    def spy(structures, start=0):
        calls.append((start, len(structures)))
        return structure_arrays(structures, start=start)

    monkeypatch.setattr(base, "structure_arrays", spy)
    with config_context(atoms_per_batch=16):
        yield calls


def _assert_each_structure_converted_once_in_batches(calls, n):
    assert max(size for _, size in calls) <= 8  # 16 atoms: at most 8 two-atom cells
    covered = np.zeros(n, dtype=int)
    for start, size in calls:
        covered[start : start + size] += 1
    assert np.all(covered == 1)


@pytest.mark.parametrize(
    "descriptor", [_laed(), SOAP(r_cut=3.5, n_max=2, l_max=2)], ids=["ChebyshevLAED", "SOAP-writes-into-output"]
)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_transform_converts_one_batch_at_a_time(descriptor, n_jobs, small_batches):
    structures = _cells(N_STRUCTURES)
    estimator = descriptor.set_params(n_jobs=n_jobs)
    atomic = estimator.fit_transform(structures)  # fit_transform converts every structure once
    _assert_each_structure_converted_once_in_batches(small_batches, N_STRUCTURES)
    small_batches.clear()
    assert estimator.transform(structures) == atomic
    _assert_each_structure_converted_once_in_batches(small_batches, N_STRUCTURES)
    assert estimator.transform(iter(structures)) == atomic  # an iterator is read once
    # the same values as one structure at a time, each converted on its own
    for s in (0, 137, N_STRUCTURES - 1):
        np.testing.assert_array_equal(atomic.structure(s), estimator.transform(structures[s]).values)
    np.testing.assert_array_equal(atomic.offsets, 2 * np.arange(N_STRUCTURES + 1))


def test_fit_and_derivatives_convert_one_batch_at_a_time(small_batches):
    structures = _cells(N_STRUCTURES)
    laed = _laed().fit(structures)  # fit validates every structure, one batch at a time
    _assert_each_structure_converted_once_in_batches(small_batches, N_STRUCTURES)
    small_batches.clear()
    features, derivatives = laed.transform_with_derivatives(structures[:40])
    _assert_each_structure_converted_once_in_batches(small_batches, 40)
    assert features == laed.transform(structures[:40])
    assert derivatives[25] == laed.derivatives(structures[25])


def _with_bad(structures, index, bad):
    return structures[:index] + [bad] + structures[index + 1 :]


def _nan_cell():
    frame = _cells(1, seed=1)[0]
    positions = frame.positions.copy()
    positions[1, 0] = np.nan
    return Frame(positions, frame.numbers, frame.cell, frame.pbc)


def _disordered():
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.cubic(3.0), [{"Nb": 0.5, "Mo": 0.5}], [[0, 0, 0]])


BAD = {
    "nan": (_nan_cell, ValueError, r"structure 273: positions of atoms \[1\] are NaN or inf"),
    "zero volume": (
        lambda: ase.Atoms("Nb2", positions=[[0, 0, 0], [1, 1, 1]], cell=[[2, 0, 0], [4, 0, 0], [0, 0, 2]], pbc=True),
        ValueError,
        "structure 273: the cell has zero volume",
    ),
    "type": (lambda: "Nb2", TypeError, "structure 273: expected ase.Atoms"),
    "empty": (ase.Atoms, ValueError, "structure 273: it has no atoms"),
    "overlap": (
        lambda: ase.Atoms("Nb2", positions=[[0, 0, 0], [0.05, 0, 0]]),
        ValueError,
        "structure 273: two atoms are 0.05 Å apart",
    ),
    "unknown": (lambda: molecule("CH4"), ValueError, r"structure 273 contains elements \['C', 'H'\]"),
    "disordered": (_disordered, ValueError, "structure 273: pymatgen object with disordered"),
}


@pytest.mark.parametrize("problem", BAD)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_errors_name_the_global_structure_index(problem, n_jobs, small_batches):
    make_bad, error, message = BAD[problem]
    structures = _with_bad(_cells(N_STRUCTURES), 273, make_bad())
    laed = _laed(n_jobs=n_jobs).fit(_cells(3))
    with pytest.raises(error, match=message):
        laed.transform(structures)
    if problem not in ("overlap", "unknown"):  # the fit checks the structures as well
        with pytest.raises(error, match=message):
            _laed(n_jobs=n_jobs).fit(structures)


def test_ignore_unknown_across_batches(small_batches):
    structures = _cells(60, numbers=(41, 42, 6))  # carbon is not in the fitted species
    laed = _laed(species=["Nb", "Mo"], handle_unknown="ignore", n_jobs=2).fit(_cells(2))
    carbon_only = [i for i, f in enumerate(structures) if np.all(f.numbers == 6)]
    for i in carbon_only:  # a structure without any fitted element is an error: make one atom Nb
        structures[i] = Frame(structures[i].positions, np.array([41, 6]), structures[i].cell, structures[i].pbc)
    atomic = laed.transform(structures)
    # reference: the structures with their carbon atoms removed by hand
    stripped = [Frame(f.positions[f.numbers != 6], f.numbers[f.numbers != 6], f.cell, f.pbc) for f in structures]
    expected = laed.transform(stripped)
    assert atomic == expected
    kept = np.array([np.count_nonzero(f.numbers != 6) for f in structures])
    np.testing.assert_array_equal(np.diff(atomic.offsets), kept)
    assert np.all(atomic.numbers != 6)
    only_carbon = _with_bad(structures, 41, Frame(np.zeros((1, 3)), np.array([6]), np.eye(3) * 3, np.ones(3, bool)))
    with pytest.raises(ValueError, match="structure 41 has no atom of the fitted elements"):
        laed.transform(only_carbon)


def test_atomic_numbers_reads_no_positions():
    from pymatgen.core import Lattice, Molecule, Structure

    atoms = ase.Atoms("NbMo2", positions=np.zeros((3, 3)) + [[0, 0, 0], [1.5, 0, 0], [0, 1.5, 0]])
    crystal = Structure(Lattice.cubic(3.0), ["Ti", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    numbers, offsets = atomic_numbers([atoms, crystal, Molecule(["H"], [[0, 0, 0]]), _cells(1)[0]])
    np.testing.assert_array_equal(offsets, [0, 3, 5, 6, 8])
    np.testing.assert_array_equal(numbers[:6], [41, 42, 42, 22, 8, 1])
    assert numbers.dtype == np.int64
    np.testing.assert_array_equal(atomic_numbers(atoms)[0], atoms.numbers)  # a single structure is a list of one
    bad = Frame(np.zeros((1, 3)), np.array([0]), np.eye(3), np.ones(3, bool))
    with pytest.raises(ValueError, match="structure 2: atomic numbers must lie in 1..118"):
        atomic_numbers([atoms, atoms, bad])
    with pytest.raises(ValueError, match="structure 5: it has no atoms"):
        atomic_numbers([atoms] * 5 + [ase.Atoms()])


def _peak_extra_bytes(estimator, structures):
    """Peak bytes allocated (numpy and Python, traced) by ``transform`` and its output size."""
    tracemalloc.start()
    try:
        atomic = estimator.transform(structures)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    output = atomic.values.nbytes + atomic.offsets.nbytes + atomic.numbers.nbytes
    return peak, output


@config_context(atoms_per_batch=256)
def test_transform_memory_is_output_plus_a_bounded_chunk():
    # few features per atom, so that a copy of the whole input (about 0.85 kB per
    # structure) would dwarf the output; the same batch size for both inputs
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=7, ang_order=7, ang_cutoff=3.0, n_jobs=1).fit(_cells(2))
    laed.transform(_cells(2))  # compile
    small, large = _cells(2000), _cells(8000)
    peak_small, output_small = _peak_extra_bytes(laed, small)
    peak_large, output_large = _peak_extra_bytes(laed, large)
    # growth with the input: the output plus per-structure bookkeeping of a few int64,
    # far below the 850 bytes per structure of a full copy of the input
    growth = (peak_large - peak_small) - (output_large - output_small)
    assert growth < 100 * (len(large) - len(small)), growth
    assert peak_large < 1.5 * output_large + 2**20
