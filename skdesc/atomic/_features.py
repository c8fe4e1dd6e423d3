"""AtomicFeatures: the ragged per-atom container passed between estimators."""

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["AtomicFeatures"]


def _value_dtype(dtype):
    """float32 and float64 values are kept as they are; any other type becomes float64."""
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _as_integers(values, name):
    """int64 copy of integer (or integral float) ``values``; ValueError for anything else."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return np.ascontiguousarray(array, dtype=np.int64)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return np.ascontiguousarray(array, dtype=np.int64)
    bad = array.ravel()[:5].tolist() if array.dtype.kind in "fc" else array.dtype
    raise ValueError(f"{name} must be integers, got {bad}")


class AtomicFeatures:
    """Per-atom descriptor values of a set of structures.

    A local descriptor (``ChebyshevLAED``, ``SOAP``, ...) returns one row per
    atom; structures have different numbers of atoms, so the rows of all
    structures are stacked and ``offsets`` marks where each structure starts.
    The object behaves like a sequence of structures: ``len()`` is the number
    of structures and indexing with an integer, a slice, a boolean mask or an
    array of structure indices returns a new ``AtomicFeatures``.  This lets
    scikit-learn's cross-validation split it directly
    (``cross_val_score(make_pipeline(MomentGSD(), Ridge()), atomic, y)``).

    Parameters
    ----------
    values : array-like or scipy.sparse matrix of shape (n_atoms_total, n_features)
        Per-atom descriptor values (sparse input is kept as CSR).  float32
        values (e.g. ``SOAP(dtype="float32")``) stay float32, anything else
        becomes float64; the pooling steps, kernels and models compute in
        float64 either way.
    offsets : array-like of shape (n_structures + 1,)
        Rows ``offsets[s]:offsets[s + 1]`` belong to structure ``s``;
        ``offsets[0] == 0`` and ``offsets[-1] == n_atoms_total``.
    numbers : array-like of shape (n_atoms_total,)
        Atomic number of each atom.
    feature_names : sequence of str, optional
        Name of each column; defaults to ``x0, x1, ...``.
    species : sequence of int, optional
        Element order of the descriptor that produced the values (atomic
        numbers).  Pooling estimators use it as their default element order.
        Defaults to the sorted unique atomic numbers.

    Attributes
    ----------
    n_structures : int
    n_atoms : int
        Total number of atoms.
    n_features : int
    shape : tuple
        ``(n_structures, n_features)``: the number of samples scikit-learn
        sees, and the per-atom feature dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from skdesc import AtomicFeatures
    >>> af = AtomicFeatures(np.ones((5, 2)), offsets=[0, 2, 5], numbers=[1, 8, 1, 1, 8])
    >>> len(af), af.n_atoms, af[1].n_atoms
    (2, 5, 3)
    """

    def __init__(self, values, offsets, numbers, feature_names=None, species=None):
        if sp.issparse(values):
            values = sp.csr_matrix(values, dtype=_value_dtype(values.dtype))
        else:
            values = np.asarray(values)
            values = np.ascontiguousarray(values, dtype=_value_dtype(values.dtype))
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D (n_atoms_total, n_features), got shape {values.shape}")
        offsets = _as_integers(offsets, "offsets")
        numbers_ = _as_integers(numbers, "numbers")
        if numbers_.size and numbers_.min() < 0:
            raise ValueError(
                "numbers must be atomic numbers >= 0 (0 is the placeholder element of plain arrays), "
                f"got {int(numbers_.min())}"
            )
        if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != values.shape[0]:
            raise ValueError("offsets must start at 0 and end at the number of rows of values")
        if np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        if numbers_.shape != (values.shape[0],):
            raise ValueError("numbers must have one entry per row of values")
        if feature_names is None:
            feature_names = [f"x{k}" for k in range(values.shape[1])]
        feature_names = np.asarray(feature_names, dtype=object)
        if feature_names.shape != (values.shape[1],):
            raise ValueError("feature_names must have one entry per column of values")
        if species is None:
            species = np.unique(numbers_)
        self.values = values
        self.offsets = offsets
        self.numbers = numbers_
        self.feature_names = feature_names
        self.species = tuple(int(z) for z in species)

    # ------------------------------------------------------------------ shape
    @property
    def n_structures(self):
        return self.offsets.size - 1

    @property
    def n_atoms(self):
        return self.values.shape[0]

    @property
    def n_features(self):
        return self.values.shape[1]

    @property
    def shape(self):
        return (self.n_structures, self.n_features)

    @property
    def n_atoms_per_structure(self):
        """Number of atoms of each structure, shape (n_structures,)."""
        return np.diff(self.offsets)

    @property
    def structure_index(self):
        """Structure index of each atom, shape (n_atoms_total,)."""
        return np.repeat(np.arange(self.n_structures), self.n_atoms_per_structure)

    def __len__(self):
        return self.n_structures

    def __repr__(self):
        return (
            f"AtomicFeatures(n_structures={self.n_structures}, n_atoms={self.n_atoms}, "
            f"n_features={self.n_features}, species={list(self.species)})"
        )

    # --------------------------------------------------------------- indexing
    def structure(self, index):
        """Per-atom values of one structure, shape (n_atoms_s, n_features) (a view)."""
        index = range(self.n_structures)[index]
        return self.values[self.offsets[index] : self.offsets[index + 1]]

    def __getitem__(self, key):
        # scikit-learn's _safe_indexing calls X[key, ...] on objects with .shape
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError("AtomicFeatures is indexed by structure only")
        if isinstance(key, numbers.Integral):
            index = range(self.n_structures)[key]
            key = np.array([index])
        elif isinstance(key, slice):
            key = np.arange(self.n_structures)[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (self.n_structures,):
                    raise IndexError("boolean mask must have one entry per structure")
                key = np.flatnonzero(key)
            elif key.size == 0:
                key = key.astype(np.int64)
            elif not np.issubdtype(key.dtype, np.integer):
                raise IndexError("AtomicFeatures accepts integer or boolean structure indices")
            key = np.where(key < 0, key + self.n_structures, key)
            if np.any((key < 0) | (key >= self.n_structures)):
                raise IndexError("structure index out of range")
        counts = self.n_atoms_per_structure[key]
        new_offsets = np.zeros(key.size + 1, dtype=np.int64)
        np.cumsum(counts, out=new_offsets[1:])
        # gather the atom rows of the selected structures in the requested order
        starts = self.offsets[key]
        rows = np.repeat(starts - new_offsets[:-1], counts) + np.arange(new_offsets[-1])
        return AtomicFeatures(
            self.values[rows],
            new_offsets,
            self.numbers[rows],
            self.feature_names,
            self.species,
        )

    # ------------------------------------------------------------ conversions
    def __array__(self, dtype=None, copy=None):
        # Without this, NumPy treats the object as a sequence of structures and
        # fails with "setting an array element with a sequence" when a model
        # that needs one row per structure receives per-atom rows.
        raise TypeError(
            f"{self!r} holds one row per atom, not one per structure, and cannot become a "
            "2-D sample array: add a pooling step such as MomentGSD or MeanPooling after the "
            "local descriptor, e.g. make_pipeline(ChebyshevLAED(), MomentGSD(), Ridge()); "
            "use .values for the per-atom array itself"
        )

    @classmethod
    def from_arrays(cls, values, structures=None, *, numbers=None, offsets=None, feature_names=None, species=None):
        """Per-atom features computed elsewhere (your own model, a machine-learned potential), checked.

        The way into skdesc for any per-atom array: the embeddings of a
        message-passing potential (e.g. MACE's ``calc.get_descriptors(atoms)``),
        charges, site energies, another library's descriptor.  The result
        feeds pooling (``MomentGSD``, ``MeanPooling``, ...), the structure
        kernels, information imbalance and the selectors like the output of a
        skdesc descriptor.

        Parameters
        ----------
        values : sequence of array-like, or array-like of shape (n_atoms_total, n_features)
            One array per structure, of shape ``(n_atoms_s, n_features)``
            (``(n_atoms_s,)`` is one feature), rows in the structure's atom
            order; or all rows stacked, with ``structures`` or ``offsets``
            saying where each structure starts.  Anything ``numpy.asarray``
            reads (a torch tensor: ``t.detach().cpu().numpy()``).
        structures : structure or sequence of structures, optional
            The structures the rows describe (``ase.Atoms``, pymatgen
            ``Structure``/``Molecule``): their atom counts are checked against
            the rows and their atomic numbers label the rows.
        numbers : sequence of array-like, or array-like of shape (n_atoms_total,), optional
            The atomic number of each row (without ``structures``; with them,
            checked against them).  Without both, every row gets the
            placeholder element 0.
        offsets : array-like of shape (n_structures + 1,), optional
            Structure boundaries of stacked ``values`` (without ``structures``
            or per-structure arrays; checked against them otherwise).
        feature_names : sequence of str, optional
            One per column; default ``x0, x1, ...``.
        species : sequence of int, optional
            Element order for the pooling steps; default the sorted atomic
            numbers present.

        Returns
        -------
        AtomicFeatures

        Raises
        ------
        ValueError
            A structure's row count differs from its number of atoms, the
            feature counts differ between structures, ``numbers`` or
            ``offsets`` disagree with the structures, or a value is NaN, inf
            or complex (the message names the structure and atom).
        TypeError
            ``values`` is not numeric.

        Examples
        --------
        >>> import numpy as np
        >>> from ase.build import bulk, molecule
        >>> from skdesc import AtomicFeatures
        >>> structures = [bulk("NaCl", "rocksalt", a=5.64), molecule("H2O")]
        >>> embeddings = [np.ones((len(atoms), 4)) for atoms in structures]
        >>> AtomicFeatures.from_arrays(embeddings, structures)
        AtomicFeatures(n_structures=2, n_atoms=5, n_features=4, species=[1, 8, 11, 17])
        """
        from ..structures import as_structure_list, atomic_numbers

        per_structure = isinstance(values, (list, tuple))
        if per_structure:
            parts = [cls._numeric(part, f"values[{s}]") for s, part in enumerate(values)]
            parts = [part[:, None] if part.ndim == 1 else part for part in parts]
            for s, part in enumerate(parts):
                if part.ndim != 2:
                    raise ValueError(f"values[{s}] must be 1-D or 2-D (n_atoms, n_features), got shape {part.shape}")
                if part.shape[1] != parts[0].shape[1]:
                    raise ValueError(
                        f"values[{s}] has {part.shape[1]} features per atom, values[0] has {parts[0].shape[1]}: "
                        "every structure needs the same columns"
                    )
            if not parts:
                raise ValueError("values holds no structure")
            counts = np.array([len(part) for part in parts], dtype=np.int64)
            stacked = np.concatenate(parts)
        else:
            stacked = cls._numeric(values, "values")
            if stacked.ndim == 1:
                stacked = stacked[:, None]
            if stacked.ndim != 2:
                raise ValueError(f"values must be 2-D (n_atoms_total, n_features), got shape {stacked.shape}")
            counts = None
        given_offsets = None
        if offsets is not None:
            given_offsets = _as_integers(offsets, "offsets")
            if given_offsets.ndim != 1 or given_offsets.size < 1 or given_offsets[0] != 0 or np.any(
                np.diff(given_offsets) < 0
            ):
                raise ValueError("offsets must be non-decreasing and start at 0")
            if counts is not None and not np.array_equal(np.diff(given_offsets), counts):
                raise ValueError("offsets disagree with the lengths of the per-structure arrays in values")
            counts = np.diff(given_offsets)
        z = None
        if structures is not None:
            z, atom_offsets = atomic_numbers(as_structure_list(structures))
            atoms = np.diff(atom_offsets)
            if counts is None:
                counts = atoms
            elif counts.size != atoms.size:
                raise ValueError(f"values describe {counts.size} structures, structures has {atoms.size}")
            bad = np.flatnonzero(counts != atoms)
            if bad.size:
                s = int(bad[0])
                raise ValueError(
                    f"structure {s} has {int(atoms[s])} atoms but {int(counts[s])} rows of values: "
                    "give one row per atom, in the structure's atom order"
                )
        if counts is None:
            if numbers is not None and isinstance(numbers, (list, tuple)) and len(numbers) and np.ndim(numbers[0]) == 1:
                counts = np.array([len(part) for part in numbers], dtype=np.int64)
            else:
                raise ValueError(
                    "stacked values need structures or offsets to know where each structure starts "
                    "(or pass one array per structure)"
                )
        bounds = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=bounds[1:])
        if bounds[-1] != stacked.shape[0]:
            raise ValueError(
                f"values has {stacked.shape[0]} rows but the structures have {int(bounds[-1])} atoms in total"
            )
        if numbers is not None:
            if isinstance(numbers, (list, tuple)) and len(numbers) and np.ndim(numbers[0]) == 1:
                numbers = np.concatenate([np.asarray(part).ravel() for part in numbers])
            given = _as_integers(numbers, "numbers").ravel()
            if given.shape != (stacked.shape[0],):
                raise ValueError(f"numbers has {given.size} entries for {stacked.shape[0]} rows of values")
            if z is not None and not np.array_equal(given, z):
                row = int(np.flatnonzero(given != z)[0])
                s = int(np.searchsorted(bounds, row, side="right")) - 1
                raise ValueError(
                    f"numbers disagree with structure {s}: atom {row - bounds[s]} is element {int(z[row])}, "
                    f"numbers says {int(given[row])}"
                )
            z = given
        if z is None:
            z = np.zeros(stacked.shape[0], dtype=np.int64)
        finite = np.isfinite(stacked)
        if not finite.all():
            row = int(np.flatnonzero(~finite.all(axis=1))[0])
            s = int(np.searchsorted(bounds, row, side="right")) - 1
            column = int(np.flatnonzero(~finite[row])[0])
            raise ValueError(
                f"structure {s}, atom {row - bounds[s]}: feature {column} is {stacked[row, column]}; "
                "per-atom values must be finite"
            )
        return cls(stacked, bounds, z, feature_names, species)

    @staticmethod
    def _numeric(array, name):
        """A float64 (or float32) array of ``array``; TypeError/ValueError for non-numeric or complex input."""
        try:
            raw = np.asarray(array)
        except Exception as error:  # e.g. a torch tensor that requires grad
            raise TypeError(f"{name} could not be read as an array ({error}); pass a NumPy array") from error
        if raw.dtype.kind == "c":
            raise ValueError(f"{name} is complex: pass real per-atom values (e.g. abs or real and imaginary parts)")
        if raw.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be numeric, got dtype {raw.dtype}")
        return np.asarray(raw, dtype=_value_dtype(raw.dtype))

    @classmethod
    def concatenate(cls, parts):
        """Stack several ``AtomicFeatures`` with equal columns along structures."""
        parts = list(parts)
        if not parts:
            raise ValueError("nothing to concatenate")
        stack = sp.vstack if any(sp.issparse(p.values) for p in parts) else np.concatenate
        names = parts[0].feature_names
        for p in parts[1:]:
            if p.n_features != parts[0].n_features or not np.array_equal(p.feature_names, names):
                raise ValueError("AtomicFeatures to concatenate must have the same features")
        counts = np.concatenate([p.n_atoms_per_structure for p in parts])
        offsets = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        species = parts[0].species
        for p in parts[1:]:
            species = species + tuple(z for z in p.species if z not in species)
        return cls(
            stack([p.values for p in parts]),
            offsets,
            np.concatenate([p.numbers for p in parts]),
            names,
            species,
        )

    def to_list(self):
        """Per-structure arrays (views), one of shape (n_atoms_s, n_features) each."""
        return [self.structure(s) for s in range(self.n_structures)]

    def to_pandas(self):
        """The per-atom values as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row per atom, indexed by a ``(structure, atom)`` MultiIndex
            (atom counts from 0 within each structure), with an ``element``
            column (chemical symbol) followed by one column per feature.
            Sparse values become a sparse-backed DataFrame.
        """
        import pandas as pd

        from ..structures import atomic_symbol

        structure = self.structure_index
        atom = np.arange(self.n_atoms) - np.repeat(self.offsets[:-1], self.n_atoms_per_structure)
        index = pd.MultiIndex.from_arrays([structure, atom], names=["structure", "atom"])
        columns = [str(name) for name in self.feature_names]
        if sp.issparse(self.values):
            features = pd.DataFrame.sparse.from_spmatrix(self.values, index=index, columns=columns)
        else:
            features = pd.DataFrame(self.values, index=index, columns=columns)
        symbols = {z: atomic_symbol(z) for z in np.unique(self.numbers).tolist()}
        element = pd.Series([symbols[z] for z in self.numbers.tolist()], index=index, name="element")
        return pd.concat([element, features], axis=1)

    # -------------------------------------------------------------- equality
    def __eq__(self, other):
        if not isinstance(other, AtomicFeatures):
            return NotImplemented
        if sp.issparse(self.values) != sp.issparse(other.values):
            return False
        same_values = (
            (self.values != other.values).nnz == 0 and self.values.shape == other.values.shape
            if sp.issparse(self.values)
            else np.array_equal(self.values, other.values)
        )
        return (
            same_values
            and np.array_equal(self.offsets, other.offsets)
            and np.array_equal(self.numbers, other.numbers)
            and np.array_equal(self.feature_names, other.feature_names)
            and self.species == other.species
        )

    __hash__ = None
