"""skdesc: atomic-structure descriptors as scikit-learn transformers.

The public names are imported on first use (PEP 562): ``import skdesc``
costs a few milliseconds, and ``from skdesc import SOAP`` imports
scikit-learn, numba and the SOAP module only then.
"""

import importlib

from ._config import config_context, get_config, set_config

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "all_estimators": "._discovery",
    "AtomicDerivatives": ".atomic",
    "AtomicFeatures": ".atomic",
    "ElementFractions": ".composition",
    "ElementProperty": ".composition",
    "AngularDistributionFunction": ".distributions",
    "PartialRadialDistributionFunction": ".distributions",
    "RadialDistributionFunction": ".distributions",
    "ACSF": ".local",
    "SOAP": ".local",
    "SOAPBispectrum": ".local",
    "BondAngleStatistics": ".local",
    "BondLengthStatistics": ".local",
    "CartesianInvariants": ".local",
    "ChebyshevLAED": ".local",
    "CompressedSOAP": ".local",
    "CoordinationNumber": ".local",
    "VoronoiCellStatistics": ".local",
    "StructureKernel": ".models",
    "StructureKernelRidge": ".models",
    "structure_kernel": ".models",
    "neighbor_list": ".neighbors",
    "HistogramPooling": ".pooling",
    "MaxPooling": ".pooling",
    "MeanPooling": ".pooling",
    "MinPooling": ".pooling",
    "MomentGSD": ".pooling",
    "SpeciesPooling": ".pooling",
    "StatisticPooling": ".pooling",
    "SumPooling": ".pooling",
    "gsd_space": ".pooling",
    "FunctionalIndependenceSelector": ".selection",
    "Frame": ".structures",
    "to_frames": ".structures",
}

# old module paths (thin shims) and the subpackages, reachable as attributes of the package
_SUBMODULES = {
    "derivatives", "independence", "kernels", "regression", "atomic", "audit", "composition", "datasets",
    "distributions", "information", "local", "matminer", "models", "neighbors", "pooling", "selection",
    "structures", "cli", "demo", "compression", "elements",
}

__all__ = sorted([*_EXPORTS, "config_context", "get_config", "set_config"])


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'skdesc' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
