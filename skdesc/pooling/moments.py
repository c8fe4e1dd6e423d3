"""Global moment descriptors (GSDs) of Gharakhanyan et al. (2023).

Notation (Gharakhanyan et al. 2023): a structure has sites ``a`` of element ``A`` with local
descriptors ``x_a`` (length ``d``).  The moments of a set ``{X_i}`` are the
mean and, for ``n >= 2``, ``mu_n = 1/N sum_i (X_i - mean)^n`` (population,
per feature); "up to degree n" stacks ``[mu_1, ..., mu_n]``.

* CED of element A: inner moments ``1..n_in`` over the ``x_a`` of A.
* GSD method i (``n_in = 0``): outer moments ``1..n_out`` over all
  (element-weighted) ``w_A x_a``.
* method ii (``n_out = 0``): the CEDs of all elements of the data set stacked
  in a fixed element order, zeros for elements absent from the structure.
* method iii (both >= 1): outer moments over the (element-weighted) CEDs
  ``w_A CED_A`` of the elements present in the structure.

``Sigma_ijk`` has outer moments up to i, inner up to j, and k = 0
(unweighted), 1 (element-weighted) or 2 (both, concatenated).  The paper's
two largest descriptors are concatenations: ``Sigma_555 = Sigma_552 +
Sigma_502 + Sigma_050`` and ``Sigma_554 = Sigma_552 + Sigma_502``.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from .._config import get_config
from .._parallel import ordered_map
from .._param_validation import N_JOBS, Interval, Options, check_param, validate_params
from .._validation import FittedParamsMixin, check_atomic_features, check_shape
from ..elements import (
    ELEMENT_WEIGHTS_CONSTRAINT,
    SPECIES_CONSTRAINT,
    resolve_element_weights,
    resolve_species,
    warn_zero_weights,
)
from ..structures import atomic_symbol
from . import _moments_kernel as kernel
from ._sigma import _WEIGHTINGS, _check_order, _parse_sigma, _sigma
from .moment_derivatives import moment_gsd_derivatives

__all__ = ["MomentGSD", "gsd_space", "stacked_moments"]

_KINDS = {
    "root": kernel.ROOT,
    "central": kernel.CENTRAL,
    "standardized": kernel.STANDARDIZED,
    "cumulant": kernel.CUMULANT,
}


def stacked_moments(X, order, kind="central"):
    """Moments of the rows of ``X``, per column.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    order : int
        Highest moment (>= 1).
    kind : {"central", "root", "standardized", "cumulant"}, default="central"
        ``central``: [mean, mu_2, ..., mu_order] (population central moments,
        as ``scipy.stats.moment``); ``root``: [mean, std, sign(mu_3)
        |mu_3|^(1/3), ..., sign(mu_n) |mu_n|^(1/n)]; ``standardized``: [mean,
        std, mu_3/std^3, ..., mu_n/std^n] with 0 for constant columns;
        ``cumulant``: [kappa_1, ..., kappa_order] (population cumulants).

    Returns
    -------
    ndarray of shape (order, n_features)
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError("X must be a non-empty 2-D array")
    order = _check_order(order, "order", minimum=1)
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf: moments need finite values")
    out = np.empty((order, X.shape[1]))
    kernel.column_moments(X, X.shape[0], order, _check_kind(kind, "kind"), out)
    _check_overflow(out, kind)
    return out


def _check_overflow(values, kind):
    """Raise if raw moments exceeded the float64 range (the rooted kinds cannot)."""
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"moments={kind!r}: a moment of these values exceeds the float64 range "
            "(about 1.8e308); use moments='root' (the default of MomentGSD, every feature "
            "in the units of the input) or rescale the per-atom features"
        )


def _check_kind(kind, name="moments"):
    return _KINDS[check_param(kind, name, [Options(str, tuple(_KINDS))])]


