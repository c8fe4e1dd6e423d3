"""scikit-learn integration in depth: set_output, feature names, check_estimator, n_jobs."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from skdesc import ACSF, SOAP, AtomicFeatures, ChebyshevLAED, CompressedSOAP, MomentGSD
from skdesc.datasets import load_demo
from skdesc.selection import InformationImbalanceSelector

# every estimator of skdesc that takes plain 2-D arrays
ARRAY_ESTIMATORS = [MomentGSD(), MomentGSD(n_out=2, n_in=2, weighting="both"), InformationImbalanceSelector()]

LOCAL = [
    ChebyshevLAED(rad_cutoff=4.5, rad_order=5, ang_cutoff=3.0, ang_order=3),
    SOAP(r_cut=4.0, n_max=3, l_max=3),
    CompressedSOAP(r_cut=4.0, n_max=3, l_max=3, compression="mu2"),
    CompressedSOAP(r_cut=4.0, n_max=3, l_max=2, compression="random", random_state=0),
    ACSF(r_cut=4.5, g2_params=[[1.0, 0.0], [0.5, 2.0]], g4_params=[[0.01, 1.0, 1.0], [0.01, 2.0, -1.0]]),
]


def _name(estimator):
    return type(estimator).__name__ + getattr(estimator, "compression", "")


@pytest.fixture(scope="module")
def demo():
    structures, y = load_demo()
    # about 700 atoms: several parallel batches of the local descriptors
    chosen = [atoms for atoms in structures if len(atoms) <= 54][:40] + [atoms for atoms in structures if len(atoms) == 128][:2]
    return chosen, y[: len(chosen)]


@pytest.mark.parametrize("estimator", ARRAY_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(estimator)


@pytest.mark.parametrize("estimator", LOCAL, ids=_name)
def test_local_descriptor_n_jobs_bit_identical(estimator, demo):
    structures, _ = demo
    serial = clone(estimator).set_params(n_jobs=1).fit_transform(structures)
    parallel = clone(estimator).set_params(n_jobs=2).fit(structures)
    assert len(parallel._batches([len(atoms) for atoms in structures], 2)) > 1  # the threads really share the work
    assert parallel.transform(structures) == serial  # exact equality of values, offsets, names


def test_moment_gsd_n_jobs_bit_identical():
    rng = np.random.default_rng(0)
    n_structures = 5000  # more than one batch of 2048 structures
    counts = rng.integers(1, 5, n_structures)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    atomic = AtomicFeatures(rng.normal(size=(offsets[-1], 3)), offsets, rng.choice([8, 22], offsets[-1]))
    for gsd in (MomentGSD(n_out=3, n_in=2, weighting="both"), MomentGSD.from_sigma("555")):
        serial = clone(gsd).fit(atomic).transform(atomic)
        parallel = clone(gsd).set_params(n_jobs=2).fit(atomic).transform(atomic)
        assert np.array_equal(serial, parallel)


def test_pipeline_set_output_pandas(demo):
    structures, _ = demo
    pipe = make_pipeline(ChebyshevLAED(rad_order=3, ang_order=2), MomentGSD(n_out=2, n_in=1))
    plain = clone(pipe).fit_transform(structures)
    frame = pipe.set_output(transform="pandas").fit_transform(structures)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(pipe.get_feature_names_out())
    np.testing.assert_array_equal(frame.to_numpy(), plain)
    np.testing.assert_array_equal(pipe.transform(structures[:3]).to_numpy(), plain[:3])


@pytest.mark.parametrize("estimator", LOCAL, ids=_name)
def test_local_set_output_keeps_atomic_features(estimator, demo):
    structures, _ = demo
    fitted = clone(estimator).set_output(transform="pandas").fit(structures[:4])
    out = fitted.transform(structures[:4])
    assert isinstance(out, AtomicFeatures)
    names = fitted.get_feature_names_out()
    assert len(names) == fitted.n_features_out_ == out.n_features and len(set(names)) == len(names)
    with pytest.raises(ValueError, match="transform must be"):
        clone(estimator).set_output(transform="arrow")


def test_moment_gsd_set_output_and_names_on_arrays():
    X = np.random.default_rng(1).normal(size=(6, 2))
    out = MomentGSD(n_out=3).set_output(transform="pandas").fit_transform(X)
    assert list(out.columns) == ["Sigma300[out=1]:x0", "Sigma300[out=1]:x1", "Sigma300[out=2]:x0",
                                 "Sigma300[out=2]:x1", "Sigma300[out=3]:x0", "Sigma300[out=3]:x1"]
    frame = pd.DataFrame(X, columns=["a", "b"], index=list("uvwxyz"))
    out = MomentGSD(n_out=1).set_output(transform="pandas").fit_transform(frame)
    assert list(out.index) == list("uvwxyz") and list(out.columns) == ["Sigma100[out=1]:a", "Sigma100[out=1]:b"]
    np.testing.assert_array_equal(out.to_numpy(), X)  # degree 1 of one atom is the value itself


def test_selector_set_output_and_names():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(30, 4)), columns=["a", "b", "c", "d"])
    X["e"] = 2 * X["a"]
    selector = InformationImbalanceSelector().set_output(transform="pandas").fit(X)
    out = selector.transform(X)
    assert list(out.columns) == list(selector.get_feature_names_out())
    assert set(out.columns) <= set(X.columns)


def test_atomic_features_to_pandas():
    atomic = AtomicFeatures(np.arange(10.0).reshape(5, 2), [0, 2, 5], [22, 8, 8, 22, 8], ["f0", "f1"])
    frame = atomic.to_pandas()
    assert frame.index.names == ["structure", "atom"]
    assert list(frame.index) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    assert list(frame["element"]) == ["Ti", "O", "O", "Ti", "O"]
    np.testing.assert_array_equal(frame[["f0", "f1"]].to_numpy(), atomic.values)
    np.testing.assert_array_equal(frame.loc[1, "f1"].to_numpy(), atomic.structure(1)[:, 1])
    import scipy.sparse as sp

    sparse = AtomicFeatures(sp.csr_matrix(atomic.values), atomic.offsets, atomic.numbers, ["f0", "f1"])
    np.testing.assert_array_equal(sparse.to_pandas()[["f0", "f1"]].sparse.to_dense().to_numpy(), atomic.values)
