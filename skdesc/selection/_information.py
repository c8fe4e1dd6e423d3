"""Greedy feature (block) selection by information imbalance."""

from numbers import Integral, Real

import numpy as np
from numba import njit
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._param_validation import Interval, Options, validate_params
from ..information.measures import TIE_RTOL, _power_of_two_scale, squared_distance_rows

__all__ = ["InformationImbalanceSelector"]


@njit(cache=True, nogil=True)
def _average_ranks(distances, tie_rtol):
    """Row-wise ranks (nearest = 1, self excluded) with tied blocks averaged."""
    n = distances.shape[0]
    ranks = np.zeros((n, n))
    for i in range(n):
        row = distances[i].copy()
        row[i] = np.inf
        order = np.argsort(row)
        tol = tie_rtol * row[order[n - 2]] if n > 1 else 0.0
        start = 0
        while start < n - 1:
            stop = start + 1
            while stop < n - 1 and row[order[stop]] - row[order[start]] <= tol:
                stop += 1
            mean_rank = 0.5 * (start + 1 + stop)
            for q in range(start, stop):
                ranks[i, order[q]] = mean_rank
            start = stop
    return ranks


@njit(cache=True, nogil=True)
def _imbalance(distances, ranks, tie_rtol):
    """Mean rank (in the reference) of the nearest neighbour in ``distances``."""
    n = distances.shape[0]
    total = 0.0
    for i in range(n):
        best = np.inf
        top = 0.0
        for j in range(n):
            if j != i:
                best = min(best, distances[i, j])
                top = max(top, distances[i, j])
        tol = tie_rtol * top
        count = 0
        acc = 0.0
        for j in range(n):
            if j != i and distances[i, j] <= best + tol:
                acc += ranks[i, j]
                count += 1
        total += acc / count
    return total / n


