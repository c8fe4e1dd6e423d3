"""The pruning report and the "does it pay?" example run in quick mode on tiny copies of the shared data.

The copies hold a few structures of each data set (written to a temporary
folder with the scripts' file names), so the scripts' whole paths run
(loading, clusters, selection, models, tables) in seconds once the numba
kernels are cached (they are the same kernels the descriptor tests compile).
Skipped when the shared data are absent.
"""

import gzip
import importlib.util
from pathlib import Path

import ase.io
import numpy as np
import pytest

from .conftest import _read

ROOT = Path(__file__).resolve().parents[1]
FILES = {
    "tio2_artrith2016.extxyz.gz": "0:7815:400",
    "nbmotaw_li2020_partial.extxyz.gz": "0:5658:300",
    "qm9_subset10k_seed0.extxyz.gz": "0:40:2",
}


def _load(script):
    spec = importlib.util.spec_from_file_location(script, ROOT / "examples" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    for name, index in FILES.items():
        structures = _read(name, index)  # the cached originals (with their energies); skips when absent
        with gzip.open(folder / name, "wt") as handle:
            ase.io.write(handle, structures, format="extxyz")
    return folder


def test_pruning_report_quick(tiny_data, capsys):
    lines = _load("pruning_report").main(["--quick", "--data", str(tiny_data), "--n-environments", "3"])
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and not line.startswith("| environments")]
    assert {row[0].strip("| ") for row in rows} == {"TiO2", "NbMoTaW", "random"}
    for row in rows:
        bound, d, kept = int(row[2]), int(row[5]), int(row[7])
        low, median, high = (int(v) for v in row[6].split(" / "))
        # the Jacobian of one environment of N neighbours has rank <= 3N - 3, and the selector keeps at least that rank
        assert low <= median <= high <= min(bound, d)
        assert high <= kept <= d
    assert "|---|" in capsys.readouterr().out


def test_does_it_pay_quick(tiny_data):
    results, lines = _load("does_it_pay").main(
        ["--quick", "--data", str(tiny_data), "--n-structures", "16", "--n-environments", "4"]
    )
    assert [r["name"] for r in results] == ["TiO2", "NbMoTaW", "QM9"]
    for result in results:
        rows = result["rows"]
        assert rows[0][1].startswith("composition") and len(rows) == 6
        assert all(np.isfinite(row[4]) and np.isfinite(row[5]) and row[4] >= 0 for row in rows)
        pruned = [row for row in rows if row[1] == "pruned bispectrum"][0]
        full = [row for row in rows if row[1] == "bispectrum (nu=3)"][0]
        assert 0 < pruned[3] <= full[3]
        off_diagonal = result["imbalance"][~np.eye(len(result["labels"]), dtype=bool)]
        assert np.all((off_diagonal >= 0) & (off_diagonal <= 1.5))
    assert any(line.startswith("|---") for line in lines)
