"""MomentGSD and moment utilities against scipy.stats and a direct numpy construction."""

import numpy as np
import pytest
import scipy.stats as st

from skdesc import AtomicFeatures, MomentGSD, config_context, gsd_space
from skdesc.pooling import stacked_moments as moments


def _random_atomic(n_structures=12, d=4, species=(3, 15, 16), seed=0, min_atoms=1, max_atoms=9):
    rng = np.random.default_rng(seed)
    counts = rng.integers(min_atoms, max_atoms, size=n_structures)
    offsets = np.r_[0, np.cumsum(counts)]
    numbers = rng.choice(species, size=offsets[-1])
    return AtomicFeatures(rng.normal(size=(offsets[-1], d)), offsets, numbers, species=species)


# ---------------------------------------------------------------- reference
def _stack_moments(x, order, kind="central"):
    """[mean, mu_2, ..., mu_order] with scipy.stats.moment (population central).

    ``kind="root"``: [mean, sign(mu_k) |mu_k|^(1/k)] instead.
    """
    parts = [x.mean(axis=0)]
    for k in range(2, order + 1):
        mu = st.moment(x, k, axis=0)
        if kind == "root":
            # odd moments at the rounding level are 0 (two-point sets), as documented
            noise = 1e-10 * np.mean(np.abs(x - x.mean(axis=0)) ** k, axis=0)
            mu = np.where((k % 2 == 1) & (np.abs(mu) <= noise), 0.0, mu)
            mu = np.sign(mu) * np.abs(mu) ** (1.0 / k)
        parts.append(mu)
    return np.concatenate(parts)


def _reference_gsd(af, n_out, n_in, weights, species, kind="central"):
    """Equation (1) of Gharakhanyan et al. (2023), written out directly."""
    rows = []
    for s in range(af.n_structures):
        x = af.structure(s)
        z = af.numbers[af.offsets[s] : af.offsets[s + 1]]
        w = np.array([weights[species.index(v)] for v in z])
        if n_in == 0:
            rows.append(_stack_moments(w[:, None] * x, n_out, kind))
            continue
        ceds = {e: _stack_moments(x[z == e], n_in, kind) for e in species if np.any(z == e)}
        if n_out == 0:
            rows.append(np.concatenate([ceds.get(e, np.zeros(n_in * x.shape[1])) for e in species]))
        else:
            stacked = np.array([weights[species.index(e)] * ceds[e] for e in species if e in ceds])
            rows.append(_stack_moments(stacked, n_out, kind))
    return np.array(rows)


# ------------------------------------------------------------------ moments
def test_central_moments_match_scipy():
    x = np.random.default_rng(1).gamma(2.0, size=(40, 6))
    expected = np.vstack([x.mean(0)] + [st.moment(x, k, axis=0) for k in range(2, 7)])
    np.testing.assert_allclose(moments(x, 6), expected, rtol=1e-12, atol=1e-14)


