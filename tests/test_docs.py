"""Every ```python block of README.md and docs/*.md runs, and its errors beat the composition baseline.

Convention for documentation code (what a reader sees is what this test checks):

* The blocks of one file run in order in one namespace, from the repository
  root, as a reader pasting them into one session would.
* A block that reports a model error stores it in a variable named ``mae_*``
  in meV/atom: ``mae_baseline`` for the composition-only model, any other
  ``mae_<name>`` for a structural model (a number, or a dict / array / Series
  of numbers for several models), and prints it with its unit.
* The test then requires: ``mae_baseline`` is defined whenever another
  ``mae_*`` is, and its value appears in the printed output (the baseline is
  reported every time); every error is finite and positive; every structural
  error is below the baseline.  README.md and docs/user_guide.md must report
  errors.
* A block that needs data outside the repository names it by a path relative
  to the repository root, ``../shared/data/...``; when that path is absent the
  file is skipped.
"""

import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
MUST_REPORT = {"README.md", "docs/user_guide.md"}

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXTERNAL = re.compile(r"""["'](\.\./shared/data[^"']*)["']""")


def python_blocks(path):
    """The ```python blocks of a Markdown file with their first line numbers."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in _BLOCK.finditer(text)]


def _values(value):
    """The numbers of a reported error: a number, a mapping, an array or a pandas object."""
    if isinstance(value, Mapping):
        return [float(v) for v in value.values()]
    return [float(v) for v in np.ravel(np.asarray(value, dtype=np.float64))]


def check_reported_errors(namespace, printed, name):
    """Apply the convention above to the ``mae_*`` variables of one file; return them."""
    errors = {key: _values(value) for key, value in namespace.items() if key.startswith("mae_")}
    if not errors:
        assert name not in MUST_REPORT, f"{name} reports no mae_baseline / mae_* errors"
        return errors
    assert "mae_baseline" in errors, f"{name} reports {sorted(errors)} without the composition baseline mae_baseline"
    (baseline,) = errors["mae_baseline"]
    assert math.isfinite(baseline) and baseline > 0, f"{name}: mae_baseline = {baseline}"
    assert f"{baseline:.1f}" in printed, f"{name} computes mae_baseline = {baseline:.1f} meV/atom but does not print it"
    for key, values in errors.items():
        assert values, f"{name}: {key} is empty"
        for value in values:
            assert math.isfinite(value) and value > 0, f"{name}: {key} has the error {value}"
            if key != "mae_baseline":
                assert value < baseline, f"{name}: {key} = {value:.1f} meV/atom is not below the baseline {baseline:.1f}"
    return errors


def test_convention_checker_fails_on_bad_reports():
    good = {"mae_baseline": 80.0, "mae_model": 20.0, "mae_gsd": {"100": 30.0, "555": 25.0}}
    assert set(check_reported_errors(good, "baseline 80.0 meV/atom", "x.md")) == set(good)
    bad = [
        ({"mae_model": 20.0}, "x.md", "without the composition baseline"),
        ({"mae_baseline": 80.0, "mae_model": 90.0}, "x.md", "not below the baseline"),
        ({"mae_baseline": 80.0, "mae_gsd": {"555": float("nan")}}, "x.md", "has the error nan"),
        ({"mae_baseline": 80.0, "mae_gsd": np.array([1e11])}, "x.md", "not below"),
        ({}, "README.md", "reports no"),
    ]
    for namespace, name, message in bad:
        with pytest.raises(AssertionError, match=message):
            check_reported_errors(namespace, "80.0", name)
    with pytest.raises(AssertionError, match="does not print it"):
        check_reported_errors({"mae_baseline": 80.0}, "nothing printed", "x.md")


def test_block_parser():
    text = "intro\n```python\nx = 1\n```\n```bash\nls\n```\n\n```python\ny = x + 1\n```\n"
    path = ROOT / "build" / "_parser_probe.md"
    try:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        assert python_blocks(path) == [(3, "x = 1\n"), (10, "y = x + 1\n")]
    finally:
        path.unlink(missing_ok=True)
        if path.parent.exists() and not any(path.parent.iterdir()):
            path.parent.rmdir()


@pytest.mark.parametrize(
    "path", [p for p in DOC_FILES if python_blocks(p)], ids=lambda p: str(p.relative_to(ROOT))
)
def test_documentation_blocks_run(path, monkeypatch, capsys):
    name = str(path.relative_to(ROOT))
    blocks = python_blocks(path)
    monkeypatch.chdir(ROOT)
    for _, code in blocks:
        for external in _EXTERNAL.findall(code):
            if not (ROOT / external).exists():
                pytest.skip(f"{name} needs {external}, which is absent")
    namespace = {"__name__": "__main__"}
    # the CI has two cores: BLAS threads inside cross-validation only oversubscribe them
    with threadpool_limits(limits=1, user_api="blas"):
        for line, code in blocks:
            try:
                exec(compile(code, f"{name}:{line}", "exec"), namespace)
            except Exception as error:
                raise AssertionError(f"the python block at {name}:{line} fails: {error!r}") from error
    printed = capsys.readouterr().out
    check_reported_errors(namespace, printed, name)
