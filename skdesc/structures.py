"""Input adapters: turn ASE and pymatgen objects into validated numeric frames.

Every descriptor in skdesc works on :class:`Frame` objects, plain float64/int64
arrays that are copies of the caller's data (the caller's objects are never
modified).  :func:`to_frames` accepts

* :class:`ase.Atoms`,
* :class:`pymatgen.core.Structure` / :class:`~pymatgen.core.IStructure`
  (periodic along all three axes),
* :class:`pymatgen.core.Molecule` / :class:`~pymatgen.core.IMolecule`
  (no cell, no periodicity),
* a :class:`Frame`,
* or a list / tuple mixing any of them.

Subclasses of these classes are accepted too (e.g. pymatgen's ``MSONAtoms``,
an ``ase.Atoms`` returned by ``AseAtomsAdaptor.get_atoms``): the type is
decided by ``isinstance`` (:func:`is_structure`), never by module names.

:func:`atomic_numbers` is the cheap first pass of the local descriptors: it
reads only the atomic numbers (views of the caller's arrays for ASE and
frames), so that the positions of a long list of structures are copied one
batch at a time, by :func:`to_frames` on a slice with ``start`` set to the
slice's first index.

Validation errors are raised as :class:`ValueError` (or :class:`TypeError` for
objects of the wrong kind) and name the index of the offending structure.
"""

import math
import sys
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Frame",
    "is_structure",
    "to_frames",
    "structure_arrays",
    "as_structure_list",
    "atomic_numbers",
    "atomic_number",
    "atomic_symbol",
]

# Smallest volume (Å^3), area (Å^2) or length (Å) a periodic cell may span.
_DEGENERATE_CELL_TOL = 1e-8


@dataclass(frozen=True)
class Frame:
    """One atomic structure as plain arrays.

    Parameters
    ----------
    positions : ndarray of shape (n_atoms, 3), float64
        Cartesian positions in Å.
    numbers : ndarray of shape (n_atoms,), int64
        Atomic numbers.
    cell : ndarray of shape (3, 3), float64
        Lattice vectors as rows, in Å.  Rows along non-periodic axes may be
        zero.
    pbc : ndarray of shape (3,), bool
        Periodicity along each lattice vector.
    """

    positions: np.ndarray
    numbers: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray

    def __len__(self):
        return len(self.numbers)


def _frame_from_pymatgen(obj):
    numbers = np.array([site.specie.Z for site in obj], dtype=np.int64)
    positions = np.array(obj.cart_coords, dtype=np.float64).reshape(-1, 3)
    lattice = getattr(obj, "lattice", None)
    if lattice is None:  # Molecule / IMolecule
        cell = np.zeros((3, 3))
        pbc = np.zeros(3, dtype=bool)
    else:
        cell = np.array(lattice.matrix, dtype=np.float64)
        pbc = np.array(getattr(lattice, "pbc", (True, True, True)), dtype=bool)
    return positions, numbers, cell, pbc


def _structure_kind(obj):
    """"frame", "ase", "pymatgen" or None (not a structure), decided by ``isinstance``.

    The classes are looked up in ``sys.modules`` instead of imported: an
    instance of ``ase.Atoms`` or of pymatgen's ``SiteCollection`` (the base
    of Structure, IStructure, Molecule, IMolecule) implies its module is
    loaded, and a check should not import pymatgen (about a second).
    """
    if isinstance(obj, Frame):
        return "frame"
    ase_atoms = sys.modules.get("ase.atoms")
    if ase_atoms is not None and isinstance(obj, ase_atoms.Atoms):
        return "ase"
    pymatgen_structure = sys.modules.get("pymatgen.core.structure")
    if pymatgen_structure is not None and isinstance(obj, pymatgen_structure.SiteCollection):
        return "pymatgen"
    return None