def test_standardized_moments_match_scipy():
    x = np.random.default_rng(2).gamma(2.0, size=(40, 6))
    got = moments(x, 4, "standardized")
    np.testing.assert_allclose(got[1], x.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(got[2], st.skew(x, axis=0), rtol=1e-10)
    np.testing.assert_allclose(got[3], st.kurtosis(x, axis=0, fisher=False), rtol=1e-10)


def test_cumulants_match_closed_forms():
    x = np.random.default_rng(3).gamma(2.0, size=(50, 5))
    mu = {k: st.moment(x, k, axis=0) for k in range(2, 7)}
    got = moments(x, 6, "cumulant")
    np.testing.assert_allclose(got[0], x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(got[1], mu[2], rtol=1e-12)
    np.testing.assert_allclose(got[2], mu[3], rtol=1e-12)
    np.testing.assert_allclose(got[3], mu[4] - 3 * mu[2] ** 2, rtol=1e-10)
    np.testing.assert_allclose(got[4], mu[5] - 10 * mu[3] * mu[2], rtol=1e-10)
    np.testing.assert_allclose(got[5], mu[6] - 15 * mu[4] * mu[2] - 10 * mu[3] ** 2 + 30 * mu[2] ** 3, rtol=1e-9)
    # cumulants of order >= 3 vanish for a symmetric two-point distribution... except even ones
    large = np.random.default_rng(4).normal(size=(200_000, 1))
    assert abs(moments(large, 4, "cumulant")[3, 0]) < 0.05  # Gaussian: kappa_4 = 0


@pytest.mark.parametrize("kind", ["central", "root", "standardized", "cumulant"])
def test_constant_features_and_single_rows_give_no_nan(kind):
    constant = np.full((7, 3), 0.1)
    out = moments(constant, 5, kind)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[0], 0.1)
    np.testing.assert_allclose(out[1:], 0.0, atol=1e-12)
    single = moments(np.array([[1.0, -2.0]]), 5, kind)
    np.testing.assert_allclose(single, [[1.0, -2.0]] + [[0.0, 0.0]] * 4)


# ---------------------------------------------------------------- MomentGSD
@pytest.mark.parametrize("kind", ["root", "central"])
@pytest.mark.parametrize(
    "n_out, n_in, weighting",
    [(i, j, k) for i, j in [(1, 0), (3, 0), (0, 1), (0, 3), (1, 1), (2, 3), (3, 2)] for k in (0, 1) if i or not k],
)
def test_methods_match_direct_construction(n_out, n_in, weighting, kind):
    species = (3, 15, 16)
    af = _random_atomic(species=species)
    weights = [-1.0, 0.5, 2.0] if weighting else [1.0, 1.0, 1.0]
    gsd = MomentGSD(n_out=n_out, n_in=n_in, weighting=weighting, element_weights=[-1.0, 0.5, 2.0], moments=kind)
    got = gsd.fit_transform(af)
    expected = _reference_gsd(af, n_out, n_in, weights, list(species), kind)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_default_is_the_signed_root_of_central_moments():
    af = _random_atomic(d=3)
    root = MomentGSD.from_sigma("332").fit_transform(af)
    np.testing.assert_array_equal(root, MomentGSD.from_sigma("332", moments="root").fit_transform(af))
    central = MomentGSD(n_out=4, moments="central").fit_transform(af)
    default = MomentGSD(n_out=4).fit_transform(af)
    orders = np.repeat(np.arange(1, 5), 3)
    np.testing.assert_allclose(default, np.sign(central) * np.abs(central) ** (1.0 / orders), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("label", ["100", "500", "050", "332", "555"])
def test_root_moments_are_homogeneous_of_degree_one(label):
    """Scaling the per-atom features by a scales every root-moment feature by a (any a > 0)."""
    af = _random_atomic(d=3, seed=3, min_atoms=3)
    gsd = MomentGSD.from_sigma(label, element_weights=[-1.0, 0.5, 2.0])
    base = gsd.fit_transform(af)
    for scale in (2.0**-700, 1e-150, 3.7, 1e150, 2.0**700):
        scaled = AtomicFeatures(af.values * scale, af.offsets, af.numbers, species=af.species)
        np.testing.assert_allclose(gsd.fit_transform(scaled) / scale, base, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("label", ["300", "050", "332", "555"])
@pytest.mark.parametrize("magnitude", [1e-300, 1e-100, 1e100, 1e200, 1e300])
def test_root_moments_are_finite_for_extreme_finite_input(label, magnitude):
    rng = np.random.default_rng(11)
    af = _random_atomic(d=2, seed=5, min_atoms=2)
    values = rng.choice([-1.0, 1.0], size=af.values.shape) * magnitude * rng.uniform(0.1, 1.7, size=af.values.shape)
    extreme = AtomicFeatures(values, af.offsets, af.numbers, species=af.species)
    out = MomentGSD.from_sigma(label).fit_transform(extreme)
    assert np.all(np.isfinite(out))
    # a root moment is bounded by the largest deviation (<= 2 max|x|), so an outer
    # moment of element descriptors (weights within [-1, 1]) by 4 max|x|
    assert np.abs(out).max() <= 4 * np.abs(values).max()


def test_raw_moments_that_overflow_raise_instead_of_returning_inf():
    af = _random_atomic(d=2, seed=5, min_atoms=2)
    extreme = AtomicFeatures(af.values * 1e200, af.offsets, af.numbers, species=af.species)
    with pytest.raises(ValueError, match="float64 range.*moments='root'"):
        MomentGSD(n_out=3, moments="central").fit_transform(extreme)
    with pytest.raises(ValueError, match="float64 range"):
        MomentGSD.from_sigma("332", moments="cumulant").fit_transform(AtomicFeatures(af.values * 1e100, af.offsets, af.numbers, species=af.species))
    # where the raw moments fit in float64 they are those of the plain formulas, also at 1e100
    big = AtomicFeatures(af.values * 2.0**300, af.offsets, af.numbers, species=af.species)
    np.testing.assert_array_equal(
        MomentGSD(n_out=3, moments="central").fit_transform(big) / 2.0 ** (300 * np.repeat([1, 2, 3], 2)),
        MomentGSD(n_out=3, moments="central").fit_transform(af),
    )


def test_rescaled_frame_keeps_raw_moments_bit_identical():
    """Power-of-two rescaling is exact: central moments equal a plain float64 transcription."""
    x = np.random.default_rng(12).gamma(2.0, size=(37, 5)) * 13.7
    mean = x.sum(axis=0) / x.shape[0]
    dev = x - mean
    power = dev * dev
    plain = [mean, power.sum(axis=0) / x.shape[0]]
    for _ in range(3, 6):
        power = power * dev
        plain.append(power.sum(axis=0) / x.shape[0])
    got = moments(x, 5)
    for k in range(5):
        np.testing.assert_array_equal(got[k], plain[k])


def test_both_weightings_and_concatenations():
    af = _random_atomic(d=3)
    w = dict(element_weights={"Li": -1, "P": 0, "S": 1})
    parts = {k: MomentGSD.from_sigma(k, **w).fit_transform(af) for k in ("550", "551", "500", "501", "050")}
    np.testing.assert_array_equal(
        MomentGSD.from_sigma("552", **w).fit_transform(af), np.hstack([parts["550"], parts["551"]])
    )
    full = MomentGSD.from_sigma("555", **w).fit(af)
    np.testing.assert_array_equal(full.transform(af), np.hstack([parts[k] for k in ("550", "551", "500", "501", "050")]))
    assert full.blocks_ == ["Sigma550", "Sigma551", "Sigma500", "Sigma501", "Sigma050"]
    np.testing.assert_array_equal(
        MomentGSD.from_sigma("554", **w).fit_transform(af), np.hstack([parts[k] for k in ("550", "551", "500", "501")])
    )


def test_paper_dimensions():
    af = _random_atomic(d=48, species=(3, 15, 16))
    for label, complexity in [("555", 75), ("554", 60), ("332", 18), ("100", 1), ("242", 16), ("050", 15)]:
        gsd = MomentGSD.from_sigma(label, element_weights=[-1, 0, 1]).fit(af)
        assert gsd.n_features_out_ == 48 * complexity, label
        assert gsd.complexity_ == complexity
        assert gsd.transform(af).shape == (af.n_structures, 48 * complexity)
    assert MomentGSD.from_sigma("555").fit(_random_atomic(d=2, species=(41, 42, 73, 74))).complexity_ == 80


def test_absent_elements_give_zero_blocks_in_method_ii():
    values = np.arange(12.0).reshape(6, 2)
    af = AtomicFeatures(values, [0, 2, 6], [8, 8, 8, 22, 22, 8], species=(8, 22, 1))
    out = MomentGSD(n_out=0, n_in=2, moments="central").fit_transform(af)
    # structure 0 has only O: Ti and H blocks are zero
    np.testing.assert_allclose(out[0], [1, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    assert MomentGSD(n_out=0, n_in=2).fit(af).species_ == (8, 22, 1)
    assert np.all(out[:, 8:] == 0.0)


def test_single_atom_element_and_single_element_structure():
    af = AtomicFeatures(np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]]), [0, 1, 3], [8, 8, 8], species=(8, 22))
    out = MomentGSD.from_sigma("332", element_weights=[-1, 1]).fit_transform(af)
    assert np.all(np.isfinite(out))
    # one element present: outer moments beyond the mean are zero
    gsd = MomentGSD.from_sigma("232", element_weights=[-1, 1]).fit(af)
    out = gsd.transform(af)
    names = gsd.get_feature_names_out()
    assert np.all(out[:, [("out=2" in n) for n in names]] == 0.0)


def test_feature_names():
    af = _random_atomic(d=2)
    af.feature_names[:] = ["a", "b"]
    gsd = MomentGSD.from_sigma("555").fit(af)
    names = gsd.get_feature_names_out()
    assert len(names) == gsd.n_features_out_ == len(set(names))
    assert names[0] == "Sigma550[out=1,in=1]:a"
    assert names[-1] == "Sigma050[in=5,el=S]:b"
    assert "Sigma501[out=3]:b" in names


def test_gsd_space_has_97_distinct_descriptors():
    space = gsd_space(5)
    assert len(space) == 97 == 3 * 5 * 6 + 5 + 2
    assert "Sigma011" not in space and "Sigma555" in space and "Sigma554" in space
    af = _random_atomic(d=2, seed=7, min_atoms=4)
    outputs = {label: gsd.fit_transform(af) for label, gsd in space.items()}
    # every representation is different from every other one
    signatures = {label: (out.shape, np.round(out, 10).tobytes()) for label, out in outputs.items()}
    assert len(set(signatures.values())) == 97
    assert all(space[label].sigma_label == label for label in space)
    assert len(gsd_space(2)) == 3 * 2 * 3 + 2 + 2


@pytest.mark.parametrize("label", ["Sigma332", "Σ332", "332", (3, 3, 2)])
def test_from_sigma_accepts_labels(label):
    gsd = MomentGSD.from_sigma(label)
    assert (gsd.n_out, gsd.n_in, gsd.weighting, gsd.sigma_label) == (3, 3, 2, "Sigma332")


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_out=0, n_in=0), "both be 0"),
        (dict(n_out=0, n_in=2, weighting="element"), "does not exist"),
        (dict(n_out=-1), "n_out"),
        (dict(n_in=1.5), "n_in"),
        (dict(weighting="all"), "weighting"),
        (dict(moments="raw"), "moments"),
        (dict(n_out=2, n_in=0, include_atom_moments=True), "include_atom_moments"),
        (dict(element_weights=[1.0, 2.0]), "3 weights"),
    ],
)
def test_invalid_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        MomentGSD(**params).fit(_random_atomic())


