"""Mean/sum/max/min, histogram and species-resolved pooling against per-structure numpy loops."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from ase.build import bulk
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from skdesc import AtomicFeatures, ChebyshevLAED
from skdesc.pooling import (
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    SpeciesPooling,
    StatisticPooling,
    SumPooling,
)

REDUCE = {"mean": np.mean, "sum": np.sum, "max": np.max, "min": np.min}


def _random_atomic(seed=0, n_structures=9, n_features=5, sparse=False, empty_element=False):
    """Ragged structures of H, C, O with many exact zeros and negative values."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 7, n_structures)
    n_atoms = counts.sum()
    values = rng.normal(size=(n_atoms, n_features))
    values[rng.random(values.shape) < 0.5] = 0.0
    numbers = rng.choice([1, 6, 8], n_atoms)
    numbers[0] = 6  # every element occurs somewhere
    numbers[1] = 1
    numbers[2] = 8
    offsets = np.concatenate([[0], np.cumsum(counts)])
    species = (8, 1, 6, 7) if empty_element else (8, 1, 6)
    names = [f"f{c}" for c in range(n_features)]
    return AtomicFeatures(sp.csr_matrix(values) if sparse else values, offsets, numbers, names, species)


def _dense_structures(atomic):
    values = atomic.values.toarray() if sp.issparse(atomic.values) else atomic.values
    return [values[a:b] for a, b in zip(atomic.offsets[:-1], atomic.offsets[1:])]


@pytest.mark.parametrize("statistic", ["mean", "sum", "max", "min"])
@pytest.mark.parametrize("sparse", [False, True])
def test_statistics_match_per_structure_loop(statistic, sparse):
    atomic = _random_atomic(sparse=sparse)
    expected = np.array([REDUCE[statistic](x, axis=0) for x in _dense_structures(atomic)])
    np.testing.assert_allclose(StatisticPooling(statistic).fit_transform(atomic), expected, rtol=1e-12, atol=1e-12)


def test_named_classes_equal_statistic_pooling_and_concatenation():
    atomic = _random_atomic(seed=1)
    for cls, name in [(MeanPooling, "mean"), (SumPooling, "sum"), (MaxPooling, "max"), (MinPooling, "min")]:
        np.testing.assert_array_equal(cls().fit_transform(atomic), StatisticPooling(name).fit_transform(atomic))
        assert clone(cls()).get_params() == {}
    both = StatisticPooling(["max", "mean"]).fit(atomic)
    np.testing.assert_array_equal(
        both.transform(atomic), np.hstack([MaxPooling().fit_transform(atomic), MeanPooling().fit_transform(atomic)])
    )
    names = both.get_feature_names_out()
    assert names[0] == "max:f0" and names[5] == "mean:f0" and len(names) == both.n_features_out_ == 10


def test_sparse_max_counts_implicit_zeros():
    # one structure whose only stored values are negative: the implicit zero is the max
    values = sp.csr_matrix(np.array([[-1.0, 0.0], [-2.0, 3.0]]))
    atomic = AtomicFeatures(values, [0, 2], [1, 1])
    np.testing.assert_array_equal(MaxPooling().fit_transform(atomic), [[-1.0, 3.0]])
    np.testing.assert_array_equal(MinPooling().fit_transform(atomic), [[-2.0, 0.0]])
    duplicated = sp.csr_matrix((np.array([-1.0, -2.0]), np.array([0, 0]), np.array([0, 2])), shape=(1, 2))
    atomic = AtomicFeatures(duplicated, [0, 1], [1])
    np.testing.assert_array_equal(MinPooling().fit_transform(atomic), [[-3.0, 0.0]])


def _reference_histogram(atomic, edges, normalize):
    rows = []
    for x in _dense_structures(atomic):
        row = []
        for c in range(x.shape[1]):
            clipped = np.clip(x[:, c], edges[c, 0], edges[c, -1])
            counts = np.histogram(clipped, bins=edges[c])[0].astype(float)
            if normalize != "count":
                counts /= len(x)
            if normalize == "density":
                counts /= np.diff(edges[c])
            row.append(counts)
        rows.append(np.concatenate(row))
    return np.array(rows)


