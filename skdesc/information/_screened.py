"""First-neighbour ranks screened in single precision, decided in double precision.

For ``k = 1`` the rank information imbalance needs, per point i and space,
one nearest neighbour and one count of distances below a threshold.  Almost
every comparison is far from its threshold, so this module screens them with
squared distances from a float32 Gram matrix (half the GEMM cost of float64,
and half again from its symmetry), each carrying a rigorous error bound, and
recomputes in float64 only the few distances whose comparison the bound
cannot decide.  Every decision is therefore the one the float64 distances
``sum_k (x_ik - x_jk) ** 2`` give.

Error bound.  Let ``u = 2 ** -24`` and ``x``, ``y`` two rows (d values) of
the data scaled by a power of two so that ``max |x_k| < 2``.  Rounding the
values to float32 and any order of float32 summation of the d products
(Higham, Accuracy and Stability of Numerical Algorithms, 2002, section 3.1;
also with fused multiply-adds) give
``|g32 - x.y| <= ((d + 2) u + O(u^2)) sum_k |x_k y_k|
<= ((d + 2) u + O(u^2)) (|x|^2 + |y|^2) / 2``,
plus at most ``2 ** -146`` per product from float32 underflow.  The screened
squared distance ``|x|^2 + |y|^2 - 2 g32`` (norms in float64) is therefore
within ``E = 1.01 (d + 3) u (|x|^2 + |y|^2) + d 2 ** -144`` (scaled units)
of the exact one; the 1 % margin also covers every float64 rounding (of the
norms, of this expression and of the reference distance itself, all
``<= (4 d + 40) 2 ** -53 (|x|^2 + |y|^2)``).  Centring the data first keeps
``|x|^2 + |y|^2`` close to the distances themselves.
"""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from .._config import get_config
from ._ranks import _FEW_DISTINCT, _FEW_TARGETS, distinct_values, target_counts

# squared-distance scales outside this range could overflow or underflow the
# power-of-two rescaling; such data take the plain float64 path
_MAX_ABS_RANGE = (1e-100, 1e100)
_ROUNDING = 4 * 2.0**-53
# rows with more candidates for the nearest than this get all their exact distances at once
_BULK_ROW = 32


def screenable(X):
    """Whether the centred data ``X`` can be screened in float32."""
    top = np.abs(X).max() if X.size else 0.0
    return top == 0.0 or _MAX_ABS_RANGE[0] <= top <= _MAX_ABS_RANGE[1]


class _Space:
    """Centred float64 data with its float32 copy, norms and error-bound constants."""

    def __init__(self, X):
        self.X = X
        self.norms = np.einsum("ij,ij->i", X, X)
        top = np.abs(X).max() if X.size else 0.0
        power = 0 if top == 0.0 else -int(np.floor(np.log2(top)))
        self.X32 = np.ascontiguousarray(np.ldexp(X, power), dtype=np.float32)
        d = X.shape[1]
        back = np.ldexp(1.0, -2 * power)  # scaled products -> original units, exact
        self.gram_scale = 2.0 * back
        self.coef = 1.01 * (d + 3) * 2.0**-24
        self.floor = d * 2.0**-144 * back

    def gram_blocks(self, rows_per_block, symmetric=True):
        """Yield ``(first_row, block)``: the float32 Gram rows of consecutive row blocks.

        ``symmetric=True``: each tile of the symmetric Gram matrix is computed
        once; block b computes its columns from b on with one GEMM and keeps
        the tiles the later blocks need (transposed there), so the work is
        half of a full GEMM and at most about N^2 / 4 entries are held at a
        time.  ``symmetric=False``: one full GEMM per block, O(block x N)
        memory.  The yielded array is reused for the next block.
        """
        X32 = self.X32
        n = X32.shape[0]
        size = rows_per_block
        starts = list(range(0, n, size))
        rows = np.empty((size, n), dtype=np.float32)
        if not symmetric:
            for start in starts:
                stop = min(start + size, n)
                yield start, np.matmul(X32[start:stop], X32.T, out=rows[: stop - start])
            return
        pending = {}  # (c, b) -> tile of rows in block c, columns in block b (c < b)
        spare = []
        for b, start in enumerate(starts):
            stop = min(start + size, n)
            block = rows[: stop - start]
            np.matmul(X32[start:stop], X32[start:].T, out=block[:, start:])
            for c, first in enumerate(starts[:b]):
                tile = pending.pop((c, b))
                block[:, first : first + size] = tile[:, : stop - start].T
                spare.append(tile)
            for later, first in enumerate(starts[b + 1 :], start=b + 1):
                last = min(first + size, n)
                tile = spare.pop() if spare else np.empty((size, size), dtype=np.float32)
                tile[: stop - start, : last - first] = block[:, first:last]
                pending[(b, later)] = tile
            yield start, block


