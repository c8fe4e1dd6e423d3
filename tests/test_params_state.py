"""Parameters after fit, parameter errors and rejected inputs, for every public estimator.

* Fitted state: after ``fit``, ``set_params`` of any parameter other than
  n_jobs/verbose must either leave ``transform`` unchanged (the fitted state
  is used) or raise "parameters changed since fit"; never a different width,
  NaN or a crash.  The MomentGSD case that wrote past a numba buffer runs in
  a subprocess, so an abort is a test failure, not a dead pytest.
* Parameter errors: every invalid value raises ValueError/TypeError whose
  message names the parameter, whatever the input size.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from ase.build import molecule

import skdesc
from skdesc import (
    ACSF,
    CartesianInvariants,
    SOAP,
    AtomicFeatures,
    SOAPBispectrum,
    BondAngleStatistics,
    BondLengthStatistics,
    ChebyshevLAED,
    CompressedSOAP,
    AngularDistributionFunction,
    CoordinationNumber,
    ElementProperty,
    VoronoiCellStatistics,
    Frame,
    FunctionalIndependenceSelector,
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    MomentGSD,
    PartialRadialDistributionFunction,
    RadialDistributionFunction,
    SpeciesPooling,
    StatisticPooling,
    StructureKernel,
    StructureKernelRidge,
    SumPooling,
)
from skdesc.local.soap import COMPRESSIONS

STRUCTURES = [molecule("H2O"), molecule("H2O2"), molecule("CH3OH")]
NEUTRAL = {"n_jobs", "verbose", "progress"}


def _laed():
    return ChebyshevLAED(rad_cutoff=3.0, rad_order=3, ang_cutoff=2.0, ang_order=2)


def _soap_kwargs():
    return dict(r_cut=3.0, n_max=2, l_max=2, sigma=0.5)


# name -> (factory, input kind); "structures" estimators take molecules,
# "atomic" ones the ChebyshevLAED features of the same molecules
ESTIMATORS = {
    "ChebyshevLAED": (_laed, "structures"),
    "SOAP": (lambda: SOAP(**_soap_kwargs()), "structures"),
    **{
        f"CompressedSOAP[{mode}]": (
            (lambda mode=mode: CompressedSOAP(compression=mode, random_state=0, **_soap_kwargs())),
            "structures",
        )
        for mode in COMPRESSIONS
    },
    "SOAPBispectrum": (lambda: SOAPBispectrum(**_soap_kwargs()), "structures"),
    "SOAPBispectrum[nu4]": (
        lambda: SOAPBispectrum(nu=4, compression="element_agnostic", **_soap_kwargs()),
        "structures",
    ),
    "ACSF": (lambda: ACSF(r_cut=3.0, g2_params=[[1.0, 0.0]], g3_params=[1.0], g4_params=[[0.1, 1.0, 1.0]]), "structures"),
    "ACSF[weighted]": (lambda: ACSF(r_cut=3.0, g2_params=[[1.0, 0.0]], compression="weighted"), "structures"),
    "CoordinationNumber": (lambda: CoordinationNumber(cutoff=1.6), "structures"),
    "BondLengthStatistics": (lambda: BondLengthStatistics(cutoff=1.6), "structures"),
    "BondAngleStatistics": (lambda: BondAngleStatistics(cutoff=1.6, n_bins=2), "structures"),
    "VoronoiCellStatistics": (lambda: VoronoiCellStatistics(cutoff=6.0), "structures"),
    "CartesianInvariants": (lambda: CartesianInvariants(r_cut=3.0, n_radial=2, per_element=False), "structures"),
    "ElementProperty": (lambda: ElementProperty(), "structures"),
    # the molecules have no cell: the volume-free normalisation
    "RadialDistributionFunction": (
        lambda: RadialDistributionFunction(r_cut=3.0, bin_width=0.5, normalization="pair_density"),
        "structures",
    ),
    "PartialRadialDistributionFunction": (
        lambda: PartialRadialDistributionFunction(r_cut=3.0, bin_width=0.5, normalization="pair_density"),
        "structures",
    ),
    "AngularDistributionFunction": (lambda: AngularDistributionFunction(r_cut=1.6, bin_width=30.0), "structures"),
    "FunctionalIndependenceSelector": (
        lambda: FunctionalIndependenceSelector(_laed(), n_environments=5, random_state=0),
        "structures",
    ),
    "MomentGSD": (lambda: MomentGSD(n_out=2, n_in=1), "atomic"),
    "MomentGSD[555]": (lambda: MomentGSD.from_sigma("555"), "atomic"),
    "StatisticPooling": (lambda: StatisticPooling(["mean", "max"]), "atomic"),
    "MeanPooling": (MeanPooling, "atomic"),
    "SumPooling": (SumPooling, "atomic"),
    "MaxPooling": (MaxPooling, "atomic"),
    "MinPooling": (MinPooling, "atomic"),
    "HistogramPooling": (lambda: HistogramPooling(n_bins=3), "atomic"),
    "SpeciesPooling": (lambda: SpeciesPooling("mean"), "atomic"),
    "StructureKernel": (lambda: StructureKernel(zeta=2), "atomic"),
    "StructureKernelRidge": (lambda: StructureKernelRidge(zeta=2), "atomic"),
}


def test_every_public_estimator_is_checked_here():
    import skdesc

    covered = {key.split("[")[0] for key in ESTIMATORS}
    # the featurizer wraps an estimator (its parameters are that estimator's), the selector needs
    # several structures per element and is covered by tests/test_selector.py, ElementFractions by
    # tests/test_composition.py
    exempt = {"SkdescFeaturizer", "InformationImbalanceSelector", "ElementFractions"}
    missing = set(skdesc.all_estimators()) - covered - exempt
    assert not missing, f"add {sorted(missing)} to ESTIMATORS"


@pytest.fixture(scope="module")
def atomic():
    return _laed().fit_transform(STRUCTURES)


def _data(kind, atomic):
    return STRUCTURES if kind == "structures" else atomic


def _fit(estimator, X):
    if isinstance(estimator, StructureKernelRidge):
        return estimator.fit(X, -np.asarray(X.n_atoms_per_structure, dtype=float))
    return estimator.fit(X)


def _apply(estimator, X):
    if isinstance(estimator, StructureKernelRidge):
        return estimator.predict(X)
    result = estimator.transform(X)
    return result.values if isinstance(result, AtomicFeatures) else result


def _dense(values):
    return values.toarray() if hasattr(values, "toarray") else np.asarray(values)


# a valid value different from the constructor's, per parameter name
_ALTERNATIVES = {
    "species": ["O", "H", "C"],
    "element_weights": {"H": 1.0, "C": 2.0, "O": 3.0},
    "embedding": "dJ3",
    "random_state": 1,
    "handle_unknown": "ignore",
    "threshold_mode": "absolute",
    "g2_params": [[0.5, 1.0], [1.0, 0.0]],
    "g3_params": [1.0, 2.0],
    "g4_params": [[0.1, 2.0, -1.0]],
    "g5_params": [[0.1, 1.0, 1.0]],
    "quantile_range": (1.0, 99.0),
    "method": "pairs",
    "noise_scaling": "none",
    "weighting": "element",
    "moments": "standardized",
    "statistic": "sum",
    "rule": "sum",
    "composition": "count",
    "descriptor": ChebyshevLAED(rad_cutoff=3.0, rad_order=5, ang_cutoff=2.0, ang_order=1),
    "n_environments": 7,
    "tol": 1e-3,
    "invariants": "all",
    "l_max_nu3": 1,
    "l_max_nu4": 1,
    "properties": ["Number", "Row"],
    "stats": ["mean", "mode"],
    "missing": "mean",
    "normalization": "count",
    "n_bins": 4,
    "bin_width": 0.25,
    "dtype": "float32",
}


def _alternative(name, value, estimator):
    if name == "compression":
        options = ["nu1mu1", "mu2"] if isinstance(estimator, ACSF) else ["mu2", "nu1mu1*"]
        if isinstance(estimator, SOAPBispectrum):
            options = ["full", "element_agnostic"]
        return options[0] if value != options[0] else options[1]
    if name == "nu":  # SOAPBispectrum: 3 or 4
        return 7 - value
    if name == "normalize":
        return {True: False, False: True, "fraction": "count", "dscribe": "kernel"}[value]
    if name in _ALTERNATIVES and _ALTERNATIVES[name] != value:
        return _ALTERNATIVES[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5 if value else 0.2
    raise AssertionError(f"no alternative value for {name}={value!r}")


def _cases():
    for key, (factory, kind) in ESTIMATORS.items():
        for name in sorted(factory().get_params(deep=False)):
            if name not in NEUTRAL:
                yield pytest.param(key, name, id=f"{key}-{name}")


_ATOMIC = []


def _atomic_features():
    if not _ATOMIC:
        _ATOMIC.append(_laed().fit_transform(STRUCTURES))
    return _ATOMIC[0]


def _one_case(key, name):
    """Fit, set ``name`` to another valid value, transform: "ok" or what went wrong."""
    factory, kind = ESTIMATORS[key]
    X = _data(kind, _atomic_features())
    try:
        estimator = _fit(factory(), X)
        before = _dense(_apply(estimator, X))
        value = estimator.get_params(deep=False)[name]
        estimator.set_params(**{name: _alternative(name, value, estimator)})
        try:
            after = _dense(_apply(estimator, X))
        except ValueError as error:
            message = str(error)
            if not ("parameters changed since fit" in message and name in message and "call fit again" in message):
                return f"unclear error: {message}"
        else:
            if after.shape != before.shape:
                return f"width changed without refit: {before.shape} -> {after.shape}"
            if not np.allclose(after, before, equal_nan=False):
                return "values changed without refit"
        # refitting with the new value works and gives a consistent width
        refit = _fit(estimator, X)
        out = _dense(_apply(refit, X))
        width = getattr(refit, "n_features_out_", None)
        if width is not None and not isinstance(refit, FunctionalIndependenceSelector) and out.shape[1] != width:
            return f"refit output has {out.shape[1]} columns, n_features_out_ is {width}"
    except Exception as error:  # noqa: BLE001 - reported as the case's failure
        return f"{type(error).__name__}: {error}"
    return "ok"


_SWEEP = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    from tests.test_params_state import _one_case
    for key, name in json.loads(sys.argv[1]):
        print("RESULT", json.dumps([key, name, _one_case(key, name)]), flush=True)
    """
)
_SWEEP_RESULTS = {}


