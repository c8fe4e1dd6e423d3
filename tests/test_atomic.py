"""AtomicFeatures: indexing, pickling, splitting by scikit-learn."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from ase.build import bulk
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import _safe_indexing

from skdesc import AtomicFeatures, ChebyshevLAED, MeanPooling


@pytest.fixture
def atomic():
    values = np.arange(20.0).reshape(10, 2)
    return AtomicFeatures(values, [0, 2, 5, 7, 10], [1, 8, 1, 1, 8, 1, 1, 1, 8, 8], ["a", "b"], species=(8, 1))


def test_sizes(atomic):
    assert len(atomic) == atomic.n_structures == 4
    assert atomic.n_atoms == 10 and atomic.n_features == 2 and atomic.shape == (4, 2)
    np.testing.assert_array_equal(atomic.n_atoms_per_structure, [2, 3, 2, 3])
    np.testing.assert_array_equal(atomic.structure_index, [0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(atomic.structure(1), [[4, 5], [6, 7], [8, 9]])


@pytest.mark.parametrize(
    "key, rows",
    [
        (np.array([2, 0]), [5, 6, 0, 1]),
        (slice(1, 3), [2, 3, 4, 5, 6]),
        (np.array([False, True, False, True]), [2, 3, 4, 7, 8, 9]),
        (-1, [7, 8, 9]),
        ([3, 3], [7, 8, 9, 7, 8, 9]),
    ],
)
def test_indexing_selects_structures(atomic, key, rows):
    sub = atomic[key]
    assert isinstance(sub, AtomicFeatures)
    np.testing.assert_array_equal(sub.values, atomic.values[rows])
    np.testing.assert_array_equal(sub.numbers, atomic.numbers[rows])
    assert sub.species == atomic.species and list(sub.feature_names) == ["a", "b"]


def test_index_errors(atomic):
    with pytest.raises(IndexError):
        atomic[np.array([4])]
    with pytest.raises(IndexError):
        atomic[np.array([True, False])]
    with pytest.raises(IndexError):
        atomic[0, 1]


def test_scikit_learn_splitting(atomic):
    for train, test in KFold(2).split(atomic):
        part = _safe_indexing(atomic, train)
        assert isinstance(part, AtomicFeatures) and len(part) == len(train)
        np.testing.assert_array_equal(part.values, np.concatenate([atomic.structure(s) for s in train]))


def test_pickle_and_concatenate(atomic):
    clone = pickle.loads(pickle.dumps(atomic))
    assert clone == atomic
    joined = AtomicFeatures.concatenate([atomic[[0, 1]], atomic[[2, 3]]])
    assert joined == atomic


def test_invalid_construction():
    with pytest.raises(ValueError, match="offsets"):
        AtomicFeatures(np.zeros((3, 2)), [0, 2], [1, 1, 1])
    with pytest.raises(ValueError, match="numbers"):
        AtomicFeatures(np.zeros((3, 2)), [0, 3], [1, 1])
    with pytest.raises(ValueError, match="2-D"):
        AtomicFeatures(np.zeros(3), [0, 3], [1, 1, 1])


@pytest.mark.parametrize("sparse", [False, True])
def test_no_numpy_conversion_names_the_pooling_step(atomic, sparse):
    if sparse:
        atomic = AtomicFeatures(sp.csr_matrix(atomic.values), atomic.offsets, atomic.numbers)
    for convert in (np.asarray, np.array, lambda a: np.asarray(a, dtype=float)):
        with pytest.raises(TypeError, match="pooling step such as MomentGSD or MeanPooling"):
            convert(atomic)


def test_forgotten_pooling_step_in_a_pipeline():
    structures = [bulk("Cu", "fcc", a=3.6 + 0.05 * k, cubic=True) for k in range(4)]
    pipe = make_pipeline(ChebyshevLAED(rad_order=3, ang_order=2), Ridge())
    with pytest.raises(TypeError, match="add a pooling step such as MomentGSD or MeanPooling"):
        pipe.fit(structures, np.arange(4.0))


@pytest.mark.parametrize("sparse", [False, True])
def test_model_selection_splits_atomic_features(atomic, sparse):
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 5, size=24)
    offsets = np.r_[0, np.cumsum(counts)]
    values = rng.normal(size=(offsets[-1], 3))
    values[values < 0.3] = 0.0
    values = sp.csr_matrix(values) if sparse else values
    data = AtomicFeatures(values, offsets, rng.choice([1, 8], size=offsets[-1]))
    y = rng.normal(size=24)
    scores = cross_val_score(make_pipeline(MeanPooling(), Ridge()), data, y, cv=KFold(3))
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(make_pipeline(MeanPooling(), Ridge()), {"ridge__alpha": [0.1, 10.0]}, cv=KFold(3))
    assert grid.fit(data, y).best_params_["ridge__alpha"] in (0.1, 10.0)
    assert grid.predict(data[:5]).shape == (5,)