def is_structure(obj):
    """Whether ``obj`` is one structure skdesc reads.

    True for :class:`Frame`, :class:`ase.Atoms` and pymatgen's Structure,
    IStructure, Molecule and IMolecule, and for every subclass of them (e.g.
    pymatgen's ``MSONAtoms``, returned by ``AseAtomsAdaptor.get_atoms``).

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return _structure_kind(obj) is not None


def _kind(obj, index):
    """Which adapter reads ``obj``: "frame", "ase" or "pymatgen"."""
    kind = _structure_kind(obj)
    if kind is not None:
        return kind
    raise TypeError(
        f"structure {index}: expected ase.Atoms, a pymatgen Structure/IStructure/"
        f"Molecule or skdesc.Frame, got {type(obj).__name__}"
    )


def _disordered_error(index):
    return ValueError(
        f"structure {index}: pymatgen object with disordered (partial "
        "occupancy) sites is not supported; order the structure first"
    )


def _input_arrays(obj, index):
    """(positions, numbers, cell, pbc) of one input object, without copying where possible."""
    kind = _kind(obj, index)
    if kind == "frame":
        return np.asarray(obj.positions), np.asarray(obj.numbers), np.asarray(obj.cell), np.asarray(obj.pbc)
    if kind == "ase":
        return obj.positions, obj.numbers, obj.cell.array, obj.pbc
    try:
        return _frame_from_pymatgen(obj)
    except AttributeError as exc:  # e.g. a disordered site without .specie
        raise _disordered_error(index) from exc


def _numbers(obj, index):
    """Atomic numbers of one input object, without copying its positions."""
    kind = _kind(obj, index)
    if kind == "frame":
        return np.asarray(obj.numbers)
    if kind == "ase":
        return obj.numbers  # the Atoms' own array, not a copy
    try:
        return np.array([site.specie.Z for site in obj], dtype=np.int64)
    except AttributeError as exc:
        raise _disordered_error(index) from exc


def _empty_error(index):
    return ValueError(f"structure {index}: it has no atoms; remove it from the input")


def _numbers_error(index):
    return ValueError(f"structure {index}: atomic numbers must lie in 1..118")


def _periodic_size(cell, pbc):
    """Volume, area or length (Å^3, Å^2, Å) spanned by the periodic cell vectors.

    Plain float arithmetic on nested lists: for one 3x3 cell it is several
    times faster than numpy's det/cross, and it runs once per structure.
    """
    vectors = [row for row, periodic in zip(cell, pbc) if periodic]
    if len(vectors) == 1:
        (x, y, z), = vectors
        return math.sqrt(x * x + y * y + z * z)
    (ax, ay, az), (bx, by, bz) = vectors[:2]
    cx, cy, cz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    if len(vectors) == 2:
        return math.sqrt(cx * cx + cy * cy + cz * cz)
    x, y, z = vectors[2]
    return abs(cx * x + cy * y + cz * z)


def _check_layout(positions, numbers, cell, pbc, index):
    """Per-structure checks that cost no numpy call: size, shapes, periodic cell."""
    if positions.shape[0] == 0:
        raise _empty_error(index)
    if positions.shape != (numbers.shape[0], 3):
        raise ValueError(f"structure {index}: positions must have shape (n_atoms, 3)")
    periodic = pbc.tolist()
    if any(periodic):
        vectors = cell.tolist()
        if not all(math.isfinite(x) for row in vectors for x in row):
            raise ValueError(f"structure {index}: the cell contains NaN or inf")
        if _periodic_size(vectors, periodic) < _DEGENERATE_CELL_TOL:
            raise ValueError(
                f"structure {index}: the cell has zero volume along its periodic axes "
                f"(pbc={periodic}); set a valid cell or turn periodicity off"
            )


def _check_values(positions, numbers, index):
    """Finite positions and atomic numbers in 1..118, for one structure or several concatenated."""
    # a finite sum means finite entries (one reduction for the common case);
    # an overflowing sum of finite values falls through to the exact test
    if not np.isfinite(positions.sum()) and not np.all(np.isfinite(positions)):
        bad = np.flatnonzero(~np.all(np.isfinite(positions), axis=1))
        raise ValueError(
            f"structure {index}: positions of atoms {bad[:10].tolist()} are NaN or inf; "
            "fix or drop this structure"
        )
    if numbers.min() < 1 or numbers.max() > 118:
        raise _numbers_error(index)


def structure_arrays(X, start=0):
    """Validated arrays of several structures, concatenated (one copy of the input data).

    The conversion behind :func:`to_frames` and the descriptors' batches: one
    concatenated copy and value checks once for all structures (for small
    molecules, numpy calls per structure cost as much as a fast descriptor).

    Parameters
    ----------
    X : structure or sequence of structures
        As for :func:`to_frames`.
    start : int, default=0
        Index of ``X[0]`` in a longer input, for error messages.

    Returns
    -------
    positions : ndarray of shape (n_atoms, 3), float64, Å
    numbers : ndarray of shape (n_atoms,), int64
    offsets : ndarray of shape (n_structures + 1,), int64
        Atoms of structure ``s`` are rows ``offsets[s]:offsets[s + 1]``.
    cells : ndarray of shape (n_structures, 3, 3), float64, Å
    pbc : ndarray of shape (n_structures, 3), bool

    Raises
    ------
    TypeError, ValueError
        As :func:`to_frames`, naming the structure.
    """
    parts = []
    for index, obj in enumerate(as_structure_list(X), start=start):
        arrays = _input_arrays(obj, index)
        _check_layout(*arrays, index)
        parts.append(arrays)
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([part[0].shape[0] for part in parts], out=offsets[1:])
    positions = np.concatenate([part[0] for part in parts], dtype=np.float64)
    numbers = np.concatenate([part[1] for part in parts]).astype(np.int64, copy=False)
    cells = np.array([part[2] for part in parts], dtype=np.float64)
    pbc = np.array([part[3] for part in parts], dtype=bool)
    try:
        _check_values(positions, numbers, None)
    except ValueError:
        # name the first failing structure
        for s in range(len(parts)):
            a, b = offsets[s], offsets[s + 1]
            _check_values(positions[a:b], numbers[a:b], start + s)
        raise  # unreachable: some structure fails on its own
    return positions, numbers, offsets, cells, pbc


def as_structure_list(X):
    """Return the input structures as a list (references to the caller's objects).

    Parameters
    ----------
    X : structure or sequence of structures
        As for :func:`to_frames`; a single structure becomes a list of one.

    Returns
    -------
    structures : list
        The input objects themselves, neither copied nor checked one by one.

    Raises
    ------
    TypeError
        If ``X`` is a numeric array or not iterable.
    ValueError
        If ``X`` holds no structure.
    """
    if is_structure(X):
        return [X]
    if isinstance(X, np.ndarray) and X.dtype != object:
        raise TypeError(
            "expected a list of structures (ase.Atoms, pymatgen Structure/Molecule), "
            f"got a numeric array of shape {X.shape}"
        )
    try:
        structures = list(X)
    except TypeError:
        raise TypeError(
            f"expected a structure or a list of structures, got {type(X).__name__}"
        ) from None
    if len(structures) == 0:
        raise ValueError("no structures given: pass at least one structure")
    return structures


def atomic_numbers(X):
    """Atomic numbers of all structures, without copying their positions.

    The cheap first pass over a long input: it checks the type of every
    structure, that none is empty and that the atomic numbers lie in 1..118;
    positions and cells are checked by :func:`to_frames`.

    Parameters
    ----------
    X : structure or sequence of structures
        As for :func:`to_frames`.

    Returns
    -------
    numbers : ndarray of shape (n_atoms_total,), int64
        Atomic numbers of all atoms, structures in input order.
    offsets : ndarray of shape (n_structures + 1,), int64
        Atoms ``offsets[s]:offsets[s + 1]`` belong to structure ``s``.

    Raises
    ------
    TypeError, ValueError
        As :func:`to_frames` for the checks above, naming the structure index.
    """
    parts = [_numbers(obj, index) for index, obj in enumerate(as_structure_list(X))]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(part) for part in parts], out=offsets[1:])
    empty = np.flatnonzero(offsets[1:] == offsets[:-1])
    if empty.size:
        raise _empty_error(int(empty[0]))
    numbers = np.concatenate(parts).astype(np.int64, copy=False)
    outside = np.flatnonzero((numbers < 1) | (numbers > 118))
    if outside.size:
        raise _numbers_error(int(np.searchsorted(offsets, outside[0], side="right")) - 1)
    return numbers, offsets


def to_frames(X, start=0):
    """Convert input structures to a list of validated :class:`Frame` objects.

    Parameters
    ----------
    X : structure or sequence of structures
        ``ase.Atoms``, pymatgen ``Structure``/``IStructure``/``Molecule``,
        :class:`Frame`, or a list/tuple/array mixing them.  A single structure
        is treated as a list of one.
    start : int, default=0
        Index of ``X[0]`` in a longer input: error messages name structure
        ``start + i``, so that a slice converted on its own still points at
        the right structure of the whole input.

    Returns
    -------
    frames : list of Frame
        Copies of the input data (float64 positions and cell in Å, int64
        atomic numbers, boolean pbc), as views into the arrays of
        :func:`structure_arrays`.

    Raises
    ------
    TypeError
        If an element is not a supported structure type.
    ValueError
        If a structure is empty, has NaN/inf positions, or a periodic cell with
        zero volume.  The message names the index of the structure.
    """
    positions, numbers, offsets, cells, pbc = structure_arrays(X, start=start)
    return [
        Frame(positions[a:b], numbers[a:b], cells[s], pbc[s])
        for s, (a, b) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist()))
    ]


def atomic_number(species):
    """Return the atomic number of a symbol (``"Ti"``) or number (``22``)."""
    from ase.data import atomic_numbers

    if isinstance(species, (int, np.integer)) and not isinstance(species, bool):
        if 1 <= int(species) <= 118:
            return int(species)
        raise ValueError(f"atomic number {species} is outside 1..118")
    if isinstance(species, str) and species in atomic_numbers and species != "X":
        return int(atomic_numbers[species])
    raise ValueError(f"unknown element {species!r}: use a chemical symbol such as 'Ti' or an atomic number")


def atomic_symbol(number):
    """Return the chemical symbol of an atomic number."""
    from ase.data import chemical_symbols

    return chemical_symbols[int(number)]
