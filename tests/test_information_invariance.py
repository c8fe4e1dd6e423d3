"""Information imbalance: scale invariance on every path, ties (cost and order independence), bad input."""

import itertools
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from skdesc import AtomicFeatures, MomentGSD, config_context
from skdesc.information import (
    GSDSpaceAnalysis,
    InformationImbalanceSelector,
    distance_correlation,
    information_imbalance,
    rank_correlation,
)

# powers of two: the rescaled data are the same bits; 2 ** +-996 ~ 1e+-300
EXACT_SCALES = [2.0**-996, 2.0**-700, 2.0**-300, 2.0**-40, 1.0, 2.0**40, 2.0**300, 2.0**700, 2.0**996]
DECIMAL_SCALES = [1e-300, 1e-200, 1e-100, 1e-10, 1e10, 1e100, 1e200, 1e300]


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def _generic(seed=0, n=150):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, 5))
    B = np.column_stack([A[:, :2] + 0.3 * rng.normal(size=(n, 2)), rng.normal(size=(n, 2))])
    return A, B


def _tie_heavy():
    """An integer lattice (many exactly equal distances) with duplicated points in both spaces."""
    grid = np.stack(np.meshgrid(np.arange(4.0), np.arange(4.0), np.arange(3.0), indexing="ij"), -1).reshape(-1, 3)
    A = np.vstack([grid, grid[::5]])  # 48 lattice points, 10 of them twice
    B = np.column_stack([A[:, 0] + A[:, 1], np.abs(A[:, 2] - 1)])  # a coarse projection: heavy ties
    return A, B


@pytest.fixture
def float64_path():
    """k = 1 through the float64 row-block path instead of the float32 screening."""
    with config_context(screen_ranks=False):
        yield


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("path", ["default", "float64"])
def test_scale_invariance(k, path, request):
    if path == "float64":
        request.getfixturevalue("float64_path")
    A, B = _generic()
    expected = information_imbalance(A, B, k=k)
    for s in EXACT_SCALES + DECIMAL_SCALES:
        # generic data: no rank changes from rounding 1e300 * A, so the same values
        assert information_imbalance(s * A, B, k=k) == expected, s
        assert information_imbalance(A, s * B, k=k) == expected, s
        assert information_imbalance(s * A, s * B, k=k) == expected, s
    A, B = _tie_heavy()
    expected, messages = _quiet(information_imbalance, A, B, k=k, normalize=False)
    assert messages  # ties are reported
    for s in EXACT_SCALES:
        for scaled in ((s * A, B), (A, s * B), (s * A, s * B)):
            # bit-identical, the same tie count, the same warning
            assert _quiet(information_imbalance, *scaled, k=k, normalize=False) == (expected, messages), s


def test_correlations_are_scale_invariant():
    A, B = _generic(1, 60)
    for s in (2.0**-996, 2.0**996):
        assert distance_correlation(s * A, B) == distance_correlation(A, B)
        assert rank_correlation(A, s * B) == rank_correlation(A, B)
    assert distance_correlation(1e300 * A, B) == pytest.approx(distance_correlation(A, B), rel=1e-12)


def _with_scale_and_shift(A, s):
    return s * A + 3 * s  # a common offset as well: centring must not lose the data


def test_tiny_and_huge_data_keep_their_ranks():
    # the cases of the report: 1e200 * A overflowed the squared distances, 1e-200 * A
    # underflowed them to 0 and reported every distance as tied
    A, B = _generic(2)
    expected = information_imbalance(A, B)
    for s in (1e-200, 1e200):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warning, no spurious tie warning
            assert information_imbalance(_with_scale_and_shift(A, s), B) == expected
            assert information_imbalance(A, _with_scale_and_shift(B, s), k=2) == information_imbalance(A, B, k=2)


# ---------------------------------------------------------------- the tie rule for k > 1
def _rule(A, B, k):
    """Mean rank straight from the documented tie rule (float64, exact ties only)."""
    DA, DB = cdist(A, A, "sqeuclidean"), cdist(B, B, "sqeuclidean")
    n = len(A)
    values = []
    for i in range(n):
        others = np.flatnonzero(np.arange(n) != i)
        da, db = DA[i, others], DB[i, others]
        rank_b = np.array([1 + (db < db[t]).sum() + 0.5 * ((db == db[t]).sum() - 1) for t in range(n - 1)])
        kth = np.sort(da)[k - 1]
        sure, block = da < kth, da == kth
        values.append((rank_b[sure].sum() + (k - sure.sum()) * rank_b[block].mean()) / k)
    return np.mean(values)


