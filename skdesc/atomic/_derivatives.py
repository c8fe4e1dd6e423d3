"""AtomicDerivatives: derivatives of per-atom descriptors w.r.t. atomic positions."""

import numbers

import numpy as np

__all__ = ["AtomicDerivatives"]


class AtomicDerivatives:
    """Derivatives of every atom's descriptor with respect to atomic positions.

    A centre's descriptor depends only on the atoms inside its cutoff sphere,
    so the Jacobian of a structure is sparse.  It is stored as a list of
    (centre, atom) pairs in CSR order by centre: pairs
    ``pair_offsets[c]:pair_offsets[c + 1]`` belong to centre row ``c``.  Each
    centre lists itself, and the periodic images of one atom are summed into
    a single pair.  Memory is ``n_pairs * 3 * n_features * 8`` bytes, i.e.
    it grows with the number of neighbours per atom, not with the square of
    the number of atoms.

    Parameters
    ----------
    center : array-like of shape (n_pairs,)
        Global row (in ``AtomicFeatures.values``) of the centre atom.
    atom : array-like of shape (n_pairs,)
        Global row of the atom being moved (same structure as the centre).
    values : array-like of shape (n_pairs, 3, n_features)
        ``d x_center / d r_atom`` along x, y, z, in feature units per Å.
    pair_offsets : array-like of shape (n_atoms_total + 1,)
        CSR pointer by centre.
    offsets : array-like of shape (n_structures + 1,)
        Atom rows of each structure, as in :class:`~skdesc.AtomicFeatures`.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import ChebyshevLAED
    >>> laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)
    >>> features, derivatives = laed.fit(molecule("H2O")).transform_with_derivatives(molecule("H2O"))
    >>> derivatives.to_dense(0).shape
    (3, 3, 3, 16)
    """

    def __init__(self, center, atom, values, pair_offsets, offsets):
        self.center = np.ascontiguousarray(center, dtype=np.int64)
        self.atom = np.ascontiguousarray(atom, dtype=np.int64)
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.pair_offsets = np.ascontiguousarray(pair_offsets, dtype=np.int64)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        n_pairs = self.center.shape[0]
        if self.values.ndim != 3 or self.values.shape[:2] != (n_pairs, 3):
            raise ValueError(f"values must have shape (n_pairs={n_pairs}, 3, n_features), got {self.values.shape}")
        if self.atom.shape != (n_pairs,):
            raise ValueError("atom must have one entry per pair")
        if self.offsets.ndim != 1 or self.offsets[0] != 0 or self.pair_offsets.shape != (self.offsets[-1] + 1,):
            raise ValueError("pair_offsets must have n_atoms_total + 1 entries and offsets must start at 0")
        if self.pair_offsets[0] != 0 or self.pair_offsets[-1] != n_pairs:
            raise ValueError("pair_offsets must start at 0 and end at the number of pairs")

    # ------------------------------------------------------------------ shape
    @property
    def n_structures(self):
        return self.offsets.size - 1

    @property
    def n_atoms(self):
        return int(self.offsets[-1])

    @property
    def n_pairs(self):
        return self.center.shape[0]

    @property
    def n_features(self):
        return self.values.shape[2]

    def __len__(self):
        return self.n_structures

    def __repr__(self):
        return (
            f"AtomicDerivatives(n_structures={self.n_structures}, n_atoms={self.n_atoms}, "
            f"n_pairs={self.n_pairs}, n_features={self.n_features})"
        )

    # --------------------------------------------------------------- access
    def _pair_span(self, s):
        a, b = self.offsets[s], self.offsets[s + 1]
        return self.pair_offsets[a], self.pair_offsets[b]

    def to_dense(self, s):
        """Dense Jacobian of structure ``s``.

        Returns
        -------
        ndarray of shape (n_atoms_s, n_atoms_s, 3, n_features)
            ``[centre, atom, xyz, feature]``, dscribe's order; atom indices are
            local to the structure.
        """
        s = range(self.n_structures)[s]
        a, b = self.offsets[s], self.offsets[s + 1]
        p, q = self._pair_span(s)
        out = np.zeros((b - a, b - a, 3, self.n_features))
        out[self.center[p:q] - a, self.atom[p:q] - a] = self.values[p:q]
        return out

    def __getitem__(self, key):
        """Select structures (int, slice, boolean mask or index array) into a new object."""
        if isinstance(key, numbers.Integral):
            key = np.array([range(self.n_structures)[key]])
        elif isinstance(key, slice):
            key = np.arange(self.n_structures)[key]
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (self.n_structures,):
                    raise IndexError("boolean mask must have one entry per structure")
                key = np.flatnonzero(key)
            key = np.where(key < 0, key + self.n_structures, key).astype(np.int64)
            if np.any((key < 0) | (key >= self.n_structures)):
                raise IndexError("structure index out of range")
        centers, atoms, values, counts, sizes = [], [], [], [], []
        new_start = 0
        for s in key:
            a, b = self.offsets[s], self.offsets[s + 1]
            p, q = self._pair_span(s)
            shift = new_start - a
            centers.append(self.center[p:q] + shift)
            atoms.append(self.atom[p:q] + shift)
            values.append(self.values[p:q])
            counts.append(np.diff(self.pair_offsets[a : b + 1]))
            sizes.append(b - a)
            new_start += b - a
        offsets = np.zeros(len(key) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        pair_offsets = np.zeros(offsets[-1] + 1, dtype=np.int64)
        if counts:
            np.cumsum(np.concatenate(counts), out=pair_offsets[1:])
        cat = np.concatenate
        n = self.n_features
        return AtomicDerivatives(
            cat(centers) if centers else np.zeros(0, np.int64),
            cat(atoms) if atoms else np.zeros(0, np.int64),
            cat(values) if values else np.zeros((0, 3, n)),
            pair_offsets,
            offsets,
        )

    @classmethod
    def concatenate(cls, parts):
        """Stack several ``AtomicDerivatives`` with equal feature counts along structures."""
        parts = list(parts)
        if not parts:
            raise ValueError("nothing to concatenate")
        atom_shift = np.cumsum([0] + [p.n_atoms for p in parts[:-1]])
        pair_shift = np.cumsum([0] + [p.n_pairs for p in parts[:-1]])
        offsets = np.concatenate([[0]] + [p.offsets[1:] + s for p, s in zip(parts, atom_shift)])
        pair_offsets = np.concatenate([[0]] + [p.pair_offsets[1:] + s for p, s in zip(parts, pair_shift)])
        return cls(
            np.concatenate([p.center + s for p, s in zip(parts, atom_shift)]),
            np.concatenate([p.atom + s for p, s in zip(parts, atom_shift)]),
            np.concatenate([p.values for p in parts]),
            pair_offsets,
            offsets,
        )

    def __eq__(self, other):
        if not isinstance(other, AtomicDerivatives):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in ("center", "atom", "values", "pair_offsets", "offsets")
        )

    __hash__ = None