def _sweep_results():
    """All cases in a child process; a crash (e.g. a numba kernel writing out of
    bounds) fails the case that was running and the sweep goes on in a new child."""
    if _SWEEP_RESULTS:
        return _SWEEP_RESULTS
    import json
    import pathlib

    root = str(pathlib.Path(__file__).resolve().parents[1])
    remaining = [tuple(case.values) for case in _cases()]
    while remaining:
        result = subprocess.run(
            [sys.executable, "-c", _SWEEP, json.dumps(remaining)],
            capture_output=True, text=True, cwd=root, timeout=3600,
        )
        for line in result.stdout.splitlines():
            if line.startswith("RESULT "):
                key, name, outcome = json.loads(line[len("RESULT "):])
                _SWEEP_RESULTS[(key, name)] = outcome
        pending = [case for case in remaining if case not in _SWEEP_RESULTS]
        if result.returncode == 0 or not pending:
            break
        _SWEEP_RESULTS[pending[0]] = f"process died (return code {result.returncode}): {result.stderr[-1500:]}"
        remaining = pending[1:]
    return _SWEEP_RESULTS


@pytest.mark.parametrize("key, name", list(_cases()))
def test_set_params_after_fit_never_mixes_state(key, name):
    assert _sweep_results().get((key, name)) == "ok", _sweep_results().get((key, name))