def _all_tie_breaks(A, B, k):
    """Mean over every order of the tied points of the plain 'first k by (distance, position)' rule."""
    DA, DB = cdist(A, A, "sqeuclidean"), cdist(B, B, "sqeuclidean")
    n = len(A)
    values = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        db = DB[i, others]
        rank_b = [1 + (db < db[t]).sum() + 0.5 * ((db == db[t]).sum() - 1) for t in range(n - 1)]
        outcomes = []
        for order in itertools.permutations(range(n - 1)):
            position = np.empty(n - 1)
            position[list(order)] = np.arange(n - 1)
            first_k = np.lexsort((position, DA[i, others]))[:k]
            outcomes.append(np.mean([rank_b[t] for t in first_k]))
        values.append(np.mean(outcomes))
    return np.mean(values)


@pytest.mark.parametrize("k", [2, 3])
def test_k_tie_rule_is_the_mean_over_all_tie_breaks(k):
    # 7 points with exactly tied distances in A (a square and its centre, a line) and in B
    A = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5], [3, 0], [4, 0]], dtype=float)
    B = np.array([[0], [1], [1], [2], [0], [3], [5]], dtype=float)
    raw, _ = _quiet(information_imbalance, A, B, k=k, normalize=False)
    assert raw[0] == pytest.approx(_all_tie_breaks(A, B, k), abs=1e-12)
    assert raw[0] == pytest.approx(_rule(A, B, k), abs=1e-12)
    assert raw[1] == pytest.approx(_rule(B, A, k), abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 4, 7])
def test_tie_rule_on_a_lattice_with_duplicates(k):
    A, B = _tie_heavy()
    raw, messages = _quiet(information_imbalance, A, B, k=k, normalize=False)
    assert raw[0] == pytest.approx(_rule(A, B, k), abs=1e-12)
    assert raw[1] == pytest.approx(_rule(B, A, k), abs=1e-12)
    assert messages


