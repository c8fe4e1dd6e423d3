"""Shared machinery of the structure-level distribution functions (one row per structure)."""

from numbers import Integral, Real

import numpy as np
from joblib import cpu_count
from sklearn.base import BaseEstimator, TransformerMixin

from .._config import check_memory
from .._parallel import ordered_map
from .._param_validation import N_JOBS, VERBOSE, Interval, validate_params
from .._progress import progress
from .._validation import FittedParamsMixin, check_shape
from ..local.base import FrameBatch, LocalDescriptor
from ..neighbors import batch_neighbor_lists
from ..structures import as_structure_list, atomic_numbers, structure_arrays

__all__ = ["DistributionFunction"]


def _label(value):
    """A bin edge for a feature name: 6 significant digits, no float noise (0.30000000000000004 -> 0.3)."""
    return f"{value:.6g}"


class DistributionFunction(FittedParamsMixin, TransformerMixin, BaseEstimator):
    """Base of the structure-level histograms: structures in, one row per structure out.

    A subclass declares ``_range_name``/``_upper()`` (the histogram range),
    ``_cutoff()`` (the neighbour-list cutoff, Å), ``_setup()`` (the feature
    names, once ``species_`` is known) and ``_fill(batch, neighbors, out)``
    (one kernel call plus the normalisation into ``out``, the batch's rows of
    the output).  The neighbour stage, the overlap check and the resource
    guards are those of the local descriptors (one neighbour list per
    structure, :class:`~skdesc.local.LocalDescriptor`).
    """

    _parameter_constraints = {
        "n_bins": [None, Interval(Integral, 1, None, closed="left")],
        "bin_width": [None, Interval(Real, 0, None, closed="neither")],
        "smearing": [Interval(Real, 0, None, closed="left")],
        "min_distance": [Interval(Real, 0, None, closed="left")],
        "n_jobs": N_JOBS,
        "verbose": VERBOSE,
    }

    #: the parameter and unit of the histogram range (for messages)
    _range_name = "r_cut"
    _unit = "Å"

    # the resource guards and checks of the local descriptors, as methods of these estimators
    _check_batch_resources = LocalDescriptor._check_batch_resources
    _raise_if_overlapping = LocalDescriptor._raise_if_overlapping
    _check_overlaps = LocalDescriptor._check_overlaps
    _check_unknown = staticmethod(LocalDescriptor._check_unknown)
    _drop_unknown = LocalDescriptor._drop_unknown
    _batches = staticmethod(LocalDescriptor._batches)

    handle_unknown = "error"  # overridden by a parameter where species matter

    # ---------------------------------------------------------------- hooks
    def _upper(self):
        """Upper end of the histogram range (lower end 0)."""
        return float(self.r_cut)

    def _cutoff(self):
        """Neighbour-list cutoff in Å."""
        return float(self.r_cut)

    def _learn_species(self, numbers, offsets):
        """``species_`` (default: one placeholder group for all elements)."""
        return (0,)

    def _lookup(self):
        """Row of every atomic number in ``species_`` (-1: unknown)."""
        return np.zeros(119, dtype=np.int64)

    # --------------------------------------------------------------- binning
    def _bins(self):
        """(n_bins, width) from ``n_bins`` or ``bin_width``."""
        upper = self._upper()
        if self.n_bins is not None:
            return int(self.n_bins), upper / int(self.n_bins)
        if self.bin_width is None:
            raise ValueError("set n_bins or bin_width: one of them must be given (n_bins wins when both are)")
        width = float(self.bin_width)
        n = int(round(upper / width))
        if n < 1 or abs(n * width - upper) > 1e-6 * upper:
            raise ValueError(
                f"{self._range_name} ({upper:g} {self._unit}) must be a whole multiple of bin_width "
                f"({width:g} {self._unit}); choose another bin_width or set n_bins"
            )
        return n, width

    def _check_params(self):
        self._bins()

    @property
    def bin_edges_(self):
        """Bin edges, ndarray of shape (n_bins + 1,), in Å (degrees for angles)."""
        self._check_fitted("n_bins_")
        return np.arange(self.n_bins_ + 1) * self.bin_width_

    # ---------------------------------------------------------- estimator API
    def fit(self, X, y=None):
        """Check the parameters and learn the element order (for the partial functions).

        Parameters
        ----------
        X : structure or list of structures
            ``ase.Atoms``, pymatgen ``Structure``/``IStructure``/``Molecule`` or
            :class:`~skdesc.Frame`.
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
        self.species_ = self._learn_species(numbers, offsets)
        self.n_bins_, self.bin_width_ = self._bins()
        self.feature_names_out_ = np.asarray(self._setup(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        self._record_fit_params()

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X`` and return its rows (converts ``X`` once)."""
        structures = as_structure_list(X)
        numbers, offsets = atomic_numbers(structures)
        self._fit(numbers, offsets)
        return self._transform_structures(structures, numbers, offsets)

    def transform(self, X):
        """The distribution function of every structure.

        Parameters
        ----------
        X : structure or list of structures

        Returns
        -------
        ndarray of shape (n_structures, n_features_out_), float64

        Raises
        ------
        ValueError
            For invalid structures (naming the structure), atoms closer than
            ``min_distance`` and, for the partial RDF with
            ``handle_unknown="error"``, elements not seen in ``fit``.
        """
        self._check_fitted("species_")
        structures = as_structure_list(X)
        return self._transform_structures(structures, *atomic_numbers(structures))

    def get_feature_names_out(self, input_features=None):
        """Names of the bins, ndarray of str."""
        self._check_fitted("species_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags

    # --------------------------------------------------------------- helpers
    def _neighbor_request(self):
        # the resource guards read the cutoff from here (the LocalDescriptor interface)
        from ..local.base import NeighborRequest

        return NeighborRequest(cutoff=self._cutoff(), cutoff_name="r_cut", **self._angular_request())

    def _angular_request(self):
        return {}

    def _transform_structures(self, structures, numbers, offsets):
        if self.handle_unknown == "ignore":
            numbers, offsets = self._drop_unknown(numbers, offsets)
        elif self.species_ != (0,):
            self._check_unknown(numbers, offsets, self.species_, "elements seen in fit")
        n_structures = offsets.size - 1
        check_memory(
            8.0 * n_structures * self.n_features_out_,
            f"the output of {type(self).__name__} ({n_structures} structures x {self.n_features_out_} features)",
            "transform fewer structures per call or choose fewer bins",
        )
        out = np.zeros((n_structures, self.n_features_out_))
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        spans = self._batches(np.diff(offsets), cpu_count() if n_jobs < 0 else n_jobs)
        lookup = self._lookup()
        calls = [(self._run_batch, (structures[a:b], a, lookup, out[a:b])) for a, b in spans]
        results = ordered_map(calls, n_jobs)
        if self.verbose:
            results = progress(results, len(spans), type(self).__name__, unit="batch")
        for part, (a, b) in zip(results, spans):
            out[a:b] = part  # a process backend returns copies
        return out

    def _run_batch(self, structures, start, lookup, out):
        batch = FrameBatch.from_structures(structures, start, lookup)
        expected = self._check_batch_resources(batch, start)
        neighbors = batch_neighbor_lists(
            batch.positions, batch.offsets, batch.cells, batch.pbc, self._cutoff(), float(self.min_distance), 0,
            expected,
        )
        self._check_overlaps(neighbors.shortest, start)
        check_shape(out, (len(batch.offsets) - 1, self.n_features_out_), f"{type(self).__name__} output")
        if self._bins() != (self.n_bins_, self.bin_width_) or len(self._setup()) != self.n_features_out_:
            raise ValueError(f"internal shape check failed: {type(self).__name__}'s parameters changed; call fit again")
        self._fill(batch, neighbors, out, start)
        return out
