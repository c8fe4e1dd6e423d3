"""Input checks and the fitted-state guard shared by all skdesc estimators.

(Constructor parameters are checked declaratively: :mod:`skdesc._param_validation`.)

* :func:`check_atomic_features`: the one check of per-atom descriptor inputs
  of the pooling rules, kernels and models (type, with a hint when structures
  were passed instead; finiteness, dense or sparse; width against ``fit``);
* :func:`check_shape`: shapes of arrays handed to numba kernels;
* :class:`FittedParamsMixin`: ``fit`` records the constructor parameters that
  shape the fitted state, and ``transform`` (and every other method that
  reads fitted state) refuses to run when one of them was changed by
  ``set_params`` since, instead of mixing stale fitted arrays with new
  parameters (wrong output widths, or numba kernels writing past buffers).
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted, validate_data

from .atomic import AtomicFeatures
from .structures import is_structure

__all__ = [
    "FittedParamsMixin",
    "check_atomic_features",
    "check_shape",
]

#: Parameters that cannot change what ``transform`` returns (only how fast or
#: how verbosely it runs): they may be changed freely after ``fit``.
RESULT_NEUTRAL_PARAMS = frozenset({"n_jobs", "verbose", "progress"})


def check_atomic_features(
    X,
    *,
    estimator,
    reset=None,
    accept_array=False,
    accept_sparse=False,
    ensure_nonempty=True,
    ensure_finite=True,
):
    """Per-atom descriptors ``X`` as :class:`~skdesc.AtomicFeatures`, checked for ``estimator``.

    Parameters
    ----------
    X : AtomicFeatures, or array-like of shape (n_structures, n_features) with ``accept_array``
    estimator : estimator or str
        Whose input ``X`` is: its class name is used in the messages, and
        ``reset`` reads or sets its ``n_features_in_``.  A string names a
        function (then ``reset`` must be ``None``).
    reset : {None, True, False}, default=None
        ``True`` (in ``fit``): record ``n_features_in_`` and
        ``feature_names_in_``; ``False`` (after ``fit``): ``X`` must have
        ``n_features_in_`` features per atom; ``None``: neither.
    accept_array : bool, default=False
        Read a 2-D array as one atom per structure of the placeholder
        element 0 (checked by scikit-learn's ``validate_data``, which also
        records or compares ``n_features_in_`` and DataFrame column names).
        Otherwise anything but ``AtomicFeatures`` is a ``TypeError``.
    accept_sparse : bool or str, default=False
        Sparse formats accepted for such an array (``validate_data``'s
        argument); sparse ``AtomicFeatures`` values are always accepted.
    ensure_nonempty : bool, default=True
        Require at least one structure.
    ensure_finite : bool, default=True
        Refuse NaN and inf (the stored entries of sparse values).

    Returns
    -------
    AtomicFeatures

    Raises
    ------
    TypeError
        ``X`` is a list of structures (the message says to put a local
        descriptor first) or, without ``accept_array``, not ``AtomicFeatures``.
    ValueError
        Wrong number of features, no structure, or NaN/inf values.
    """
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    if isinstance(X, (list, tuple)) and X and is_structure(X[0]):
        raise TypeError(f"{name} takes per-atom descriptors: put a local descriptor such as ChebyshevLAED before it")
    if not isinstance(X, AtomicFeatures):
        if not accept_array:
            raise TypeError(
                f"{name} takes AtomicFeatures (per-atom descriptors of whole structures): put a local "
                f"descriptor such as ChebyshevLAED before it, got {type(X).__name__}"
            )
        values = validate_data(estimator, X, reset=bool(reset), dtype=np.float64, accept_sparse=accept_sparse)
        n = values.shape[0]
        return AtomicFeatures(values, np.arange(n + 1), np.zeros(n, dtype=np.int64), species=(0,))
    if reset:
        estimator.n_features_in_ = X.n_features
        estimator.feature_names_in_ = np.asarray(X.feature_names, dtype=object)
    elif reset is not None and X.n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.n_features} features per atom, but {name} was fitted with {estimator.n_features_in_}"
        )
    if ensure_nonempty and X.n_structures == 0:
        raise ValueError(f"{name} needs at least one structure")
    if ensure_finite:
        stored = X.values.data if sp.issparse(X.values) else X.values
        if not np.all(np.isfinite(stored)):
            raise ValueError("per-atom descriptors contain NaN or inf; check the local descriptor")
    return X


def check_shape(array, shape, name):
    """Raise ValueError unless ``array.shape`` matches ``shape`` (``None`` entries match any size).

    Used before every numba call that trusts its arguments' shapes: a wrong
    shape there is a bug, reported instead of reading or writing out of bounds.
    """
    actual = np.shape(array)
    if len(actual) != len(shape) or any(e is not None and int(e) != a for e, a in zip(shape, actual)):
        expected = "(" + ", ".join("any" if e is None else str(int(e)) for e in shape) + ")"
        raise ValueError(f"internal shape check failed: {name} has shape {actual}, expected {expected}")


# ------------------------------------------------------------ fitted state
def _freeze(value):
    """A comparable snapshot of a parameter value (deep: later in-place edits are seen)."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, numbers.Integral):
        return ("int", int(value))
    if isinstance(value, numbers.Real):
        return ("real", float(value).hex())  # NaN equals NaN here
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("objects", value.shape, tuple(_freeze(v) for v in value.ravel().tolist()))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((repr(k), _freeze(v)) for k, v in value.items()), key=lambda kv: kv[0])))
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        return ("estimator", type(value), _freeze({k: v for k, v in params.items() if k not in RESULT_NEUTRAL_PARAMS}))
    if isinstance(value, (np.random.RandomState, np.random.Generator)):
        # a generator's state moves when fit draws from it, and a pickled copy is
        # another object: what was drawn is fitted state, only the kind is compared
        return ("rng", type(value).__name__)
    try:
        hash(value)
    except TypeError:
        return ("object", type(value).__name__)
    return ("value", value)


