"""The bundled demo data and the `skdesc demo` command."""

import numpy as np

from skdesc.cli import main
from skdesc.datasets import DEMO_CITATION, load_demo
from skdesc.demo import run_demo


def test_bundled_demo_data():
    structures, energy_per_atom = load_demo()
    assert 200 <= len(structures) <= 400 and energy_per_atom.shape == (len(structures),)
    assert {"Nb", "Mo", "Ta", "W"} == {s for atoms in structures for s in atoms.get_chemical_symbols()}
    assert np.all(np.isfinite(energy_per_atom)) and np.all(energy_per_atom < 0)
    assert "npj Comput. Mater. 6, 70 (2020)" in DEMO_CITATION


def test_run_demo_on_a_subset():
    results = run_demo(n_jobs=1, max_structures=40, verbose=False, descriptors=("Sigma100", "Sigma332"))
    assert [r["descriptor"] for r in results] == ["Sigma100", "Sigma332"]
    assert results[0]["dimension"] == 52 and results[1]["dimension"] == 52 * 18
    for row in results:
        assert 0 < row["mae"] <= row["rmse"] < 5000  # meV/atom


def test_cli_demo(capsys):
    assert main(["demo", "--max-structures", "30", "--quiet", "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Sigma555" in out and "MAE" in out and "Li" in out
