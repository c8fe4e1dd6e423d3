"""Rank information imbalance (Glielmo et al. 2022) and distance correlations."""

import numbers
import warnings

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.utils import check_random_state

from ._ranks import conditional_ranks
from ._screened import screenable, screened_rank_means

__all__ = [
    "information_imbalance",
    "symmetric_imbalance",
    "distance_correlation",
    "rank_correlation",
    "squared_distance_rows",
]

# Squared distances of a row closer than this fraction of the row's largest one are ties.
TIE_RTOL = 1e-10
_ROWS_PER_CHUNK = 1024


def _as_points(X, name):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 3:
        raise ValueError(f"{name} must be a 2-D array with at least 3 points, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf")
    # centring changes no distance and reduces rounding in |a|^2 + |b|^2 - 2 a.b
    return np.ascontiguousarray(X - X.mean(axis=0))


def squared_distance_rows(X, rows, norms=None, out=None):
    """Squared Euclidean distances from ``X[rows]`` to every row of ``X``.

    Parameters
    ----------
    X : ndarray of shape (N, d), float64
    rows : slice or index array
    norms : ndarray of shape (N,), optional
        Precomputed ``(X ** 2).sum(1)``.
    out : ndarray of shape (n_rows, N), float64, C-contiguous, optional
        Where to write the result (reusing memory avoids page faults).

    Returns
    -------
    ndarray of shape (n_rows, N), clipped at 0
    """
    if norms is None:
        norms = np.einsum("ij,ij->i", X, X)
    block = np.matmul(X[rows], X.T, out=out)
    block *= -2.0
    block += norms[rows][:, None]
    block += norms[None, :]
    np.maximum(block, 0.0, out=block)
    return block


def _mean_conditional_rank(A, B, k):
    if k == 1 and screenable(A) and screenable(B):
        return screened_rank_means(A, B, TIE_RTOL)
    return _mean_conditional_rank_float64(A, B, k)


def _mean_conditional_rank_float64(A, B, k):
    """All distances in float64, in blocks of rows (any k)."""
    n = A.shape[0]
    norms_a = np.einsum("ij,ij->i", A, A)
    norms_b = np.einsum("ij,ij->i", B, B)
    total_ab = total_ba = 0.0
    ties = 0
    for start in range(0, n, _ROWS_PER_CHUNK):
        rows = slice(start, min(start + _ROWS_PER_CHUNK, n))
        dist_a = squared_distance_rows(A, rows, norms_a)
        dist_b = squared_distance_rows(B, rows, norms_b)
        ranks_ab, ties_ab = conditional_ranks(dist_a, dist_b, start, k, TIE_RTOL)
        ranks_ba, ties_ba = conditional_ranks(dist_b, dist_a, start, k, TIE_RTOL)
        total_ab += ranks_ab.sum()
        total_ba += ranks_ba.sum()
        ties += ties_ab + ties_ba
    return total_ab / n, total_ba / n, ties


def information_imbalance(A, B, k=1, normalize=True):
    """Rank information imbalance between two representations of the same points.

    ``Delta(A -> B)`` is the mean, over points i, of the rank in space B of
    i's nearest neighbour in space A (Euclidean distances; nearest = rank 1).
    It is small when A's neighbourhoods predict B's.  Ranks are exact: every
    distance is used (DADApy's ``maxk = N - 1`` setting).  For ``k = 1`` the
    comparisons are screened with float32 squared distances that carry a
    rigorous error bound, and the few the bound cannot decide are recomputed
    in float64, so every decision is the float64 one (memory about
    N^2 / 4 float32 values per space up to N ~ 16,000, O(512 N) above);
    ``k > 1`` uses float64 distances in blocks of 1,024 rows.

    Parameters
    ----------
    A, B : array-like of shape (N, d_A) and (N, d_B)
        Two descriptors of the same N points (same order).
    k : int, default=1
        Number of nearest neighbours in the source space whose ranks are
        averaged.
    normalize : bool, default=True
        ``True``: DADApy's and Darby et al.'s convention ``(2 / N) * mean rank``
        (about 0 = fully informative, about 1 = no information);
        ``False``: Gharakhanyan et al.'s raw mean rank (lower limit 1).

    Returns
    -------
    delta_ab, delta_ba : float
        ``Delta(A -> B)`` and ``Delta(B -> A)``.

    Notes
    -----
    Ties (equal distances, e.g. duplicated or symmetry-equivalent
    environments) follow a deterministic rule: squared distances within
    1e-10 of the row's largest one are equal; a tied block in the target space
    gets its average rank; for ``k = 1`` all points tied for the nearest in
    the source space are averaged over.  A ``UserWarning`` reports how many
    points were affected.  Without ties the result equals DADApy's
    ``return_inf_imb_two_selected_coords`` with ``maxk = N - 1``.
    """
    A = _as_points(A, "A")
    B = _as_points(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must describe the same points: {A.shape[0]} != {B.shape[0]} rows")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k < A.shape[0] - 1:
        raise ValueError(f"k must be an integer in [1, N - 2], got {k!r}")
    mean_ab, mean_ba, ties = _mean_conditional_rank(A, B, int(k))
    if ties:
        warnings.warn(
            f"{ties} points have tied distances (duplicated or equivalent points?); "
            "tied neighbours were given their average rank",
            UserWarning,
            stacklevel=2,
        )
    if normalize:
        n = A.shape[0]
        return 2.0 * mean_ab / n, 2.0 * mean_ba / n
    return mean_ab, mean_ba


def symmetric_imbalance(A, B, k=1, normalize=True):
    """Symmetric rank information imbalance (SRIM), the mean of both directions."""
    delta_ab, delta_ba = information_imbalance(A, B, k=k, normalize=normalize)
    return 0.5 * (delta_ab + delta_ba)


def _pair_sample(n, max_pairs, random_state):
    rng = check_random_state(random_state)
    total = n * (n - 1) // 2
    if max_pairs is None or total <= max_pairs:
        i, j = np.triu_indices(n, 1)
        return i, j
    i = rng.randint(0, n, size=2 * max_pairs)
    j = rng.randint(0, n, size=2 * max_pairs)
    keep = i != j
    return i[keep][:max_pairs], j[keep][:max_pairs]


def _pair_distances(A, B, max_pairs, random_state):
    A = _as_points(A, "A")
    B = _as_points(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError("A and B must describe the same points")
    i, j = _pair_sample(A.shape[0], max_pairs, random_state)
    return np.linalg.norm(A[i] - A[j], axis=1), np.linalg.norm(B[i] - B[j], axis=1)


def distance_correlation(A, B, max_pairs=200_000, random_state=None):
    """Pearson correlation between the pair distances in A and in B.

    Uses all pairs, or ``max_pairs`` random pairs (seeded) when there are more.
    """
    d_a, d_b = _pair_distances(A, B, max_pairs, random_state)
    return float(pearsonr(d_a, d_b)[0])


def rank_correlation(A, B, max_pairs=200_000, random_state=None):
    """Spearman (rank-rank) correlation between the pair distances in A and in B."""
    d_a, d_b = _pair_distances(A, B, max_pairs, random_state)
    return float(spearmanr(d_a, d_b)[0])