@pytest.mark.parametrize("key", sorted(ESTIMATORS))
def test_neutral_params_may_change_after_fit(key, atomic):
    factory, kind = ESTIMATORS[key]
    X = _data(kind, atomic)
    estimator = _fit(factory(), X)
    before = _dense(_apply(estimator, X))
    neutral = {k: 1 for k in NEUTRAL & set(estimator.get_params(deep=False))}
    neutral = {k: (2 if k == "n_jobs" else 0) for k in neutral}
    estimator.set_params(**neutral)
    np.testing.assert_array_equal(_dense(_apply(estimator, X)), before)


def test_in_place_edit_of_a_parameter_is_seen():
    weights = {"H": 1.0, "C": 2.0, "O": 3.0}
    laed = ChebyshevLAED(rad_cutoff=3.0, rad_order=2, ang_cutoff=2.0, ang_order=1, element_weights=weights)
    laed.fit(STRUCTURES)
    weights["H"] = -1.0
    with pytest.raises(ValueError, match="element_weights"):
        laed.transform(STRUCTURES)


def test_get_feature_names_after_set_params_is_refused():
    laed = _laed().fit(STRUCTURES)
    laed.set_params(rad_order=6)
    with pytest.raises(ValueError, match="parameters changed since fit"):
        laed.get_feature_names_out()


