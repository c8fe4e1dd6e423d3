"""Structure kernels: sums of polynomial atom-pair kernels (Darby, Kermode & Csányi 2022, §IV.5).

Between structures A and B with per-atom descriptors ``x_i``,

    k(A, B) = sum_{i in A} sum_{j in B} (x_i . x_j)^zeta,

optionally on unit-normalised ``x_i``.  The kernel is extensive (it grows with
the numbers of atoms of both structures), like the total energy it models.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn.base import BaseEstimator, TransformerMixin

from .._param_validation import Interval, Options, check_param, validate_params
from .._validation import FittedParamsMixin, check_atomic_features
from ..pooling._segments import segment_sum

__all__ = ["StructureKernel", "structure_kernel"]

# Atoms per block of the atom-pair matrix: a (2048, 2048) float64 block is 32 MB.
DEFAULT_BLOCK_ATOMS = 2048
# Largest explicit feature maps (both sets together) used by method="auto".
_FEATURE_MAP_BYTES = 256 * 2**20
_METHODS = ("auto", "pairs", "features")


#: Constraints of the kernel parameters shared by structure_kernel, StructureKernel and StructureKernelRidge.
KERNEL_CONSTRAINTS = {
    "zeta": [Interval(Integral, 1, None, closed="left")],
    "normalize": ["boolean"],
    "block_atoms": [Interval(Integral, 1, None, closed="left")],
    "method": [Options(str, _METHODS)],
}


def normalized_rows(values):
    """Rows scaled to unit Euclidean norm (all-zero rows stay zero); a new array or CSR."""
    if sp.issparse(values):
        values = sp.csr_matrix(values, dtype=np.float64, copy=True)
        norms = np.sqrt(np.asarray(values.multiply(values).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(scale) @ values)
    values = np.asarray(values, dtype=np.float64)
    norms = np.linalg.norm(values, axis=1)
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return values * scale[:, None]


def _chunks(offsets, block_atoms):
    """Spans (lo, hi) of whole structures with about ``block_atoms`` atoms each."""
    bounds = [0]
    n = offsets.size - 1
    while bounds[-1] < n:
        lo = bounds[-1]
        # the last structure that still ends within block_atoms of the chunk start (at least one)
        hi = int(np.searchsorted(offsets, offsets[lo] + block_atoms, side="right")) - 1
        bounds.append(min(n, max(hi, lo + 1)))
    return list(zip(bounds[:-1], bounds[1:]))


@njit(cache=True, nogil=True)
def _ipow(x, zeta):
    """x**zeta for a positive integer zeta by repeated squaring."""
    result = 1.0
    while zeta > 0:
        if zeta & 1:
            result *= x
        zeta >>= 1
        if zeta:
            x *= x
    return result


@njit(cache=True, nogil=True)
def _pair_segment_sums(products, segment_a, segment_b, n_a, n_b, zeta):
    """out[s, t] = sum over rows of segment s and columns of segment t of products**zeta."""
    out = np.zeros((n_a, n_b))
    for r in range(products.shape[0]):
        row = out[segment_a[r]]
        for c in range(products.shape[1]):
            row[segment_b[c]] += _ipow(products[r, c], zeta)
    return out


@njit(cache=True, nogil=True)
def _outer_product_sums(values, offsets):
    """Per structure, the upper triangle of sum_i x_i x_i^T, off-diagonal entries times sqrt(2).

    With these rows F, ``F_A . F_B = sum_{i in A, j in B} (x_i . x_j)^2``.
    """
    n_features = values.shape[1]
    out = np.zeros((offsets.shape[0] - 1, n_features * (n_features + 1) // 2))
    root2 = np.sqrt(2.0)
    for s in range(offsets.shape[0] - 1):
        row = out[s]
        for r in range(offsets[s], offsets[s + 1]):
            x = values[r]
            start = 0
            for k in range(n_features):
                xk = x[k]
                if xk != 0.0:
                    row[start] += xk * xk
                    scaled = root2 * xk
                    for m in range(k + 1, n_features):
                        row[start + m - k] += scaled * x[m]
                start += n_features - k
    return out


def _segment_labels(offsets):
    return np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))


def _pairs_gram(values_a, offsets_a, values_b, offsets_b, zeta, block_atoms, symmetric):
    K = np.zeros((offsets_a.size - 1, offsets_b.size - 1))
    chunks_a = _chunks(offsets_a, block_atoms)
    chunks_b = chunks_a if symmetric else _chunks(offsets_b, block_atoms)
    for p, (lo_a, hi_a) in enumerate(chunks_a):
        a0, a1 = offsets_a[lo_a], offsets_a[hi_a]
        for q, (lo_b, hi_b) in enumerate(chunks_b):
            if symmetric and q < p:
                continue
            b0, b1 = offsets_b[lo_b], offsets_b[hi_b]
            if a0 == a1 or b0 == b1:
                continue
            # float32 per-atom values (SOAP(dtype="float32")) are multiplied in float64, a block at a time
            products = values_a[a0:a1].astype(np.float64, copy=False) @ values_b[b0:b1].astype(np.float64, copy=False).T
            products = np.ascontiguousarray(products.toarray() if sp.issparse(products) else products, dtype=np.float64)
            sums = _pair_segment_sums(
                products,
                _segment_labels(offsets_a[lo_a : hi_a + 1] - a0),
                _segment_labels(offsets_b[lo_b : hi_b + 1] - b0),
                hi_a - lo_a,
                hi_b - lo_b,
                zeta,
            )
            K[lo_a:hi_a, lo_b:hi_b] = sums
            if symmetric and q > p:
                K[lo_b:hi_b, lo_a:hi_a] = sums.T
    return K


def _feature_map(values, offsets, zeta):
    if zeta == 1:
        return segment_sum(values, offsets)
    return _outer_product_sums(np.ascontiguousarray(values, dtype=np.float64), offsets)


def _choose_method(method, values_a, offsets_a, values_b, offsets_b, zeta):
    """"pairs" or "features" (the explicit feature map, zeta 1 or dense zeta 2, when cheaper)."""
    if method != "auto":
        if method == "features" and (zeta > 2 or (zeta == 2 and (sp.issparse(values_a) or sp.issparse(values_b)))):
            raise ValueError("method='features' needs zeta=1, or zeta=2 with dense per-atom values")
        return method
    if zeta == 1:
        return "features"
    if zeta > 2 or sp.issparse(values_a) or sp.issparse(values_b):
        return "pairs"
    d = values_a.shape[1]
    width = d * (d + 1) // 2
    n_a, n_b = offsets_a.size - 1, offsets_b.size - 1
    if (n_a + n_b) * width * 8 > _FEATURE_MAP_BYTES:
        return "pairs"
    pair_cost = values_a.shape[0] * values_b.shape[0] * (d + 1)
    feature_cost = (values_a.shape[0] + values_b.shape[0]) * width + n_a * n_b * width
    return "features" if feature_cost < pair_cost else "pairs"


def gram_from_values(
    values_a, offsets_a, values_b, offsets_b, zeta, block_atoms=DEFAULT_BLOCK_ATOMS, symmetric=False, method="auto"
):
    """Structure Gram matrix of (already normalised) per-atom values.

    ``"pairs"``: the atom-pair products ``X_A X_B^T`` are formed one block of
    whole structures at a time (BLAS), then one numba pass raises them to
    ``zeta`` and sums them over the atoms of each structure, so memory stays
    at one block of about ``block_atoms**2`` entries plus the output.
    ``"features"``: for zeta = 1 the kernel is the dot product of summed
    descriptors, for zeta = 2 of the summed outer products ``sum_i x_i x_i^T``
    (d (d + 1) / 2 numbers per structure) -- much cheaper when structures
    have many atoms.  ``"auto"`` picks the cheaper one (feature maps up to
    256 MB).  With ``symmetric`` (A is B) the work is done once per pair and
    the result is exactly symmetric.
    """
    method = _choose_method(method, values_a, offsets_a, values_b, offsets_b, zeta)
    if method == "features":
        features_a = _feature_map(values_a, offsets_a, zeta)
        features_b = features_a if symmetric else _feature_map(values_b, offsets_b, zeta)
        K = features_a @ features_b.T
    else:
        K = _pairs_gram(values_a, offsets_a, values_b, offsets_b, zeta, block_atoms, symmetric)
    if symmetric:
        K = 0.5 * (K + K.T)  # exactly symmetric despite rounding
    return K


def structure_kernel(A, B=None, zeta=2, normalize=True, block_atoms=DEFAULT_BLOCK_ATOMS, method="auto"):
    """Sum-over-atom-pairs polynomial kernel between the structures of A and B.

    ``K[a, b] = sum_{i in a} sum_{j in b} (x_i . x_j)^zeta`` (Darby et al. 2022, eq. 12
    with the polynomial atom kernel).

    Parameters
    ----------
    A : AtomicFeatures
        Per-atom descriptors of n_A structures (dense or CSR values).
    B : AtomicFeatures, default=None
        Second set (n_B structures); ``None`` uses A (symmetric Gram, computed
        once per block pair).
    zeta : int, default=2
        Exponent of the atom-pair kernel (1 is a linear model on summed
        descriptors).
    normalize : bool, default=True
        Scale every atom's vector to unit length first (all-zero vectors stay
        zero), so each atom pair contributes at most 1.
    block_atoms : int, default=2048
        Atoms per block of the atom-pair matrix (memory ~ 8 block_atoms^2 bytes).
    method : {"auto", "pairs", "features"}, default="auto"
        ``"pairs"`` sums ``(x_i . x_j)^zeta`` over blocks of atom pairs;
        ``"features"`` (zeta = 1, or zeta = 2 with dense values) takes the dot
        product of the summed descriptors (zeta = 1) or summed outer products
        ``sum_i x_i x_i^T`` (zeta = 2), exact and much faster for structures
        with many atoms; ``"auto"`` picks the cheaper.  Equal to rounding.

    Returns
    -------
    ndarray of shape (n_A, n_B)
        In units of (descriptor units)^(2 zeta), dimensionless with ``normalize``.
    """
    for name, value in (("zeta", zeta), ("block_atoms", block_atoms), ("method", method)):
        check_param(value, name, KERNEL_CONSTRAINTS[name], owner="structure_kernel")
    zeta, block_atoms = int(zeta), int(block_atoms)
    A = check_atomic_features(A, estimator="structure_kernel", ensure_nonempty=False)
    values_a = normalized_rows(A.values) if normalize else A.values
    if B is None:
        return gram_from_values(values_a, A.offsets, values_a, A.offsets, zeta, block_atoms, True, method)
    B = check_atomic_features(B, estimator="structure_kernel", ensure_nonempty=False)
    if B.n_features != A.n_features:
        raise ValueError(f"A has {A.n_features} features per atom but B has {B.n_features}")
    values_b = normalized_rows(B.values) if normalize else B.values
    return gram_from_values(values_a, A.offsets, values_b, B.offsets, zeta, block_atoms, False, method)


class StructureKernel(FittedParamsMixin, TransformerMixin, BaseEstimator):
    """Precomputed structure Gram matrix for ``KernelRidge(kernel="precomputed")`` and SVR.

    ``fit(X)`` stores the training structures' per-atom descriptors;
    ``transform(X)`` returns ``K(X, X_train)`` of :func:`structure_kernel`,
    one row per structure of X and one column per training structure.  In a
    pipeline, ``make_pipeline(StructureKernel(zeta=2), KernelRidge(kernel=
    "precomputed"))`` then trains on ``K(train, train)`` and predicts from
    ``K(test, train)``.  For the paper's per-element baseline and
    atom-count-scaled noise use :class:`skdesc.models.StructureKernelRidge`.

    Parameters
    ----------
    zeta : int, default=2
        Exponent of the atom-pair kernel ``(x_i . x_j)^zeta``.
    normalize : bool, default=True
        Unit-normalise every atom's vector first.
    block_atoms : int, default=2048
        Atoms per block of the atom-pair matrix.
    method : {"auto", "pairs", "features"}, default="auto"
        How the Gram matrix is computed; see :func:`structure_kernel`.

    Attributes
    ----------
    n_features_in_ : int
        Per-atom descriptor length.
    n_features_out_ : int
        Number of training structures.
    """

    _parameter_constraints = KERNEL_CONSTRAINTS

    def __init__(self, zeta=2, normalize=True, block_atoms=DEFAULT_BLOCK_ATOMS, method="auto"):
        self.zeta = zeta
        self.normalize = normalize
        self.block_atoms = block_atoms
        self.method = method

    def _prepared(self, X, reset):
        atomic = check_atomic_features(X, estimator=self, reset=reset, ensure_nonempty=False)
        return normalized_rows(atomic.values) if self.normalize else atomic.values, atomic.offsets

    def fit(self, X, y=None):
        """Store the training structures.

        Parameters
        ----------
        X : AtomicFeatures
        y : ignored

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        self.values_fit_, self.offsets_fit_ = self._prepared(X, reset=None)
        self.n_features_in_ = self.values_fit_.shape[1]
        self.n_features_out_ = self.offsets_fit_.size - 1
        self._record_fit_params()
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the symmetric training Gram matrix (computed once per block pair)."""
        self.fit(X)
        return gram_from_values(
            self.values_fit_, self.offsets_fit_, self.values_fit_, self.offsets_fit_, int(self.zeta),
            int(self.block_atoms), True, self.method,
        )

    def transform(self, X):
        """Kernel between the structures of X and the training structures.

        Parameters
        ----------
        X : AtomicFeatures

        Returns
        -------
        ndarray of shape (n_structures, n_training_structures)
        """
        self._check_fitted("values_fit_")
        values, offsets = self._prepared(X, reset=False)
        return gram_from_values(
            values, offsets, self.values_fit_, self.offsets_fit_, int(self.zeta), int(self.block_atoms), False, self.method
        )

    def get_feature_names_out(self, input_features=None):
        """One name per training structure: ``k[train=0]``, ..."""
        self._check_fitted("values_fit_")
        return np.asarray([f"k[train={s}]" for s in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
