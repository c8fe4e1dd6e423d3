"""Shared machinery of the local atomic environment descriptors (LAEDs)."""

import numbers
from abc import abstractmethod

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from sklearn.base import BaseEstimator, TransformerMixin

from .._config import check_count, check_memory, get_config
from .._parallel import ordered_map
from .._progress import progress
from .._validation import FittedParamsMixin, check_n_jobs, check_shape, check_verbose
from ..atomic import AtomicFeatures
from ..derivatives import AtomicDerivatives
from ..elements import resolve_species
from ..neighbors import estimate_neighbors, guarded_neighbor_list
from ..structures import as_structure_list, atomic_numbers, atomic_symbol, structure_arrays
from ._kernels.pairs import count_pairs

__all__ = ["LocalDescriptor"]


def _check_positive(value, name, *, integer=False, allow_zero=False):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")


class FrameBatch:
    """Several frames flattened into contiguous arrays for one numba call.

    Atoms whose element has no entry in ``lookup`` (``-1``) are left out, as
    centres and as neighbours (``handle_unknown="ignore"``).

    Attributes
    ----------
    positions : (n_atoms, 3) float64
    numbers : (n_atoms,) int64
    species_index : (n_atoms,) int64, position of each atom's element in ``species_``
    offsets : (n_frames + 1,) int64
    cells : (n_frames, 3, 3) float64
    pbc : (n_frames, 3) bool
    """

    def __init__(self, frames, lookup):
        offsets = np.zeros(len(frames) + 1, dtype=np.int64)
        np.cumsum([len(f) for f in frames], out=offsets[1:])
        self._set(
            np.concatenate([f.positions for f in frames]),
            np.concatenate([f.numbers for f in frames]),
            offsets,
            np.stack([f.cell for f in frames]),
            np.stack([f.pbc for f in frames]),
            lookup,
        )

    @classmethod
    def from_structures(cls, structures, start, lookup):
        """Batch of input structures, validated (``start``: index of the first, for errors)."""
        batch = cls.__new__(cls)
        batch._set(*structure_arrays(structures, start=start), lookup)
        return batch

    def _set(self, positions, numbers, offsets, cells, pbc, lookup):
        self.offsets = offsets
        self.positions = np.ascontiguousarray(positions, dtype=np.float64)
        self.numbers = numbers
        self.species_index = np.ascontiguousarray(lookup[self.numbers])
        known = self.species_index >= 0
        if not known.all():
            np.cumsum(np.add.reduceat(known, self.offsets[:-1], dtype=np.int64), out=self.offsets[1:])
            self.positions = self.positions[known]
            self.numbers = self.numbers[known]
            self.species_index = self.species_index[known]
        self.cells = np.ascontiguousarray(cells, dtype=np.float64)
        self.pbc = np.ascontiguousarray(pbc, dtype=bool)