class MomentGSD(FittedParamsMixin, TransformerMixin, BaseEstimator):
    """Global structure descriptor from statistical moments of per-atom descriptors.

    Turns :class:`~skdesc.AtomicFeatures` (one vector per atom) into one
    vector per structure, following Gharakhanyan, Aalto, Alsoulah, Artrith &
    Urban (2023).  ``MomentGSD(n_out=i, n_in=j, weighting=k)`` is the paper's
    ``Sigma_ijk``; :meth:`from_sigma` builds one from its label, including the
    concatenations ``"555"`` and ``"554"``.

    Parameters
    ----------
    n_out : int, default=1
        Highest outer moment (over atoms, or over element descriptors when
        ``n_in >= 1``).  0 selects method ii (stacked element descriptors).
    n_in : int, default=0
        Highest inner moment over the atoms of each element (0: method i,
        moments over all atoms directly).
    weighting : {"none", "element", "both"} or {0, 1, 2}, default="none"
        ``"none"`` (k = 0): w = 1; ``"element"`` (k = 1): each atom or element
        descriptor is multiplied by its element weight; ``"both"`` (k = 2):
        the unweighted and weighted blocks concatenated.  Method ii
        (``n_out=0``) only exists unweighted.
    element_weights : dict or sequence, default=None
        Element weights: mapping from symbol or atomic number to weight, or one
        weight per element of ``species_``.  ``None`` gives aenet's typespin
        weights in the element order (-1, 1 / -1, 0, 1 / ...; 1 for a single
        element).  A zero weight makes that element vanish from the weighted
        blocks (a warning says so when the zero comes from the default).
    moments : {"root", "central", "standardized", "cumulant"}, default="root"
        What is stacked for each degree n >= 2 (degree 1 is always the mean):

        * ``"root"`` (default): the signed n-th root of the central moment,
          sign(mu_n) |mu_n|^(1/n), so the standard deviation for n = 2 and
          every feature in the units of the per-atom feature.  The outputs
          are finite for any finite input and grow at most linearly with the
          spread of the atoms, so a new structure cannot produce the n-th
          power blow-ups that ruin linear and kernel models fitted on the raw
          moments; ``StandardScaler`` then suffices.
        * ``"central"``: the raw population central moments mu_n (units of
          the feature to the power n) of Gharakhanyan et al. (2023), whose
          tables used them after per-feature normalisation over the data set
          (``information.GSDSpaceAnalysis`` does the same); aenet's moments.
          Raises ``ValueError`` where a moment exceeds the float64 range.
        * ``"standardized"``: standard deviation, then mu_n / sigma^n
          (dimensionless shape; 0 for constant features).
        * ``"cumulant"``: population cumulants kappa_n (range as central).

        For methods ii and iii the same kind is used for the inner and the
        outer moments.
    species : list of str or int, default=None
        Element order of the stacked descriptors and default weights.
        ``None`` takes the order carried by the input ``AtomicFeatures`` (the
        local descriptor's ``species_``), which also covers elements absent
        from the training structures.
    include_atom_moments : bool, default=False
        Append the method-i block ``Sigma_{n_out,0,k}`` (with the same
        weighting).  ``from_sigma("554")`` sets it.
    include_element_stack : bool, default=False
        Append the method-ii block ``Sigma_{0,n_in,0}``.  ``from_sigma("555")``
        sets it together with ``include_atom_moments``.
    n_jobs : int, default=None
        Threads over batches of structures (results do not depend on it).

    Attributes
    ----------
    species_ : tuple of int
        Element order (atomic numbers).
    element_weights_ : ndarray of shape (n_species,)
    n_features_in_ : int
        Per-atom descriptor length ``d``.
    n_features_out_ : int
        Output length.
    complexity_ : float
        ``n_features_out_ / n_features_in_`` (the paper's complexity).
    blocks_ : list of str
        Labels of the concatenated blocks in output order, e.g.
        ``["Sigma550", "Sigma551", "Sigma500", "Sigma501", "Sigma050"]``.

    Notes
    -----
    Output length with ``S`` elements and ``W`` = 2 for ``weighting="both"``
    (else 1): ``d n_out max(1, n_in) W`` for methods i and iii, ``d n_in S``
    for method ii, plus ``d n_out W`` and ``d n_in S`` for the appended
    blocks.  So ``Sigma_555`` has ``d (60 + 5 S)`` features: 75 d for the
    paper's three elements.

    A 2-D array input is read as one atom per structure of a single unnamed
    element (so the estimator also works on plain arrays); pass
    ``AtomicFeatures`` for real structures.

    Examples
    --------
    >>> import numpy as np
    >>> from skdesc import AtomicFeatures, MomentGSD
    >>> af = AtomicFeatures(np.arange(10.0).reshape(5, 2), [0, 2, 5], [1, 8, 1, 1, 8])
    >>> MomentGSD.from_sigma("221").fit_transform(af).shape
    (2, 8)
    """

    _citations = ("gharakhanyan2023",)  # keys of skdesc._bibliography.CITATIONS

    _parameter_constraints = {
        "n_out": [Interval(Integral, 0, None, closed="left")],
        "n_in": [Interval(Integral, 0, None, closed="left")],
        "weighting": [Options(str, ("none", "element", "both")), Options(Integral, (0, 1, 2))],
        "element_weights": ELEMENT_WEIGHTS_CONSTRAINT,
        "moments": [Options(str, tuple(_KINDS))],
        "species": SPECIES_CONSTRAINT,
        "include_atom_moments": ["boolean"],
        "include_element_stack": ["boolean"],
        "n_jobs": N_JOBS,
    }

    def __init__(
        self,
        n_out=1,
        n_in=0,
        weighting="none",
        element_weights=None,
        moments="root",
        species=None,
        include_atom_moments=False,
        include_element_stack=False,
        n_jobs=None,
    ):
        self.n_out = n_out
        self.n_in = n_in
        self.weighting = weighting
        self.element_weights = element_weights
        self.moments = moments
        self.species = species
        self.include_atom_moments = include_atom_moments
        self.include_element_stack = include_element_stack
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ construction
    @classmethod
    def from_sigma(cls, label, **params):
        """Build the paper's ``Sigma_ijk`` descriptor from its label.

        Parameters
        ----------
        label : str or tuple of 3 int
            ``"332"``, ``"Sigma332"``, ``"Σ332"`` or ``(3, 3, 2)``.  k = 0, 1, 2
            as in the paper; k = 5 is ``Sigma_ij2 + Sigma_i02 + Sigma_0j0`` and
            k = 4 is ``Sigma_ij2 + Sigma_i02`` (so ``"555"`` and ``"554"`` are
            the paper's largest descriptors).
        **params
            Other ``MomentGSD`` parameters (``element_weights``, ``moments``...).
        """
        i, j, k = _parse_sigma(label)
        if k in (4, 5):
            if i < 1 or j < 1:
                raise ValueError(f"Sigma{i}{j}{k}: concatenations need outer and inner moments >= 1")
            return cls(
                n_out=i,
                n_in=j,
                weighting="both",
                include_atom_moments=True,
                include_element_stack=(k == 5),
                **params,
            )
        return cls(n_out=i, n_in=j, weighting=k, **params)

    @property
    def sigma_label(self):
        """The paper's label, e.g. ``"Sigma332"`` (a ``+``-joined list for other concatenations)."""
        i, j = int(self.n_out), int(self.n_in)
        k = _WEIGHTINGS.get(self.weighting)
        atom = bool(self.include_atom_moments) and j > 0
        stack = bool(self.include_element_stack) and i > 0
        if k == 2 and atom and stack:
            return _sigma(i, j, 5)
        if k == 2 and atom and not stack:
            return _sigma(i, j, 4)
        parts = [_sigma(i, j, k)]
        if atom:
            parts.append(_sigma(i, 0, k))
        if stack:
            parts.append(_sigma(0, j, 0))
        return "+".join(parts)

    # -------------------------------------------------------------- validation
    def _settings(self):
        """``(n_out, n_in, k, kind)``: the orders, weighting code and moment kind of the (checked) parameters."""
        return int(self.n_out), int(self.n_in), _WEIGHTINGS[self.weighting], _KINDS[self.moments]

    def _check_params(self):
        """Checks across parameters (after ``validate_params``)."""
        n_out, n_in, k, _ = self._settings()
        if n_out == 0 and n_in == 0:
            raise ValueError("n_out and n_in cannot both be 0: set n_out >= 1 or n_in >= 1")
        if n_out == 0 and k != 0:
            raise ValueError(
                "Sigma_0jk with element weighting does not exist (stacked element descriptors "
                "are unweighted): use weighting='none' or n_out >= 1"
            )
        if self.include_atom_moments and (n_in == 0 or n_out == 0):
            raise ValueError("include_atom_moments needs n_out >= 1 and n_in >= 1")
        if self.include_element_stack and (n_in == 0 or n_out == 0):
            raise ValueError("include_element_stack needs n_out >= 1 and n_in >= 1")

    # ---------------------------------------------------------- estimator API
    def fit(self, X, y=None):
        """Learn the element order, weights and dimensions.

        Parameters
        ----------
        X : AtomicFeatures or array-like of shape (n_structures, d)
            Per-atom descriptors (an array is one atom per structure).
        y : ignored

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        self._check_params()
        n_out, n_in, k, _ = self._settings()
        # as before the shared check: finiteness is checked by transform, not fit
        atomic = check_atomic_features(X, estimator=self, reset=True, accept_array=True, ensure_finite=False)
        observed, default_order = atomic.numbers, atomic.species
        if self.species is None:
            self.species_ = tuple(default_order)
            missing = set(np.unique(observed).tolist()) - set(self.species_)
            if missing:
                self.species_ = resolve_species(None, observed)
        else:
            self.species_ = resolve_species(self.species, observed)
        if self.element_weights is None and len(self.species_) == 1:
            self.element_weights_ = np.ones(1)
        else:
            self.element_weights_ = resolve_element_weights(self.element_weights, self.species_)
        if k >= 1 and self.element_weights is None:
            warn_zero_weights(self.element_weights_, self.species_, "MomentGSD")
        self.blocks_ = self._block_labels(n_out, n_in, k)
        self.n_features_out_ = sum(width for _, width in self._block_widths(n_out, n_in, k))
        self.complexity_ = self.n_features_out_ / self.n_features_in_
        self._record_fit_params()
        return self

    def _block_widths(self, n_out, n_in, k):
        d = self.n_features_in_
        n_species = len(self.species_)
        passes = [0, 1] if k == 2 else [k]
        blocks = []
        if n_out == 0:
            return [(_sigma(0, n_in, 0), d * n_in * n_species)]
        if n_in > 0:
            blocks += [(_sigma(n_out, n_in, w), d * n_out * n_in) for w in passes]
        if n_in == 0 or self.include_atom_moments:
            blocks += [(_sigma(n_out, 0, w), d * n_out) for w in passes]
        if self.include_element_stack:
            blocks.append((_sigma(0, n_in, 0), d * n_in * n_species))
        return blocks

    def _block_labels(self, n_out, n_in, k):
        return [label for label, _ in self._block_widths(n_out, n_in, k)]

    def transform(self, X):
        """Compute the global descriptor of each structure.

        Parameters
        ----------
        X : AtomicFeatures or array-like of shape (n_structures, d)

        Returns
        -------
        ndarray of shape (n_structures, n_features_out_)
        """
        self._check_fitted("species_")
        n_out, n_in, k, kind = self._settings()
        atomic = check_atomic_features(X, estimator=self, reset=False, accept_array=True)
        lookup = np.full(max(119, int(atomic.numbers.max(initial=0)) + 1), -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        element = lookup[atomic.numbers]
        if np.any(element < 0):
            unknown = sorted({atomic_symbol(z) for z in atomic.numbers[element < 0]})
            first = int(atomic.structure_index[np.flatnonzero(element < 0)[0]])
            raise ValueError(
                f"structure {first} contains elements {unknown} not seen in fit "
                f"(species_={[atomic_symbol(z) for z in self.species_]}); refit or set `species`"
            )
        empty = np.flatnonzero(atomic.n_atoms_per_structure == 0)
        if empty.size:
            raise ValueError(f"structure {int(empty[0])} has no atoms")

        args = (
            np.ascontiguousarray(self.element_weights_, dtype=np.float64),
            len(self.species_),
            n_out,
            n_in,
            kind,
            k in (0, 2),
            k in (1, 2),
            bool(self.include_atom_moments),
            n_out == 0 or bool(self.include_element_stack),
            self.n_features_out_,
        )
        n = atomic.n_structures
        bounds = list(range(0, n, get_config()["structures_per_batch"])) + [n]
        spans = list(zip(bounds[:-1], bounds[1:]))
        offsets = atomic.offsets

        # the kernel sizes its output from n_features_out_ and trusts these shapes
        width = sum(w for _, w in self._block_widths(n_out, n_in, k))
        if width != self.n_features_out_:
            raise ValueError(
                f"internal shape check failed: the moment blocks have {width} features, "
                f"n_features_out_ is {self.n_features_out_}; call fit again"
            )
        check_shape(self.element_weights_, (len(self.species_),), "element_weights_")
        check_shape(element, (atomic.n_atoms,), "element index")

        def run(lo, hi):
            a, b = offsets[lo], offsets[hi]
            block = atomic.values[a:b]
            block = block.toarray() if sp.issparse(block) else block
            block = np.ascontiguousarray(block, dtype=np.float64)  # float32 values: pooled in float64, per batch
            check_shape(block, (b - a, self.n_features_in_), "per-atom values")
            return kernel.moment_gsd_batch(block, offsets[lo : hi + 1] - a, element[a:b], *args)

        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        if len(spans) == 1 or n_jobs == 1:
            parts = [run(lo, hi) for lo, hi in spans]
        else:
            parts = list(ordered_map([(run, span) for span in spans], n_jobs))
        result = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if kind in (kernel.CENTRAL, kernel.CUMULANT):
            _check_overflow(result, self.moments)
        return result

    def derivatives(self, features, atomic_derivatives):
        """Derivatives of the structure descriptors w.r.t. atomic positions (chain rule).

        Parameters
        ----------
        features : AtomicFeatures
        atomic_derivatives : AtomicDerivatives
            Both from a local descriptor's ``transform_with_derivatives``.

        Returns
        -------
        list of ndarray
            Per structure, shape (n_atoms_s, 3, n_features_out_):
            ``d transform(features)[s, col] / d r_j``.
        """
        self._check_fitted("species_")
        return moment_gsd_derivatives(self, features, atomic_derivatives)

    def get_feature_names_out(self, input_features=None):
        """Readable names such as ``Sigma331[out=2,in=3]:cheb[rad,n=4]``."""
        self._check_fitted("species_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{c}" for c in range(self.n_features_in_)]
        input_features = list(input_features)
        if len(input_features) != self.n_features_in_:
            raise ValueError(f"input_features must have {self.n_features_in_} names")
        names = []
        for label in self.blocks_:
            i, j, w = _parse_sigma(label)
            if i == 0:
                for z in self.species_:
                    for m in range(1, j + 1):
                        names += [f"{label}[in={m},el={atomic_symbol(z)}]:{f}" for f in input_features]
            elif j == 0:
                for m in range(1, i + 1):
                    names += [f"{label}[out={m}]:{f}" for f in input_features]
            else:
                for mo in range(1, i + 1):
                    for mi in range(1, j + 1):
                        names += [f"{label}[out={mo},in={mi}]:{f}" for f in input_features]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def gsd_space(max_order=5, **params):
    """All distinct moment GSDs with moments up to ``max_order`` (the paper's GSD space).

    The space contains

    * ``Sigma_ijk`` for outer order i = 1..m, inner order j = 0..m and
      k = 0, 1, 2 (j = 0 is method i): ``3 m (m + 1)`` descriptors;
    * the stacked element descriptors ``Sigma_0j0``, j = 1..m: ``m``
      descriptors (``Sigma_0j1`` and ``Sigma_0j2`` do not exist);
    * the two concatenations ``Sigma_mm5 = Sigma_mm2 + Sigma_m02 + Sigma_0m0``
      and ``Sigma_mm4 = Sigma_mm2 + Sigma_m02``: 2 descriptors.

    That is ``3 m (m + 1) + m + 2`` in total: 97 for the paper's m = 5.

    Parameters
    ----------
    max_order : int, default=5
        Highest inner and outer moment.
    **params
        Passed to every :class:`MomentGSD` (``element_weights``, ``moments``...).

    Returns
    -------
    dict
        Label (``"Sigma332"``) to unfitted :class:`MomentGSD`, ordered by
        (i, j, k) with the concatenations last.
    """
    m = _check_order(max_order, "max_order", minimum=1)
    space = {}
    for j in range(1, m + 1):
        space[_sigma(0, j, 0)] = MomentGSD(n_out=0, n_in=j, **params)
    for i in range(1, m + 1):
        for j in range(0, m + 1):
            for k in range(3):
                space[_sigma(i, j, k)] = MomentGSD(n_out=i, n_in=j, weighting=k, **params)
    for k in (4, 5):
        space[_sigma(m, m, k)] = MomentGSD.from_sigma((m, m, k), **params)
    return space
