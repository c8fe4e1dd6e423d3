"""Package layout: every old import path still gives the object now defined in its new home.

The code was regrouped to follow the data (structures -> neighbours -> local
descriptors -> per-atom containers -> pooling -> models, information and
selection); the old modules are thin re-export shims.
"""

import ast
import importlib
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import skdesc

ROOT = Path(__file__).resolve().parents[1]

# (old module, name) -> (new module, name)
MOVED = {
    ("skdesc.kernels", "StructureKernel"): ("skdesc.models", "StructureKernel"),
    ("skdesc.kernels", "structure_kernel"): ("skdesc.models", "structure_kernel"),
    ("skdesc.kernels", "gram_from_values"): ("skdesc.models._structure_kernel", "gram_from_values"),
    ("skdesc.kernels", "normalized_rows"): ("skdesc.models._structure_kernel", "normalized_rows"),
    ("skdesc.kernels", "DEFAULT_BLOCK_ATOMS"): ("skdesc.models._structure_kernel", "DEFAULT_BLOCK_ATOMS"),
    ("skdesc.regression", "StructureKernelRidge"): ("skdesc.models", "StructureKernelRidge"),
    ("skdesc.independence", "FunctionalIndependenceSelector"): ("skdesc.selection", "FunctionalIndependenceSelector"),
    ("skdesc.independence", "independent_components"): ("skdesc.selection", "independent_components"),
    ("skdesc.information.selector", "InformationImbalanceSelector"): ("skdesc.selection", "InformationImbalanceSelector"),
    ("skdesc.information", "InformationImbalanceSelector"): ("skdesc.selection", "InformationImbalanceSelector"),
    ("skdesc.derivatives", "AtomicDerivatives"): ("skdesc.atomic", "AtomicDerivatives"),
    ("skdesc.compression", "gram_from_projection"): ("skdesc.local", "gram_from_projection"),
    ("skdesc.compression.gram", "gram_from_projection"): ("skdesc.local", "gram_from_projection"),
    ("skdesc.pooling.moments", "_parse_sigma"): ("skdesc.pooling._sigma", "_parse_sigma"),
    ("skdesc.pooling.moments", "_sigma"): ("skdesc.pooling._sigma", "_sigma"),
    ("skdesc.pooling.moments", "_WEIGHTINGS"): ("skdesc.pooling._sigma", "_WEIGHTINGS"),
}

# every public name of the moved or split modules, as before the move
OLD_ALL = {
    "skdesc.kernels": ["StructureKernel", "structure_kernel"],
    "skdesc.regression": ["StructureKernelRidge"],
    "skdesc.independence": ["FunctionalIndependenceSelector", "independent_components"],
    "skdesc.information.selector": ["InformationImbalanceSelector"],
    "skdesc.derivatives": ["AtomicDerivatives"],
    "skdesc.atomic": ["AtomicFeatures"],
    "skdesc.compression": ["gram_from_projection"],
    "skdesc.compression.gram": ["gram_from_projection"],
    "skdesc.pooling.moments": ["MomentGSD", "gsd_space", "stacked_moments"],
    "skdesc.pooling.moment_derivatives": ["moment_gradients", "moment_gsd_derivatives"],
    "skdesc.information": [
        "GSDSpaceAnalysis",
        "InformationImbalanceSelector",
        "distance_correlation",
        "information_imbalance",
        "plot_imbalance_plane",
        "rank_correlation",
        "symmetric_imbalance",
    ],
}

TOP_LEVEL = [
    "ACSF", "AtomicDerivatives", "AtomicFeatures", "BondAngleStatistics", "BondLengthStatistics", "CartesianInvariants",
    "ChebyshevLAED", "CompressedSOAP", "CoordinationNumber", "ElementFractions", "ElementProperty", "Frame",
    "AngularDistributionFunction", "PartialRadialDistributionFunction", "RadialDistributionFunction",
    "FunctionalIndependenceSelector", "HistogramPooling", "MaxPooling", "MeanPooling", "MinPooling",
    "MomentGSD", "SOAP", "SOAPBispectrum", "SpeciesPooling", "StatisticPooling", "StructureKernel",
    "StructureKernelRidge", "SumPooling", "config_context", "get_config", "gsd_space", "neighbor_list", "set_config",
    "structure_kernel", "to_frames", "all_estimators", "VoronoiCellStatistics",
]  # fmt: skip


@pytest.mark.parametrize(("old", "new"), list(MOVED.items()), ids=lambda pair: ".".join(pair))
def test_old_path_gives_the_new_object(old, new):
    assert getattr(importlib.import_module(old[0]), old[1]) is getattr(importlib.import_module(new[0]), new[1])


@pytest.mark.parametrize("module", sorted(OLD_ALL))
def test_old_modules_keep_their_public_names(module):
    mod = importlib.import_module(module)
    assert set(OLD_ALL[module]) <= set(mod.__all__)  # new homes may export more (skdesc.atomic: both containers)
    for name in OLD_ALL[module]:
        obj = getattr(mod, name)
        assert getattr(skdesc, name, obj) is obj  # the same object as the top-level name, where there is one
    namespace = {}
    exec(f"from {module} import *", namespace)
    assert set(OLD_ALL[module]) <= set(namespace)