def screened_rank_means(A, B, tie_rtol):
    """Mean first-neighbour ranks ``(A -> B, B -> A)`` and the tie count.

    Same definitions and tie rule as :func:`skdesc.information._ranks.conditional_ranks`
    with ``k = 1`` (the float64 distances being the direct sums of squares).
    ``A`` and ``B`` are centred float64 arrays that pass :func:`screenable`.
    """
    a, b = _Space(A), _Space(B)
    n = A.shape[0]
    args = (a.X, a.norms, a.gram_scale, a.coef, a.floor, b.X, b.norms, b.gram_scale, b.coef, b.floor)
    config = get_config()  # rank_block_rows, rank_symmetric_bytes: see skdesc.set_config
    size = min(config["rank_block_rows"], n)
    total_ab = total_ba = 0.0
    ties = 0
    symmetric = 2 * n * n <= config["rank_symmetric_bytes"]
    blocks_a, blocks_b = a.gram_blocks(size, symmetric), b.gram_blocks(size, symmetric)
    n_threads = max(1, min(numba.get_num_threads(), size))
    ranks_ab, ranks_ba = np.empty(size), np.empty(size)
    tie_rows = np.empty(size, dtype=np.int64)
    # single-threaded BLAS, A's and B's GEMMs side by side: no idle BLAS or numba
    # workers spinning while the other library runs
    with ThreadPoolExecutor(max(n_threads, 2)) as pool, threadpool_limits(1, user_api="blas"):
        while True:
            next_a, next_b = pool.submit(next, blocks_a, None), pool.submit(next, blocks_b, None)
            block_a, block_b = next_a.result(), next_b.result()
            if block_a is None:
                break
            (start, gram_a), (_, gram_b) = block_a, block_b
            n_rows = gram_a.shape[0]
            cuts = np.linspace(0, n_rows, n_threads + 1).astype(np.int64)
            outputs = (ranks_ab, ranks_ba, tie_rows)
            jobs = [
                pool.submit(first_neighbour_ranks, gram_a, gram_b, start, lo, hi, *args, tie_rtol, *outputs)
                for lo, hi in zip(cuts[:-1], cuts[1:])
            ]
            for job in jobs:
                job.result()
            total_ab += ranks_ab[:n_rows].sum()
            total_ba += ranks_ba[:n_rows].sum()
            ties += int(tie_rows[:n_rows].sum())
    return total_ab / n, total_ba / n, ties


@njit(cache=True, nogil=True, inline="always")
def _exact(X, i, j):
    total = 0.0
    for k in range(X.shape[1]):
        diff = X[i, k] - X[j, k]
        total += diff * diff
    return total


@njit(cache=True, nogil=True, inline="always")
def _get(X, i, j, known, dirty):
    """``_exact(X, i, j)``, computed once per row: ``known`` holds the computed
    ones (-1 = not yet); ``dirty[0]``: 0 none held, 1 some, 2 all (the whole row)."""
    value = known[j]
    if value < 0.0:
        value = _exact(X, i, j)
        known[j] = value
        if dirty[0] == 0:
            dirty[0] = 1
    return value


@njit(cache=True, nogil=True)
def _forget(known, dirty):
    if dirty[0]:
        known[:] = -1.0
        dirty[0] = 0


@njit(cache=True, nogil=True)
def _exact_row(X, i, known, dirty):
    """All exact squared distances from i (a row with many tied candidates)."""
    for j in range(X.shape[0]):
        known[j] = _exact(X, i, j)
    dirty[0] = 2


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def _bounds(norms, gram_row, gram_scale, coef, floor, i, start, stop, low, high, extremes):
    """Bounds of the squared distances from point i to points start..stop-1.

    Writes ``low``/``high`` and updates ``extremes`` = (smallest upper bound,
    largest lower bound, largest upper bound).
    """
    ni = norms[i]
    best_high, top_low, top_high = extremes
    for j in range(start, stop):
        approx = ni + norms[j] - gram_scale * gram_row[j]
        err = coef * (ni + norms[j]) + floor
        low[j] = approx - err
        high[j] = approx + err
        best_high = min(best_high, approx + err)
        top_low = max(top_low, approx - err)
        top_high = max(top_high, approx + err)
    return best_high, top_low, top_high


