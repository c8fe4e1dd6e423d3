"""Shared machinery of the local atomic environment descriptors (LAEDs)."""

import inspect
from abc import ABC, abstractmethod
from numbers import Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from sklearn.base import BaseEstimator, TransformerMixin

from .._config import check_count, check_memory, get_config
from .._parallel import ordered_map
from .._progress import progress
from .._param_validation import N_JOBS, VERBOSE, Interval, Options, validate_params
from .._validation import FittedParamsMixin, check_shape
from ..atomic import AtomicFeatures
from ..atomic import AtomicDerivatives
from ..elements import SPECIES_CONSTRAINT, resolve_species
from ..neighbors import batch_neighbor_lists, derivative_pairs, estimate_neighbors, guarded_neighbor_list
from ..structures import as_structure_list, atomic_numbers, atomic_symbol, structure_arrays

__all__ = ["LocalDescriptor", "NeighborRequest", "all_descriptors"]


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


class NeighborRequest(NamedTuple):
    """What a descriptor needs from the neighbour stage (and what the resource guards estimate).

    Attributes
    ----------
    cutoff : float
        Neighbour-list cutoff, in Å.
    cutoff_name : str
        The parameter that sets it (named in resource errors).
    angular : float or None
        Cutoff of the angular (three-body) terms, in Å; ``None`` without them.
    angular_name : str or None
        The parameter that sets ``angular``.
    scratch : float
        Bytes a centre holds per pair of its angular neighbours (0 when angles
        are not stored).
    half_below : int
        Structures of at most this many atoms get half lists (each pair once);
        0: full lists only.  Derivatives always use full lists.
    """

    cutoff: float
    cutoff_name: str
    angular: float | None = None
    angular_name: str | None = None
    scratch: float = 0.0
    half_below: int = 0