class InformationImbalanceSelector(SelectorMixin, BaseEstimator):
    """Greedy selection of features (or feature blocks) that best inform a reference space.

    At each step the feature or block whose addition gives the lowest rank
    information imbalance ``Delta(selected -> reference)`` (Glielmo et al.
    2022; exact ranks) is added.  The reference is the full feature space by
    default, or the targets ``y``.  Parameters and attributes follow
    scikit-matter's selectors.

    Parameters
    ----------
    n_to_select : int or float, default=None
        Number of features (or blocks) to select; a float in (0, 1] is a
        fraction; ``None`` selects half.
    score_threshold : float, default=None
        Stop early: with ``score_threshold_type="absolute"`` once the
        normalised imbalance (2/N mean rank) is at most this; with
        ``"relative"`` once a step improves it by less than this fraction.
    score_threshold_type : {"absolute", "relative"}, default="absolute"
    groups : array-like of shape (n_features,), default=None
        Block label of each feature; whole blocks are selected together
        (e.g. the moment blocks of a GSD).  ``None``: single features.
    reference : {"X", "y"}, default="X"
        Space to be informed: all features of X, or the targets y.
    symmetric : bool, default=False
        Minimise the symmetric imbalance instead of ``Delta(selected -> ref)``.
    max_samples : int, default=2000
        Points used (a seeded random subset if there are more): cost grows as
        the square of this number.
    scale : bool, default=True
        Standardise each feature (and the reference) before distances.
    random_state : int, RandomState or None, default=0
        Seed of the subset.
    progress_bar : bool, default=False

    Attributes
    ----------
    selected_idx_ : ndarray of int
        Selected feature indices, in order of selection (all features of a
        selected block, for ``groups``).
    selected_groups_ : list
        Selected block labels in order (``groups`` only).
    n_selected_ : int
        Number of selected features (or blocks).
    scores_ : ndarray
        Normalised imbalance after each step.
    support_ : ndarray of bool
    n_features_in_ : int
    """

    _citations = ("glielmo2022",)  # keys of skdesc._bibliography.CITATIONS

    _parameter_constraints = {
        "n_to_select": [None, Interval(Integral, 1, None, closed="left"), Interval(Real, 0, 1, closed="right")],
        "score_threshold": [None, Interval(Real, 0, None, closed="left")],
        "score_threshold_type": [Options(str, ("absolute", "relative"))],
        "groups": [None, "array-like"],
        "reference": [Options(str, ("X", "y"))],
        "symmetric": ["boolean"],
        "max_samples": [Interval(Integral, 3, None, closed="left")],
        "scale": ["boolean"],
        "random_state": ["random_state"],
        "progress_bar": ["boolean"],
    }

    def __init__(
        self,
        n_to_select=None,
        score_threshold=None,
        score_threshold_type="absolute",
        groups=None,
        reference="X",
        symmetric=False,
        max_samples=2000,
        scale=True,
        random_state=0,
        progress_bar=False,
    ):
        self.n_to_select = n_to_select
        self.score_threshold = score_threshold
        self.score_threshold_type = score_threshold_type
        self.groups = groups
        self.reference = reference
        self.symmetric = symmetric
        self.max_samples = max_samples
        self.scale = scale
        self.random_state = random_state
        self.progress_bar = progress_bar

    def _standardise(self, X):
        # a power of two first (exact): no overflow of the variance or of the
        # squared distances for any scale of the data
        if not self.scale:
            X = _power_of_two_scale(X)
            return _power_of_two_scale(X - X.mean(axis=0))
        X = _power_of_two_scale(X, per_column=True)
        spread = X.std(axis=0)
        spread[spread == 0] = 1.0
        return (X - X.mean(axis=0)) / spread

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.reference == "y"
        return tags

    def fit(self, X, y=None):
        """Select features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Needed when ``reference="y"``.

        Returns
        -------
        self
        """
        validate_params(self)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=3)
        n_samples, n_features = X.shape
        groups = np.arange(n_features) if self.groups is None else np.asarray(self.groups)
        if groups.shape != (n_features,):
            raise ValueError(f"groups must have one label per feature ({n_features}), got shape {groups.shape}")
        labels, group_index = np.unique(groups, return_inverse=True)
        if self.reference == "y":
            if y is None:
                # the wording scikit-learn's check_requires_y_none looks for
                raise ValueError(
                    "reference='y' needs targets y: it requires y to be passed, but the target y is None; "
                    "call fit(X, y), or use reference='X'"
                )
            target = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
            if target.shape[0] != n_samples:
                raise ValueError(f"y must have one row per sample of X ({n_samples}), got {target.shape[0]}")
            target = target.reshape(n_samples, -1)
        else:
            target = X
        n_groups = len(labels)
        limit = self._n_to_select(n_groups)

        rng = check_random_state(self.random_state)
        rows = np.arange(n_samples)
        if n_samples > self.max_samples:
            rows = np.sort(rng.choice(n_samples, self.max_samples, replace=False))
        Xs = self._standardise(X[rows])
        ref = self._standardise(target[rows])
        ref_dist = squared_distance_rows(ref, slice(None))
        ref_ranks = _average_ranks(ref_dist, TIE_RTOL)
        block_dist = [squared_distance_rows(Xs[:, group_index == g], slice(None)) for g in range(n_groups)]

        n = len(rows)
        selected, scores = [], []
        current = np.zeros((n, n))
        steps = range(limit)
        if self.progress_bar:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="selecting", unit="step")
        for _ in steps:
            best, best_score = -1, np.inf
            for g in range(n_groups):
                if g in selected:
                    continue
                candidate = current + block_dist[g]
                score = _imbalance(candidate, ref_ranks, TIE_RTOL)
                if self.symmetric:
                    score = 0.5 * (score + _imbalance(ref_dist, _average_ranks(candidate, TIE_RTOL), TIE_RTOL))
                if score < best_score:
                    best, best_score = g, score
            previous = scores[-1] if scores else None
            selected.append(best)
            current = current + block_dist[best]
            scores.append(2.0 * best_score / n)
            if self._stop(scores[-1], None if previous is None else previous):
                break
        self.selected_groups_ = [labels[g] for g in selected]
        self.selected_idx_ = np.concatenate([np.flatnonzero(group_index == g) for g in selected])
        self.n_selected_ = len(selected)
        self.scores_ = np.array(scores)
        self.support_ = np.zeros(n_features, dtype=bool)
        self.support_[self.selected_idx_] = True
        return self

    def _n_to_select(self, n_groups):
        value = self.n_to_select
        if value is None:
            return max(1, n_groups // 2)
        if isinstance(value, Integral):
            if value > n_groups:
                raise ValueError(f"n_to_select must be an int in [1, {n_groups}] (the number of features or "
                                 f"groups), a fraction in (0, 1] or None, got {value}")
            return int(value)
        return max(1, int(round(value * n_groups)))

    def _stop(self, score, previous):
        if self.score_threshold is None:
            return False
        if self.score_threshold_type == "absolute":
            return score <= self.score_threshold
        return previous is not None and (previous - score) < self.score_threshold * previous

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_
