"""Reductions of per-atom rows over structures (segments of a CSR offsets array).

Every function takes the per-atom ``values`` (dense ndarray or scipy CSR) and
``offsets`` (rows ``offsets[s]:offsets[s + 1]`` form segment ``s``) and returns
one row per segment.  Empty segments give rows of zeros: the callers decide
whether an empty segment is an error (a structure with no atoms) or simply
absent (an element missing from a structure).
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

def _canonical_csr(values):
    if values.has_canonical_format:
        return values
    values = values.copy()
    values.sum_duplicates()
    return values


def segment_index(offsets):
    """Segment of each row, shape (offsets[-1],)."""
    return np.repeat(np.arange(offsets.size - 1), np.diff(offsets))


def segment_sum(values, offsets):
    """Column sums per segment, shape (n_segments, n_features)."""
    n_segments = offsets.size - 1
    if sp.issparse(values):
        n_rows = values.shape[0]
        indicator = sp.csr_matrix(
            (np.ones(n_rows), (segment_index(offsets), np.arange(n_rows))), shape=(n_segments, n_rows)
        )
        return np.asarray((indicator @ values).toarray(), dtype=np.float64)
    return _segment_reduce_dense(np.ascontiguousarray(values, dtype=np.float64), offsets, 0)


def segment_mean(values, offsets):
    """Column means per segment (zeros for empty segments)."""
    counts = np.diff(offsets)
    out = segment_sum(values, offsets)
    nonempty = counts > 0
    out[nonempty] /= counts[nonempty, None]
    return out


def segment_extreme(values, offsets, largest):
    """Column maxima (``largest=True``) or minima per segment.

    For CSR input the implicit zeros take part: a column with fewer stored
    entries than rows in the segment has a zero among its values.
    """
    sign = 1.0 if largest else -1.0
    if sp.issparse(values):
        values = _canonical_csr(sp.csr_matrix(values))
        return _segment_max_csr(
            values.indptr.astype(np.int64),
            values.indices.astype(np.int64),
            np.ascontiguousarray(values.data, dtype=np.float64),
            offsets,
            values.shape[1],
            sign,
        )
    return _segment_reduce_dense(np.ascontiguousarray(values, dtype=np.float64), offsets, 1 if largest else -1)


@njit(cache=True, nogil=True)
def _segment_reduce_dense(values, offsets, mode):
    """Per-segment column sum (mode 0), max (1) or min (-1) of a dense C-ordered array.

    One pass over the rows in memory order (numpy's reduceat along axis 0 is
    several times slower on row-major data).
    """
    n_segments = offsets.shape[0] - 1
    n_features = values.shape[1]
    out = np.zeros((n_segments, n_features))
    for s in range(n_segments):
        a = offsets[s]
        b = offsets[s + 1]
        if a == b:
            continue
        row = out[s]
        row[:] = values[a]
        for r in range(a + 1, b):
            x = values[r]
            if mode == 0:
                for c in range(n_features):
                    row[c] += x[c]
            elif mode == 1:
                for c in range(n_features):
                    row[c] = max(row[c], x[c])
            else:
                for c in range(n_features):
                    row[c] = min(row[c], x[c])
    return out


@njit(cache=True, nogil=True)
def _segment_max_csr(indptr, indices, data, offsets, n_features, sign):
    """sign * max(sign * x) per segment and column of a canonical CSR matrix."""
    n_segments = offsets.shape[0] - 1
    out = np.zeros((n_segments, n_features))
    best = np.empty(n_features)
    stored = np.empty(n_features, dtype=np.int64)
    for s in range(n_segments):
        a = offsets[s]
        b = offsets[s + 1]
        if a == b:
            continue
        best[:] = -np.inf
        stored[:] = 0
        for row in range(a, b):
            for p in range(indptr[row], indptr[row + 1]):
                c = indices[p]
                v = sign * data[p]
                if v > best[c]:
                    best[c] = v
                stored[c] += 1
        for c in range(n_features):
            if stored[c] < b - a and best[c] < 0.0:
                best[c] = 0.0
            out[s, c] = sign * best[c]
    return out


def segment_histogram(values, offsets, lower, width, n_bins):
    """Counts per segment, feature and bin, shape (n_segments, n_features * n_bins).

    Feature ``c`` has bins ``[lower[c] + b width[c], lower[c] + (b + 1) width[c])``,
    b = 0..n_bins-1; values below the first or above the last bin are counted in
    the first or last bin.  Columns are feature-major: ``c * n_bins + b``.
    For CSR values the implicit zeros are counted in the bin that holds 0.
    """
    lower = np.ascontiguousarray(lower, dtype=np.float64)
    width = np.ascontiguousarray(width, dtype=np.float64)
    if sp.issparse(values):
        values = _canonical_csr(sp.csr_matrix(values))
        return _segment_histogram_csr(
            values.indptr.astype(np.int64),
            values.indices.astype(np.int64),
            np.ascontiguousarray(values.data, dtype=np.float64),
            offsets,
            lower,
            width,
            n_bins,
        )
    return _segment_histogram_dense(np.ascontiguousarray(values, dtype=np.float64), offsets, lower, width, n_bins)


@njit(cache=True, nogil=True)
def _bin(x, lower, width, n_bins):
    """Equal-width bin of x, values outside the range in the edge bins."""
    b = np.floor((x - lower) / width)
    if b < 0.0:
        return 0
    if b > n_bins - 1:
        return n_bins - 1
    return int(b)


@njit(cache=True, nogil=True)
def _segment_histogram_dense(values, offsets, lower, width, n_bins):
    n_segments = offsets.shape[0] - 1
    n_features = values.shape[1]
    out = np.zeros((n_segments, n_features * n_bins))
    for s in range(n_segments):
        row = out[s]
        for r in range(offsets[s], offsets[s + 1]):
            for c in range(n_features):
                row[c * n_bins + _bin(values[r, c], lower[c], width[c], n_bins)] += 1.0
    return out


@njit(cache=True, nogil=True)
def _segment_histogram_csr(indptr, indices, data, offsets, lower, width, n_bins):
    n_segments = offsets.shape[0] - 1
    n_features = lower.shape[0]
    out = np.zeros((n_segments, n_features * n_bins))
    stored = np.empty(n_features, dtype=np.int64)
    for s in range(n_segments):
        a = offsets[s]
        b = offsets[s + 1]
        row = out[s]
        stored[:] = 0
        for r in range(a, b):
            for p in range(indptr[r], indptr[r + 1]):
                c = indices[p]
                row[c * n_bins + _bin(data[p], lower[c], width[c], n_bins)] += 1.0
                stored[c] += 1
        for c in range(n_features):
            if stored[c] < b - a:
                row[c * n_bins + _bin(0.0, lower[c], width[c], n_bins)] += b - a - stored[c]
    return out