def all_descriptors():
    """The public local descriptors, by class name (a registry, like scikit-learn's ``all_estimators``).

    Every concrete subclass of :class:`LocalDescriptor` whose name is public
    is found, the built-in ones and any defined by the user; the CLI, the
    matminer citations, the common tests and the API docs read this registry,
    so a new descriptor is listed everywhere without editing them.

    Returns
    -------
    dict of str to type
        Sorted by name.
    """
    from .. import local  # noqa: F401  (imports every built-in descriptor)

    found = {}
    stack = list(LocalDescriptor.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_") and not inspect.isabstract(cls):
            found[cls.__name__] = cls
    return dict(sorted(found.items()))


class LocalDescriptor(ABC, FittedParamsMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class of per-atom descriptors: structures in, :class:`AtomicFeatures` out.

    A descriptor declares (see ``docs/developing.md``):

    * ``_parameter_constraints`` and ``_check_params()``: its parameters;
    * ``_setup()``: derived fitted state once ``species_`` is known; returns
      the feature names;
    * ``_neighbor_request()``: the cutoff(s) of its neighbour lists;
    * ``_compute(batch, neighbors, values, pairs=None, dvalues=None)``: one
      kernel call that fills the values and, when ``pairs`` is given, the
      position derivatives;
    * ``_output_dtype()`` (optional): the dtype of the per-atom values
      (default float64);
    * ``_supports_gradients`` and ``_citations`` (class attributes; the
      citations are keys of ``skdesc._bibliography.CITATIONS``, override
      ``_citation_keys()`` when they depend on the parameters);
    * ``_cli_name`` (class attribute): its ``--descriptor`` name on the command
      line (default: the class name in lower case).

    This class handles input conversion and validation, the element order,
    unknown elements, the neighbour stage (one search per structure), overlap
    checks, resource guards, parallel batching and progress reporting.

    Common parameters (documented in each subclass): ``species``,
    ``min_distance``, ``handle_unknown``, ``n_jobs``, ``verbose``.
    """

    _parameter_constraints = {
        "species": SPECIES_CONSTRAINT,
        "min_distance": [Interval(Real, 0, None, closed="left")],
        "handle_unknown": [Options(str, ("error", "ignore"))],
        "n_jobs": N_JOBS,
        "verbose": VERBOSE,
    }

    #: Whether ``_compute`` can fill position derivatives.
    _supports_gradients = False

    #: Whether ``_compute`` writes every entry of ``values`` (not only adds to it): the dense
    #: output is then not zeroed first, which for wide outputs (SOAP) was a serial memset of the
    #: whole array in the calling thread.  Other descriptors get their rows zeroed by the worker.
    _fills_output = False

    #: Bibliography keys (``skdesc._bibliography.CITATIONS``) of the references to cite.
    _citations = ()

    #: Name on the command line (``skdesc featurize --descriptor NAME``); None: the class name in lower case.
    _cli_name = None

    def _citation_keys(self):
        """Bibliography keys for this descriptor with its current parameters."""
        return tuple(self._citations)

    def __init_subclass__(cls, **kwargs):
        # per-atom output is AtomicFeatures, never a table with one row per sample:
        # keep scikit-learn from wrapping transform/fit_transform in subclasses too
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)

    # ---------------------------------------------------------------- hooks
    def _check_params(self):
        """Checks across parameters that ``_parameter_constraints`` cannot express (hook, optional).

        Runs in ``fit`` after the declarative checks; raise ValueError/TypeError.
        """

    @abstractmethod
    def _setup(self):
        """Set derived fitted state once ``species_`` is known; return the list of feature names."""

    @abstractmethod
    def _neighbor_request(self):
        """The :class:`NeighborRequest` of the fitted descriptor."""

    @abstractmethod
    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        """Fill one batch's values (and, with ``pairs``, derivatives) in place.

        Parameters
        ----------
        batch : FrameBatch
            The batch's atoms (positions, ``species_index``, offsets, cells).
        neighbors : skdesc.neighbors.BatchNeighbors
            The batch's neighbour lists (cutoff ``_neighbor_request().cutoff``).
        values : ndarray of shape (n_atoms, n_features_out_), ``_output_dtype()``, zeroed
        pairs : skdesc.neighbors.DerivativePairs or None
            The derivative layout, when gradients are asked for.
        dvalues : ndarray of shape (n_pairs, 3, n_features_out_), float64, zeroed, or None
            ``d x_centre / d r_atom`` in feature units per Å.
        """

    def _sparse_output(self):
        """Whether ``transform`` returns sparse per-atom values (hook; default False)."""
        return False

    def _output_dtype(self):
        """dtype of the per-atom values ``transform`` returns (hook; default float64).

        The base class allocates the output (dense or per sparse batch) with it,
        sizes the ``max_memory`` check by its bytes per value and hands
        ``_compute`` arrays of it; a descriptor that overrides it must write
        that dtype (derivatives stay float64).
        """
        return np.dtype(np.float64)

    # ---------------------------------------------------------- estimator API
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
        validate_params(self)
        self._check_params()
        self.species_ = resolve_species(self.species, np.unique(numbers))
        if self.species is not None:
            self._check_unknown(numbers, offsets, self.species_, "species")
        self.feature_names_out_ = np.asarray(self._setup(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
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
        if not self._supports_gradients:
            smooth = ", ".join(name for name, cls in all_descriptors().items() if cls._supports_gradients)
            raise NotImplementedError(
                f"{type(self).__name__} has no position derivatives (it is not a smooth function of the "
                f"positions); these descriptors have them: {smooth}"
            )
        structures = as_structure_list(X)
        return self._transform_structures(structures, *atomic_numbers(structures), derivatives=True)

    def derivatives(self, X):
        """Derivatives of the per-atom descriptors only; see :meth:`transform_with_derivatives`."""
        return self.transform_with_derivatives(X)[1]

    def get_feature_names_out(self, input_features=None):
        """Names of the per-atom features, ndarray of str."""
        self._check_fitted("species_")
        return self.feature_names_out_.copy()

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
        sparse = self._sparse_output()
        values = None
        if not sparse:
            self._check_output_size(offsets)
            # dense batches are written straight into the final array: peak
            # memory is the output plus the batches in flight; each worker
            # zeroes its own rows when the kernel adds to them (_run_batch)
            values = np.empty((offsets[-1], self.n_features_out_), dtype=self._output_dtype())
        calls = [
            (
                self._run_batch,
                (structures[a:b], a, lookup, None if sparse else values[offsets[a] : offsets[b]], derivatives),
            )
            for a, b in spans
        ]
        results = ordered_map(calls, n_jobs)
        if self.verbose:
            results = progress(results, len(spans), type(self).__name__, unit="batch")
        sparse_parts = []
        derivative_parts = []
        for (part, gradient), (a, b) in zip(results, spans):
            check_shape(part, (offsets[b] - offsets[a], self.n_features_out_), f"{type(self).__name__} batch output")
            if derivatives:
                derivative_parts.append(self._batch_derivatives(gradient, offsets[a : b + 1]))
            if sparse:
                sparse_parts.append(sp.csr_matrix(part))
        if sparse:
            values = sp.vstack(sparse_parts, format="csr") if sparse_parts else sp.csr_matrix((0, self.n_features_out_))
        features = AtomicFeatures(values, offsets, numbers, list(self.feature_names_out_), self.species_)
        if derivatives:
            return features, AtomicDerivatives.concatenate(derivative_parts)
        return features

    def _run_batch(self, structures, start, lookup, out, derivatives):
        """Values (and derivatives) of one batch: validate, guard, neighbour stage, overlap check, kernel.

        ``out`` is the batch's slice of the dense output, not initialised
        (``None``: a new array, for sparse output).  Returns ``(values, (pairs, dvalues))``.
        """
        batch = self._frame_batch(structures, start, lookup)
        expected = self._check_batch_resources(batch, start, derivatives=derivatives)
        request = self._neighbor_request()
        neighbors = batch_neighbor_lists(
            batch.positions,
            batch.offsets,
            batch.cells,
            batch.pbc,
            request.cutoff,
            float(self.min_distance),
            0 if derivatives else request.half_below,
            expected,
        )
        self._check_overlaps(neighbors.shortest, start)
        dtype = self._output_dtype()
        values = np.zeros((len(batch.species_index), self.n_features_out_), dtype=dtype) if out is None else out
        check_shape(values, (len(batch.species_index), self.n_features_out_), f"{type(self).__name__} output")
        if values.dtype != dtype:
            raise ValueError(f"internal check failed: {type(self).__name__} output is {values.dtype}, expected {dtype}")
        if out is not None and not self._fills_output:
            values.fill(0.0)
        if not derivatives:
            self._compute(batch, neighbors, values)
            return values, None
        pairs = derivative_pairs(neighbors)
        dvalues = np.zeros((pairs.atom.shape[0], 3, self.n_features_out_))
        self._compute(batch, neighbors, values, pairs, dvalues)
        return values, (pairs, dvalues)

    def _check_overlaps(self, shortest, start):
        """Raise for the first structure with atoms closer than ``min_distance`` (coincident: always)."""
        too_close = np.flatnonzero((shortest < self.min_distance) | (shortest <= 0.0))
        if not too_close.size:
            return
        s = int(too_close[0])
        if shortest[s] <= 0.0:
            raise ValueError(
                f"structure {start + s}: two atoms are 0 Å apart (periodic images included): "
                "they coincide, which no descriptor can describe; remove the duplicate atom"
            )
        raise ValueError(
            f"structure {start + s}: two atoms are {shortest[s]:.4g} Å apart (periodic images "
            f"included), closer than min_distance={self.min_distance} Å; fix the "
            "structure or lower min_distance"
        )

    @staticmethod
    def _frame_batch(structures, start, lookup):
        """Copy, validate and flatten one batch of structures (``start``: index of the first)."""
        return FrameBatch.from_structures(structures, start, lookup)

    # ------------------------------------------------------ resource guards
    def _check_output_size(self, offsets):
        """Refuse a dense output larger than ``max_memory`` before allocating it."""
        n_atoms = int(offsets[-1])
        dtype = self._output_dtype()
        check_memory(
            float(dtype.itemsize) * n_atoms * self.n_features_out_,
            f"the output of {type(self).__name__} ({n_atoms} atoms x {self.n_features_out_} features, {dtype.name})",
            "transform fewer structures per call or choose parameters with fewer features",
        )

    def _check_batch_resources(self, batch, start, derivatives=False):
        """Estimate a batch's neighbour lists, angle work and derivatives; raise before allocating.

        The estimates come from :func:`~skdesc.neighbors.estimate_neighbors`
        (density times cutoff sphere, one pass over the positions), so a
        structure that would take minutes or exhaust memory is refused in
        microseconds.  Limits: ``skdesc.get_config()``.  Returns the expected
        neighbours per atom of each structure (for the lists' buffers).
        """
        spec = self._neighbor_request()._asdict()
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
        angular = spec["angular"]
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
            if spec["scratch"]:
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
        return per_atom

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
                shortest = guarded_neighbor_list(positions, cell, pbc, min_distance, 0.0, False)[-1]
        if shortest < min_distance:
            raise ValueError(
                f"structure {start + s}: two atoms are {shortest:.4g} Å apart (periodic images "
                f"included), closer than min_distance={self.min_distance} Å; fix the "
                "structure or lower min_distance"
            )

    @staticmethod
    def _batch_derivatives(gradient, offsets):
        """AtomicDerivatives of one batch (rows local to the batch) from the stage's pairs and the kernel's output."""
        pairs, dvalues = gradient
        center = np.repeat(np.arange(pairs.first.size - 1, dtype=np.int64), np.diff(pairs.first))
        return AtomicDerivatives(center, pairs.atom, dvalues, pairs.first, offsets - offsets[0])
