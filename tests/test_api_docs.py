"""docs/api.md is generated: it must equal a fresh build and document every public name."""

import importlib.util
from pathlib import Path

import skdesc

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    spec = importlib.util.spec_from_file_location("build_api", ROOT / "docs" / "build_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_up_to_date():
    fresh = _builder().build()
    stored = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert stored == fresh, "docs/api.md is stale: run `PYTHONPATH=. python docs/build_api.py`"


def test_every_top_level_name_has_an_entry():
    text = _builder().build()
    missing = [name for name in skdesc.__all__ if f".{name}(" not in text and f".{name}`" not in text]
    assert not missing, f"public names without an API entry: {missing} (add their module to MODULES)"
