"""``skdesc compile``: kernels compiled into numba's cache before their first use."""

import json
import os
import subprocess
import sys

import pytest

from skdesc._warmup import compile_kernels, kernel_cache_location
from skdesc.cli import main
from skdesc.local._kernels import geometric

# a fresh interpreter: how many of CoordinationNumber's kernel signatures came from the cache
_FIRST_CALL = """
import json
from ase.build import bulk
from skdesc import CoordinationNumber
from skdesc.local._kernels import geometric
from skdesc.neighbors import _search
CoordinationNumber(cutoff=3.0).fit_transform([bulk("Cu", "fcc", a=3.6, cubic=True)])
stats = [geometric.coordination_kernel.stats, _search._search.stats]
print(json.dumps({"hits": sum(sum(s.cache_hits.values()) for s in stats),
                  "misses": sum(sum(s.cache_misses.values()) for s in stats)}))
"""


def test_compile_kernels_runs_the_named_estimators_and_their_kernels():
    seconds = compile_kernels(["BondLengthStatistics", "CoordinationNumber"], derivatives=False)
    assert list(seconds) == ["CoordinationNumber", "BondLengthStatistics"]  # the neighbour stage first
    assert all(took > 0 for took in seconds.values())
    assert geometric.coordination_kernel.signatures and geometric.bond_length_kernel.signatures


def test_compile_kernels_in_worker_processes_reports_every_estimator():
    seen = []
    seconds = compile_kernels(["CoordinationNumber", "BondLengthStatistics", "BondAngleStatistics"],
                              derivatives=False, n_jobs=2, report=lambda name, took: seen.append(name))
    assert sorted(seconds) == sorted(seen) == ["BondAngleStatistics", "BondLengthStatistics", "CoordinationNumber"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(names=["NoSuchDescriptor"]), "unknown estimator"),
    (dict(names=["SOAP"], n_jobs=0), "n_jobs"),
])
def test_compile_kernels_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compile_kernels(**kwargs)


def test_cli_compile_prints_each_estimator_and_the_cache(capsys):
    assert main(["compile", "CoordinationNumber", "--no-derivatives"]) == 0
    out = capsys.readouterr().out
    assert "CoordinationNumber" in out and "numba cache" in out
    assert main(["compile", "NoSuchDescriptor"]) == 2
    assert "unknown estimator" in capsys.readouterr().err
    assert main(["compile", "-j", "0"]) == 2


def test_cache_location_follows_numba_cache_dir(monkeypatch, tmp_path):
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", str(tmp_path))
    assert kernel_cache_location() == str(tmp_path)


@pytest.mark.slow
def test_after_skdesc_compile_a_new_process_loads_every_kernel_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    subprocess.run([sys.executable, "-m", "skdesc", "compile", "CoordinationNumber", "--no-derivatives"], env=env,
                   capture_output=True, text=True, check=True)
    assert any(cache.rglob("*.nbi"))
    warm = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    counts = json.loads(warm.stdout.splitlines()[-1])
    assert counts["misses"] == 0 and counts["hits"] >= 2
