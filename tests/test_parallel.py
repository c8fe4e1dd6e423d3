"""The ordered parallel map behind every transform's batches."""

import threading
import time

import joblib
import pytest

from skdesc._parallel import ordered_map


def _tagged(value, delay):
    time.sleep(delay)
    return value, threading.current_thread().name


def test_results_in_order_from_worker_threads():
    # later tasks finish first; results still come back in submission order
    calls = [(_tagged, (k, 0.02 * (5 - k))) for k in range(6)]
    results = list(ordered_map(calls, 2))
    assert [value for value, _ in results] == list(range(6))
    names = {name for _, name in results}
    assert threading.current_thread().name not in names
    assert len(names) == 2  # both workers took tasks (the first one sleeps 0.1 s)


def test_serial_and_configured_backends_run_through_joblib():
    calls = [(_tagged, (k, 0.0)) for k in range(4)]
    main = threading.current_thread().name
    assert [r for r in ordered_map(calls, 1)] == [(k, main) for k in range(4)]
    with joblib.parallel_config(backend="sequential"):
        # a backend the caller chose is used as is (here: everything in this thread)
        assert [r for r in ordered_map(calls, 2)] == [(k, main) for k in range(4)]


def _fail_on(value, bad):
    if value == bad:
        raise ValueError(f"task {value} failed")
    return value


def test_errors_reach_the_caller():
    calls = [(_fail_on, (k, 3)) for k in range(8)]
    with pytest.raises(ValueError, match="task 3 failed"):
        list(ordered_map(calls, 2))
