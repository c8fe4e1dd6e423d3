"""Numba kernels: nearest neighbours in one space, their ranks in another.

Tie rules (a function of the set of distances from point i, never of the
order of the points).  Two squared distances x, y of a row are tied when
``abs(x - y) <= tol``, ``tol = tie_rtol * (largest squared distance of the
row)``.

- Rank in the target space of a neighbour j at squared distance t: ``1 +
  #{m != i, j: not tied with t, closer than t} + #{m != i, j: tied with t} / 2``
  (a tied block shares its average rank).
- The k nearest in the source space: let t_k be the k-th smallest squared
  distance (self excluded).  Points below ``t_k - tol`` are among the k nearest;
  the s points in ``[t_k - tol, t_k + tol]`` share the c remaining places,
  each with weight c / s.  The imbalance of the row is the weighted mean rank:
  the mean over all equally likely ways of completing the k nearest from the
  tied block.  For k = 1 this is the mean rank over all points tied for the
  nearest.
"""

import numpy as np
from numba import njit, prange

# above this many targets in one row, count once per distinct threshold or sort the row
_FEW_TARGETS = 8
_FEW_DISTINCT = 16


@njit(cache=True, nogil=True)
def _tied(x, y, tol):
    return abs(x - y) <= tol


@njit(cache=True, nogil=True)
def count_in_row(row, skip, threshold, tol):
    """``(#closer, #tied)`` among ``row[m]``, m != skip, against ``threshold``.

    closer: not tied and ``row[m] < threshold``; tied: ``abs(row[m] - threshold) <= tol``
    (a target at ``threshold`` counts itself as tied).
    """
    closer = 0
    tied = 0
    for m in range(row.shape[0]):
        if m == skip:
            continue
        x = row[m]
        if _tied(x, threshold, tol):
            tied += 1
        elif x < threshold:
            closer += 1
    return closer, tied


@njit(cache=True, nogil=True)
def count_in_sorted(ordered, threshold, tol):
    """The counts of :func:`count_in_row` by binary search in ascending ``ordered``.

    Both predicates are monotone in x (``fl(threshold - x)`` never increases
    as x grows), so "closer" is a prefix and "tied" the run after it: the
    counts equal the direct scan exactly.
    """
    lo, hi = 0, ordered.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        x = ordered[mid]
        if x < threshold and not _tied(x, threshold, tol):
            lo = mid + 1
        else:
            hi = mid
    closer = lo
    hi = ordered.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        x = ordered[mid]
        if x > threshold and not _tied(x, threshold, tol):
            hi = mid
        else:
            lo = mid + 1
    return closer, lo - closer


@njit(cache=True, nogil=True)
def distinct_values(values, limit):
    """Distinct entries of ``values`` (at most ``limit``) and each entry's slot.

    Returns ``(distinct, slot, n_distinct)``; ``n_distinct = -1`` when there
    are more than ``limit``.
    """
    distinct = np.empty(limit)
    slot = np.empty(values.shape[0], dtype=np.int64)
    count = 0
    for t in range(values.shape[0]):
        found = -1
        for u in range(count):
            if distinct[u] == values[t]:
                found = u
                break
        if found < 0:
            if count == limit:
                return distinct, slot, -1
            distinct[count] = values[t]
            found = count
            count += 1
        slot[t] = found
    return distinct, slot, count


@njit(cache=True, nogil=True)
def target_counts(row, i, thresholds, tol):
    """``(closer, tied)`` per target: the counts of :func:`count_in_row` with ``skip = i``.

    ``tied`` includes the target itself.  O(N) per target for a few targets,
    O(N) per distinct threshold, otherwise one sort of the row (O(N log N))
    and a binary search per target.
    """
    n_targets = thresholds.shape[0]
    closer = np.empty(n_targets, dtype=np.int64)
    tied = np.empty(n_targets, dtype=np.int64)
    if n_targets <= _FEW_TARGETS:
        for t in range(n_targets):
            closer[t], tied[t] = count_in_row(row, i, thresholds[t], tol)
        return closer, tied
    distinct, slot, n_distinct = distinct_values(thresholds, _FEW_DISTINCT)
    if n_distinct > 0:
        closer_d = np.empty(n_distinct, dtype=np.int64)
        tied_d = np.empty(n_distinct, dtype=np.int64)
        for u in range(n_distinct):
            closer_d[u], tied_d[u] = count_in_row(row, i, distinct[u], tol)
        for t in range(n_targets):
            closer[t] = closer_d[slot[t]]
            tied[t] = tied_d[slot[t]]
        return closer, tied
    ordered = np.empty(row.shape[0] - 1)
    ordered[:i] = row[:i]
    ordered[i:] = row[i + 1 :]
    ordered.sort()
    for t in range(n_targets):
        closer[t], tied[t] = count_in_sorted(ordered, thresholds[t], tol)
    return closer, tied


