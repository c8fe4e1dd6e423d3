"""Rank information imbalance (Glielmo et al. 2022) and distance correlations."""

import math
import numbers
import warnings

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.utils import check_random_state

from .._config import get_config
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
_CHUNK_ENTRIES = 2**23


def _power_of_two_scale(X, per_column=False):
    """``X`` times the power of two that brings its largest magnitude into [1, 2).

    Exact (barring subnormal values), so every comparison of distances is
    unchanged, and no squared distance can overflow or underflow to zero.
    ``per_column=True``: one power of two per column (for per-feature scaling).
    """
    if X.size == 0:
        return X
    top = np.abs(X).max(axis=0 if per_column else None)
    exponent = np.where(top > 0, 1 - np.frexp(top)[1], 0)
    return np.ldexp(X, exponent)


def _as_points(X, name):
    """Validated, rescaled and centred float64 points (rows) of one space.

    The values are scaled by a power of two (max |x| in [1, 2)) before and
    after centring: the information imbalance is scale invariant, and so is
    this representation, bit for bit (1e-300 or 1e300 times the data give the
    same decisions as the data).
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array of shape (N, d), got a {type(X).__name__}")
    raw = np.asarray(X)
    if np.iscomplexobj(raw):
        raise TypeError(f"{name} must be real-valued (float or int), got complex values; pass the real and "
                        "imaginary parts as separate columns")
    if raw.dtype.kind in "USV":
        raise TypeError(f"{name} must be a numeric (float or int) array of shape (N, d), got dtype {raw.dtype}")
    if raw.dtype.kind not in "biuf":
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name} must be a numeric (float or int) array of shape (N, d), "
                            f"got dtype {raw.dtype}") from error
    X = np.asarray(raw, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] < 3 or X.shape[1] < 1:
        raise ValueError(f"{name} must be a 2-D array (N, d) with at least 3 points and 1 feature, "
                         f"got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or inf; all values must be finite (drop or impute those points)")
    # centring changes no distance and reduces rounding in |a|^2 + |b|^2 - 2 a.b
    X = _power_of_two_scale(X)
    return np.ascontiguousarray(_power_of_two_scale(X - X.mean(axis=0)))


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
    if k == 1 and get_config()["screen_ranks"] and screenable(A) and screenable(B):
        return screened_rank_means(A, B, TIE_RTOL)
    return _mean_conditional_rank_float64(A, B, k)


def _rows_per_chunk(n):
    # two float64 blocks of rows x N per space pair: at most ~64 MB each
    return max(16, min(_ROWS_PER_CHUNK, _CHUNK_ENTRIES // max(n, 1)))


def _mean_conditional_rank_float64(A, B, k):
    """All distances in float64, in blocks of rows (any k)."""
    n = A.shape[0]
    norms_a = np.einsum("ij,ij->i", A, A)
    norms_b = np.einsum("ij,ij->i", B, B)
    ranks_ab, ranks_ba = np.empty(n), np.empty(n)
    ties = 0
    size = _rows_per_chunk(n)
    for start in range(0, n, size):
        rows = slice(start, min(start + size, n))
        dist_a = squared_distance_rows(A, rows, norms_a)
        dist_b = squared_distance_rows(B, rows, norms_b)
        ranks_ab[rows], ties_ab = conditional_ranks(dist_a, dist_b, start, k, TIE_RTOL)
        ranks_ba[rows], ties_ba = conditional_ranks(dist_b, dist_a, start, k, TIE_RTOL)
        ties += ties_ab + ties_ba
    # exactly rounded sums: the same value for any order of the points
    return math.fsum(ranks_ab) / n, math.fsum(ranks_ba) / n, ties


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
    The measure is scale invariant and so is the implementation: each space
    is first scaled by a power of two (exact), so ``1e-300 * A`` or
    ``1e300 * A`` give the same result as ``A``.

    Ties (equal distances, e.g. duplicated or symmetry-equivalent
    environments) follow a deterministic rule that depends only on the set of
    distances, not on the order of the points: squared distances within
    1e-10 of the row's largest one are equal; a tied block in the target space
    gets its average rank; when the k-th nearest distance in the source space
    is tied, the tied points share the remaining places with equal weights
    (the mean over all ways of breaking the tie; for ``k = 1``, the mean rank
    of all points tied for the nearest).  Cost O(N^2 log N) at worst, also
    when every distance is tied.  A ``UserWarning`` reports how many points
    were affected.  Without ties the result equals DADApy's
    ``return_inf_imb_two_selected_coords`` with ``maxk = N - 1``.
    """
    A = _as_points(A, "A")
    B = _as_points(B, "B")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A and B must describe the same points (same number of rows): "
                         f"A has {A.shape[0]}, B has {B.shape[0]}")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= A.shape[0] - 2:
        raise ValueError(f"k must be an integer in [1, N - 2] = [1, {A.shape[0] - 2}], got {k!r}")
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize must be True (2/N times the mean rank) or False (raw mean rank), "
                        f"got {normalize!r}")
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
    if max_pairs is not None and (
        isinstance(max_pairs, bool) or not isinstance(max_pairs, numbers.Integral) or max_pairs < 2
    ):
        raise ValueError(f"max_pairs must be an integer >= 2 or None (all pairs), got {max_pairs!r}")
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
        raise ValueError(f"A and B must describe the same points (same number of rows): "
                         f"A has {A.shape[0]}, B has {B.shape[0]}")
    i, j = _pair_sample(A.shape[0], max_pairs, random_state)
    d_a, d_b = np.linalg.norm(A[i] - A[j], axis=1), np.linalg.norm(B[i] - B[j], axis=1)
    for name, d in (("A", d_a), ("B", d_b)):
        if np.all(d == d[0]):
            raise ValueError(f"all sampled pair distances in {name} are equal: the correlation is undefined "
                             "(a constant or degenerate space; use more distinct points or more pairs)")
    return d_a, d_b


def distance_correlation(A, B, max_pairs=200_000, random_state=None):
    """Pearson correlation between the pair distances in A and in B.

    Uses all pairs, or ``max_pairs`` random pairs (seeded) when there are more.
    Scale invariant (each space is rescaled by a power of two first).
    """
    d_a, d_b = _pair_distances(A, B, max_pairs, random_state)
    return float(pearsonr(d_a, d_b)[0])


def rank_correlation(A, B, max_pairs=200_000, random_state=None):
    """Spearman (rank-rank) correlation between the pair distances in A and in B."""
    d_a, d_b = _pair_distances(A, B, max_pairs, random_state)
    return float(spearmanr(d_a, d_b)[0])
