"""Shared fixtures: paths to the public data sets in ../shared (skipped when absent).

Also the optional cross-check libraries: a test that needs DADApy calls
``require_dadapy()``; it skips when DADApy is absent (the README's test
environment runs on NumPy 2, DADApy needs numpy<2), unless the environment
variable ``SKDESC_REQUIRE_DADAPY=1`` is set (CI's DADApy environment), where a
missing DADApy fails the test.  Also the hypothesis settings profile
(deterministic) of the property-based tests.
"""

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKDESC_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
AENET_REFERENCE = DATA / "reference" / "aenet_chebyshev"


def require_dadapy():
    """Import DADApy, or skip (fail with ``SKDESC_REQUIRE_DADAPY=1``) when it is absent."""
    try:
        import dadapy
    except ImportError as error:
        if os.environ.get("SKDESC_REQUIRE_DADAPY") == "1":
            pytest.fail(f"SKDESC_REQUIRE_DADAPY=1 but DADApy does not import ({error}); pip install '.[dadapy]'")
        pytest.skip("DADApy is not installed: pip install '.[dadapy]' (CI runs it in its own environment)")
    return dadapy


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


try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the DADApy environment of CI runs without hypothesis
    pass
else:
    # deterministic property-based tests: the same examples on every run and machine;
    # numba compiles on first use, so no per-example deadline
    settings.register_profile(
        "skdesc",
        derandomize=True,
        deadline=None,
        max_examples=25,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile("skdesc")


# small structures shared by the derivative tests of several descriptors
@pytest.fixture(scope="module")
def ethanol():
    atoms = molecule("CH3CH2OH")
    atoms.rattle(0.05, seed=2)
    return atoms


@pytest.fixture(scope="module")
def small_cell():
    """A rattled two-element cell much smaller than the cutoff (many images)."""
    atoms = bulk("NaCl", "rocksalt", a=4.0).repeat((1, 1, 2))
    atoms.rattle(0.1, seed=1)
    return atoms


@pytest.fixture(scope="module")
def skewed_slab():
    rng = np.random.default_rng(3)
    cell = np.array([[3.2, 0.0, 0.0], [1.1, 3.0, 0.0], [0.3, 0.4, 9.0]])
    positions = rng.uniform(0, 1, (5, 3)) @ cell
    return Atoms("SiSiOOO", positions=positions, cell=cell, pbc=[True, True, False])
