"""Declarative parameter validation: the constraint kinds, and every public estimator's constraints.

* each constraint kind accepts and rejects the right values, and a rejection is
  an ``InvalidParameterError`` (a ValueError and a TypeError) whose message
  names the estimator, the parameter, what is accepted and what was received;
* every public estimator declares a constraint for exactly its constructor
  parameters (a new parameter without one fails here), and no constraint
  names a parameter that no estimator has;
* ``__init__`` accepts anything, ``fit`` rejects every value that the
  constraints reject, for every constrained parameter of every estimator.
"""

import inspect
import numbers
from collections.abc import Mapping

import numpy as np
import pytest
import scipy.sparse as sp
from ase.build import molecule
from sklearn.base import BaseEstimator

import skdesc
from skdesc._param_validation import (
    N_JOBS,
    VERBOSE,
    InstanceOf,
    Interval,
    InvalidParameterError,
    Options,
    Predicate,
    check_param,
    make_constraint,
    merged_constraints,
    validate_params,
)
from skdesc.local import LocalDescriptor
from skdesc.pooling._base import AtomPooling

Integral, Real = numbers.Integral, numbers.Real


def _accepts(constraints, value):
    return any(make_constraint(c).accepts(value) for c in constraints)


# ------------------------------------------------------------ constraint kinds
@pytest.mark.parametrize(
    "constraint, accepted, rejected",
    [
        (
            Interval(Integral, 1, None, closed="left"),
            [1, 2, np.int64(7), np.uint8(3), 10**30],
            [0, -1, 1.0, 2.5, True, np.bool_(True), "1", None, float("nan"), [1]],
        ),
        (
            Interval(Integral, None, -1, closed="right"),
            [-1, -5, np.int32(-2)],
            [0, 1, -1.0, False],
        ),
        (
            Interval(Real, 0, None, closed="neither"),
            [1e-300, 0.5, 3, np.float32(2.0), np.int64(4)],
            [0, 0.0, -1e-9, float("nan"), float("inf"), True, "0.5", None, np.array([1.0])],
        ),
        (
            Interval(Real, 0, None, closed="left"),
            [0, 0.0, 5.5],
            [-0.1, float("inf"), float("-inf"), False],
        ),
        (
            Interval(Real, 0, 1, closed="both"),
            [0, 0.0, 0.5, 1, 1.0],
            [-1e-12, 1.0000001, float("nan")],
        ),
        (
            Interval(Real, 0, 1, closed="right"),
            [1e-9, 1],
            [0, 0.0, 1.5],
        ),
        (
            Interval(Real, 0, 1, closed="neither"),
            [0.5],
            [0, 1],
        ),
        (
            Interval(Real, None, None, closed="neither"),
            [-1e300, 0, 1e300],
            [float("nan"), float("inf"), True, "1"],
        ),
    ],
)
def test_interval(constraint, accepted, rejected):
    for value in accepted:
        assert constraint.accepts(value), (constraint, value)
    for value in rejected:
        assert not constraint.accepts(value), (constraint, value)


@pytest.mark.parametrize(
    "constraint, text",
    [
        (Interval(Integral, 1, None, closed="left"), "an integer >= 1"),
        (Interval(Integral, 0, 20, closed="both"), "an integer in [0, 20]"),
        (Interval(Integral, None, -1, closed="right"), "an integer <= -1"),
        (Interval(Real, 0, None, closed="neither"), "a finite number > 0"),
        (Interval(Real, 0, 1, closed="right"), "a number in (0, 1]"),
        (Interval(Real, 1e-3, 0.5, closed="left"), "a number in [0.001, 0.5)"),
        (Interval(Real, None, None, closed="neither"), "a finite number"),
        (Options(str, ("error", "ignore")), "one of {'error', 'ignore'}"),
        (Options(str, {"b", "a"}), "one of {'a', 'b'}"),
        (make_constraint("boolean"), "True or False"),
        (make_constraint(None), "None"),
        (make_constraint("array-like"), "an array-like"),
        (make_constraint(dict), "a dict"),
        (make_constraint(LocalDescriptor), "a LocalDescriptor"),
        (InstanceOf(Mapping, "a mapping"), "a mapping"),
        (Predicate(callable, "a callable"), "a callable"),
    ],
)
def test_descriptions(constraint, text):
    assert constraint.describe() == text
    assert text in repr(constraint)


@pytest.mark.parametrize(
    "args, kwargs, error",
    [
        ((float, 0, 1), {"closed": "both"}, TypeError),  # kind must be Integral or Real
        ((Real, 0, 1), {"closed": "open"}, ValueError),
        ((Real, 1, 0), {"closed": "both"}, ValueError),
        ((Real, None, 1), {"closed": "left"}, ValueError),  # a closed side needs a bound
        ((Integral, 0, None), {"closed": "both"}, ValueError),
    ],
)
def test_interval_definitions_are_checked(args, kwargs, error):
    with pytest.raises(error):
        Interval(*args, **kwargs)