@njit(cache=True, nogil=True)
def _nearest(X, norms, gram_row, gram_scale, coef, floor, i, tie_rtol, low, high, known, dirty):
    """Exact nearest neighbours of i (all tied ones) and the row's tie tolerance.

    Fills ``low``/``high`` with the bounds of the row (-inf for i itself).
    Returns (indices, tolerance).
    """
    n = low.shape[0]
    extremes = _bounds(norms, gram_row, gram_scale, coef, floor, i, 0, i, low, high, (np.inf, 0.0, 0.0))
    best_high, top_low, top_high = _bounds(norms, gram_row, gram_scale, coef, floor, i, i + 1, n, low, high, extremes)
    low[i] = high[i] = -np.inf
    # candidates for the largest distance (the tolerance) and for the nearest
    # (within the largest possible tolerance of the smallest upper bound)
    limit = best_high + tie_rtol * top_high
    limit += _ROUNDING * (abs(best_high) + tie_rtol * top_high)  # rounding of the line above
    n_candidates = 0
    for j in range(n):
        n_candidates += low[j] <= limit
    if n_candidates > _BULK_ROW:
        # many near-tied candidates (duplicated points): the whole exact row in one
        # tight pass, then the same decisions (the max and the min of all distances
        # are among the candidates the bounds keep)
        _exact_row(X, i, known, dirty)
        top = 0.0
        best = np.inf
        for j in range(n):
            if j != i:
                top = max(top, known[j])
                best = min(best, known[j])
        tol = tie_rtol * top
        count = 0
        for j in range(n):
            count += (j != i) & (known[j] <= best + tol)
        tied = np.empty(count, dtype=np.int64)
        count = 0
        for j in range(n):
            if j != i and known[j] <= best + tol:
                tied[count] = j
                count += 1
        return tied, tol
    top = 0.0
    best = np.inf
    best_index = -1
    n_near = 0
    for j in range(n):
        near = low[j] <= limit
        if (near | (high[j] >= top_low)) and j != i:
            exact = _get(X, i, j, known, dirty)
            top = max(top, exact)
            if near:
                n_near += 1
                if exact < best:
                    best = exact
                    best_index = j
    tol = tie_rtol * top
    if n_near == 1:
        return np.full(1, best_index), tol
    # several candidates: keep all within the tolerance of the nearest (rare)
    tied = np.empty(n_near, dtype=np.int64)
    count = 0
    for j in range(n):
        if low[j] <= limit and j != i and _get(X, i, j, known, dirty) <= best + tol:
            tied[count] = j
            count += 1
    return tied[:count], tol


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz"})
def _decided(low, high, below, above):
    """Points surely closer than ``below``, and points the bounds leave undecided."""
    closer = 0
    undecided = 0
    for m in range(low.shape[0]):
        closer += high[m] < below
        undecided += (high[m] >= below) & (low[m] <= above)
    return closer, undecided


@njit(cache=True, nogil=True)
def _rank(X, low, high, i, j, tol, known, dirty):
    """Number of points m != i, j strictly closer to i than j, and tied with j.

    ``low``/``high`` bound the squared distances from i, with -inf at i.
    """
    threshold = _get(X, i, j, known, dirty)
    # widened by the rounding of these two sums, so that "surely" stays sure
    below = threshold - tol - _ROUNDING * (threshold + tol)
    above = threshold + tol + _ROUNDING * (threshold + tol)
    closer, undecided = _decided(low, high, below, above)
    if undecided <= 1:  # only j itself (low_j <= threshold <= high_j)
        return closer - 1, 0  # minus i itself (its bounds are -inf)
    # decide the undecided points in float64; j, at the threshold, counts itself as tied
    closer, tied = _counts_at(X, low, high, i, threshold, tol, known, dirty)
    return closer, tied - 1


@njit(cache=True, nogil=True)
def _counts_at(X, low, high, i, threshold, tol, known, dirty):
    """``(#closer, #tied)`` of the points m != i against a squared distance ``threshold``.

    The predicates of :func:`skdesc.information._ranks.count_in_row` on the
    float64 distances; a point at ``threshold`` counts itself as tied.
    """
    below = threshold - tol - _ROUNDING * (threshold + tol)
    above = threshold + tol + _ROUNDING * (threshold + tol)
    closer, _ = _decided(low, high, below, above)
    closer -= 1  # i itself (its bounds are -inf)
    tied = 0
    for m in range(low.shape[0]):
        if (high[m] >= below) & (low[m] <= above) and m != i:
            exact = _get(X, i, m, known, dirty)
            if abs(exact - threshold) <= tol:
                tied += 1
            elif exact < threshold:
                closer += 1
    return closer, tied