class LocalDescriptor(FittedParamsMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class of per-atom descriptors: structures in, :class:`AtomicFeatures` out.

    Subclasses implement ``_validate_hyperparameters``, ``_n_features``,
    ``_feature_names`` and ``_compute_batch``; this class handles input
    conversion and validation, the element order, unknown elements, overlap
    checks, parallel batching over structures and progress reporting.

    Common parameters (documented in each subclass): ``species``,
    ``min_distance``, ``handle_unknown``, ``n_jobs``, ``verbose``.
    """

    _parameter_constraints = {}

    # ---------------------------------------------------------------- hooks
    @abstractmethod
    def _validate_hyperparameters(self):
        """Check the constructor arguments; raise ValueError/TypeError."""

    def _prepare(self):
        """Set derived fitted state once ``species_`` is known (hook, optional)."""

    @abstractmethod
    def _n_features(self):
        """Number of per-atom features (after ``species_`` is known)."""

    @abstractmethod
    def _feature_names(self):
        """List of ``n_features_out_`` readable names."""

    @abstractmethod
    def _compute_batch(self, batch, out=None):
        """Return (values (n_atoms, n_features), min_distance per frame).

        When the class sets ``_writes_into_output = True`` and the output is
        dense, ``out`` is the batch's (n_atoms, n_features) slice of the final
        array: the subclass fills it and returns it, which saves a copy and
        the page faults of a temporary.
        """

    _writes_into_output = False

    def _compute_batch_derivatives(self, batch):
        """Values and position derivatives of a batch (hook, optional).

        Returns
        -------
        values, shortest
            As ``_compute_batch`` (the values must be identical to it).
        pair_offsets : (n_atoms + 1,) int64
            CSR pointer of the (centre, atom) pairs by centre (batch rows).
        atom : (n_pairs,) int64
            Batch row of the moved atom of each pair.
        dvalues : (n_pairs, 3, n_features) float64
            ``d x_centre / d r_atom``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement position derivatives")

    def _resource_cutoffs(self):
        """Cutoffs the resource guards estimate the work from (hook; ``None``: no guard).

        Returns
        -------
        dict
            ``cutoff`` (Å, of the neighbour list) and ``cutoff_name`` (the
            parameter that sets it); for angular terms also ``angular`` (Å,
            ``None`` without them) and ``angular_name``; ``scratch``: bytes a
            centre holds per pair of its neighbours (0 when angles are not
            stored).
        """
        return None

    # ---------------------------------------------------------- estimator API
    def _validate_common(self):
        _check_positive(self.min_distance, "min_distance", allow_zero=True)
        if self.handle_unknown not in ("error", "ignore"):
            raise ValueError(f"handle_unknown must be 'error' or 'ignore', got {self.handle_unknown!r}")
        check_n_jobs(self.n_jobs)
        check_verbose(self.verbose)

    def fit(self, X, y=None):
        """Learn the element order from the training structures.

        Parameters
        ----------
        X : structure or list of structures
            ``ase.Atoms``, pymatgen ``Structure``/``IStructure``/``Molecule``.
        y : ignored

        Returns
        -------
        self
        """
        structures = as_structure_list(X)
        numbers, offsets = atomic_numbers(structures)
        for a, b in self._batches(np.diff(offsets), 1):
            structure_arrays(structures[a:b], start=a)  # validate, one batch of copies at a time
        self._fit(numbers, offsets)
        return self

    def _fit(self, numbers, offsets):
        self._forget_fit_params()
        self._validate_common()
        self._validate_hyperparameters()
        self.species_ = resolve_species(self.species, np.unique(numbers))
        if self.species is not None:
            self._check_unknown(numbers, offsets, self.species_, "species")
        self._prepare()
        self.n_features_out_ = self._n_features()
        self._record_fit_params()

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X`` and return its per-atom descriptors (converts ``X`` once)."""
        structures = as_structure_list(X)
        numbers, offsets = atomic_numbers(structures)
        self._fit(numbers, offsets)
        return self._transform_structures(structures, numbers, offsets)

    def transform(self, X):
        """Compute the descriptor of every atom of every structure.

        Parameters
        ----------
        X : structure or list of structures

        Returns
        -------
        AtomicFeatures
            ``n_features_out_`` values per atom, structures in input order.

        Raises
        ------
        ValueError
            For invalid structures (the message names the structure index),
            atoms closer than ``min_distance`` and, with
            ``handle_unknown="error"``, elements not seen in ``fit``.
        """
        self._check_fitted("species_")
        structures = as_structure_list(X)
        return self._transform_structures(structures, *atomic_numbers(structures))

    def transform_with_derivatives(self, X):
        """Per-atom descriptors and their derivatives w.r.t. all atomic positions.

        Parameters
        ----------
        X : structure or list of structures

        Returns
        -------
        features : AtomicFeatures
            Equal to ``transform(X)``.
        derivatives : AtomicDerivatives
            ``d x_centre / d r_atom`` for every centre and every atom of the same
            structure within the cutoff (periodic images summed), in feature
            units per Å.
        """
        self._check_fitted("species_")
        structures = as_structure_list(X)
        return self._transform_structures(structures, *atomic_numbers(structures), derivatives=True)

    def derivatives(self, X):
        """Derivatives of the per-atom descriptors only; see :meth:`transform_with_derivatives`."""
        return self.transform_with_derivatives(X)[1]

    def get_feature_names_out(self, input_features=None):
        """Names of the per-atom features, ndarray of str."""
        self._check_fitted("species_")
        return np.asarray(self._feature_names(), dtype=object)

    def __init_subclass__(cls, **kwargs):
        # per-atom output is AtomicFeatures, never a table with one row per sample:
        # keep scikit-learn from wrapping transform/fit_transform in subclasses too
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)

    def set_output(self, *, transform=None):
        """Accept scikit-learn's output configuration; per-atom output stays ``AtomicFeatures``.

        The rows of a local descriptor's output are atoms, not the samples
        (structures) that scikit-learn's containers index, so ``transform``
        always returns :class:`~skdesc.AtomicFeatures` (use its
        ``to_pandas()`` for a DataFrame with a (structure, atom) index).  The
        method exists so that ``Pipeline.set_output(transform="pandas")``
        works: the pooling step after the descriptor returns the DataFrame.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None
            Stored; ``None`` leaves the configuration unchanged.

        Returns
        -------
        self
        """
        if transform is None:
            return self
        if transform not in ("default", "pandas", "polars"):
            raise ValueError(f"transform must be 'default', 'pandas' or 'polars', got {transform!r}")
        self._sklearn_output_config = {"transform": transform}
        return self

    def get_number_of_features(self):
        """Length of the per-atom vector (dscribe's name for ``n_features_out_``)."""
        self._check_fitted("species_")
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _check_unknown(numbers, offsets, species, where):
        known = np.zeros(119, dtype=bool)
        known[list(species)] = True
        unknown = np.flatnonzero(~known[numbers])
        if unknown.size:
            index = int(np.searchsorted(offsets, unknown[0], side="right")) - 1
            own = numbers[offsets[index] : offsets[index + 1]]
            names = sorted({atomic_symbol(z) for z in own[~known[own]]})
            raise ValueError(
                f"structure {index} contains elements {names} that are not in the "
                f"{where} {[atomic_symbol(z) for z in species]}; refit with these "
                "elements in `species`, or set handle_unknown='ignore' to drop such atoms"
            )

    def _drop_unknown(self, numbers, offsets):
        """Atomic numbers and offsets of the atoms of fitted elements only."""
        known = np.zeros(119, dtype=bool)
        known[list(self.species_)] = True
        keep = known[numbers]
        counts = np.add.reduceat(keep, offsets[:-1], dtype=np.int64)
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            raise ValueError(
                f"structure {int(empty[0])} has no atom of the fitted elements "
                f"{[atomic_symbol(z) for z in self.species_]}"
            )
        kept_offsets = np.zeros_like(offsets)
        np.cumsum(counts, out=kept_offsets[1:])
        return numbers[keep], kept_offsets

    @staticmethod
    def _batches(n_atoms, n_jobs):
        """Spans (start, stop) of structures per batch, from the atoms per structure."""
        # at least four batches per worker for load balance, at most atoms_per_batch atoms each
        target = min(get_config()["atoms_per_batch"], max(256, int(np.sum(n_atoms)) // (4 * n_jobs)))
        bounds = [0]
        atoms = 0
        for index, count in enumerate(np.asarray(n_atoms).tolist()):
            atoms += count
            if atoms >= target:
                bounds.append(index + 1)
                atoms = 0
        if bounds[-1] != len(n_atoms):
            bounds.append(len(n_atoms))
        return list(zip(bounds[:-1], bounds[1:]))

    def _transform_structures(self, structures, numbers, offsets, derivatives=False):
        """Descriptors of ``structures``, given their atomic numbers and offsets.

        Only the atomic numbers of the whole input are held; each batch copies
        and validates its own structures in the worker (``_frame_batch``), so
        memory is the output plus the batches in flight.
        """
        if self.handle_unknown == "ignore":
            numbers, offsets = self._drop_unknown(numbers, offsets)
        else:
            self._check_unknown(numbers, offsets, self.species_, "elements seen in fit")
        lookup = np.full(119, -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))

        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        spans = self._batches(np.diff(offsets), cpu_count() if n_jobs < 0 else n_jobs)
        values = None
        if derivatives:
            calls = [(self._run_batch_derivatives, (structures[a:b], a, lookup)) for a, b in spans]
        elif self._writes_into_output and not getattr(self, "sparse", False):
            self._check_output_size(offsets)
            values = np.empty((offsets[-1], self.n_features_out_))
            calls = [
                (self._run_batch, (structures[a:b], a, lookup, values[offsets[a] : offsets[b]])) for a, b in spans
            ]
        else:
            if not getattr(self, "sparse", False):
                self._check_output_size(offsets)
            calls = [(self._run_batch, (structures[a:b], a, lookup)) for a, b in spans]
        # batches arrive in order; dense results are copied into one preallocated
        # array so that peak memory is the output plus the batches in flight
        results = ordered_map(calls, n_jobs)
        if self.verbose:
            results = progress(results, len(spans), type(self).__name__, unit="batch")
        sparse_parts = []
        shortest = np.empty(len(structures))
        derivative_parts = []
        for result, (a, b) in zip(results, spans):
            part, part_shortest = result[:2]
            check_shape(part, (offsets[b] - offsets[a], self.n_features_out_), f"{type(self).__name__} batch output")
            shortest[a:b] = part_shortest
            if derivatives:
                derivative_parts.append(self._batch_derivatives(result[2:], offsets[a : b + 1]))
            if sp.issparse(part):
                sparse_parts.append(part)
                continue
            if values is None:
                values = np.empty((offsets[-1], part.shape[1]))
            if part.base is not values:
                values[offsets[a] : offsets[b]] = part
        if sparse_parts:
            values = sp.vstack(sparse_parts, format="csr")
        # coincident atoms (distance 0) overlap even with min_distance=0
        too_close = np.flatnonzero((shortest < self.min_distance) | (shortest <= 0.0))
        if too_close.size:
            s = int(too_close[0])
            if shortest[s] <= 0.0:
                raise ValueError(
                    f"structure {s}: two atoms are 0 Å apart (periodic images included): "
                    "they coincide, which no descriptor can describe; remove the duplicate atom"
                )
            raise ValueError(
                f"structure {s}: two atoms are {shortest[s]:.4g} Å apart (periodic images "
                f"included), closer than min_distance={self.min_distance} Å; fix the "
                "structure or lower min_distance"
            )
        features = AtomicFeatures(values, offsets, numbers, self._feature_names(), self.species_)
        if derivatives:
            return features, AtomicDerivatives.concatenate(derivative_parts)
        return features

    @staticmethod
    def _frame_batch(structures, start, lookup):
        """Copy, validate and flatten one batch of structures (``start``: index of the first)."""
        return FrameBatch.from_structures(structures, start, lookup)

    # ------------------------------------------------------ resource guards
    def _check_output_size(self, offsets):
        """Refuse a dense output larger than ``max_memory`` before allocating it."""
        n_atoms = int(offsets[-1])
        check_memory(
            8.0 * n_atoms * self.n_features_out_,
            f"the output of {type(self).__name__} ({n_atoms} atoms x {self.n_features_out_} features, float64)",
            "transform fewer structures per call or choose parameters with fewer features",
        )

    def _check_batch_resources(self, batch, start, derivatives=False):
        """Estimate a batch's neighbour lists, angle work and derivatives; raise before allocating.

        The estimates come from :func:`~skdesc.neighbors.estimate_neighbors`
        (density times cutoff sphere, one pass over the positions), so a
        structure that would take minutes or exhaust memory is refused in
        microseconds.  Limits: ``skdesc.get_config()``.
        """
        spec = self._resource_cutoffs()
        if spec is None:
            return
        name = type(self).__name__
        counts = np.diff(batch.offsets).astype(np.float64)
        cutoff = float(spec["cutoff"])
        per_atom, images, width = estimate_neighbors(batch.positions, batch.offsets, batch.cells, batch.pbc, cutoff)
        pairs = counts * per_atom
        cell_hint = (
            "check the cell (in a cell much narrower than the cutoff every atom meets its own "
            "images many times over)"
        )

        def where(s, k, cut):
            narrow = f", narrowest periodic cell width {width[s]:.3g} Å" if np.isfinite(width[s]) else ""
            return (
                f"{name}: structure {start + s} ({int(counts[s])} atoms{narrow}) at a {cut:g} Å cutoff, "
                f"about {k:.3g} neighbours per atom"
            )

        def guard(s, check, *args):
            # atoms overlapping (their own images) in a tiny cell are the usual cause of a
            # huge estimate: report that, as the descriptor would, rather than the size
            try:
                check(*args)
            except ValueError:
                self._raise_if_overlapping(batch, s, start)
                raise

        s = int(np.argmax(pairs))
        guard(
            s,
            check_count,
            pairs[s] + images[s],
            "max_pairs",
            f"{where(s, per_atom[s], cutoff)}: neighbour-list entries (pairs plus periodic images)",
            f"lower {spec['cutoff_name']} or {cell_hint}",
        )
        # 64 bytes per pair (index, vector, distance, shift), 112 per generated image
        list_bytes = 64.0 * pairs + 112.0 * images
        s = int(np.argmax(list_bytes))
        guard(
            s,
            check_memory,
            list_bytes[s],
            f"{where(s, per_atom[s], cutoff)}: the neighbour list",
            f"lower {spec['cutoff_name']} or {cell_hint}",
        )
        angular = spec.get("angular")
        if angular is not None:
            angular = float(angular)
            k_ang = per_atom * (angular / cutoff) ** 3 if angular < cutoff else per_atom
            triplets = counts * 0.5 * k_ang * k_ang
            s = int(np.argmax(triplets))
            guard(
                s,
                check_count,
                triplets[s],
                "max_triplets",
                f"{where(s, k_ang[s], angular)}: neighbour pairs for the angular terms",
                f"lower {spec['angular_name']} or {cell_hint}",
            )
            if spec.get("scratch", 0):
                s = int(np.argmax(k_ang))
                guard(
                    s,
                    check_memory,
                    spec["scratch"] * 0.5 * k_ang[s] ** 2,
                    f"{where(s, k_ang[s], angular)}: the angles of one centre",
                    f"lower {spec['angular_name']} or {cell_hint}",
                )
        if derivatives:
            # one (3, n_features) block per (centre, atom) pair within the cutoff
            blocks = np.sum(counts * np.minimum(per_atom + 1.0, counts))
            check_memory(
                blocks * (24.0 * self.n_features_out_ + 8.0),
                f"{name}: the position derivatives of structures {start}-{start + len(counts) - 1} "
                f"(about {blocks:.3g} (centre, atom) pairs x 3 x {self.n_features_out_} features)",
                f"lower {spec['cutoff_name']}, choose parameters with fewer features or pass fewer "
                "structures per call",
            )

    def _raise_if_overlapping(self, batch, s, start):
        """Raise the ``min_distance`` error if structure ``s`` of the batch has overlapping atoms (cheaply)."""
        min_distance = float(self.min_distance)
        if not min_distance > 0:
            return
        a, b = batch.offsets[s], batch.offsets[s + 1]
        cell, pbc = batch.cells[s], batch.pbc[s]
        # an atom is |a_k| from its own image along a periodic axis k
        lengths = np.linalg.norm(cell, axis=1)[pbc]
        shortest = float(lengths.min()) if lengths.size else np.inf
        if not shortest < min_distance:
            positions = np.ascontiguousarray(batch.positions[a:b])
            _, images, _ = estimate_neighbors(positions, np.array([0, b - a]), cell[None], pbc[None], min_distance)
            if images[0] <= get_config()["max_pairs"]:
                shortest = guarded_neighbor_list(positions, cell, pbc, min_distance, 0.0)[-1]
        if shortest < min_distance:
            raise ValueError(
                f"structure {start + s}: two atoms are {shortest:.4g} Å apart (periodic images "
                f"included), closer than min_distance={self.min_distance} Å; fix the "
                "structure or lower min_distance"
            )

    def _run_batch(self, structures, start, lookup, out=None):
        batch = self._frame_batch(structures, start, lookup)
        self._check_batch_resources(batch, start)
        if out is None:
            return self._compute_batch(batch)
        return self._compute_batch(batch, out=out)

    def _pair_offsets(self, batch, cutoff):
        """CSR pointer, by centre, of a batch's (centre, atom) derivative pairs within ``cutoff`` (Å)."""
        counts = count_pairs(batch.positions, batch.offsets, batch.cells, batch.pbc, cutoff, float(self.min_distance))
        pair_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=pair_offsets[1:])
        return pair_offsets

    def _run_batch_derivatives(self, structures, start, lookup):
        batch = self._frame_batch(structures, start, lookup)
        self._check_batch_resources(batch, start, derivatives=True)
        return self._compute_batch_derivatives(batch)

    @staticmethod
    def _batch_derivatives(parts, offsets):
        """AtomicDerivatives of one batch (rows local to the batch) from the hook's arrays."""
        pair_offsets, atom, dvalues = parts
        center = np.repeat(np.arange(pair_offsets.size - 1, dtype=np.int64), np.diff(pair_offsets))
        return AtomicDerivatives(center, atom, dvalues, pair_offsets, offsets - offsets[0])