@pytest.mark.parametrize("normalize", ["fraction", "count", "density"])
@pytest.mark.parametrize("sparse", [False, True])
def test_histogram_matches_numpy_histogram(normalize, sparse):
    train = _random_atomic(seed=2, n_structures=20, sparse=sparse)
    test = _random_atomic(seed=3, sparse=sparse)  # other values, some outside the learned range
    pooling = HistogramPooling(n_bins=4, quantile_range=(10, 90), normalize=normalize).fit(train)
    dense_train = np.vstack(_dense_structures(train))
    low, high = np.percentile(dense_train, [10, 90], axis=0)
    np.testing.assert_allclose(pooling.bin_edges_[:, 0], low)
    np.testing.assert_allclose(pooling.bin_edges_[:, -1], high)
    expected = _reference_histogram(test, pooling.bin_edges_, normalize)
    np.testing.assert_allclose(pooling.transform(test), expected, rtol=1e-12, atol=1e-12)
    if normalize == "fraction":  # every atom counted once per feature
        np.testing.assert_allclose(expected.reshape(len(test), -1, 4).sum(axis=2), 1.0)


def test_histogram_out_of_range_goes_to_edge_bins_and_constant_feature():
    train = AtomicFeatures(np.array([[0.0, 5.0], [1.0, 5.0]]), [0, 2], [1, 1])
    pooling = HistogramPooling(n_bins=2, normalize="count").fit(train)
    np.testing.assert_allclose(pooling.bin_edges_, [[0.0, 0.5, 1.0], [4.5, 5.0, 5.5]])
    test = AtomicFeatures(np.array([[-10.0, 5.0], [10.0, 4.9], [0.7, 100.0]]), [0, 3], [1, 1, 1])
    np.testing.assert_array_equal(pooling.transform(test), [[1, 2, 1, 2]])  # 5.0 is the inner edge of x1
    assert list(pooling.get_feature_names_out()) == ["hist[bin=0]:x0", "hist[bin=1]:x0", "hist[bin=0]:x1", "hist[bin=1]:x1"]


def test_sparse_equals_dense_for_every_rule():
    dense = _random_atomic(seed=4)
    sparse = _random_atomic(seed=4, sparse=True)
    rules = [
        StatisticPooling(["mean", "sum", "max", "min"]),
        HistogramPooling(n_bins=5, quantile_range=(5, 95)),
        SpeciesPooling("max", composition="fraction"),
        SpeciesPooling(HistogramPooling(n_bins=3)),
    ]
    for rule in rules:
        a = clone(rule).fit(dense)
        b = clone(rule).fit(sparse)
        np.testing.assert_allclose(b.transform(sparse), a.transform(dense), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", ["mean", "sum", "max", "min"])
def test_species_pooling_matches_loop(rule):
    atomic = _random_atomic(seed=5, empty_element=True)
    pooling = SpeciesPooling(rule, composition="count").fit(atomic)
    assert pooling.species_ == (8, 1, 6, 7)  # the AtomicFeatures order, N never seen
    d = atomic.n_features
    expected = []
    for x, z in zip(_dense_structures(atomic), np.split(atomic.numbers, atomic.offsets[1:-1])):
        row = [REDUCE[rule](x[z == e], axis=0) if np.any(z == e) else np.zeros(d) for e in (8, 1, 6, 7)]
        row.append([np.sum(z == e) for e in (8, 1, 6, 7)])
        expected.append(np.concatenate(row))
    np.testing.assert_allclose(pooling.transform(atomic), np.array(expected), rtol=1e-12, atol=1e-12)
    names = pooling.get_feature_names_out()
    assert names[0] == f"O:{rule}:f0" and names[-1] == "count[el=N]" and len(names) == 4 * d + 4


def test_species_histogram_learns_bins_per_element():
    atomic = _random_atomic(seed=6)
    pooling = SpeciesPooling(HistogramPooling(n_bins=3, normalize="count"), species=["H", "C", "O"]).fit(atomic)
    dense = np.vstack(_dense_structures(atomic))
    for rule, z in zip(pooling.rules_, (1, 6, 8)):
        np.testing.assert_allclose(rule.bin_edges_[:, 0], dense[atomic.numbers == z].min(axis=0))
    out = pooling.transform(atomic).reshape(len(atomic), 3, atomic.n_features, 3)
    per_element = np.array([[np.sum(z == e) for e in (1, 6, 8)] for z in np.split(atomic.numbers, atomic.offsets[1:-1])])
    np.testing.assert_array_equal(out.sum(axis=3), np.repeat(per_element[:, :, None], atomic.n_features, axis=2))


def test_permutation_invariance():
    atomic = _random_atomic(seed=7)
    rng = np.random.default_rng(0)
    order = np.concatenate([a + rng.permutation(b - a) for a, b in zip(atomic.offsets[:-1], atomic.offsets[1:])])
    shuffled = AtomicFeatures(atomic.values[order], atomic.offsets, atomic.numbers[order], atomic.feature_names, atomic.species)
    for rule in [StatisticPooling(["mean", "sum", "max", "min"]), HistogramPooling(), SpeciesPooling("mean", composition="fraction")]:
        fitted = clone(rule).fit(atomic)
        np.testing.assert_allclose(fitted.transform(shuffled), fitted.transform(atomic), rtol=1e-12, atol=1e-14)


def test_sum_is_extensive_and_mean_intensive_on_a_supercell():
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)
    cell = bulk("NaCl", "rocksalt", a=5.6)
    atomic = laed.fit_transform([cell, cell.repeat((2, 1, 3))])
    total = SumPooling().fit_transform(atomic)
    np.testing.assert_allclose(total[1], 6 * total[0], rtol=1e-10, atol=1e-12)
    mean = MeanPooling().fit_transform(atomic)
    np.testing.assert_allclose(mean[1], mean[0], rtol=1e-10, atol=1e-12)
    species = SpeciesPooling("mean", composition="fraction").fit_transform(atomic)
    np.testing.assert_allclose(species[1], species[0], rtol=1e-10, atol=1e-12)


