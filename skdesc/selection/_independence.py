"""FunctionalIndependenceSelector: drop descriptor components that are functions of others."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state

from .._param_validation import Interval, Predicate, validate_params
from .._validation import FittedParamsMixin
from ..atomic import AtomicDerivatives, AtomicFeatures
from ..structures import to_frames

__all__ = ["FunctionalIndependenceSelector", "independent_components"]


def _environment_jacobians(derivatives, centers):
    """Stack the Jacobians of the given centres: rows (centre, atom, xyz), columns features."""
    rows, owner = [], []
    for k, center in enumerate(centers):
        start, stop = derivatives.pair_offsets[center], derivatives.pair_offsets[center + 1]
        block = derivatives.values[start:stop].reshape(-1, derivatives.n_features)
        rows.append(block)
        owner.append(np.full(block.shape[0], k))
    return np.concatenate(rows), np.concatenate(owner)


def independent_components(jacobian, environment, tol=1e-6, zero_tol=1e-10, pivoting=True):
    """Greedy rank-revealing selection of functionally independent columns.

    Component y is a function of components x_1..x_k near an environment
    exactly when its gradient lies in the span of theirs there
    (grad y = sum_i (df/dx_i) grad x_i).  The coefficients change from one
    environment to the next, so the test is made per environment: a column is
    kept while it adds rank to the Jacobian of at least one environment.  This
    is column-pivoted Gram-Schmidt run on all environments at once: at each
    step the column with the largest remaining relative residual, summed over
    environments, is selected and projected out of every environment where it
    is new; selection stops when no column has a residual above ``tol``.

    Parameters
    ----------
    jacobian : ndarray of shape (n_rows, n_features)
        Derivatives of the components (columns) w.r.t. atomic coordinates;
        each row belongs to one environment.
    environment : ndarray of shape (n_rows,)
        Environment label of each row (integers 0..n_env-1).
    tol : float, default=1e-6
        A column is independent in an environment when the part of its
        gradient outside the span of the selected columns' gradients is longer
        than ``tol`` times the gradient itself (the sine of the angle to that
        span).
    zero_tol : float, default=1e-10
        Columns whose gradient in an environment is shorter than ``zero_tol``
        times the longest gradient of that environment count as zero there
        (e.g. blocks of elements absent from the environment).
    pivoting : bool, default=True
        Pick the column with the largest residual at each step.  ``False``
        visits the columns in the given order, so that of dependent columns
        the earliest is kept.

    Returns
    -------
    ndarray of int
        Selected column indices, in order of selection.
    """
    residual = np.array(jacobian, dtype=np.float64)  # copy, updated in place
    environment = np.asarray(environment)
    order = np.argsort(environment, kind="stable")
    residual = residual[order]
    environment = environment[order]
    starts = np.flatnonzero(np.r_[True, environment[1:] != environment[:-1]])

    def column_norms(matrix):
        return np.sqrt(np.add.reduceat(matrix * matrix, starts, axis=0))  # (n_env, n_features)

    initial = column_norms(residual)
    significant = initial > zero_tol * initial.max(axis=1, keepdims=True)
    scale = np.where(significant, initial, 1.0)
    row_env = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, residual.shape[0]]))
    selected = []
    available = np.ones(residual.shape[1], dtype=bool)
    while available.any():
        relative = np.where(significant, column_norms(residual) / scale, 0.0)
        new = relative > tol
        score = np.where(new, relative**2, 0.0).sum(axis=0)
        score[~available] = 0.0
        if not np.any(score > 0.0):
            break
        best = int(np.argmax(score)) if pivoting else int(np.flatnonzero(score > 0.0)[0])
        selected.append(best)
        available[best] = False
        # unit direction of the new column in every environment where it adds rank
        norms = relative[:, best] * scale[:, best]
        direction = np.where(new[row_env, best], residual[:, best] / np.where(norms > 0, norms, 1.0)[row_env], 0.0)
        # classical Gram-Schmidt step applied twice for stability ("twice is enough")
        for _ in range(2):
            coefficients = np.add.reduceat(direction[:, None] * residual, starts, axis=0)
            residual -= direction[:, None] * coefficients[row_env]
    return np.asarray(selected, dtype=np.int64)


class FunctionalIndependenceSelector(FittedParamsMixin, SelectorMixin, BaseEstimator):
    """Keep a smallest set of descriptor components that are functionally independent.

    Many descriptor components are functions of others (duplicates, linear
    combinations, products...): they cannot separate environments that the
    others do not.  Following the idea of optimal invariant bases (Allen,
    Shinkle, Bujack & Lubbers 2025), a component is redundant when its gradient with
    respect to the atomic positions is a combination of the other components'
    gradients in every sampled environment.  ``fit`` computes the analytic
    Jacobians of the descriptor on up to ``n_environments`` randomly chosen
    atomic environments and runs a greedy rank-revealing selection
    (:func:`independent_components`): the kept components have Jacobians of
    the same rank as the full descriptor in every sampled environment.

    Parameters
    ----------
    descriptor : LocalDescriptor
        Per-atom descriptor with ``transform_with_derivatives`` (ChebyshevLAED,
        SOAP, CompressedSOAP, ACSF).  It is cloned and fitted in ``fit``; not
        needed with :meth:`fit_derivatives`.
    n_environments : int, default=100
        Number of atomic environments (centres) sampled from the training
        structures; ``None`` uses all.
    tol : float, default=1e-6
        Relative residual threshold of the rank test, see
        :func:`independent_components`.
    pivoting : bool, default=True
        Select the component adding the most new directions first; ``False``
        keeps, of dependent components, the one that comes first.
    random_state : int, RandomState or None, default=None
        Seed of the environment sampling.

    Attributes
    ----------
    descriptor_ : LocalDescriptor
        The fitted clone.
    n_features_in_ : int
        Number of descriptor components.
    support_ : ndarray of bool of shape (n_features_in_,)
    selection_order_ : ndarray of int
        Kept components in order of selection (most informative first).
    feature_names_in_ : ndarray of str
        The descriptor's component names.

    Notes
    -----
    ``transform`` accepts structures (computes the descriptor and keeps the
    selected columns), an :class:`~skdesc.AtomicFeatures` from the same
    descriptor, or a 2-D array with ``n_features_in_`` columns.  Sampling more
    environments can only keep more components.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import ChebyshevLAED, FunctionalIndependenceSelector
    >>> selector = FunctionalIndependenceSelector(ChebyshevLAED(rad_order=10, ang_order=6), random_state=0)
    >>> selector.fit([molecule("CH3CH2OH")]).transform([molecule("CH3CH2OH")]).n_features <= 34
    True
    """

    _citations = ("allen2025",)  # keys of skdesc._bibliography.CITATIONS

    _parameter_constraints = {
        # None only for fit_derivatives, which needs no descriptor
        "descriptor": [
            None,
            Predicate(
                lambda d: hasattr(d, "transform_with_derivatives"),
                "a skdesc local descriptor with transform_with_derivatives",
            ),
        ],
        "n_environments": [None, Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "pivoting": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, descriptor=None, n_environments=100, tol=1e-6, pivoting=True, random_state=None):
        self.descriptor = descriptor
        self.n_environments = n_environments
        self.tol = tol
        self.pivoting = pivoting
        self.random_state = random_state

    def _check_params(self, need_descriptor=True):
        if need_descriptor and self.descriptor is None:
            raise TypeError(
                "descriptor must be a skdesc local descriptor with transform_with_derivatives "
                "(None only with fit_derivatives), got None"
            )

    def fit(self, X, y=None):
        """Sample environments of ``X`` and select independent components.

        Parameters
        ----------
        X : structure or list of structures
        y : ignored

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        self._check_params()
        frames = to_frames(X)
        self.descriptor_ = clone(self.descriptor).fit(frames)
        # sample the centres first, then differentiate only the structures that hold them
        counts = np.array([len(frame) for frame in frames])
        offsets = np.r_[0, np.cumsum(counts)]
        centers = self._sample_centers(int(offsets[-1]))
        owner = np.searchsorted(offsets, centers, side="right") - 1
        needed = np.unique(owner)
        _, derivatives = self.descriptor_.transform_with_derivatives([frames[s] for s in needed])
        local = derivatives.offsets[np.searchsorted(needed, owner)] + centers - offsets[owner]
        return self._fit_derivatives(derivatives, self.descriptor_.get_feature_names_out(), local)

    def fit_derivatives(self, derivatives, feature_names=None, centers=None):
        """Select from precomputed :class:`~skdesc.AtomicDerivatives` (no descriptor needed).

        ``transform`` then accepts only features, not structures.

        Parameters
        ----------
        derivatives : AtomicDerivatives
        feature_names : sequence of str, optional
            Names of the components (default ``x0, x1, ...``).
        centers : array-like of int, optional
            Rows (centres) of ``derivatives`` whose environments enter the rank
            test, e.g. only the central atom of each cut-out cluster.  Default:
            ``n_environments`` centres sampled with ``random_state``.
        """
        self._forget_fit_params()
        validate_params(self)
        self._check_params(need_descriptor=False)
        if not isinstance(derivatives, AtomicDerivatives):
            raise TypeError(f"derivatives must be an AtomicDerivatives, got {type(derivatives).__name__}")
        if centers is not None:
            centers = np.asarray(centers)
            if centers.ndim != 1 or centers.size == 0 or not np.issubdtype(centers.dtype, np.integer):
                raise TypeError("centers must be a non-empty 1-D array of integer row indices of the derivatives")
            if centers.min() < 0 or centers.max() >= derivatives.n_atoms:
                raise ValueError(f"centers must lie in [0, {derivatives.n_atoms - 1}] (the derivatives' rows), "
                                 f"got {centers.min()}..{centers.max()}")
            centers = np.unique(centers.astype(np.int64))
        self.descriptor_ = None
        return self._fit_derivatives(derivatives, feature_names, centers)

    def _sample_centers(self, n_atoms):
        if self.n_environments is None or self.n_environments >= n_atoms:
            return np.arange(n_atoms)
        rng = check_random_state(self.random_state)
        return np.sort(rng.choice(n_atoms, self.n_environments, replace=False))

    def _fit_derivatives(self, derivatives, feature_names, centers=None):
        if centers is None:
            centers = self._sample_centers(derivatives.n_atoms)
        jacobian, owner = _environment_jacobians(derivatives, centers)
        self.selection_order_ = independent_components(jacobian, owner, tol=float(self.tol), pivoting=bool(self.pivoting))
        self.n_features_in_ = derivatives.n_features
        self.support_ = np.zeros(self.n_features_in_, dtype=bool)
        self.support_[self.selection_order_] = True
        if feature_names is None:
            feature_names = [f"x{k}" for k in range(self.n_features_in_)]
        self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        self._record_fit_params()
        return self

    def _get_support_mask(self):
        self._check_fitted("support_")
        return self.support_

    def transform(self, X):
        """Keep the selected components.

        Parameters
        ----------
        X : structures, AtomicFeatures or ndarray of shape (n, n_features_in_)

        Returns
        -------
        AtomicFeatures (for structures or AtomicFeatures) or ndarray
        """
        self._check_fitted("support_")
        if isinstance(X, AtomicFeatures):
            features = X
        elif isinstance(X, np.ndarray) and X.ndim == 2:
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} columns, the selector was fitted on {self.n_features_in_}")
            return X[:, self.support_]
        else:
            if self.descriptor_ is None:
                raise ValueError("fitted with fit_derivatives: pass AtomicFeatures or an array, not structures")
            features = self.descriptor_.transform(X)
        if features.n_features != self.n_features_in_:
            raise ValueError(
                f"features have {features.n_features} columns, the selector was fitted on {self.n_features_in_}"
            )
        return AtomicFeatures(
            features.values[:, self.support_],
            features.offsets,
            features.numbers,
            np.asarray(features.feature_names)[self.support_],
            features.species,
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the kept components."""
        self._check_fitted("support_")
        return self.feature_names_in_[self.support_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