def test_top_level_namespace_is_unchanged():
    assert sorted(skdesc.__all__) == sorted(TOP_LEVEL)
    for module in ("atomic", "derivatives", "independence", "kernels", "regression", "local", "pooling"):
        assert importlib.import_module(f"skdesc.{module}") is getattr(skdesc, module)
    assert skdesc.kernels.StructureKernel is skdesc.StructureKernel
    assert skdesc.regression.StructureKernelRidge is skdesc.StructureKernelRidge


def test_new_homes():
    from skdesc.atomic import AtomicDerivatives, AtomicFeatures
    from skdesc.models import StructureKernel, StructureKernelRidge, structure_kernel
    from skdesc.selection import FunctionalIndependenceSelector, InformationImbalanceSelector

    assert AtomicFeatures.__module__ == AtomicDerivatives.__module__ == "skdesc.atomic"
    for obj in (StructureKernel, StructureKernelRidge, structure_kernel):
        assert obj.__module__.startswith("skdesc.models.")
    for obj in (FunctionalIndependenceSelector, InformationImbalanceSelector):
        assert obj.__module__.startswith("skdesc.selection.")
    assert "InformationImbalanceSelector" in dir(skdesc.selection)
    with pytest.raises(AttributeError, match="no attribute"):
        skdesc.selection.NoSuchSelector  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute"):
        skdesc.information.NoSuchName  # noqa: B018


def _containers():
    from skdesc.atomic import AtomicDerivatives, AtomicFeatures

    features = AtomicFeatures(np.arange(6.0).reshape(3, 2), [0, 1, 3], [1, 8, 1], species=(1, 8))
    derivatives = AtomicDerivatives(
        center=[0, 1, 1, 2, 2],
        atom=[0, 1, 2, 1, 2],
        values=np.arange(30.0).reshape(5, 3, 2),
        pair_offsets=[0, 1, 3, 5],
        offsets=[0, 1, 3],
    )
    return features, derivatives


def _same(a, b):
    assert type(a) is type(b)
    for name, value in vars(a).items():
        np.testing.assert_array_equal(getattr(b, name), value)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_containers_pickle_under_the_public_module(protocol):
    for obj in _containers():
        data = pickle.dumps(obj, protocol=protocol)
        assert b"skdesc.atomic" in data and b"_features" not in data and b"_derivatives" not in data
        _same(obj, pickle.loads(data))


def test_pickles_naming_the_old_modules_still_load():
    """Pickles written before the move name skdesc.derivatives, skdesc.kernels, ..."""
    from skdesc.models import StructureKernelRidge
    from skdesc.selection import FunctionalIndependenceSelector, InformationImbalanceSelector

    features, derivatives = _containers()
    # protocol 2 writes ``c<module>\n<name>\n``, so the module can be swapped in the bytes
    old = pickle.dumps(derivatives, protocol=2).replace(b"skdesc.atomic\n", b"skdesc.derivatives\n")
    assert b"skdesc.derivatives" in old
    _same(derivatives, pickle.loads(old))
    for estimator, old_module in [
        (StructureKernelRidge(zeta=3), b"skdesc.regression"),
        (FunctionalIndependenceSelector(tol=1e-3), b"skdesc.independence"),
        (InformationImbalanceSelector(n_to_select=2), b"skdesc.information.selector"),
    ]:
        data = pickle.dumps(estimator, protocol=2)
        new_module = type(estimator).__module__.encode()
        restored = pickle.loads(data.replace(new_module + b"\n", old_module + b"\n"))
        assert type(restored) is type(estimator) and restored.get_params() == estimator.get_params()


@pytest.mark.parametrize(
    "statement",
    [
        "import skdesc.pooling.moments",
        "import skdesc.pooling.moment_derivatives",
        "import skdesc.pooling.moment_derivatives, skdesc.pooling.moments",
        "import skdesc.selection; skdesc.selection.InformationImbalanceSelector",
        "from skdesc.selection import InformationImbalanceSelector",
        "from skdesc.information import InformationImbalanceSelector",
        "import skdesc.information.selector",
        "import skdesc.information; skdesc.information.selector.InformationImbalanceSelector",
        "import skdesc.compression.gram",
        "import skdesc.models, skdesc.kernels",
        "import skdesc.kernels, skdesc.models",
    ],
)
def test_fresh_interpreter_imports(statement):
    """Each import order works in a new interpreter (no import cycle)."""
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)


def _imported(path):
    """Modules a file imports anywhere (module level or inside functions), relative names as written."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            if not node.module:  # ``from . import x``
                names |= {alias.name for alias in node.names}
    return names


def test_moment_modules_do_not_import_each_other():
    pooling = ROOT / "skdesc" / "pooling"
    assert "moments" not in _imported(pooling / "moment_derivatives.py")
    assert "moment_derivatives" in _imported(pooling / "moments.py")  # one direction only
    assert "_sigma" in _imported(pooling / "moments.py") & _imported(pooling / "moment_derivatives.py")
    assert "pooling._sigma" in _imported(ROOT / "skdesc" / "information" / "space.py")


def test_import_skdesc_stays_light():
    """The lazily exported selector keeps matplotlib out of ``import skdesc``."""
    code = "import sys, skdesc; assert 'matplotlib' not in sys.modules and 'skdesc.information' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
