"""Declarative checks of constructor parameters.

Every public estimator states, in a class attribute ``_parameter_constraints``,
which values each of its constructor parameters accepts::

    _parameter_constraints = {
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "per_element": ["boolean"],
        "species": [None, "array-like"],
    }

A parameter is valid when at least one constraint of its list accepts it.
:func:`validate_params` checks ``get_params(deep=False)`` against the
constraints of the class and of its bases (a subclass adds or overrides
entries; the common parameters of a family are declared once in its base).
Only the parameters of the class's own constructor are checked, so a subclass
that fixes a parameter of its base (``SOAP`` fixes ``compression``) simply
does not list it.  ``fit`` calls it first; checks that relate several
parameters (``ang_cutoff <= rad_cutoff``) stay in code, in the estimator's
``_check_params``.

Constraint kinds
----------------
:class:`Interval`
    Integers or real numbers within bounds (booleans and non-finite values
    never qualify).
:class:`Options`
    A fixed set of values of one type (usually strings).
``"boolean"``
    ``True`` or ``False`` (numpy booleans included).
``"array-like"``
    A list, tuple, numpy array or other sized container that is not a
    string or a mapping.
``"random_state"``
    ``None``, an integer seed in [0, 2**32 - 1] or a ``numpy.random.RandomState``.
``None``
    The value ``None``.
a class
    An instance of that class (or of :class:`InstanceOf` for a custom
    description).
:class:`Predicate`
    A function returning ``True`` for accepted values, with a description of
    what it accepts.

A rejected value raises :class:`InvalidParameterError` with the estimator,
the parameter, what is accepted and what was received.
"""

import inspect
import math
import numbers
from collections.abc import Mapping

import numpy as np

__all__ = [
    "Constraint",
    "InstanceOf",
    "Interval",
    "InvalidParameterError",
    "Options",
    "N_JOBS",
    "Predicate",
    "VERBOSE",
    "check_param",
    "make_constraint",
    "merged_constraints",
    "validate_params",
]

_CLOSED = ("left", "right", "both", "neither")
_MAX_REPR = 80


class InvalidParameterError(ValueError, TypeError):
    """A parameter value that none of the parameter's constraints accepts.

    A subclass of both ``ValueError`` and ``TypeError``: the per-parameter
    checks it replaces raised one or the other (a wrong type, a value out of
    range), so code that catches either keeps working.
    """


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _article(noun):
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _number(x):
    return str(int(x)) if isinstance(x, numbers.Integral) else format(float(x), "g")


def _short_repr(value):
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 4] + " ..."


def _join(phrases):
    """``a``, ``a or b``, ``a, b or c`` (``a, or b`` when a phrase contains "or" itself)."""
    if len(phrases) == 1:
        return phrases[0]
    last = ", or " if any(" or " in p for p in phrases) else " or "
    return ", ".join(phrases[:-1]) + last + phrases[-1]


class Constraint:
    """One kind of accepted value: :meth:`accepts` and a description for error messages."""

    def accepts(self, value):
        """``True`` if ``value`` satisfies the constraint."""
        raise NotImplementedError

    def describe(self):
        """What the constraint accepts, as a phrase: ``"an integer >= 1"``."""
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__}: {self.describe()}>"


class Interval(Constraint):
    """Numbers of one kind within bounds.

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``Integral`` accepts Python and numpy integers; ``Real`` accepts
        integers and floats.  Booleans are rejected by both, and ``Real``
        rejects NaN and infinities, whatever the bounds.
    left, right : number or None
        Bounds; ``None`` leaves that side unbounded.
    closed : {"left", "right", "both", "neither"}
        Which bounds belong to the interval (a closed side needs a bound).
    """

    def __init__(self, kind, left, right, *, closed):
        if kind not in (numbers.Integral, numbers.Real):
            raise TypeError(f"Interval kind must be numbers.Integral or numbers.Real, got {kind!r}")
        if closed not in _CLOSED:
            raise ValueError(f"Interval closed must be one of {_CLOSED}, got {closed!r}")
        if (closed in ("left", "both") and left is None) or (closed in ("right", "both") and right is None):
            raise ValueError(f"Interval closed={closed!r} needs a bound on that side")
        if left is not None and right is not None and left > right:
            raise ValueError(f"Interval bounds must satisfy left <= right, got {left} > {right}")
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def accepts(self, value):
        if _is_bool(value) or not isinstance(value, self.kind):
            return False
        if self.kind is numbers.Real and not math.isfinite(value):
            return False
        if self.left is not None:
            if value < self.left or (value == self.left and self.closed not in ("left", "both")):
                return False
        if self.right is not None:
            if value > self.right or (value == self.right and self.closed not in ("right", "both")):
                return False
        return True

    def describe(self):
        if self.kind is numbers.Integral:
            noun = "an integer"
        else:
            noun = "a number" if self.left is not None and self.right is not None else "a finite number"
        left_closed = self.closed in ("left", "both")
        right_closed = self.closed in ("right", "both")
        if self.left is not None and self.right is not None:
            return (
                f"{noun} in {'[' if left_closed else '('}{_number(self.left)}, "
                f"{_number(self.right)}{']' if right_closed else ')'}"
            )
        if self.left is not None:
            return f"{noun} {'>=' if left_closed else '>'} {_number(self.left)}"
        if self.right is not None:
            return f"{noun} {'<=' if right_closed else '<'} {_number(self.right)}"
        return noun


