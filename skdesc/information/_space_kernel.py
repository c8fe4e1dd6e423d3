"""Numba kernel: information imbalance between many distance spaces at once."""

import numpy as np
from numba import njit, prange

from ._ranks import distinct_values


# up to this many distinct targets per row, one vectorised counting pass per target
# beats a binary search of every distance among the sorted thresholds
_FEW_TARGETS = 24


@njit(cache=True, nogil=True)
def _counts_per_distinct(row, i, distinct, tol, position):
    """#{m != i: row[m] < row[t] - tol} and #{m != i: row[m] <= row[t] + tol} per target.

    One counting pass per distinct threshold value (duplicated points share it).
    """
    values, slot, n_values = distinct_values(row[distinct], distinct.shape[0])
    closer_value = np.empty(n_values, dtype=np.int64)
    within_value = np.empty(n_values, dtype=np.int64)
    for u in range(n_values):
        low = values[u] - tol
        high = values[u] + tol
        closer = 0
        within = 0
        for m in range(row.shape[0]):
            closer += row[m] < low
            within += row[m] <= high
        closer_value[u] = closer - (row[i] < low)
        within_value[u] = within - (row[i] <= high)
    return closer_value[slot[position]], within_value[slot[position]]


@njit(cache=True, nogil=True)
def _counts_by_histogram(row, i, targets, tol):
    """The same counts for many targets: each distance binary-searched among the thresholds."""
    count = targets.shape[0]
    low = np.empty(count)
    high = np.empty(count)
    for t in range(count):
        low[t] = row[targets[t]] - tol
        high[t] = row[targets[t]] + tol
    order_low = np.argsort(low)
    order_high = np.argsort(high)
    low_sorted = low[order_low]
    high_sorted = high[order_high]
    hist_low = np.zeros(count + 1, dtype=np.int64)
    hist_high = np.zeros(count + 1, dtype=np.int64)
    for m in range(row.shape[0]):
        if m == i:
            continue
        x = row[m]
        # thresholds t with low_t > x count m as strictly closer
        hist_low[np.searchsorted(low_sorted, x, side="right")] += 1
        # thresholds t with high_t >= x count m as closer or tied
        hist_high[np.searchsorted(high_sorted, x, side="left")] += 1
    closer = np.empty(count, dtype=np.int64)
    within = np.empty(count, dtype=np.int64)
    running = 0
    for s in range(count):
        running += hist_low[s]
        closer[order_low[s]] = running
    running = 0
    for s in range(count):
        running += hist_high[s]
        within[order_high[s]] = running
    return closer, within


@njit(cache=True, nogil=True)
def _few_values(row, targets, limit):
    """Whether the targets' distances take at most ``limit`` distinct values."""
    return distinct_values(row[targets], limit)[2] > 0


