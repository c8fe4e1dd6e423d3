"""The bundled demo data and the `skdesc demo` command."""

import numpy as np

from skdesc.cli import main
from skdesc.datasets import DEMO_CITATION, load_demo
from skdesc import ElementFractions
from skdesc.demo import BASELINE, make_baseline, make_model, run_demo


def test_bundled_demo_data():
    structures, energy_per_atom = load_demo()
    assert 200 <= len(structures) <= 400 and energy_per_atom.shape == (len(structures),)
    assert {"Nb", "Mo", "Ta", "W"} == {s for atoms in structures for s in atoms.get_chemical_symbols()}
    assert np.all(np.isfinite(energy_per_atom)) and np.all(energy_per_atom < 0)
    assert "npj Comput. Mater. 6, 70 (2020)" in DEMO_CITATION


def test_run_demo_on_a_subset():
    results = run_demo(n_jobs=1, max_structures=40, verbose=False, descriptors=("Sigma100", "Sigma332"))
    assert [r["descriptor"] for r in results] == [BASELINE, "Sigma100", "Sigma332"]
    assert [r["dimension"] for r in results] == [4, 52, 52 * 18]
    for row in results:
        assert np.isfinite(row["mae"]) and 0 < row["mae"] <= row["rmse"] < 5000  # meV/atom


def test_demo_models_have_no_clipping_and_gamma_follows_the_dimension():
    for n_features in (52, 936):
        model = make_model("Sigma332", n_features)
        assert [name for name, _ in model.steps] == ["momentgsd", "standardscaler", "transformedtargetregressor"]
        gammas = model[-1].regressor.param_grid["gamma"]
        np.testing.assert_allclose(gammas * n_features, [0.001, 0.01, 0.1, 1.0])
    baseline = make_baseline(4)
    assert isinstance(baseline[0], ElementFractions)
    np.testing.assert_allclose(baseline[-1].regressor.param_grid["gamma"] * 4, [0.001, 0.01, 0.1, 1.0])


def test_cli_demo(capsys):
    assert main(["demo", "--max-structures", "30", "--quiet", "--n-jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "Sigma555" in out and "MAE" in out and "Li" in out
    assert "composition" in out and "clip" not in out