class Options(Constraint):
    """One of a fixed set of values of one type.

    Parameters
    ----------
    kind : type
        Type of the values (``str`` for choices by name).  A value of
        another type is rejected even if it compares equal (``1.0`` is not an
        option of ``Options(numbers.Integral, {0, 1})``); booleans are only
        accepted when ``kind`` is ``bool``.
    values : iterable
        The options, listed in messages in the given order (sorted for a set).
    """

    def __init__(self, kind, values):
        if isinstance(values, (set, frozenset)):
            values = sorted(values, key=repr)
        values = tuple(values)
        if not values:
            raise ValueError("Options needs at least one value")
        wrong = [v for v in values if not isinstance(v, kind)]
        if wrong:
            raise TypeError(f"Options values must be of type {kind.__name__}, got {wrong!r}")
        self.kind = kind
        self.values = values

    def accepts(self, value):
        if not isinstance(value, self.kind) or (_is_bool(value) and self.kind is not bool):
            return False
        return any(value == option for option in self.values)

    def describe(self):
        return "one of {" + ", ".join(repr(v) for v in self.values) + "}"


class InstanceOf(Constraint):
    """An instance of a class (``isinstance``, so abstract base classes work too).

    Parameters
    ----------
    cls : type
    description : str, default=None
        Phrase for messages; ``None`` gives ``"a <class name>"``.
    """

    def __init__(self, cls, description=None):
        if not isinstance(cls, type):
            raise TypeError(f"InstanceOf needs a class, got {cls!r}")
        self.cls = cls
        self.description = description

    def accepts(self, value):
        return isinstance(value, self.cls)

    def describe(self):
        return self.description or _article(self.cls.__name__)


class Predicate(Constraint):
    """Values for which ``function(value)`` is true.

    Parameters
    ----------
    function : callable
        Returns a truth value; a ``TypeError`` or ``ValueError`` it raises
        counts as a rejection.
    description : str
        What the function accepts, as a phrase ("a list of elements such as
        ['Ti', 'O']").
    """

    def __init__(self, function, description):
        if not callable(function):
            raise TypeError(f"Predicate needs a callable, got {function!r}")
        if not isinstance(description, str) or not description:
            raise TypeError("Predicate needs a description of what it accepts")
        self.function = function
        self.description = description

    def accepts(self, value):
        try:
            return bool(self.function(value))
        except (TypeError, ValueError):
            return False

    def describe(self):
        return self.description


class _NoneConstraint(Constraint):
    def accepts(self, value):
        return value is None

    def describe(self):
        return "None"


class _Boolean(Constraint):
    def accepts(self, value):
        return _is_bool(value)

    def describe(self):
        return "True or False"


class _ArrayLike(Constraint):
    def accepts(self, value):
        if isinstance(value, (str, bytes, Mapping)):
            return False
        return hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")

    def describe(self):
        return "an array-like"


class _RandomState(Constraint):
    _SEED = Interval(numbers.Integral, 0, 2**32 - 1, closed="both")

    def accepts(self, value):
        return value is None or isinstance(value, np.random.RandomState) or self._SEED.accepts(value)

    def describe(self):
        return "None, an int or a numpy RandomState (seeds 0 to 2**32 - 1)"


_NAMED = {"boolean": _Boolean(), "array-like": _ArrayLike(), "random_state": _RandomState()}


#: ``n_jobs``: ``None`` (one thread), a number of threads, or -1 (all cores), -2 ...
N_JOBS = [
    None,
    Interval(numbers.Integral, 1, None, closed="left"),
    Interval(numbers.Integral, None, -1, closed="right"),
]
#: ``verbose``: ``True``/``False`` or a level >= 0.
VERBOSE = ["boolean", Interval(numbers.Integral, 0, None, closed="left")]


def make_constraint(spec):
    """The :class:`Constraint` for one entry of a constraint list.

    ``None``, ``"boolean"``, ``"array-like"``, ``"random_state"``, a class
    (:class:`InstanceOf`) or a :class:`Constraint`.
    """
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _NoneConstraint()
    if isinstance(spec, str) and spec in _NAMED:
        return _NAMED[spec]
    if isinstance(spec, type):
        return InstanceOf(spec)
    raise TypeError(f"unknown parameter constraint {spec!r}: use None, {', '.join(map(repr, _NAMED))}, a class or a Constraint")


def check_param(value, name, constraints, owner=None):
    """Return ``value`` if one of ``constraints`` accepts it; raise :class:`InvalidParameterError` otherwise.

    Parameters
    ----------
    value : object
    name : str
        Parameter name, for the message.
    constraints : list
        Entries as :func:`make_constraint` takes them.
    owner : str, default=None
        Estimator or function name, for the message.
    """
    checks = [make_constraint(c) for c in constraints]
    if any(check.accepts(value) for check in checks):
        return value
    where = f"{owner}: " if owner else ""
    accepted = _join([check.describe() for check in checks])
    raise InvalidParameterError(f"{where}{name} must be {accepted}, got {_short_repr(value)}")


def _constructor_parameters(cls):
    init = cls.__init__
    if init is object.__init__:
        return []
    parameters = inspect.signature(init).parameters.values()
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in parameters if p.name != "self" and p.kind not in kinds]


def merged_constraints(cls):
    """Constraints of the constructor parameters of ``cls``, merged along its MRO.

    A class's own ``_parameter_constraints`` override those of its bases;
    entries for parameters that the constructor of ``cls`` does not take are
    left out.
    """
    merged = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("_parameter_constraints", {}))
    return {name: merged[name] for name in _constructor_parameters(cls) if name in merged}


def validate_params(estimator):
    """Check ``estimator.get_params(deep=False)`` against the constraints of its class.

    Raises :class:`InvalidParameterError` for the first parameter (in
    ``get_params`` order) that no constraint accepts.  Parameters without a
    constraint (in a user's subclass) are not checked.
    """
    constraints = merged_constraints(type(estimator))
    owner = type(estimator).__name__
    for name, value in estimator.get_params(deep=False).items():
        if name in constraints:
            check_param(value, name, constraints[name], owner=owner)
