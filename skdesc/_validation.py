"""Parameter checks and the fitted-state guard shared by all skdesc estimators.

Two concerns, one module:

* small checks whose messages always name the parameter, the accepted values
  and the value received (``check_n_jobs``, ``check_bool``, ...);
* :class:`FittedParamsMixin`: ``fit`` records the constructor parameters that
  shape the fitted state, and ``transform`` (and every other method that
  reads fitted state) refuses to run when one of them was changed by
  ``set_params`` since, instead of mixing stale fitted arrays with new
  parameters (wrong output widths, or numba kernels writing past buffers).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "FittedParamsMixin",
    "check_bool",
    "check_n_jobs",
    "check_random_state_param",
    "check_shape",
    "check_verbose",
]

#: Parameters that cannot change what ``transform`` returns (only how fast or
#: how verbosely it runs): they may be changed freely after ``fit``.
RESULT_NEUTRAL_PARAMS = frozenset({"n_jobs", "verbose", "progress"})


def check_n_jobs(n_jobs, name="n_jobs"):
    """``None``, or a non-zero integer (negative counts from the number of cores, -1 = all)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(
            f"{name} must be None (one thread), a positive integer or a negative one (-1 = all cores), "
            f"got {n_jobs!r}"
        )
    return int(n_jobs)


def check_bool(value, name):
    """``True`` or ``False`` (also numpy booleans)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_random_state_param(value, name="random_state"):
    """``check_random_state`` whose error names the parameter."""
    from sklearn.utils import check_random_state

    try:
        return check_random_state(value)
    except ValueError:
        raise ValueError(
            f"{name} must be None, an integer seed or a numpy RandomState, got {value!r}"
        ) from None


def check_verbose(value, name="verbose"):
    """``True``/``False`` or an integer >= 0."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0 or True/False, got {value!r}")
    return int(value)


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