_MOMENT_CRASH = textwrap.dedent(
    """
    import numpy as np
    from skdesc import AtomicFeatures, MomentGSD
    rng = np.random.default_rng(0)
    af = AtomicFeatures(rng.random((400, 5)), np.arange(0, 401, 4), rng.choice([1, 8], 400))
    m = MomentGSD(n_out=2, n_in=1).fit(af)
    before = m.transform(af)
    m.set_params(include_element_stack=True)
    for _ in range(20):
        try:
            out = m.transform(af)
        except ValueError as error:
            assert "parameters changed since fit" in str(error), error
            print("refused")
            break
        assert out.shape[1] == m.n_features_out_, (out.shape, m.n_features_out_)
        np.testing.assert_array_equal(out, before)
        junk = [np.ones(k) for k in range(1, 200)]
    else:
        print("fitted state")
    """
)


def test_moment_gsd_set_params_after_fit_does_not_crash():
    # was: malloc(): invalid size, SIGABRT (the kernel wrote past a buffer sized
    # from the stale n_features_out_); a subprocess turns a crash into a failure
    root = str(__import__("pathlib").Path(skdesc.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", _MOMENT_CRASH], capture_output=True, text=True, cwd=root, timeout=600
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.strip() in ("refused", "fitted state")


# ------------------------------------------------------------------ item 8
# invalid values per parameter name (each must be rejected by fit, naming the parameter)
_INVALID = {
    "species": [["Xx"], "H", ["H", "H"], []],
    "r_cut": [-1.0, 0.5, "3", float("nan")],
    "n_max": [0, 2.5, "2"],
    "l_max": [-1, 21, 1.5],
    "sigma": [0.0, -1.0, "a"],
    "compression": ["bogus", 3],
    "element_weights": [[1.0], "heavy", {"H": 1.0}, [1.0, float("nan"), 1.0]],
    "embedding": ["bogus", 5, np.zeros((3, 0)), np.ones((2, 2))],
    "random_state": ["seed"],
    "sparse": ["yes", 1],
    "normalize": ["no", 2],
    "center_weight": [-1.0, "1"],
    "dtype": ["float16", "int64", None, 32],
    "min_distance": [-0.1, "0.1"],
    "handle_unknown": ["bogus", None],
    "n_jobs": [0, "2", 1.5, True],
    "verbose": ["loud", -1, 1.5],
    "rad_cutoff": [0.0, -2.0, "6"],
    "rad_order": [-1, 2.5],
    "ang_cutoff": [0.0, 5.0, "3"],
    "ang_order": [-1, 2.5],
    "min_cutoff": [-1.0, 2.5, "0.5"],
    "g2_params": [[[1.0]], "abc", [[-1.0, 0.0]], [[float("nan"), 0.0]]],
    "g3_params": [[[1.0, 2.0]], "abc"],
    "g4_params": [[[0.1, 0.0, 1.0]], [[0.1, 1.5, 2.0]], [[1.0]], [[-0.1, 1.0, 1.0]]],
    "g5_params": [[[0.1, 0.0, 1.0]], [[0.1, 1.5, 2.0]], [[1.0]]],
    "cutoff": [0.0, -1.0, "3"],
    "area_threshold": [-0.1, 1.0, "0.1", float("nan")],
    "threshold_mode": ["bogus", 3],
    "smooth_width": [-0.1, 10.0, "0"],
    "per_element": ["yes", 1],
    "per_element_pair": ["yes", 1],
    "n_bins": [-1, 2.5, "3"],
    "n_out": [-1, 1.5, "2"],
    "n_in": [-1, 1.5, "2"],
    "weighting": ["bogus", 3, True],
    "moments": ["bogus", 2],
    "include_atom_moments": ["yes", 2],
    "include_element_stack": ["yes", 2],
    "statistic": ["bogus", ["mean", "mean"], 3, []],
    "quantile_range": [(50.0, 10.0), "ab", (0.0, 101.0), (1.0,)],
    "rule": ["bogus", 3, MomentGSD()],
    "composition": ["bogus", 1],
    "zeta": [0, 1.5, "2"],
    "block_atoms": [0, 1.5, "8"],
    "method": ["bogus", 1],
    "baseline": ["yes", 1],
    "noise_scaling": ["bogus", 1],
    "descriptor": ["bogus", None, MomentGSD()],
    "n_environments": [0, 1.5, "5"],
    "tol": [0.0, 2.0, "1e-6"],
    "pivoting": ["yes", 1],
    "n_radial": [0, 2.5, "2"],
    "max_order": [2, 5, "3"],
    "invariants": ["bogus", 3],
    "mix_channels": ["yes", 1],
    "nu": [2, 5, 3.0, "3"],
    "l_max_nu3": [-1, 3, 1.5, "1"],
    "l_max_nu4": [-1, 21, 1.5, "1"],
    "properties": [["Bogus"], "Number", [], ["Number", "Number"]],
    "stats": [["median"], "mean", []],
    "missing": ["zero", None],
    "bin_width": [0.0, -1.0, "0.1", 0.7],
    "smearing": [-0.1, "0"],
    "normalization": ["bogus", 1],
}


def _invalid_cases():
    for key, (factory, kind) in ESTIMATORS.items():
        for name in sorted(factory().get_params(deep=False)):
            for k, value in enumerate(_INVALID[name]):
                yield pytest.param(key, name, value, id=f"{key}-{name}-{k}")


def test_every_parameter_has_invalid_values():
    names = {n for factory, _ in ESTIMATORS.values() for n in factory().get_params(deep=False)}
    assert names <= set(_INVALID), sorted(names - set(_INVALID))


def _rejected_somewhere(estimator, name, value):
    """Some values only matter in some configurations (the test then skips them)."""
    if name == "embedding" and getattr(estimator, "compression", None) != "embedding":
        return False
    if name == "r_cut" and value == 0.5 and isinstance(
        estimator, (ACSF, CartesianInvariants, AngularDistributionFunction, RadialDistributionFunction,
                    PartialRadialDistributionFunction)
    ):
        return False  # SOAP needs r_cut > 1 Å, the others any positive cutoff
    return True


@pytest.mark.parametrize("key, name, value", list(_invalid_cases()))
def test_invalid_parameter_is_named(key, name, value, atomic):
    factory, kind = ESTIMATORS[key]
    estimator = factory().set_params(**{name: value})
    if not _rejected_somewhere(estimator, name, value):
        pytest.skip(f"{name}={value!r} is valid or unused for {key}")
    X = _data(kind, atomic)
    with pytest.raises((ValueError, TypeError)) as info:
        _fit(estimator, X)
    message = str(info.value)
    assert name in message, message
    assert any(word in message for word in ("must", "one of", "choose")), message  # states what is accepted


@pytest.mark.parametrize("value", [0, "2", 1.5, True])
@pytest.mark.parametrize("n_structures", [3, 2100])
def test_moment_gsd_n_jobs_checked_whatever_the_size(value, n_structures):
    # was: only checked above 2,048 structures ('2' -> TypeError: '<' not supported)
    rng = np.random.default_rng(0)
    af = AtomicFeatures(rng.random((n_structures, 2)), np.arange(n_structures + 1), np.ones(n_structures, dtype=int))
    gsd = MomentGSD(n_out=2, n_jobs=value)
    with pytest.raises(ValueError, match="n_jobs"):
        gsd.fit(af).transform(af)


# ------------------------------------------------------------------ item 9
_POSITIONS = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    "frame, match",
    [
        (Frame(_POSITIONS, np.array([8.7, 1.0]), np.zeros((3, 3)), np.zeros(3, bool)), "atomic numbers must be integers"),
        (Frame(_POSITIONS, np.array([8, 1]), 5 * np.eye(3), np.array(True)), "pbc must have shape"),
        (Frame(_POSITIONS, np.array([8, 1]), np.full(3, 5.0), np.ones(3, bool)), "cell must have shape"),
    ],
    ids=["float-numbers", "scalar-pbc", "cell-3-vector"],
)
def test_frame_rejects_malformed_arrays(frame, match):
    from skdesc import to_frames

    with pytest.raises(ValueError, match=match):
        to_frames([frame])
    with pytest.raises(ValueError, match=match):
        _laed().fit_transform([frame])


def test_integral_float_atomic_numbers_are_accepted():
    frame = Frame(_POSITIONS, np.array([8.0, 1.0]), np.zeros((3, 3)), np.zeros(3, bool))
    reference = Frame(_POSITIONS, np.array([8, 1]), np.zeros((3, 3)), np.zeros(3, bool))
    np.testing.assert_array_equal(_laed().fit_transform([frame]).values, _laed().fit_transform([reference]).values)


def test_nan_cell_row_on_a_non_periodic_axis_is_ignored():
    # the docs: rows of non-periodic axes are ignored (was: rejected as "NaN or inf")
    slab = molecule("H2O")
    slab.cell = [6.0, 6.0, 0.0]
    slab.pbc = [True, True, False]
    cell = slab.cell.array.copy()
    cell[2] = np.nan
    nan_row = Frame(slab.positions, slab.numbers, cell, np.array(slab.pbc))
    expected = _laed().fit_transform([slab]).values
    np.testing.assert_array_equal(_laed().fit_transform([nan_row]).values, expected)
    periodic_nan = Frame(slab.positions, slab.numbers, cell, np.ones(3, bool))
    with pytest.raises(ValueError, match="periodic axis"):
        _laed().fit_transform([periodic_nan])


@pytest.mark.parametrize(
    "offsets, numbers, match",
    [([0, 1.5, 3], [1, 1, 8], "offsets must be integers"), ([0, 1, 3], [1, -1, 8], "numbers must be atomic numbers >= 0"),
     ([0, 1, 3], [1, 1.5, 8], "numbers must be integers")],
)
def test_atomic_features_rejects_float_offsets_and_negative_numbers(offsets, numbers, match):
    with pytest.raises(ValueError, match=match):
        AtomicFeatures(np.ones((3, 2)), offsets, numbers)


@pytest.mark.parametrize("embedding", [np.zeros((3, 0)), 5, 2.5])
def test_embedding_must_be_a_name_or_a_non_empty_matrix(embedding):
    soap = CompressedSOAP(compression="embedding", embedding=embedding, **_soap_kwargs())
    with pytest.raises((ValueError, TypeError), match="'dJ2', 'dJ3'") as info:
        soap.fit(STRUCTURES)
    assert "embedding" in str(info.value)


def test_chebyshev_angular_cutoff_beyond_radial_is_rejected():
    with pytest.raises(ValueError, match="ang_cutoff .* must not exceed rad_cutoff"):
        ChebyshevLAED(rad_cutoff=2.0, ang_cutoff=3.0).fit(STRUCTURES)
    ChebyshevLAED(rad_cutoff=3.0, ang_cutoff=3.0).fit(STRUCTURES)  # equal cutoffs stay valid


def test_kernel_shape_checks_hold_without_the_fit_guard():
    # the shape checks before the numba calls are a second line of defence:
    # bypass the parameter guard on purpose and the kernels are still not called
    rng = np.random.default_rng(0)
    af = AtomicFeatures(rng.random((40, 5)), np.arange(0, 41, 4), rng.choice([1, 8], 40))
    gsd = MomentGSD(n_out=2, n_in=1).fit(af)
    gsd.set_params(include_element_stack=True)._record_fit_params()
    with pytest.raises(ValueError, match="internal shape check"):
        gsd.transform(af)
    soap = SOAP(**_soap_kwargs()).fit(STRUCTURES)
    soap.set_params(l_max=4)._record_fit_params()
    with pytest.raises(ValueError, match="internal shape check"):
        soap.transform(STRUCTURES)
    cn = CoordinationNumber(cutoff=1.6).fit(STRUCTURES)
    cn.set_params(per_element=False)._record_fit_params()
    with pytest.raises(ValueError, match="internal shape check"):
        cn.transform(STRUCTURES)


@pytest.mark.parametrize("random_state", [np.random.RandomState(0), 0])
def test_fitted_estimator_survives_pickling(random_state):
    import pickle

    soap = CompressedSOAP(compression="random", random_state=random_state, **_soap_kwargs()).fit(STRUCTURES)
    copy = pickle.loads(pickle.dumps(soap))
    np.testing.assert_array_equal(copy.transform(STRUCTURES).values, soap.transform(STRUCTURES).values)
    pipe = pickle.loads(pickle.dumps(MomentGSD(n_out=2, n_in=1, element_weights={"H": 1, "C": 2, "O": 3})))
    atomic = _atomic_features()
    fitted = pickle.loads(pickle.dumps(pipe.fit(atomic)))
    np.testing.assert_array_equal(fitted.transform(atomic), pipe.transform(atomic))
