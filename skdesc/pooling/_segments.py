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

# Rows per histogram chunk: bounds the (rows, features) scratch of bin indices.
_HISTOGRAM_ROWS = 1 << 16


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
    out = np.zeros((n_segments, values.shape[1]))
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    if nonempty.size:
        # reduceat sums from each start to the next start; skipping empty
        # segments keeps the starts strictly increasing, so each sum ends at
        # its segment's end
        out[nonempty] = np.add.reduceat(values, offsets[nonempty], axis=0)
    return out


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
    out = np.zeros((offsets.size - 1, values.shape[1]))
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    if nonempty.size:
        ufunc = np.maximum if largest else np.minimum
        out[nonempty] = ufunc.reduceat(values, offsets[nonempty], axis=0)
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


def bin_index(x, lower, width, n_bins):
    """Equal-width bin of each value, values outside the range in the edge bins."""
    index = np.floor((x - lower) / width).astype(np.int64)
    return np.clip(index, 0, n_bins - 1)


def segment_histogram(values, offsets, lower, width, n_bins):
    """Counts per segment, feature and bin, shape (n_segments, n_features * n_bins).

    Feature ``c`` has bins ``[lower[c] + b width[c], lower[c] + (b + 1) width[c])``,
    b = 0..n_bins-1; values below the first or above the last bin are counted in
    the first or last bin.  Columns are feature-major: ``c * n_bins + b``.
    """
    n_segments = offsets.size - 1
    n_features = values.shape[1]
    size = n_features * n_bins
    if sp.issparse(values):
        values = _canonical_csr(sp.csr_matrix(values))
        rows = np.repeat(np.arange(values.shape[0]), np.diff(values.indptr))
        seg = segment_index(offsets)[rows]
        cols = values.indices.astype(np.int64)
        bins = bin_index(values.data, lower[cols], width[cols], n_bins)
        counts = np.bincount(seg * size + cols * n_bins + bins, minlength=n_segments * size)
        counts = counts.reshape(n_segments, size).astype(np.float64)
        # the implicit zeros of each (segment, column) fall into the bin of 0
        stored = np.bincount(seg * n_features + cols, minlength=n_segments * n_features)
        implicit = np.diff(offsets)[:, None] - stored.reshape(n_segments, n_features)
        zero_bin = bin_index(np.zeros(n_features), lower, width, n_bins)
        counts[:, np.arange(n_features) * n_bins + zero_bin] += implicit
        return counts
    out = np.zeros((n_segments, size))
    columns = np.arange(n_features) * n_bins
    # chunks of whole segments of about _HISTOGRAM_ROWS rows
    bounds = np.searchsorted(offsets, np.arange(0, offsets[-1], _HISTOGRAM_ROWS), side="right") - 1
    bounds = np.unique(np.concatenate([bounds, [n_segments]]))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        a, b = offsets[lo], offsets[hi]
        if a == b:
            continue
        bins = bin_index(values[a:b], lower, width, n_bins) + columns
        seg = segment_index(offsets[lo : hi + 1] - a)
        flat = (seg[:, None] * size + bins).ravel()
        out[lo:hi] = np.bincount(flat, minlength=(hi - lo) * size).reshape(hi - lo, size)
    return out
