"""Shared fixtures: paths to the public data sets in ../shared (skipped when absent)."""

import os
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKDESC_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
AENET_REFERENCE = DATA / "reference" / "aenet_chebyshev"


def require(path):
    """Return ``path`` or skip the test when the shared data are not present."""
    if not path.exists():
        pytest.skip(f"shared data not found: {path}")
    return path


@lru_cache(maxsize=None)
def _read(name, index):
    import gzip
    import io

    import ase.io

    # ASE seeks backwards in the file; on a gzip stream that re-decompresses
    # from the start each time, so decompress into memory first.
    with gzip.open(require(DATA / name), "rt") as handle:
        text = io.StringIO(handle.read())
    return tuple(ase.io.read(text, index=index, format="extxyz"))


def read_dataset(name, index=":"):
    """Structures of a shared data set (copies, so tests may modify them)."""
    return [atoms.copy() for atoms in _read(name, index)]


@pytest.fixture(scope="session")
def tio2_small():
    """Forty TiO2 structures (6-95 atoms) from Artrith & Urban (2016)."""
    return read_dataset("tio2_artrith2016.extxyz.gz", "0:7815:195")


@pytest.fixture(scope="session")
def nbmotaw_small():
    """Thirty NbMoTaW structures from Li et al. (2020)."""
    return read_dataset("nbmotaw_li2020_partial.extxyz.gz", "0:5658:190")