@njit(cache=True, nogil=True)
def _rank_sum(X, low, high, i, targets, tol, known, dirty):
    """Sum of the ranks of ``targets`` among the neighbours of i, and whether a tie mattered.

    A few targets: :func:`_rank` each.  Many (tied nearest neighbours, e.g.
    duplicated points): one pass per distinct squared distance, or, with many
    distinct ones, the exact row (written to ``row``) sorted once: O(N log N)
    per point instead of O(N) per target.
    """
    n_targets = targets.shape[0]
    total = 0.0
    tie = False
    if dirty[0] == 2:  # the exact row is known: count in it directly
        closer, tied = target_counts(known, i, known[targets], tol)
        for t in range(n_targets):
            others_tied = tied[t] - 1  # the target itself
            tie = tie or others_tied > 0
            total += 1.0 + closer[t] + 0.5 * others_tied
        return total, tie
    if n_targets <= _FEW_TARGETS:
        for j in targets:
            closer, tied = _rank(X, low, high, i, j, tol, known, dirty)
            tie = tie or tied > 0
            total += 1.0 + closer + 0.5 * tied
        return total, tie
    thresholds = np.empty(n_targets)
    for t in range(n_targets):
        thresholds[t] = _get(X, i, targets[t], known, dirty)
    distinct, slot, n_distinct = distinct_values(thresholds, _FEW_DISTINCT)
    if n_distinct > 0:
        closer = np.empty(n_distinct, dtype=np.int64)
        tied = np.empty(n_distinct, dtype=np.int64)
        for u in range(n_distinct):
            closer[u], tied[u] = _counts_at(X, low, high, i, distinct[u], tol, known, dirty)
        closer, tied = closer[slot], tied[slot]
    else:
        for m in range(known.shape[0]):
            if m != i:
                _get(X, i, m, known, dirty)
        closer, tied = target_counts(known, i, thresholds, tol)  # entry i is skipped
    for t in range(n_targets):
        others_tied = tied[t] - 1  # the target itself
        tie = tie or others_tied > 0
        total += 1.0 + closer[t] + 0.5 * others_tied
    return total, tie


@njit(cache=True, nogil=True)
def first_neighbour_ranks(
    gram_a,
    gram_b,
    first_row,
    row_start,
    row_stop,
    XA,
    norms_a,
    scale_a,
    coef_a,
    floor_a,
    XB,
    norms_b,
    scale_b,
    coef_b,
    floor_b,
    tie_rtol,
    ranks_ab,
    ranks_ba,
    tie_rows,
):
    """Rank in the other space of each point's nearest neighbour, both directions.

    Serial over rows ``row_start:row_stop`` of the block (threads share a
    block by rows: a numba parallel region would leave its workers spinning
    through the next GEMM).

    Parameters
    ----------
    gram_a, gram_b : (n_rows, N) float32
        Scaled float32 inner products of points ``first_row + r`` with all points.
    first_row : int
    row_start, row_stop : int
        Rows of the block to process.
    XA, XB : (N, d) float64
        Centred data (for the exact distances).
    norms_a, norms_b : (N,) float64
        Squared row norms of XA, XB.
    scale_a, scale_b : float
        Factor turning a Gram entry into ``2 x.y`` in original units.
    coef_a, coef_b, floor_a, floor_b : float
        Error bound ``coef (|x|^2 + |y|^2) + floor`` of a screened squared distance.
    tie_rtol : float

    ranks_ab, ranks_ba : (n_rows,) float64
    tie_rows : (n_rows,) int64
        Output: the ranks, and in how many directions a tie mattered.
    """
    n = gram_a.shape[1]
    low_a = np.empty(n)
    high_a = np.empty(n)
    low_b = np.empty(n)
    high_b = np.empty(n)
    # exact distances of the current row, each computed at most once
    known_a = np.full(n, -1.0)
    known_b = np.full(n, -1.0)
    dirty_a = np.zeros(1, dtype=np.int64)
    dirty_b = np.zeros(1, dtype=np.int64)
    for r in range(row_start, row_stop):
        i = first_row + r
        near_a, tol_a = _nearest(XA, norms_a, gram_a[r], scale_a, coef_a, floor_a, i, tie_rtol, low_a, high_a, known_a, dirty_a)
        near_b, tol_b = _nearest(XB, norms_b, gram_b[r], scale_b, coef_b, floor_b, i, tie_rtol, low_b, high_b, known_b, dirty_b)
        total, tied = _rank_sum(XB, low_b, high_b, i, near_a, tol_b, known_b, dirty_b)
        ranks_ab[r] = total / near_a.shape[0]
        tie_ab = tied or near_a.shape[0] > 1
        total, tied = _rank_sum(XA, low_a, high_a, i, near_b, tol_a, known_a, dirty_a)
        ranks_ba[r] = total / near_b.shape[0]
        tie_ba = tied or near_b.shape[0] > 1
        tie_rows[r] = int(tie_ab) + int(tie_ba)
        _forget(known_a, dirty_a)
        _forget(known_b, dirty_b)