def test_bad_labels_and_unknown_elements():
    with pytest.raises(ValueError, match="cannot read"):
        MomentGSD.from_sigma("3x2")
    with pytest.raises(ValueError, match="cannot read"):
        MomentGSD.from_sigma("333")
    gsd = MomentGSD(n_out=1).fit(_random_atomic(species=(3, 15)))
    with pytest.raises(ValueError, match=r"contains elements \['S'\] not seen in fit"):
        gsd.transform(_random_atomic(species=(3, 16)))
    with pytest.raises(ValueError, match="features per atom"):
        gsd.transform(_random_atomic(d=5, species=(3, 15)))


def test_standardized_and_cumulant_options_change_only_higher_orders():
    af = _random_atomic(d=3)
    central = MomentGSD(n_out=3, moments="central").fit_transform(af)
    for kind in ("standardized", "cumulant", "root"):
        other = MomentGSD(n_out=3, moments=kind).fit_transform(af)
        np.testing.assert_allclose(other[:, :3], central[:, :3])
        assert np.all(np.isfinite(other))
    np.testing.assert_allclose(MomentGSD(n_out=3, moments="standardized").fit_transform(af)[:, 3:6], np.sqrt(central[:, 3:6]))


def test_n_jobs_and_batching_do_not_change_results():
    af = _random_atomic(n_structures=50)
    expected = MomentGSD.from_sigma("332").fit_transform(af)
    with config_context(structures_per_batch=7):
        np.testing.assert_array_equal(MomentGSD.from_sigma("332", n_jobs=2).fit_transform(af), expected)