def test_pipelines_fit_and_predict():
    rng = np.random.default_rng(1)
    structures = []
    for k in range(12):
        atoms = bulk("Cu", "fcc", a=3.6 + 0.02 * k, cubic=True)
        atoms.numbers[rng.random(4) < 0.5] = 79
        structures.append(atoms)
    y = np.array([a.get_volume() / len(a) + (a.numbers == 79).mean() for a in structures])
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=5, ang_cutoff=3.0, ang_order=2)
    model = make_pipeline(laed, MeanPooling(), Ridge(alpha=1e-6)).fit(structures, y)
    assert model.predict(structures).shape == (12,)
    assert model.score(structures, y) > 0.9
    names = model[:2].get_feature_names_out()
    assert names[0] == "mean:cheb[rad,n=0]"
    grid = GridSearchCV(
        make_pipeline(clone(laed), StatisticPooling(), Ridge(alpha=1e-6)),
        {"statisticpooling__statistic": ["mean", "sum", ["mean", "max"]]},
        cv=KFold(3),
    ).fit(structures, y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    species = make_pipeline(clone(laed), SpeciesPooling(HistogramPooling(n_bins=3), composition="fraction"), Ridge())
    grid = GridSearchCV(species, {"speciespooling__rule__n_bins": [2, 4]}, cv=KFold(3)).fit(structures, y)
    assert grid.best_params_["speciespooling__rule__n_bins"] in (2, 4)


@pytest.mark.parametrize(
    "estimator",
    [
        MeanPooling(),
        StatisticPooling(["sum", "max", "min"]),
        HistogramPooling(n_bins=4, quantile_range=(5, 95), normalize="density"),
        SpeciesPooling("histogram", composition="fraction"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_check_estimator(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(estimator)


def test_bad_input_messages():
    atomic = _random_atomic()
    with pytest.raises(ValueError, match="statistic must be one of"):
        StatisticPooling("median").fit(atomic)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 1"):
        HistogramPooling(n_bins=0).fit(atomic)
    with pytest.raises(ValueError, match="quantile_range"):
        HistogramPooling(quantile_range=(90, 10)).fit(atomic)
    with pytest.raises(ValueError, match="normalize"):
        HistogramPooling(normalize="prob").fit(atomic)
    with pytest.raises(TypeError, match="local descriptor"):
        MeanPooling().fit([bulk("Cu")])
    with pytest.raises(ValueError, match="rule must be one of"):
        SpeciesPooling("median").fit(atomic)
    with pytest.raises(TypeError, match="rule must be"):
        SpeciesPooling(Ridge()).fit(atomic)
    fitted = SpeciesPooling(species=["H", "C", "O"]).fit(atomic)
    with pytest.raises(ValueError, match=r"\['Fe'\]"):
        fitted.transform(AtomicFeatures(np.ones((1, 5)), [0, 1], [26]))
    with pytest.raises(ValueError, match="features per atom"):
        MeanPooling().fit(atomic).transform(AtomicFeatures(np.ones((1, 2)), [0, 1], [1]))
    with pytest.raises(ValueError, match="structure 1 has no atoms"):
        MeanPooling().fit(atomic).transform(AtomicFeatures(np.ones((1, 5)), [0, 1, 1], [1]))
    with pytest.raises(ValueError, match="NaN"):
        MeanPooling().fit(AtomicFeatures(np.full((1, 2), np.nan), [0, 1], [1]))
    values = atomic.values.copy()
    MeanPooling().fit(atomic).transform(atomic)
    np.testing.assert_array_equal(atomic.values, values)  # the caller's data are untouched