class FittedParamsMixin:
    """Refuse to use fitted state after a result-changing ``set_params``.

    ``fit`` calls :meth:`_forget_fit_params` first and
    :meth:`_record_fit_params` last; every method that reads fitted
    state calls :meth:`_check_fitted` (instead of ``check_is_fitted``), which
    raises ``NotFittedError`` before ``fit`` and ``ValueError`` when a
    parameter other than those in ``_result_neutral_params`` differs from its
    value at fit time.  One rule for all estimators, so no method can mix a
    new parameter with state derived from the old one.
    """

    _result_neutral_params = RESULT_NEUTRAL_PARAMS

    def _result_params(self):
        params = self.get_params(deep=False)
        return {k: v for k, v in params.items() if k not in self._result_neutral_params}

    def _forget_fit_params(self):
        """Call first in ``fit``: a fit that fails leaves the estimator unfitted."""
        self.__dict__.pop("_fit_params_", None)

    def _record_fit_params(self):
        """Call last in ``fit``: the parameters the fitted state was derived from."""
        self._fit_params_ = {k: _freeze(v) for k, v in self._result_params().items()}

    def _check_fitted(self, attributes=None):
        check_is_fitted(self, attributes)
        recorded = getattr(self, "_fit_params_", None)
        if recorded is None:
            raise NotFittedError(f"this {type(self).__name__} instance is not fitted yet: call fit first")
        current = self._result_params()
        changed = sorted(k for k in set(recorded) | set(current) if recorded.get(k) != _freeze(current.get(k)))
        if changed:
            free = sorted(self._result_neutral_params & set(self.get_params(deep=False)))
            raise ValueError(
                f"parameters changed since fit: {', '.join(changed)} of {type(self).__name__} "
                "(set by set_params after fit); call fit again before using the fitted estimator"
                + (f" (only {', '.join(free)} may change after fit)" if free else "")
            )
