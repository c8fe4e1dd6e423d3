"""Histogram pooling: the distribution of each per-atom feature over a structure."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp

from .._param_validation import Interval, Options, Predicate
from ._base import AtomPooling
from ._segments import segment_histogram

__all__ = ["HistogramPooling"]

_NORMALIZE = ("fraction", "count", "density")


def _is_percentile_pair(value):
    if isinstance(value, (str, bytes)):
        return False
    low, high = (float(q) for q in value)
    return 0.0 <= low < high <= 100.0


class HistogramPooling(AtomPooling):
    """Histogram of each per-atom feature over the atoms of a structure.

    For feature ``c`` and bin ``b`` (Pelz, Materials Genomics, Unit 6, slide 40):
    ``Phi[c, b] = (1/N) sum_i 1[phi_i[c] in B_cb]``.  Unlike mean pooling the
    histogram keeps minority motifs (a 1 % defect population is a small bin,
    not a vanishing shift of the mean), bimodality and tails.

    The bins are learned in ``fit``: for each feature, ``n_bins`` bins of equal
    width between two percentiles (``quantile_range``) of that feature over all
    training atoms.  In ``transform``, values below the first bin edge are
    counted in the first bin and values above the last edge in the last bin,
    so every atom is counted exactly once per feature (the fractions of a
    structure sum to 1 per feature).

    Parameters
    ----------
    n_bins : int, default=10
        Number of bins per feature (>= 1).
    quantile_range : tuple of 2 float, default=(0.0, 100.0)
        Percentiles of the training values that give the outer bin edges;
        ``(0, 100)`` is the training minimum and maximum, ``(1, 99)`` ignores
        the 1 % extremes on each side (they land in the edge bins).  A feature
        whose two percentiles coincide gets bins spanning ``[v - 0.5, v + 0.5]``.
    normalize : {"fraction", "count", "density"}, default="fraction"
        ``"fraction"``: counts divided by the number of atoms N of the
        structure (the lecture's formula; sums to 1 per feature);
        ``"count"``: raw counts (extensive); ``"density"``: fractions divided
        by the bin width (integrates to 1 over the binned range; units of 1 /
        feature unit).

    Attributes
    ----------
    bin_edges_ : ndarray of shape (n_features_in_, n_bins + 1)
        Bin edges of each feature, in the feature's units.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_features_out_ : int
        ``n_features_in_ * n_bins``, feature-major (all bins of feature 0 first).

    Notes
    -----
    Dense and scipy.sparse CSR values are supported (for CSR the implicit
    zeros are counted in the bin that contains 0, and the percentiles include
    them).  Counting is one pass of a numba kernel over the atoms (stored
    entries for CSR), without a Python loop over structures.

    Examples
    --------
    >>> import numpy as np
    >>> from skdesc import AtomicFeatures
    >>> from skdesc.pooling import HistogramPooling
    >>> af = AtomicFeatures(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 1, 4], [1, 1, 1, 1])
    >>> HistogramPooling(n_bins=3).fit_transform(af)
    array([[1.        , 0.        , 0.        ],
           [0.        , 0.33333333, 0.66666667]])
    """

    _parameter_constraints = {
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "quantile_range": [Predicate(_is_percentile_pair, "two percentiles (low, high) with 0 <= low < high <= 100")],
        "normalize": [Options(str, _NORMALIZE)],
    }

    def __init__(self, n_bins=10, quantile_range=(0.0, 100.0), normalize="fraction"):
        self.n_bins = n_bins
        self.quantile_range = quantile_range
        self.normalize = normalize

    def _fit_atoms(self, atomic):
        n_bins = int(self.n_bins)
        low, high = (float(q) for q in self.quantile_range)
        lower, upper = _percentiles(atomic.values, low, high)
        same = upper <= lower
        lower = np.where(same, lower - 0.5, lower)
        upper = np.where(same, upper + 0.5, upper)
        self.bin_edges_ = lower[:, None] + (upper - lower)[:, None] * np.linspace(0.0, 1.0, n_bins + 1)
        self.n_features_out_ = self.n_features_in_ * n_bins
        return self

    def _pool(self, values, offsets, numbers=None):
        n_bins = self.bin_edges_.shape[1] - 1
        lower = self.bin_edges_[:, 0]
        width = (self.bin_edges_[:, -1] - lower) / n_bins
        counts = segment_histogram(values, offsets, lower, width, n_bins)
        if self.normalize == "count":
            return counts
        n_atoms = np.diff(offsets).astype(np.float64)
        counts[n_atoms > 0] /= n_atoms[n_atoms > 0, None]
        if self.normalize == "density":
            counts /= np.repeat(width, n_bins)
        return counts

    def _output_names(self, input_features):
        n_bins = self.bin_edges_.shape[1] - 1
        return [f"hist[bin={b}]:{f}" for f in input_features for b in range(n_bins)]


def _percentiles(values, low, high):
    """Per-column percentiles ``low`` and ``high`` (implicit sparse zeros included)."""
    if not sp.issparse(values):
        lower, upper = np.percentile(np.asarray(values, dtype=np.float64), [low, high], axis=0)
        return lower, upper
    columns = sp.csc_matrix(values)
    columns.sum_duplicates()
    lower = np.empty(values.shape[1])
    upper = np.empty(values.shape[1])
    column = np.empty(values.shape[0])
    for c in range(values.shape[1]):
        column[:] = 0.0
        start, stop = columns.indptr[c], columns.indptr[c + 1]
        column[columns.indices[start:stop]] += columns.data[start:stop]
        lower[c], upper[c] = np.percentile(column, [low, high])
    return lower, upper
