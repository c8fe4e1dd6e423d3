"""Numba kernels: nearest neighbours in one space, their ranks in another."""

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _tied(x, y, tol):
    return abs(x - y) <= tol


@njit(cache=True, nogil=True, parallel=True)
def conditional_ranks(dist_a, dist_b, first_row, k, tie_rtol):
    """Average rank in B of the k nearest neighbours in A, for a block of rows.

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
        Mean over the k nearest neighbours j in A of the rank of j among the
        neighbours of i in B (nearest = 1).  Ties in B get the average rank
        of the tied block (1 + #closer + #tied / 2).  For k = 1, when several
        points tie for the nearest in A, the ranks of all of them are averaged.
    n_ties : int
        Number of rows where a tie changed anything.
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
        # k nearest in A by (distance, index), self excluded
        chosen = np.empty(k, dtype=np.int64)
        for q in range(k):
            best = -1
            for j in range(n):
                if j == i:
                    continue
                taken = False
                for t in range(q):
                    if chosen[t] == j:
                        taken = True
                        break
                if taken:
                    continue
                if best < 0 or row_a[j] < row_a[best]:
                    best = j
            chosen[q] = best
        # for k = 1 every point tied with the nearest counts, with equal weight
        n_targets = k
        targets = chosen
        if k == 1:
            count = 0
            for j in range(n):
                if j != i and _tied(row_a[j], row_a[chosen[0]], tol_a):
                    count += 1
            if count > 1:
                tie_rows[r] = 1
                targets = np.empty(count, dtype=np.int64)
                n_targets = 0
                for j in range(n):
                    if j != i and _tied(row_a[j], row_a[chosen[0]], tol_a):
                        targets[n_targets] = j
                        n_targets += 1
        total = 0.0
        for t in range(n_targets):
            j = targets[t]
            closer = 0
            tied = 0
            for m in range(n):
                if m == i or m == j:
                    continue
                if _tied(row_b[m], row_b[j], tol_b):
                    tied += 1
                elif row_b[m] < row_b[j]:
                    closer += 1
            if tied:
                tie_rows[r] = 1
            total += 1.0 + closer + 0.5 * tied
        ranks[r] = total / n_targets
    return ranks, tie_rows.sum()
