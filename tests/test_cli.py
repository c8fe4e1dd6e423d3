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
        (["featurize", "{a}", "--descriptor", "soap", "--n-max", "0", "-o", "x.csv"], "n_max must be an integer >= 1"),
        (["featurize", "{a}", "--descriptor", "soap", "--g2", "1", "0", "-o", "x.csv"], "--g2 does not apply"),
        (["featurize", "{a}", "--descriptor", "soap", "--species", "Nb", "-o", "x.csv"], "not in the species"),
        (["featurize", "{a}", "--descriptor", "soap", "--gsd", "9x", "-o", "x.csv"], "--gsd 9x"),
        (["featurize", "{a}", "--descriptor", "soap", "--compression", "zip", "-o", "x.csv"], "compression must be one of"),
        (["featurize", "{a}", "--descriptor", "coordination", "--n-max", "3", "-o", "x.csv"], "--n-max does not apply"),
        (["featurize", "{a}", "--descriptor", "soap", "--param", "width=2", "-o", "x.csv"], "has no parameter 'width'"),
        (["featurize", "{a}", "--descriptor", "soap", "--param", "n_max", "-o", "x.csv"], "write NAME=VALUE"),
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


def test_descriptor_choices_come_from_the_registry():
    from skdesc.cli import descriptor_choices
    from skdesc.local import SOAP, CoordinationNumber
    from skdesc.local.base import all_descriptors

    choices = descriptor_choices()
    assert choices["soap"] is CompressedSOAP and choices["coordination"] is CoordinationNumber
    # every registered descriptor is reachable: itself, or through the parent it shares a name with
    for cls in all_descriptors().values():
        assert any(issubclass(cls, reached) for reached in choices.values())
    assert SOAP not in choices.values()


def test_featurize_any_registered_descriptor_with_param(files):
    folder, small = files
    out = folder / "cn.csv"
    args = ["featurize", str(folder / "a.extxyz"), "--descriptor", "coordination", "--r-cut", "3.2",
            "--param", "smooth_width=0.4", "--param", "per_element=False", "--quiet", "--output", str(out)]
    assert main(args) == 0
    from skdesc import CoordinationNumber

    expected = CoordinationNumber(cutoff=3.2, smooth_width=0.4, per_element=False).fit_transform(small[:5])
    table = pd.read_csv(out)
    assert list(table.columns[4:]) == ["cn[all]"]
    np.testing.assert_allclose(table["cn[all]"].to_numpy(), expected.values[:, 0], rtol=1e-14)


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