def test_odd_moments_of_symmetric_sets_are_exactly_zero():
    """Two points (a binary structure's two element descriptors) have no odd central moments.

    Rounding of the mean would leave ~1e-16 noise that per-feature scaling
    (GSD-space analysis, StandardScaler) blows up to unit variance.
    """
    rng = np.random.default_rng(8)
    pairs = rng.normal(size=(2, 50)) * rng.uniform(0.1, 100, size=50)
    out = moments(pairs, 5)
    assert np.all(out[2] == 0.0) and np.all(out[4] == 0.0)
    np.testing.assert_allclose(out[3], out[1] ** 2, rtol=1e-12)
    skewed = rng.gamma(1.0, size=(30, 4))
    assert np.all(np.abs(moments(skewed, 3)[2]) > 0)


@pytest.mark.parametrize("kind", ["central", "root", "standardized", "cumulant"])
def test_column_constant_up_to_rounding_has_zero_moments(kind):
    """0.1 + 0.2 != 0.3 in floating point: such a column's moments are exactly 0, not 1e-35."""
    from skdesc import AtomicFeatures

    column = np.array([0.1 + 0.2, 0.3, 0.3, 0.3 * (1 + 1e-16)])
    other = np.array([1.0, 2.0, 4.0, 8.0])
    values = np.column_stack([column, other])
    features = AtomicFeatures(values, np.array([0, 4]), np.full(4, 42))
    out = MomentGSD(n_out=5, n_in=0, weighting="none", moments=kind).fit_transform(features)
    names = MomentGSD(n_out=5, n_in=0, weighting="none", moments=kind).fit(features).get_feature_names_out()
    assert out.shape == (1, 10)
    noisy = [k for k, name in enumerate(names) if name.endswith(":x0") and "out=1" not in name]
    assert len(noisy) == 4
    assert np.all(out[0, noisy] == 0.0)
    # the genuinely varying column keeps its moments
    varying = [k for k, name in enumerate(names) if name.endswith(":x1") and "out=1" not in name]
    assert np.all(out[0, varying] != 0.0)


def test_odd_moments_of_two_nearly_equal_points_are_zero():
    """Two points 1e-8 apart: mu_3 is exactly 0, but rounding leaves ~1e-32 unless it is bounded."""
    from skdesc import AtomicFeatures

    values = np.array([[1.0, 1.0], [1.0 + 3e-9, 5.0]])
    features = AtomicFeatures(values, np.array([0, 2]), np.array([42, 42]))
    estimator = MomentGSD(n_out=5, n_in=0, weighting="none").fit(features)
    out = estimator.transform(features)[0]
    names = list(estimator.get_feature_names_out())
    for column in ("x0", "x1"):
        for order in (3, 5):
            (index,) = [k for k, n in enumerate(names) if f"out={order}" in n and n.endswith(":" + column)]
            assert out[index] == 0.0
        (variance,) = [k for k, n in enumerate(names) if "out=2" in n and n.endswith(":" + column)]
        assert out[variance] > 0.0