def test_interval_closed_is_required():
    with pytest.raises(TypeError):
        Interval(Real, 0, 1)


def test_options():
    names = Options(str, ("error", "ignore"))
    assert names.accepts("error") and names.accepts(np.str_("ignore"))
    for value in ("raise", "", None, 1, ["error"], b"error"):
        assert not names.accepts(value), value
    codes = Options(Integral, (0, 1, 2))
    assert codes.accepts(0) and codes.accepts(np.int64(2))
    for value in (True, False, 1.0, 3, "1"):  # no bools, no floats equal to an option
        assert not codes.accepts(value), value
    assert Options(bool, (True,)).accepts(True)
    with pytest.raises(TypeError):
        Options(str, ("a", 1))
    with pytest.raises(ValueError):
        Options(str, ())


def test_named_kinds_and_types():
    boolean = make_constraint("boolean")
    assert all(boolean.accepts(v) for v in (True, False, np.bool_(True)))
    assert not any(boolean.accepts(v) for v in (0, 1, 1.0, "True", None, [True]))

    array = make_constraint("array-like")
    assert all(array.accepts(v) for v in ([1.0], (1, 2), [], np.ones((2, 2)), np.float64(1.0) * np.ones(()),
                                         sp.csr_matrix(np.eye(2)), {1, 2}))
    assert not any(array.accepts(v) for v in ("abc", b"ab", {"H": 1.0}, 3, 2.5, None, object()))

    seed = make_constraint("random_state")
    assert all(seed.accepts(v) for v in (None, 0, 2**32 - 1, np.int64(3), np.random.RandomState(0)))
    assert not any(seed.accepts(v) for v in (-1, 2**32, True, "seed", 1.5, np.random.default_rng(0)))

    none = make_constraint(None)
    assert none.accepts(None) and not any(none.accepts(v) for v in (0, "", "None", False))

    mapping = make_constraint(Mapping)  # abstract base classes work through isinstance
    assert mapping.accepts({"a": 1}) and not mapping.accepts([("a", 1)])
    assert make_constraint(dict).accepts({}) and not make_constraint(dict).accepts([])
    with pytest.raises(TypeError):
        InstanceOf("dict")


def test_predicate():
    even = Predicate(lambda v: v % 2 == 0, "an even number")
    assert even.accepts(4) and not even.accepts(3)
    assert not even.accepts("four")  # the TypeError it raises is a rejection
    assert not Predicate(lambda v: int(v) > 0, "a positive number").accepts("x")  # ValueError too
    with pytest.raises(TypeError):
        Predicate("not callable", "x")
    with pytest.raises(TypeError):
        Predicate(callable, "")


def test_unknown_constraint_specs_are_refused():
    for spec in ("bool", "int", 3, ["boolean"]):
        with pytest.raises(TypeError, match="unknown parameter constraint"):
            make_constraint(spec)


def test_error_message_and_types():
    constraints = [None, Interval(Integral, 1, None, closed="left"), Options(str, ("auto",))]
    assert check_param(3, "n", constraints) == 3
    assert check_param(None, "n", constraints) is None
    with pytest.raises(InvalidParameterError) as info:
        check_param(0, "n", constraints, owner="Toy")
    assert str(info.value) == "Toy: n must be None, an integer >= 1 or one of {'auto'}, got 0"
    # one class for a wrong type and a wrong value, catchable as either (as the old checks)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)
    with pytest.raises(TypeError, match="n must be"):
        check_param("3", "n", constraints)
    with pytest.raises(ValueError, match="got 'manual'"):
        check_param("manual", "n", constraints)
    # a phrase that contains "or" gets a comma before the last alternative
    with pytest.raises(ValueError, match=r"verbose must be True or False, or an integer >= 0, got -1$"):
        check_param(-1, "verbose", VERBOSE)
    with pytest.raises(ValueError, match=r"n_jobs must be None, an integer >= 1 or an integer <= -1, got 0$"):
        check_param(0, "n_jobs", N_JOBS)
    # long values are shortened
    with pytest.raises(ValueError) as info:
        check_param(list(range(1000)), "x", ["boolean"])
    assert len(str(info.value)) < 150 and str(info.value).endswith(" ...")


class _Base(BaseEstimator):
    _parameter_constraints = {"a": ["boolean"], "b": [Interval(Integral, 0, None, closed="left")], "c": [str]}


class _Child(_Base):
    # overrides b, adds d; does not take c (its constraint is dropped)
    _parameter_constraints = {"b": [Options(str, ("x",))], "d": [None]}

    def __init__(self, a=True, b="x", d=None, free=object()):
        self.a, self.b, self.d, self.free = a, b, d, free


