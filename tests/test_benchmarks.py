"""The benchmark scripts run: each in quick mode, from the repository root, in its own process.

Quick mode shrinks every size so a script takes seconds once its numba
kernels are compiled; the test checks that it exits 0, prints its markdown
table and writes its JSON, so the scripts keep working as the code changes.
A second run hides dscribe and the shared data sets: the rows that need
them are skipped with a message, the rest still runs.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.glob("bench_*.py"))
TIMEOUT = 1800  # seconds; mostly numba compilation on a cold cache

sys.path.insert(0, str(BENCHMARKS))
import _harness  # noqa: E402

sys.path.remove(str(BENCHMARKS))


def _run(command, tmp_path, extra_path=()):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, extra_path), str(ROOT)])}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def _check_output(proc, out):
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "\n|---|" in proc.stdout, proc.stdout[-3000:]  # a markdown table
    payload = json.loads(out.read_text())
    assert payload["quick"] is True
    assert payload["tables"] and all(table["columns"] for table in payload["tables"])
    return payload


def test_scripts_are_found():
    assert {"bench_laed.py", "bench_soap.py", "bench_derivatives.py", "bench_information.py", "bench_memory.py",
            "bench_compile.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_in_quick_mode(script, tmp_path):
    out = tmp_path / "result.json"
    proc = _run([sys.executable, f"benchmarks/{script}", "--quick", "--json", str(out)], tmp_path)
    payload = _check_output(proc, out)
    assert any(table["rows"] for table in payload["tables"]), payload["tables"]


@pytest.mark.parametrize("script", ["bench_laed.py", "bench_soap.py", "bench_derivatives.py", "bench_information.py"])
def test_missing_anchor_library_and_data_are_skipped_cleanly(script, tmp_path):
    # a dscribe that fails to import, first on the path, and an empty data folder
    blocker = tmp_path / "blocked"
    (blocker / "dscribe").mkdir(parents=True)
    (blocker / "dscribe" / "__init__.py").write_text("raise ImportError('dscribe hidden by the test')\n")
    empty = tmp_path / "no-data"
    empty.mkdir()
    out = tmp_path / "result.json"
    command = [sys.executable, f"benchmarks/{script}", "--quick", "--json", str(out), "--data-dir", str(empty)]
    proc = _run(command, tmp_path, extra_path=[blocker])
    payload = _check_output(proc, out)
    assert "skipped: " in proc.stdout
    assert payload["skipped"]
    assert not any("dscribe" in str(row) for table in payload["tables"] for row in table["rows"])


def test_run_all_in_process(tmp_path):
    proc = _run([sys.executable, "benchmarks/run_all.py", "--quick", "--in-process", "--only", "bench_memory",
                 "--json-dir", str(tmp_path)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| bench_memory | 0 |" in proc.stdout
    assert json.loads((tmp_path / "bench_memory.json").read_text())["benchmark"] == "bench_memory"


def test_harness_helpers(tmp_path):
    with pytest.raises(_harness.Skip, match="data set not found"):
        _harness.read_extxyz_gz(tmp_path / "absent.extxyz.gz", 3)
    with pytest.raises(_harness.Skip, match="not available"):
        _harness.optional("a_module_that_does_not_exist")
    args = _harness.parser("title\n\nmore").parse_args(["--quick"])
    args.n, args.jobs = 100, [1, 2]
    _harness.quick(args, n=5, jobs=1)
    assert (args.n, args.jobs) == (5, [1])
    calls = []
    times = _harness.best_times([lambda: calls.append("a"), lambda: calls.append("b")], 2)
    assert calls == ["a", "b", "a", "b"] and times.shape == (2,) and (times >= 0).all()
    assert _harness.markdown_table(["x", "y"], [(1.5, None), (True, 2e-7)]) == [
        "| x | y |", "|---|---|", "| 1.500 |  |", "| yes | 2e-07 |"]
