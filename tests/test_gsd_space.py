"""GSDSpaceAnalysis: block reuse equals direct computation; tables, plots, selection."""

import warnings

import numpy as np
import pytest

from skdesc import AtomicFeatures, MomentGSD
from skdesc.information import GSDSpaceAnalysis, information_imbalance


@pytest.fixture(scope="module")
def atomic():
    rng = np.random.default_rng(4)
    counts = rng.integers(3, 9, size=60)
    offsets = np.r_[0, np.cumsum(counts)]
    numbers = rng.choice([3, 15, 16], size=offsets[-1])
    # per-atom values that depend on the element, so weighting matters
    values = rng.normal(size=(offsets[-1], 3)) + (numbers[:, None] == 16) * 1.5
    return AtomicFeatures(values, offsets, numbers, species=(3, 15, 16))


@pytest.fixture(scope="module")
def analysis(atomic):
    weights = {"Li": -1, "P": 0.5, "S": 1}
    return GSDSpaceAnalysis(max_order=3, element_weights=weights, chunk_size=7).fit(atomic)


def _standardised(gsd, atomic):
    values = gsd.fit_transform(atomic)
    spread = values.std(axis=0)
    constant = spread <= 1e-12 * np.maximum(np.abs(values).max(axis=0), 1e-300)
    spread[constant] = 1.0
    out = (values - values.mean(axis=0)) / spread
    out[:, constant] = 0.0
    return out


def test_space_size_and_dimensions(analysis, atomic):
    table = analysis.descriptors_
    assert len(table) == 3 * 3 * 4 + 3 + 2
    for label in ("Sigma332", "Sigma100", "Sigma030", "Sigma335", "Sigma334"):
        gsd = MomentGSD.from_sigma(label[-3:]).fit(atomic)
        assert table.loc[label, "dimension"] == gsd.n_features_out_
    assert table.loc["Sigma335", "complexity"] == 3 * 3 * 2 + 3 * 2 + 3 * 3


@pytest.mark.parametrize("pair", [("Sigma332", "Sigma335"), ("Sigma100", "Sigma222"), ("Sigma030", "Sigma311")])
def test_block_sums_equal_direct_imbalance(analysis, atomic, pair):
    weights = {"Li": -1, "P": 0.5, "S": 1}
    a, b = (
        _standardised(MomentGSD.from_sigma(label[-3:], element_weights=weights, moments="central"), atomic)
        for label in pair
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = information_imbalance(a, b, normalize=False)
    assert analysis.imbalance_.loc[pair[0], pair[1]] == pytest.approx(direct[0], abs=1e-12)
    assert analysis.imbalance_.loc[pair[1], pair[0]] == pytest.approx(direct[1], abs=1e-12)
    assert analysis.imbalance_normalized_.loc[pair[0], pair[1]] == pytest.approx(2 * direct[0] / 60)


def test_chunk_size_does_not_change_results(analysis, atomic):
    other = GSDSpaceAnalysis(max_order=3, element_weights={"Li": -1, "P": 0.5, "S": 1}, chunk_size=60).fit(atomic)
    np.testing.assert_allclose(other.imbalance_.values, analysis.imbalance_.values, rtol=0, atol=1e-12)


def test_tables_and_selection(analysis, atomic):
    summary = analysis.summary()
    assert list(summary.columns) == ["to_others", "from_others", "srim", "dimension", "complexity"]
    assert summary["srim"].is_monotonic_increasing
    assert np.all(np.diag(analysis.imbalance_.values) == 1.0)
    pairs = analysis.pairs(5)
    assert len(pairs) == 5 and pairs["srim"].is_monotonic_increasing
    curve = analysis.min_srim_by_complexity("Sigma335")
    assert curve["complexity"].is_monotonic_increasing and "Sigma335" not in set(curve["descriptor"])
    srim = analysis.srim()["Sigma335"] * 2 / 60  # normalised, as the tolerance
    tolerance = float(srim.drop("Sigma335").median())
    relaxed = GSDSpaceAnalysis(max_order=3, element_weights={"Li": -1, "P": 0.5, "S": 1}, tolerance=tolerance)
    best = relaxed.fit(atomic).best_
    assert best != "Sigma335" and srim[best] <= tolerance
    cheaper = analysis.descriptors_["complexity"] < analysis.descriptors_.loc[best, "complexity"]
    assert not np.any(srim[cheaper] <= tolerance)


def test_plots_are_written(analysis, tmp_path):
    analysis.plot_correlation("Sigma335", path=tmp_path / "fig1a.png")
    analysis.plot_min_srim("Sigma335", path=tmp_path / "fig1b.png")
    assert (tmp_path / "fig1a.png").stat().st_size > 10_000
    assert (tmp_path / "fig1b.png").stat().st_size > 10_000


def test_bad_input(atomic):
    with pytest.raises(TypeError, match="AtomicFeatures"):
        GSDSpaceAnalysis().fit(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="scaling"):
        GSDSpaceAnalysis(scaling="robust").fit(atomic)
    with pytest.raises(ValueError, match="reference"):
        GSDSpaceAnalysis(max_order=3, reference="Sigma555").fit(atomic)


def test_both_rank_counting_methods_agree():
    from skdesc.information._space_kernel import _counts_by_histogram, _counts_per_distinct

    rng = np.random.default_rng(5)
    row = np.round(rng.uniform(0, 5, size=400), 1)  # many exact ties
    targets = rng.choice(400, size=60)  # repeated targets, as when spaces share a neighbour
    for i, tol in ((3, 0.0), (17, 0.05)):
        distinct = np.unique(targets)
        position = np.searchsorted(distinct, targets)
        closer, within = _counts_per_distinct(row, i, distinct, tol, position)
        others = np.delete(row, i)
        expected_closer = [(others < row[t] - tol).sum() for t in targets]
        expected_within = [(others <= row[t] + tol).sum() for t in targets]
        np.testing.assert_array_equal(closer, expected_closer)
        np.testing.assert_array_equal(within, expected_within)
        np.testing.assert_array_equal(_counts_by_histogram(row, i, targets, tol)[0], expected_closer)
        np.testing.assert_array_equal(_counts_by_histogram(row, i, targets, tol)[1], expected_within)


def test_distance_assembly_equals_summing_blocks():
    from skdesc.information._space_kernel import assemble_distances
    from skdesc.information.space import _assembly_plan, _plan_arrays

    rng = np.random.default_rng(9)
    partial = rng.normal(size=(6, 3, 20))  # negative entries check the final clipping
    members = [{0}, {1, 2}, {0, 1, 2}, {3, 4, 5}, {0, 1, 2, 3, 4, 5}, {2, 5}]
    distances = np.empty((len(members), 3, 20))
    assemble_distances(partial, distances, *_plan_arrays(_assembly_plan(members)))
    for s, blocks in enumerate(members):
        expected = np.maximum(sum(partial[b] for b in sorted(blocks)), 0.0)
        np.testing.assert_allclose(distances[s], expected, rtol=1e-14, atol=1e-14)
