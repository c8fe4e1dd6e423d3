"""The command line: featurize (per atom / per structure, three formats), analyze, errors."""

import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pandas as pd
import pytest

from skdesc import ChebyshevLAED, CompressedSOAP, MomentGSD
from skdesc.cli import main
from skdesc.datasets import load_demo

ROOT = Path(__file__).resolve().parents[1]
CHEB = ["--descriptor", "chebyshev", "--rad-cutoff", "4.5", "--rad-order", "4", "--ang-cutoff", "3", "--ang-order", "2"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    structures, _ = load_demo()
    small = [atoms for atoms in structures if len(atoms) <= 8][:9]
    folder = tmp_path_factory.mktemp("cli")
    ase.io.write(folder / "a.extxyz", small[:5])
    ase.io.write(folder / "b.xyz", small[5:], format="extxyz")
    return folder, small


def _cheb():
    return ChebyshevLAED(rad_cutoff=4.5, rad_order=4, ang_cutoff=3.0, ang_order=2)


def test_featurize_per_atom_csv(files):
    folder, small = files
    out = folder / "atoms.csv"
    assert main(["featurize", str(folder / "a.extxyz"),
                str(folder / "b.xyz"), *CHEB, "--quiet", "--output", str(out)]) == 0
    table = pd.read_csv(out)
    expected = _cheb().fit_transform(small)
    assert list(table.columns[:4]) == ["structure", "source", "atom", "element"]
    assert list(table.columns[4:]) == list(expected.feature_names)
    np.testing.assert_allclose(table.iloc[:, 4:].to_numpy(), expected.values, rtol=1e-14, atol=1e-13)
    np.testing.assert_array_equal(table["structure"], expected.structure_index)
    first = small[0]
    assert list(table["element"][: len(first)]) == first.get_chemical_symbols()
    assert list(table["atom"][: len(first)]) == list(range(len(first)))
    assert set(table["source"]) == {str(folder / "a.extxyz"), str(folder / "b.xyz")}


def test_featurize_gsd_parquet_and_npz(files):
    pytest.importorskip("pyarrow")
    folder, small = files
    args = [
        "featurize", str(folder / "a.extxyz"), str(folder / "b.xyz"), "--descriptor", "soap", "--r-cut", "4",
        "--n-max", "3", "--l-max", "2", "--compression", "mu2", "--gsd", "221", "--quiet",
    ]
    assert main([*args, "--output", str(folder / "s.parquet")]) == 0
    assert main([*args, "--output", str(folder / "s.npz")]) == 0
    atomic = CompressedSOAP(r_cut=4.0, n_max=3, l_max=2, compression="mu2").fit_transform(small)
    gsd = MomentGSD.from_sigma("221").fit(atomic)
    expected = gsd.transform(atomic)
    table = pd.read_parquet(folder / "s.parquet")
    assert list(table.columns[:3]) == ["structure", "source", "n_atoms"]
    assert list(table.columns[3:]) == list(gsd.get_feature_names_out())
    np.testing.assert_array_equal(table.iloc[:, 3:].to_numpy(), expected)
    with np.load(folder / "s.npz", allow_pickle=False) as data:
        np.testing.assert_array_equal(data["features"], expected)
        assert list(data["feature_names"]) == list(gsd.get_feature_names_out())
        np.testing.assert_array_equal(data["n_atoms"], [len(a) for a in small])


def test_featurize_acsf_functions(files):
    folder, small = files
    out = folder / "acsf.npz"
    args = ["featurize", str(folder / "a.extxyz"), "--descriptor", "acsf", "--r-cut", "4", "--g2", "0.5", "0",
            "--g2", "1", "1", "--g4", "0.01", "1", "1", "--quiet", "-o", str(out)]
    assert main(args) == 0
    from skdesc import ACSF

    expected = ACSF(r_cut=4.0, g2_params=[[0.5, 0], [1, 1]], g4_params=[[0.01, 1, 1]]).fit_transform(small[:5])
    with np.load(out, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["features"], expected.values)
        assert list(data["element"][:2]) == small[0].get_chemical_symbols()[:2]


def test_analyze_writes_tables_and_plots(files):
    folder, small = files
    out = folder / "analysis"
    assert main(["analyze", str(folder / "a.extxyz"), str(folder / "b.xyz"), *CHEB[2:], "--max-order", "1",
                 "--quiet", "--output-dir", str(out)]) == 0
    names = {"imbalance.csv", "srim.csv", "summary.csv", "descriptors.csv", "pairs_similar.csv",
             "pairs_dissimilar.csv", "min_srim.csv", "correlation.png", "min_srim.png"}
    assert names <= {p.name for p in out.iterdir()}
    from skdesc.information import GSDSpaceAnalysis

    reference = GSDSpaceAnalysis(max_order=1).fit(_cheb().fit_transform(small))
    imbalance = pd.read_csv(out / "imbalance.csv", index_col=0)
    np.testing.assert_allclose(imbalance.to_numpy(), reference.imbalance_.to_numpy())
    assert (out / "correlation.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [
        (["featurize", "missing.xyz", "--descriptor", "soap", "-o", "x.csv"], "no such file"),
        (["featurize", "{a}", "--descriptor", "coulomb", "-o", "x.csv"], "unknown descriptor 'coulomb'"),
        (["featurize", "{a}", "--descriptor", "soap", "-o", "x.xlsx"], "must end in .parquet, .npz, .csv"),
        (["featurize", "{bad}", "--descriptor", "soap", "-o", "x.csv"], "cannot read"),
        (["featurize", "{a}", "--descriptor", "chebyshev", "--n-max", "3", "-o", "x.csv"], "--n-max does not apply"),
        (["featurize", "{a}", "--descriptor", "soap", "--n-max", "0", "-o", "x.csv"], "n_max must be > 0"),
        (["featurize", "{a}", "--descriptor", "soap", "--g2", "1", "0", "-o", "x.csv"], "--g2 does not apply"),
        (["featurize", "{a}", "--descriptor", "soap", "--species", "Nb", "-o", "x.csv"], "not in the species"),
        (["featurize", "{a}", "--descriptor", "soap", "--gsd", "9x", "-o", "x.csv"], "--gsd 9x"),
        (["featurize", "{a}", "--descriptor", "soap", "--compression", "zip", "-o", "x.csv"], "unknown compression"),
    ],
)
def test_errors_exit_2_without_traceback(files, args, message, capsys, tmp_path):
    folder, _ = files
    bad = tmp_path / "bad.xyz"
    bad.write_text("this is not\nan xyz file\n")
    args = [a.format(a=folder / "a.extxyz", bad=bad) for a in args]
    args[args.index("-o") + 1] = str(tmp_path / args[args.index("-o") + 1])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not any(tmp_path.glob("x.*"))


def test_module_entry_point_and_help(files):
    folder, _ = files
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", "skdesc", "featurize", "--help"], capture_output=True, text=True, env=env, check=True
    )
    assert "examples:" in run.stdout and "--gsd" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "skdesc", "featurize", str(folder / "nothing.xyz"), "--descriptor", "soap", "-o",
         str(folder / "x.csv")], capture_output=True, text=True, env=env,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr and "no such file" in run.stderr
