"""Rank information imbalance: DADApy agreement, limits, ties, correlations."""

import warnings

import numpy as np
import pytest

from skdesc.information import distance_correlation, information_imbalance, rank_correlation, symmetric_imbalance

from .conftest import require_dadapy


def _dadapy(A, B, k):
    MetricComparisons = require_dadapy().MetricComparisons

    X = np.column_stack([A, B])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparisons = MetricComparisons(coordinates=X, maxk=X.shape[0] - 1, verbose=False)
        return comparisons.return_inf_imb_two_selected_coords(
            list(range(A.shape[1])), list(range(A.shape[1], X.shape[1])), k=k
        )


@pytest.mark.dadapy
@pytest.mark.parametrize("k", [1, 4])
def test_equals_dadapy_with_exact_ranks(k):
    rng = np.random.default_rng(k)
    A = rng.normal(size=(300, 6))
    B = np.column_stack([A[:, :2] + 0.1 * rng.normal(size=(300, 2)), rng.normal(size=(300, 2))])
    ours = information_imbalance(A, B, k=k)
    np.testing.assert_allclose(ours, _dadapy(A, B, k), rtol=0, atol=1e-12)


def test_limits_and_raw_ranks():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(200, 3))
    same = information_imbalance(A, 3.0 * A + 1.0)  # scaling and shifts change no rank
    assert same == (2 / 200, 2 / 200)
    assert information_imbalance(A, A, normalize=False) == (1.0, 1.0)
    unrelated = information_imbalance(A, rng.normal(size=(200, 3)))
    assert all(0.8 < value < 1.2 for value in unrelated)
    # a subspace is predicted by the full space, not the other way round
    to_sub, from_sub = information_imbalance(A, A[:, :1])
    assert to_sub < 0.3 and from_sub > 2 * to_sub
    assert symmetric_imbalance(A, A[:, :1]) == pytest.approx(0.5 * (to_sub + from_sub))


def test_ties_follow_the_average_rank_rule():
    # A: points 0 and 1 coincide, and both are the nearest of point 2 (distance 1)
    A = np.array([[0.0], [0.0], [1.0], [9.0]])
    B = np.array([[0.0], [3.0], [1.0], [10.0]])
    with pytest.warns(UserWarning, match="tied"):
        raw_ab, _ = information_imbalance(A, B, normalize=False)
    # B-ranks of the A-nearest: 0 -> 1: 2; 1 -> 0: 2; 2 -> {0, 1}: mean(1, 2); 3 -> 2: 2
    assert raw_ab == pytest.approx((2 + 2 + 1.5 + 2) / 4)
    # a tie in the target space: from point 0, points 1 and 2 are both at B-distance 1
    A2 = np.array([[0.0], [1.0], [3.0], [7.0]])
    B2 = np.array([[0.0], [1.0], [-1.0], [9.0]])
    with pytest.warns(UserWarning):
        raw, _ = information_imbalance(A2, B2, normalize=False)
    # 0 -> 1: 1.5 (shares rank 1-2 with point 2); 1 -> 0: 1; 2 -> 1: 2; 3 -> 2: 3
    assert raw == pytest.approx((1.5 + 1 + 2 + 3) / 4)


def test_correlations():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(80, 4))
    assert distance_correlation(A, 2 * A) == pytest.approx(1.0)
    assert rank_correlation(A, 5 * A) == pytest.approx(1.0)
    assert abs(rank_correlation(A, rng.normal(size=(80, 4)))) < 0.2
    sampled = distance_correlation(A, A + 0.01 * rng.normal(size=A.shape), max_pairs=500, random_state=0)
    assert 0.99 < sampled <= 1.0


@pytest.mark.parametrize(
    "A, B, kwargs, message",
    [
        (np.zeros((5, 2)), np.zeros((6, 2)), {}, "same points"),
        (np.zeros((2, 2)), np.zeros((2, 2)), {}, "at least 3"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), {}, "NaN"),
        (np.zeros((5, 2)), np.zeros((5, 2)), {"k": 0}, "k must"),
    ],
)
def test_bad_input(A, B, kwargs, message):
    with pytest.raises(ValueError, match=message):
        information_imbalance(A, B, **kwargs)