@njit(cache=True, nogil=True)
def nearest_weights(row, i, k, tol):
    """The k nearest of point i under the tie rule of this module.

    Returns ``(sure, block, share)``: indices surely among the k nearest,
    indices of the tied block at the k-th distance, and the number of places
    the block shares (each of its points has weight ``share / len(block)``).
    """
    n = row.shape[0]
    rest = np.empty(n - 1)
    rest[:i] = row[:i]
    rest[i:] = row[i + 1 :]
    if k == 1:
        kth = rest.min()
    else:
        kth = np.partition(rest, k - 1)[k - 1]
    low = kth - tol
    high = kth + tol
    n_sure = 0
    n_block = 0
    for j in range(n):
        if j != i:
            if row[j] < low:
                n_sure += 1
            elif row[j] <= high:
                n_block += 1
    sure = np.empty(n_sure, dtype=np.int64)
    block = np.empty(n_block, dtype=np.int64)
    n_sure = 0
    n_block = 0
    for j in range(n):
        if j != i:
            if row[j] < low:
                sure[n_sure] = j
                n_sure += 1
            elif row[j] <= high:
                block[n_block] = j
                n_block += 1
    return sure, block, k - n_sure


@njit(cache=True, nogil=True)
def weighted_rank(rank_sure, rank_block, n_block, share, k):
    """Row value ``(sum of sure ranks + share * sum of block ranks / n_block) / k``.

    The sums are of half-integers, exact in any order; with k = 1 and no sure
    points this is ``sum / n_block``, with one untied k-th point the plain sum / k.
    """
    return (rank_sure + share * rank_block / n_block) / k


@njit(cache=True, nogil=True, parallel=True)
def conditional_ranks(dist_a, dist_b, first_row, k, tie_rtol):
    """Mean rank in B of the k nearest neighbours in A, for a block of rows.

    Parameters
    ----------
    dist_a, dist_b : (n_rows, N) float64
        Squared distances from points ``first_row + r`` to all N points.
    first_row : int
        Global index of row 0 (that entry is the point itself and is skipped).
    k : int
        Number of nearest neighbours in A.
    tie_rtol : float
        Two squared distances of a row are equal when they differ by at most
        ``tie_rtol`` times the row's largest squared distance.

    Returns
    -------
    ranks : (n_rows,) float64
        Weighted mean over the k nearest neighbours j in A of the rank of j
        among the neighbours of i in B (nearest = 1), with the tie rules of
        this module.  Independent of the order of the points.
    n_ties : int
        Number of rows where a tie changed anything (a tied block at the k-th
        distance in A larger than the places it fills, or a target tied in B).
    """
    n_rows, n = dist_a.shape
    ranks = np.zeros(n_rows)
    tie_rows = np.zeros(n_rows, dtype=np.int64)
    for r in prange(n_rows):
        i = first_row + r
        row_a = dist_a[r]
        row_b = dist_b[r]
        tol_a = tie_rtol * row_a.max()
        tol_b = tie_rtol * row_b.max()
        sure, block, share = nearest_weights(row_a, i, k, tol_a)
        n_sure = sure.shape[0]
        targets = np.empty(n_sure + block.shape[0], dtype=np.int64)
        targets[:n_sure] = sure
        targets[n_sure:] = block
        closer, tied = target_counts(row_b, i, row_b[targets], tol_b)
        rank_sure = 0.0
        rank_block = 0.0
        tie = block.shape[0] > share
        for t in range(targets.shape[0]):
            others_tied = tied[t] - 1  # the target itself
            tie = tie or others_tied > 0
            rank = 1.0 + closer[t] + 0.5 * others_tied
            if t < n_sure:
                rank_sure += rank
            else:
                rank_block += rank
        ranks[r] = weighted_rank(rank_sure, rank_block, block.shape[0], share, k)
        tie_rows[r] = tie
    return ranks, tie_rows.sum()
