"""skdesc under joblib's dask backend: same results as serial, work runs on the dask workers."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skdesc import SOAP, AtomicFeatures, ChebyshevLAED, MomentGSD
from skdesc.datasets import load_demo

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def demo():
    structures, y = load_demo()
    return structures[::3], y[::3]  # 100 structures, about 1,300 atoms


@pytest.mark.parametrize(
    "descriptor",
    [ChebyshevLAED(rad_order=6, ang_order=3), SOAP(r_cut=4.0, n_max=3, l_max=2)],
    ids=lambda d: type(d).__name__,
)
def test_local_descriptor_on_dask_equals_serial(client, demo, descriptor, monkeypatch):
    structures, _ = demo
    serial = clone(descriptor).fit_transform(structures)
    threads = set()
    compute = type(descriptor)._compute

    def spy(self, *args, **kwargs):
        threads.add(threading.current_thread().name)
        return compute(self, *args, **kwargs)

    monkeypatch.setattr(type(descriptor), "_compute", spy)
    for n_jobs in (2, None):  # under the dask backend even n_jobs=None goes to the cluster
        threads.clear()
        with joblib.parallel_backend("dask"):
            distributed_result = clone(descriptor).set_params(n_jobs=n_jobs).fit_transform(structures)
        assert distributed_result == serial  # bit for bit
        assert threads and all("Dask" in name for name in threads)  # the batches ran on the dask workers


def test_moment_gsd_on_dask_equals_serial(client):
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 4, 4500)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    atomic = AtomicFeatures(rng.normal(size=(offsets[-1], 2)), offsets, rng.choice([41, 42], offsets[-1]))
    gsd = MomentGSD(n_out=2, n_in=2, weighting="both")
    serial = clone(gsd).fit(atomic).transform(atomic)
    with joblib.parallel_backend("dask"):
        result = clone(gsd).set_params(n_jobs=2).fit(atomic).transform(atomic)
    assert np.array_equal(result, serial)


def test_cross_validation_on_dask_equals_serial(client, demo):
    structures, y = demo
    atomic = ChebyshevLAED(rad_order=6, ang_order=3).fit_transform(structures)
    model = make_pipeline(MomentGSD(n_out=2, n_in=1), Ridge(alpha=1e-3))
    cv = KFold(4, shuffle=True, random_state=0)
    serial = cross_val_score(model, atomic, y, cv=cv)
    with joblib.parallel_backend("dask"):
        result = cross_val_score(model, atomic, y, cv=cv, n_jobs=2)
    np.testing.assert_array_equal(result, serial)
