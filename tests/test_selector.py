"""InformationImbalanceSelector: greedy choices, blocks, targets, scikit-learn compliance."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from skdesc.information import information_imbalance
from skdesc.selection import InformationImbalanceSelector


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    signal = rng.normal(size=(250, 3))
    # columns: 3 signals, a copy of signal 0, a weak blend, noise
    X = np.column_stack([signal, signal[:, 0], 0.5 * signal[:, 1] + 0.5 * rng.normal(size=250), rng.normal(size=250)])
    return X, signal


def test_picks_the_informative_features_first(data):
    X, signal = data
    selector = InformationImbalanceSelector(n_to_select=3, reference="y").fit(X, signal)
    chosen = set(selector.selected_idx_.tolist())
    assert chosen in ({0, 1, 2}, {3, 1, 2})  # a duplicate of signal 0 is as good as signal 0
    assert np.all(np.diff(selector.scores_) < 0)
    # the score of the final selection is the information imbalance of those columns
    expected, _ = information_imbalance(X[:, selector.selected_idx_], signal)
    assert selector.scores_[-1] == pytest.approx(expected, abs=1e-12)


def test_blocks_are_selected_whole(data):
    X, signal = data
    groups = ["a", "b", "b", "a", "c", "c"]
    selector = InformationImbalanceSelector(n_to_select=1, groups=groups, reference="y").fit(X, signal)
    assert selector.selected_groups_ == ["b"] or selector.selected_groups_ == ["a"]
    mask = selector.get_support()
    assert mask.sum() == 2 and mask.tolist() == [g == selector.selected_groups_[0] for g in groups]


def test_thresholds_stop_early(data):
    X, signal = data
    absolute = InformationImbalanceSelector(n_to_select=6, score_threshold=0.5, reference="y").fit(X, signal)
    assert absolute.scores_[-1] <= 0.5 and absolute.n_selected_ < 6
    relative = InformationImbalanceSelector(
        n_to_select=6, score_threshold=0.5, score_threshold_type="relative", reference="y"
    ).fit(X, signal)
    assert relative.n_selected_ < 6


def test_deterministic_subsampling_and_pipeline(data):
    X, signal = data
    a = InformationImbalanceSelector(n_to_select=2, max_samples=100, random_state=3).fit(X)
    b = InformationImbalanceSelector(n_to_select=2, max_samples=100, random_state=3).fit(X)
    assert a.selected_idx_.tolist() == b.selected_idx_.tolist()
    model = make_pipeline(InformationImbalanceSelector(n_to_select=3), Ridge()).fit(X, signal[:, 0])
    assert model.predict(X).shape == (250,)


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(InformationImbalanceSelector(max_samples=50))


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_to_select=0), "n_to_select"),
        (dict(reference="z"), "reference"),
        (dict(groups=[0, 1]), "groups"),
        (dict(score_threshold_type="ratio"), "score_threshold_type"),
        (dict(reference="y"), "needs targets"),
    ],
)
def test_bad_parameters(data, params, message):
    with pytest.raises(ValueError, match=message):
        InformationImbalanceSelector(**params).fit(data[0])