def test_constraints_merge_along_the_mro():
    merged = merged_constraints(_Child)
    assert set(merged) == {"a", "b", "d"}  # "free" has no constraint, "c" is not a parameter of _Child
    assert merged["a"] == ["boolean"] and merged["b"][0].values == ("x",)
    validate_params(_Child())  # the unconstrained parameter is not checked
    with pytest.raises(ValueError, match="_Child: b must be one of {'x'}, got 0"):
        validate_params(_Child(b=0))
    with pytest.raises(TypeError, match="_Child: a must be True or False, got 1"):
        validate_params(_Child(a=1))
    assert merged_constraints(_Base) == {}  # no constructor: no parameters


# ------------------------------------------------------------ public estimators
ESTIMATORS = list(skdesc.all_estimators().values())
STRUCTURES = [molecule("H2O"), molecule("CH4")]


def _laed():
    return skdesc.ChebyshevLAED(rad_cutoff=3.0, rad_order=2, ang_cutoff=2.0, ang_order=1)


def _make(cls):
    if "estimator" in inspect.signature(cls).parameters:  # SkdescFeaturizer
        from sklearn.pipeline import make_pipeline

        return cls(make_pipeline(_laed(), skdesc.MeanPooling()))
    return cls()


def _parameters(cls):
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {p.name for p in inspect.signature(cls).parameters.values() if p.kind not in kinds}


def test_the_estimators_are_found():
    names = {cls.__name__ for cls in ESTIMATORS}
    expected = {"ACSF", "SOAP", "CompressedSOAP", "ChebyshevLAED", "CoordinationNumber", "MomentGSD",
                "MeanPooling", "SpeciesPooling", "HistogramPooling", "StructureKernel", "StructureKernelRidge",
                "ElementFractions", "FunctionalIndependenceSelector", "InformationImbalanceSelector"}
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_constraints_cover_exactly_the_parameters(cls):
    estimator = _make(cls)
    params = set(estimator.get_params(deep=False))
    assert params == _parameters(cls)
    merged = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("_parameter_constraints", {}))
    missing = sorted(params - set(merged))
    assert not missing, f"{cls.__name__}: parameters without a constraint in _parameter_constraints: {missing}"
    assert set(merged_constraints(cls)) == params
    for name, constraints in merged_constraints(cls).items():
        assert isinstance(constraints, list) and constraints, (name, constraints)
        for spec in constraints:
            make_constraint(spec)  # every entry is a known kind
    validate_params(estimator)  # the defaults are valid


def test_no_constraint_names_a_parameter_that_no_estimator_has():
    owners = {}
    for cls in ESTIMATORS:
        for klass in cls.__mro__:
            if "_parameter_constraints" in klass.__dict__:
                owners.setdefault(klass, set()).update(_parameters(cls))
    stale = {
        klass.__name__: sorted(set(klass.__dict__["_parameter_constraints"]) - params)
        for klass, params in owners.items()
    }
    stale = {k: v for k, v in stale.items() if v}
    assert not stale, f"constraints of parameters that no estimator takes (typos?): {stale}"


# probes: values of many kinds; each parameter is tried with those its constraints reject
_PROBES = [None, True, "bogus", -1, 0, 3, 2.5, -0.5, float("nan"), float("inf"), [], [1.0, 2.0], {"x": 1.0},
           np.ones((2, 2)), object()]


def _constrained_parameters():
    for cls in ESTIMATORS:
        for name in sorted(merged_constraints(cls)):
            yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


def _fit(estimator):
    from skdesc.information import InformationImbalanceSelector

    if isinstance(estimator, InformationImbalanceSelector):
        return estimator.fit(np.random.default_rng(0).random((10, 3)))
    atomic = _laed().fit_transform(STRUCTURES)
    if isinstance(estimator, skdesc.StructureKernelRidge):
        return estimator.fit(atomic, np.zeros(atomic.n_structures))
    takes_atomic = (AtomPooling, skdesc.MomentGSD, skdesc.StructureKernel)
    return estimator.fit(atomic if isinstance(estimator, takes_atomic) else STRUCTURES)


@pytest.mark.parametrize("cls, name", list(_constrained_parameters()))
def test_fit_rejects_what_the_constraints_reject(cls, name):
    constraints = merged_constraints(cls)[name]
    rejected = [value for value in _PROBES if not _accepts(constraints, value)]
    assert rejected, f"{cls.__name__}.{name}: no probe value is rejected; add one to _PROBES"
    for value in rejected:
        estimator = _make(cls).set_params(**{name: value})  # __init__ / set_params only store
        assert estimator.get_params(deep=False)[name] is value
        with pytest.raises(InvalidParameterError) as info:
            _fit(estimator)
        message = str(info.value)
        assert message.startswith(f"{cls.__name__}: {name} must be "), message
        assert "got " in message, message
