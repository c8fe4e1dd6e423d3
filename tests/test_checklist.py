"""The eight-point descriptor checklist: each check's reading, the report as text and HTML, the CLI, a real browser."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from ase.build import bulk

from skdesc import ChebyshevLAED, CoordinationNumber, MeanPooling, SumPooling
from skdesc.audit import checklist
from skdesc.audit.checklist import CHECKS, _aliasing_check, _reading_of_curve, _target_kind
from skdesc.datasets import load_demo
from skdesc.structures import to_frames

SMALL = dict(rad_cutoff=4.5, rad_order=4, ang_cutoff=3.0, ang_order=2)


@pytest.fixture(scope="module")
def demo_report():
    structures, y = load_demo()
    structures, y = structures[::5], y[::5]
    return checklist(structures, y, ChebyshevLAED(**SMALL), cv=3, max_round_trip=20, dataset_name="demo subset")


def test_report_has_the_eight_checks_with_numbers(demo_report):
    assert [c.key for c in demo_report.checks] == [key for key, _, _ in CHECKS]
    assert all(c.status in ("pass", "warn", "fail") for c in demo_report.checks)
    # the demo's descriptor is right: images, invariances and the parser must pass, and it beats composition
    for key in ("periodic_images", "invariances", "parser_round_trip", "composition_baseline"):
        assert demo_report[key].status == "pass", demo_report[key].summary
    assert demo_report["periodic_images"].value < 1e-8
    assert demo_report["invariances"].value < 1e-8
    assert 0 < demo_report["composition_baseline"].value < 0.9
    assert np.isfinite(demo_report["cutoff_sensitivity"].value)
    text = demo_report.summary()
    assert len(re.findall(r"^\d\. \[(PASS|WARN|FAIL)\]", text, flags=re.M)) == 8
    table = demo_report.to_frame()
    assert list(table.index) == [key for key, _, _ in CHECKS]


def test_html_report_is_self_contained(demo_report, tmp_path):
    path = tmp_path / "report.html"
    text = demo_report.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    assert text.count('<section class="check"') == 8
    assert "<script" not in text and "http://" not in text and "https://" not in text
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) >= 7  # one plot per check (a check without data has none)
    import base64

    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)


@pytest.mark.parametrize(
    "curve, status, word",
    [
        ([1.0, 1.02, 0.99, 1.01, 1.0], "pass", "flat"),
        ([2.0, 2.0, 1.0, 1.0, 1.02], "pass", "sharp drop at 5"),
        ([2.0, 1.7, 1.4, 1.2, 1.0], "warn", "keeps falling"),
        ([1.0, 1.2, 1.4, 1.7, 2.0], "warn", "grows"),
        ([1.0, 2.0, 1.0, 2.0, 1.0], "fail", "brittle"),
    ],
)
def test_cutoff_curve_is_read_as_the_lecture_reads_it(curve, status, word):
    got, spread, reading = _reading_of_curve(np.array([4.0, 4.5, 5.0, 5.5, 6.0]), np.array(curve), 5.0)
    assert got == status and word in reading
    assert spread == pytest.approx((max(curve) - min(curve)) / min(curve))


def test_target_kind_follows_the_size_dependence():
    rng = np.random.default_rng(0)
    n = rng.integers(2, 60, size=50)
    per_atom = -5 + 0.1 * rng.standard_normal(50)
    assert _target_kind("auto", per_atom, n)[0] == "intensive"
    assert _target_kind("auto", per_atom * n, n)[0] == "extensive"
    assert _target_kind("intensive", per_atom * n, n)[0] == "intensive"
    with pytest.raises(ValueError, match="target must be"):
        _target_kind("per-atom", per_atom, n)


def _cells(n=24, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        atoms = bulk("Cu", "fcc", a=3.6 + 0.02 * (k % 6), cubic=True).repeat((1, 1, 1 + k % 3))
        atoms.rattle(0.05, seed=int(rng.integers(1 << 30)))
        out.append(atoms)
    return out


def test_mean_pooling_of_an_extensive_target_is_flagged():
    cells = _cells()
    total = np.array([-3.5 * len(a) + 0.01 * a.get_volume() for a in cells])
    report = checklist(cells, total, CoordinationNumber(cutoff=3.0), pooling=MeanPooling(), cv=3, max_round_trip=5)
    pooling = report["pooling"]
    assert pooling.status == "warn" and "extensive" in pooling.summary and "sum" in pooling.summary
    good = checklist(cells, total, CoordinationNumber(cutoff=3.0), pooling=SumPooling(), cv=3, max_round_trip=5)
    assert good["pooling"].value < pooling.value


def test_a_target_that_is_only_composition_fails_the_baseline():
    structures, _ = load_demo()
    structures = structures[::6]
    fraction_nb = np.array([np.mean(a.numbers == 41) for a in structures])
    report = checklist(structures, fraction_nb, ChebyshevLAED(**SMALL), cv=3, max_round_trip=5)
    baseline = report["composition_baseline"]
    assert baseline.status in ("warn", "fail") and baseline.value >= 0.9


def test_aliasing_lists_identical_structures_with_different_targets():
    base = bulk("Cu", "fcc", a=3.6, cubic=True)
    shifted = base.copy()
    shifted.translate([0.3, 0.1, 0.2])  # the same crystal: similarity 1
    other = bulk("Cu", "fcc", a=3.9, cubic=True)
    frames = to_frames([base, shifted, other])
    y = np.array([0.0, 1.0, 0.0])
    outcome = _aliasing_check(frames, y, [29], model_mae=0.1, similarity_threshold=0.999, n_jobs=1, max_pairs=100,
                              random_state=0)
    details = outcome["details"]
    aliased = details[details["aliased"]]
    assert outcome["value"] == 1 and {aliased["structure_a"].item(), aliased["structure_b"].item()} == {0, 1}
    assert outcome["status"] == "fail" and "0 and 1" in outcome["summary"]
    y_same = np.array([0.0, 0.0, 1.0])
    assert _aliasing_check(frames, y_same, [29], 0.1, 0.999, 1, 100, 0)["value"] == 0


def test_bad_input_is_refused_clearly():
    cells = _cells(12)
    y = np.zeros(12)
    with pytest.raises(ValueError, match="one value per structure"):
        checklist(cells, y[:5])
    with pytest.raises(ValueError, match="NaN or infinite"):
        checklist(cells, np.full(12, np.nan))
    with pytest.raises(ValueError, match="at least 2 cv"):
        checklist(cells[:4], y[:4])
    with pytest.raises(TypeError, match="local descriptor"):
        checklist(cells, y, descriptor=MeanPooling())
    with pytest.raises(ValueError, match="similarity_threshold"):
        checklist(cells, y, similarity_threshold=1.5)


def test_cli_audit_writes_the_report(tmp_path):
    import ase.io

    structures, _ = load_demo()
    data = tmp_path / "demo.extxyz"
    ase.io.write(data, structures[::10], format="extxyz")
    report = tmp_path / "report.html"
    command = [sys.executable, "-m", "skdesc", "audit", str(data), "--target", "energy", "--per-atom", "--cv", "3",
               "--rad-cutoff", "4.5", "--rad-order", "4", "--ang-order", "2", "--report", str(report), "--quiet"]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(re.findall(r"^\d\. \[(PASS|WARN|FAIL)\]", proc.stdout, flags=re.M)) == 8
    assert report.read_text(encoding="utf-8").count('<section class="check"') == 8
    bad = subprocess.run(command[:-3] + ["--report", str(tmp_path / "report.pdf")], capture_output=True, text=True)
    assert bad.returncode == 2 and "HTML" in bad.stderr
    missing = subprocess.run(command[:5] + ["--target", "band_gap"], capture_output=True, text=True)
    assert missing.returncode == 2 and "band_gap" in missing.stderr


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_renders_in_a_headless_browser(demo_report, tmp_path):
    browser = _browser()
    if browser is None:
        if os.environ.get("SKDESC_REQUIRE_BROWSER"):
            pytest.fail("SKDESC_REQUIRE_BROWSER is set but no Chromium is installed")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    page = tmp_path / "report.html"
    demo_report.to_html(page)
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run([browser, *flags, "--window-size=1100,3000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=180)
    assert shot.exists() and shot.stat().st_size > 10_000
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1000
    ink = np.mean(pixels.min(axis=2) < 0.9)  # not a blank page
    assert ink > 0.05
    # the green "pass" badges (#1a7f37) were drawn
    green = np.all(np.abs(pixels - np.array([0x1A, 0x7F, 0x37]) / 255) < 0.06, axis=2)
    assert green.sum() > 200
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=180).stdout
    assert dom.count('class="check"') == 8 and dom.count("<img") >= 7