def _unwritable(tmp_path):
    """A path that cannot be written, even by root (for whom permission bits do not count)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    target = locked / "x.csv"
    try:
        target.open("ab").close()
    except PermissionError:
        return target
    target.unlink()
    for candidate in (Path("/sys/skdesc-test.csv"), Path("/proc/skdesc-test.csv")):
        try:
            candidate.open("ab").close()
        except OSError:
            if candidate.parent.is_dir():
                return candidate
        else:
            candidate.unlink()
    pytest.skip("no unwritable location on this machine")


def _fails(args, capsys, *messages):
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err
    for message in messages:
        assert message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3
    return err


@pytest.mark.parametrize("case", ["missing_dir", "is_dir", "unwritable"])
def test_featurize_output_checked_before_reading(files, tmp_path, capsys, case):
    folder, _ = files
    (tmp_path / "dir.csv").mkdir()
    output = {
        "missing_dir": tmp_path / "no" / "such" / "atoms.csv",
        "is_dir": tmp_path / "dir.csv",
        "unwritable": None,
    }[case] or _unwritable(tmp_path)
    # the input file does not exist either: the output must be refused first, before any work
    err = _fails(["featurize", folder / "missing.xyz", *CHEB, "--quiet", "-o", output], capsys, "--output")
    assert "no such file" not in err
    assert {"missing_dir": "does not exist", "is_dir": "is a directory", "unwritable": "cannot write"}[case] in err


@pytest.mark.parametrize("case", ["file", "unwritable"])
def test_analyze_output_dir_checked_before_reading(files, tmp_path, capsys, case):
    folder, _ = files
    if case == "file":
        target = tmp_path / "existing.csv"
        target.write_text("keep me\n")
        message = "is an existing file"
    else:
        target = _unwritable(tmp_path).with_suffix("")
        message = "cannot write"
    args = ["analyze", folder / "missing.xyz", "--quiet", "--output-dir", target]
    err = _fails(args, capsys, "--output-dir", message)
    assert "no such file" not in err
    if case == "file":
        assert target.read_text() == "keep me\n"


def test_species_is_one_comma_separated_argument(files, capsys):
    folder, small = files
    out = folder / "species.csv"
    present = sorted({s for atoms in small[:5] for s in atoms.get_chemical_symbols()}, reverse=True)
    args = ["featurize", "--species", ",".join(present), str(folder / "a.extxyz"), *CHEB, "--quiet", "-o", str(out)]
    assert main(args) == 0
    expected = ChebyshevLAED(species=present, rad_cutoff=4.5, rad_order=4, ang_cutoff=3.0, ang_order=2)
    assert list(pd.read_csv(out).columns[4:]) == list(expected.fit(small[:5]).get_feature_names_out())
    # the old grammar: the second symbol is now a file name, and the message says what went wrong
    _fails(["featurize", "--species", "Nb", "Mo", folder / "a.extxyz", *CHEB, "-o", folder / "y.csv"], capsys,
           "cannot read Mo: no such file", "--species Ti,Mo")
    _fails(["featurize", "--species", "Nb,Qq", folder / "a.extxyz", *CHEB, "-o", folder / "y.csv"], capsys,
           "'Qq' is not an element")


def test_target_columns(tmp_path, capsys):
    structures, _ = load_demo()
    small = []
    for k, atoms in enumerate([atoms for atoms in structures if len(atoms) <= 8][:4]):
        copy = atoms.copy()  # without the calculator; the energy goes through the file
        copy.info.update(label=10.0 * k, energy=atoms.get_potential_energy())
        small.append(copy)
    path = tmp_path / "t.extxyz"
    ase.io.write(path, small)
    out = tmp_path / "gsd.csv"
    assert main(["featurize", str(path), *CHEB, "--gsd", "110", "--target", "energy", "--target", "label", "--quiet",
                 "-o", str(out)]) == 0
    table = pd.read_csv(out)
    np.testing.assert_allclose(table["energy"], [atoms.info["energy"] for atoms in small], rtol=1e-12)
    np.testing.assert_array_equal(table["label"], [0.0, 10.0, 20.0, 30.0])
    assert list(table.columns[:5]) == ["structure", "source", "n_atoms", "energy", "label"]
    err = _fails(["featurize", path, *CHEB, "--target", "band_gap", "-o", tmp_path / "u.csv"], capsys,
                 "--target band_gap: structure 0 of", "has no 'band_gap'", "energy")
    assert not (tmp_path / "u.csv").exists() and "label" in err


@pytest.mark.parametrize(
    "args, message",
    [
        (["featurize", "{a}", "--descriptor", "chebyshev", "--rad-order", "-1", "-o", "{out}"], "rad_order"),
        (["featurize", "{a}", "--descriptor", "chebyshev", "--r-cut", "abc", "-o", "{out}"], "invalid float value"),
        (["featurize", "{a}", "--descriptor", "soap", "--sigma", "-0.5", "-o", "{out}"], "sigma"),
        (["featurize", "{a}", "--descriptor", "acsf", "--g2", "1", "-o", "{out}"], "expected 2 arguments"),
        (["featurize", "{a}", "--descriptor", "soap", "--n-jobs", "0", "-o", "{out}"], "n_jobs"),
        (["featurize", "{a}", "--descriptor", "soap", "--gsd", "339", "-o", "{out}"], "--gsd 339"),
        (["featurize", "{dir}", "--descriptor", "soap", "-o", "{out}"], "is a directory, not a structure file"),
        (["featurize", "{foo}", "--descriptor", "soap", "-o", "{out}"], "cannot read"),
        (["featurize", "{empty}", "--descriptor", "soap", "-o", "{out}"], "{empty}"),
        (["featurize", "{a}", "-o", "{out}"], "--descriptor"),
        (["analyze", "{a}", "--reference", "Sigma999", "--output-dir", "{dir}/an"], "reference 'Sigma999'"),
        (["analyze", "{a}", "--tolerance", "2", "--output-dir", "{dir}/an"], "tolerance"),
        (["analyze", "{a}", "--max-order", "0", "--output-dir", "{dir}/an"], "max_order"),
        (["analyze", "{a}", "--n-pairs", "0", "--output-dir", "{dir}/an"], "--n-pairs"),
        (["analyze", "{a}", "--species", "Xx", "--output-dir", "{dir}/an"], "'Xx' is not an element"),
        (["demo", "--max-structures", "3"], "--max-structures"),
    ],
)
def test_user_errors_exit_2_before_work(files, tmp_path, capsys, monkeypatch, args, message):
    folder, _ = files
    (tmp_path / "x.foo").write_text("what is this\n")
    (tmp_path / "empty.xyz").write_text("")
    names = {"a": folder / "a.extxyz", "out": tmp_path / "x.csv", "dir": tmp_path, "foo": tmp_path / "x.foo",
             "empty": tmp_path / "empty.xyz"}
    from skdesc.local.base import LocalDescriptor

    def no_work(*args, **kwargs):
        raise AssertionError("featurised before the arguments were checked")

    monkeypatch.setattr(LocalDescriptor, "_transform_structures", no_work)
    _fails([a.format(**names) for a in args], capsys, message.format(**names))
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "an").exists()


def test_help_and_version_return_0(capsys):
    assert main(["featurize", "--help"]) == 0
    assert "examples:" in capsys.readouterr().out
    assert main(["--version"]) == 0


def test_compressed_input_reads_like_the_plain_file(files, tmp_path):
    import gzip

    folder, _ = files
    packed = tmp_path / "a.extxyz.gz"
    packed.write_bytes(gzip.compress((folder / "a.extxyz").read_bytes()))
    for name, source in (("plain.csv", folder / "a.extxyz"), ("packed.csv", packed)):
        assert main(["featurize", str(source), *CHEB, "--quiet", "-o", str(tmp_path / name)]) == 0
    plain, unpacked = pd.read_csv(tmp_path / "plain.csv"), pd.read_csv(tmp_path / "packed.csv")
    pd.testing.assert_frame_equal(plain.drop(columns="source"), unpacked.drop(columns="source"))


@pytest.mark.parametrize("output", ["atoms.csv", "atoms.parquet", "atoms.npz", "gsd.csv", "gsd.parquet", "gsd.npz"])
def test_chunked_streaming_gives_the_whole_file_result(files, tmp_path, output):
    import gzip

    folder, small = files
    packed = tmp_path / "a.extxyz.gz"
    packed.write_bytes(gzip.compress((folder / "a.extxyz").read_bytes()))
    gsd = ["--gsd", "110"] if output.startswith("gsd") else []
    inputs = [str(packed), str(folder / "b.xyz")]
    results = {}
    for chunk in (2, 1000):
        out = tmp_path / f"{chunk}-{output}"
        assert main(["featurize", *inputs, *CHEB, *gsd, "--chunk-size", str(chunk), "--quiet", "-o", str(out)]) == 0
        if out.suffix == ".npz":
            with np.load(out) as data:
                results[chunk] = {key: data[key] for key in data.files}
        else:
            results[chunk] = pd.read_csv(out) if out.suffix == ".csv" else pd.read_parquet(out)
    if output.endswith(".npz"):
        assert results[2].keys() == results[1000].keys()
        for key in results[2]:
            np.testing.assert_array_equal(results[2][key], results[1000][key])
        values = results[2]["features"]
    else:
        pd.testing.assert_frame_equal(results[2], results[1000])
        values = results[2].iloc[:, 4 if not gsd else 3:].to_numpy(dtype=float)
    # and the same numbers as the library on all structures at once (element order scanned from the files)
    atomic = _cheb().fit(small).transform(small)
    expected = MomentGSD.from_sigma("110").fit(atomic).transform(atomic) if gsd else atomic.values
    exact = not output.endswith(".csv")  # CSV's decimal text is not always the last bit
    np.testing.assert_allclose(values, expected, rtol=0 if exact else 1e-14, atol=0 if exact else 1e-14)


def test_streamed_errors_name_the_file_and_structure(files, tmp_path, capsys):
    folder, small = files
    truncated = tmp_path / "cut.extxyz"
    text = (folder / "a.extxyz").read_text().splitlines(keepends=True)
    truncated.write_text("".join(text[:-2]))
    _fails(["featurize", truncated, *CHEB, "--species", "Nb,Mo,Ta,W", "-o", tmp_path / "x.csv"], capsys,
           "cut short")
    # a missing target in the second chunk of the second file: counted within that file
    labelled = []
    for k, atoms in enumerate(small[:6]):
        copy = atoms.copy()
        if k != 4:
            copy.info["label"] = float(k)
        labelled.append(copy)
    ase.io.write(tmp_path / "one.extxyz", labelled[:3])
    ase.io.write(tmp_path / "two.extxyz", labelled[3:])
    _fails(["featurize", tmp_path / "one.extxyz", tmp_path / "two.extxyz", *CHEB, "--target", "label",
            "--chunk-size", "2", "-o", tmp_path / "y.csv"], capsys, "structure 1 of", "two.extxyz")


def test_wide_table_warns_towards_npz(files, tmp_path, capsys):
    folder, _ = files
    args = ["featurize", str(folder / "a.extxyz"), "--descriptor", "soap", "--gsd", "332", "--quiet",
            "-o", str(tmp_path / "wide.csv")]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "feature columns" in err and "write .npz instead" in err


@pytest.mark.slow
def test_streaming_memory_stays_bounded(tmp_path):
    # 30,000 two-atom molecules: read whole, the Atoms objects alone take tens of MB; streamed in chunks, little
    lines = []
    for k in range(30_000):
        lines += ["2", f'Properties=species:S:1:pos:R:3 energy={-1.0 - 1e-5 * k} pbc="F F F"',
                  "H 0.0 0.0 0.0", f"H 0.0 0.0 {0.7 + 1e-5 * k:.6f}"]
    data = tmp_path / "many.extxyz"
    data.write_text("\n".join(lines) + "\n")
    # the peak resident set of this process only (VmHWM; ru_maxrss would keep the forking parent's peak)
    script = (
        "import sys\n"
        "from skdesc.cli import main\n"
        "main(sys.argv[1:])\n"
        "print([line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')][0])\n"
    )
    warm = tmp_path / "warm.extxyz"  # compile (and cache) the kernels first: compiling takes memory too
    warm.write_text("\n".join(lines[:40]) + "\n")
    peaks = {}
    for chunk, source in ((1, warm), (500, data), (100_000, data)):
        out = tmp_path / f"{chunk}.npz"
        proc = subprocess.run(
            [sys.executable, "-c", script, "featurize", str(source), "--descriptor", "coordination", "--r-cut", "2",
             "--gsd", "100", "--target", "energy", "--chunk-size", str(chunk), "--quiet", "-o", str(out)],
            capture_output=True, text=True, timeout=900, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        peaks[chunk] = int(proc.stdout.split()[-1]) / 1024  # MiB
    with np.load(tmp_path / "500.npz") as small_chunks, np.load(tmp_path / "100000.npz") as one_chunk:
        np.testing.assert_array_equal(small_chunks["features"], one_chunk["features"])
    assert peaks[500] < peaks[100_000] - 40, peaks  # MiB