@njit(cache=True, nogil=True, parallel=True)
def rank_sums(distances, first_row, tie_rtol):
    """Sum over a block of rows of the conditional ranks between all spaces.

    Parameters
    ----------
    distances : (n_spaces, n_rows, N) float64
        Squared distances from points ``first_row + r`` to all N points in
        every space.
    first_row : int
        Global index of row 0.
    tie_rtol : float
        Relative tolerance for equal squared distances (as in
        :func:`skdesc.information.information_imbalance`).

    Returns
    -------
    sums : (n_spaces, n_spaces) float64
        ``sums[a, b]`` = sum over the rows of the rank in space b of the
        nearest neighbour in space a (ties: average ranks, and for tied nearest
        neighbours the mean over them).
    tie_rows : int
        Number of (space, row) pairs in which a tie mattered.
    """
    n_spaces, n_rows, n = distances.shape
    sums = np.zeros((n_rows, n_spaces, n_spaces))
    ties = np.zeros(n_rows, dtype=np.int64)
    for r in prange(n_rows):
        i = first_row + r
        # nearest neighbours of i in every space (a tied set may hold several)
        n_targets = np.zeros(n_spaces, dtype=np.int64)
        tops = np.zeros(n_spaces)
        bests = np.zeros(n_spaces)
        start = np.zeros(n_spaces + 1, dtype=np.int64)
        for a in range(n_spaces):
            row = distances[a, r]
            best = np.inf
            top = 0.0
            for j in range(n):
                if j != i:
                    if row[j] < best:
                        best = row[j]
                    if row[j] > top:
                        top = row[j]
            tops[a] = top
            bests[a] = best
            tol = tie_rtol * top
            tied = 0
            for j in range(n):
                tied += (j != i) & (row[j] <= best + tol)
            n_targets[a] = tied
            start[a + 1] = start[a] + tied
            if tied > 1:
                ties[r] += 1
        # sized in advance (growing the array inside the parallel loop failed with
        # many tied neighbours: duplicated structures)
        count = start[n_spaces]
        targets = np.empty(count, dtype=np.int64)
        for a in range(n_spaces):
            row = distances[a, r]
            limit = bests[a] + tie_rtol * tops[a]
            t = start[a]
            for j in range(n):
                if j != i and row[j] <= limit:
                    targets[t] = j
                    t += 1
        # the spaces mostly agree on the nearest neighbour: count once per distinct
        # target (found with a marker per point: O(N + targets), also when all are tied)
        slot = np.full(n, -1, dtype=np.int64)
        position = np.empty(count, dtype=np.int64)
        distinct = np.empty(min(count, n), dtype=np.int64)
        n_distinct = 0
        for t in range(count):
            j = targets[t]
            if slot[j] < 0:
                slot[j] = n_distinct
                distinct[n_distinct] = j
                n_distinct += 1
            position[t] = slot[j]
        distinct = distinct[:n_distinct]
        # ranks of all those targets in every space b, in one pass over the row
        for b in range(n_spaces):
            row = distances[b, r]
            tol = tie_rtol * tops[b]
            if n_distinct <= _FEW_TARGETS or _few_values(row, distinct, _FEW_TARGETS):
                closer, within = _counts_per_distinct(row, i, distinct, tol, position)
            else:
                closer_d, within_d = _counts_by_histogram(row, i, distinct, tol)
                closer, within = closer_d[position], within_d[position]
            for a in range(n_spaces):
                total = 0.0
                for t in range(start[a], start[a + 1]):
                    tied_others = within[t] - closer[t] - 1
                    if tied_others > 0 and a != b:
                        ties[r] += 1
                    total += 1.0 + closer[t] + 0.5 * tied_others
                sums[r, a, b] = total / n_targets[a]
    out = np.zeros((n_spaces, n_spaces))
    for r in range(n_rows):
        out += sums[r]
    return out, ties.sum()


@njit(cache=True, nogil=True, parallel=True)
def assemble_distances(partial, distances, plan_spaces, term_start, term_is_space, term_index):
    """Squared distances of every descriptor as sums of block and earlier descriptor distances.

    Parameters
    ----------
    partial : (n_blocks, n_rows, N) float64
        Squared distances of each feature block.
    distances : (n_spaces, n_rows, N) float64
        Output: descriptor ``plan_spaces[p]`` is the sum, in order, of the terms
        ``term_start[p]:term_start[p + 1]``, each an earlier descriptor
        (``term_is_space``) or a block, index ``term_index``; then everything
        is clipped at 0 (the same additions, in the same order, as summing the
        whole arrays one term at a time).
    """
    n_rows, n = partial.shape[1], partial.shape[2]
    for r in prange(n_rows):
        for p in range(plan_spaces.shape[0]):
            out = distances[plan_spaces[p], r]
            for t in range(term_start[p], term_start[p + 1]):
                if term_is_space[t]:
                    source = distances[term_index[t], r]
                else:
                    source = partial[term_index[t], r]
                if t == term_start[p]:
                    out[:] = source
                else:
                    for j in range(n):
                        out[j] += source[j]
        for s in range(distances.shape[0]):
            row = distances[s, r]
            for j in range(n):
                row[j] = max(row[j], 0.0)