def _permutation_cases():
    A, B = _tie_heavy()
    yield "lattice", A, B
    rng = np.random.default_rng(3)
    points = rng.integers(0, 3, size=(40, 2)).astype(float)  # 9 distinct points, each ~4 times
    yield "duplicates", points, np.column_stack([points.sum(1), rng.integers(0, 2, size=40)])
    cube = np.stack(np.meshgrid(*[np.arange(3.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    yield "cube vs shell", cube, np.abs(cube - 1).sum(1, keepdims=True)


@pytest.mark.parametrize("name, A, B", list(_permutation_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_ties_do_not_depend_on_the_order_of_the_points(name, A, B):
    rng = np.random.default_rng(0)
    for k in (1, 2, 3, 5):
        expected, _ = _quiet(information_imbalance, A, B, k=k, normalize=False)
        for _ in range(4):
            order = rng.permutation(len(A))
            permuted, _ = _quiet(information_imbalance, A[order], B[order], k=k, normalize=False)
            if k == 1:  # one rank per point averaged as a float sum in point order (last bits)
                assert permuted == pytest.approx(expected, rel=1e-15, abs=0)
            else:  # exactly rounded sums: bit for bit
                assert permuted == expected, (name, k)


# ---------------------------------------------------------------- cost of ties
def test_many_duplicates_are_fast_and_memory_bounded():
    n = 20_000
    information_imbalance(np.ones((50, 3)), np.ones((50, 2)), k=2)  # compile outside the timing
    tracemalloc.start()
    start = time.process_time()
    with pytest.warns(UserWarning, match=f"{2 * n} points have tied"):
        assert information_imbalance(np.ones((n, 3)), np.zeros((n, 2))) == (1.0, 1.0)
    with pytest.warns(UserWarning, match=f"{2 * n} points have tied"):
        assert information_imbalance(np.ones((n, 3)), np.zeros((n, 2)), k=2) == (1.0, 1.0)
    cpu = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # every distance tied: O(N^2) work (it was O(N^3): over two minutes at N = 2,000)
    assert cpu < 120, cpu
    assert peak < 400e6, peak  # row blocks, never N x N (3.2 GB in float64)


def test_tied_nearest_with_spread_targets():
    # A constant: every point is tied for the nearest; B spread out: many distinct ranks
    rng = np.random.default_rng(4)
    n = 3000
    B = rng.normal(size=(n, 2))
    raw, _ = _quiet(information_imbalance, np.zeros((n, 1)), B, normalize=False)
    # the mean rank of all others, from any point, is n / 2; from B, each nearest is tied
    # in A with all n - 2 others: rank 1 + (n - 2) / 2
    assert raw == (n / 2, 1 + (n - 2) / 2)


# ---------------------------------------------------------------- GSD space and selector
@pytest.fixture(scope="module")
def atomic():
    rng = np.random.default_rng(8)
    counts = rng.integers(3, 7, size=30)
    offsets = np.r_[0, np.cumsum(counts)]
    numbers = rng.choice([3, 16], size=offsets[-1])
    values = rng.normal(size=(offsets[-1], 2)) + (numbers[:, None] == 16)
    return AtomicFeatures(values, offsets, numbers, species=(3, 16))


@pytest.mark.parametrize("scaling", ["standard", "minmax", "none"])
def test_gsd_space_is_scale_invariant(atomic, scaling, monkeypatch):
    def fit(s):
        original = MomentGSD.transform
        monkeypatch.setattr(MomentGSD, "transform", lambda self, X: s * original(self, X))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return GSDSpaceAnalysis(max_order=2, scaling=scaling).fit(atomic).imbalance_.values
        finally:
            monkeypatch.setattr(MomentGSD, "transform", original)

    expected = fit(1.0)
    for s in (2.0**-996, 2.0**-300, 2.0**300, 2.0**996):
        np.testing.assert_array_equal(fit(s), expected)
    if scaling != "none":  # per-feature scaling removes any factor up to rounding
        for s in (1e-300, 1e300):
            np.testing.assert_array_equal(fit(s), expected)


@pytest.mark.parametrize("scale", [True, False])
def test_selector_is_scale_invariant(scale):
    A, B = _generic(5, 120)
    X = np.column_stack([A, B])
    expected = InformationImbalanceSelector(n_to_select=4, scale=scale).fit(X)
    for s in (2.0**-996, 2.0**996):
        other = InformationImbalanceSelector(n_to_select=4, scale=scale).fit(s * X)
        assert other.selected_idx_.tolist() == expected.selected_idx_.tolist()
        np.testing.assert_array_equal(other.scores_, expected.scores_)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "A, kwargs, error, message",
    [
        (np.ones((5, 2)) + 1j, {}, TypeError, "A must be real-valued"),
        (np.array([["a", "b"]] * 4), {}, TypeError, "A must be a numeric"),
        ("points", {}, TypeError, "A must be a numeric"),
        (np.ones((5, 2)), {"normalize": "no"}, TypeError, "normalize must be True .* or False"),
        (np.ones((5, 2)), {"normalize": None}, TypeError, "normalize must be"),
        (np.ones((5, 2)), {"k": 4}, ValueError, r"k must be an integer in \[1, N - 2\] = \[1, 3\]"),
        (np.ones((5, 2)), {"k": 2.0}, ValueError, "k must be an integer"),
        (np.ones((5, 0)), {}, ValueError, "A must be a 2-D array"),
    ],
)
def test_bad_input_names_the_parameter(A, kwargs, error, message):
    with pytest.raises(error, match=message):
        information_imbalance(A, np.ones((5, 2)), **kwargs)


def test_bad_correlation_input():
    A, B = _generic(6, 30)
    with pytest.raises(ValueError, match="max_pairs must be an integer >= 2 or None"):
        distance_correlation(A, B, max_pairs=0)
    with pytest.raises(ValueError, match="all sampled pair distances in B are equal"):
        rank_correlation(A, np.ones((30, 2)))
    with pytest.raises(TypeError, match="B must be real-valued"):
        distance_correlation(A, B + 0j)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(score_threshold=float("nan")), "score_threshold must be None or a finite number >= 0"),
        (dict(score_threshold=-0.1), "score_threshold must be"),
        (dict(score_threshold="0.1"), "score_threshold must be"),
        (dict(max_samples=2), "max_samples must be an integer >= 3"),
        (dict(symmetric="yes"), "symmetric must be True or False"),
        (dict(n_to_select=1.5), r"n_to_select must be None, an integer >= 1 or a number in \(0, 1\]"),
        (dict(n_to_select=9), r"n_to_select must be an int in \[1, 6\]"),
        (dict(random_state="seed"), "random_state must be None, an int or a numpy RandomState"),
    ],
)
def test_selector_rejects_bad_parameters(params, message):
    X, _ = _generic(7, 40)
    with pytest.raises(ValueError, match=message):
        InformationImbalanceSelector(**params).fit(np.column_stack([X, X[:, :1]]))


def test_selector_rejects_bad_targets():
    X, _ = _generic(8, 40)
    with pytest.raises(ValueError, match="y must have one row per sample"):
        InformationImbalanceSelector(reference="y").fit(X, np.ones(39))
    with pytest.raises(ValueError, match="Complex data not supported"):
        InformationImbalanceSelector(reference="y").fit(X, np.ones(40) + 1j)
    with pytest.raises(ValueError, match="Complex data not supported"):
        InformationImbalanceSelector().fit(X + 1j)


CHECK_ESTIMATOR = """
import json, warnings
from sklearn.utils.estimator_checks import check_estimator
from skdesc.selection import InformationImbalanceSelector
results = {}
for name, estimator in [
    ("default", InformationImbalanceSelector(max_samples=50)),
    ("y, symmetric, threshold", InformationImbalanceSelector(
        max_samples=20, reference="y", symmetric=True, n_to_select=0.5, score_threshold=0.1)),
]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checks = check_estimator(estimator, on_fail=None)
    results[name] = {
        "statuses": sorted({c["status"] for c in checks}),
        "not passed": [c["check_name"] for c in checks if c["status"] != "passed"],
        "skip warnings": [str(w.message) for w in caught if "Skip" in w.category.__name__],
        "n": len(checks),
    }
print(json.dumps(results))
"""


def test_check_estimator_passes_every_check():
    """Every scikit-learn check runs and passes, none skipped or expected to fail.

    SCIPY_ARRAY_API=1 must be set before SciPy is imported, or scikit-learn
    skips its array-API check: hence a fresh interpreter.
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, SCIPY_ARRAY_API="1")
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", CHECK_ESTIMATOR], env=env, cwd=root, capture_output=True,
                         text=True, check=True, timeout=1800)
    results = json.loads(out.stdout.strip().splitlines()[-1])
    for name, result in results.items():
        assert result["statuses"] == ["passed"], (name, result["not passed"])
        assert result["skip warnings"] == [], name
        assert result["n"] >= 45, name


def test_gsd_space_with_duplicated_structures():
    # 6 distinct structures, each 10 times: in every GSD a structure's nearest neighbours are
    # its 9 copies (distance 0), all tied: rank 1 + 8 / 2 = 5 in every other GSD.  (The kernel
    # used to fail on growing its list of tied neighbours.)
    rng = np.random.default_rng(9)
    counts = np.tile(rng.integers(3, 6, size=6), 10)
    offsets = np.r_[0, np.cumsum(counts)]
    per_structure = [rng.normal(size=(c, 2)) for c in counts[:6]]
    kinds = [rng.choice([3, 16], size=c) for c in counts[:6]]
    X = AtomicFeatures(np.vstack(per_structure * 10), offsets, np.concatenate(kinds * 10), species=(3, 16))
    with pytest.warns(UserWarning):
        direct = information_imbalance(
            MomentGSD.from_sigma("222").fit_transform(X), MomentGSD.from_sigma("100").fit_transform(X), normalize=False
        )
    assert direct == (5.0, 5.0)
    analysis = GSDSpaceAnalysis(max_order=2).fit(X)
    np.testing.assert_array_equal(analysis.imbalance_.values, 5.0)
    assert analysis.n_ties_ > 0


def test_plot_rejects_bad_imbalances():
    from skdesc.information import plot_imbalance_plane

    with pytest.raises(TypeError, match="imbalances must be a dict"):
        plot_imbalance_plane([(0.1, 0.2)])
    with pytest.raises(ValueError, match=r"imbalances\['a'\] must be a pair of finite numbers"):
        plot_imbalance_plane({"a": (0.1, float("nan"))})
    with pytest.raises(ValueError, match=r"imbalances\['b'\] must be a pair"):
        plot_imbalance_plane({"b": (0.1, 0.2, 0.3)})
    fig = plot_imbalance_plane({"a": (0.1, np.float64(0.2))})
    (ax,) = fig.axes
    (points,) = ax.collections  # the one point, at (forward, backward)
    np.testing.assert_array_equal(points.get_offsets(), [[0.1, 0.2]])
    assert [text.get_text() for text in ax.texts] == ["a"]
