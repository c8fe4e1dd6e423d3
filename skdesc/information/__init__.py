"""Information-theoretic comparison of descriptor spaces."""

from .measures import (
    distance_correlation,
    information_imbalance,
    rank_correlation,
    symmetric_imbalance,
)
from .plots import plot_imbalance_plane
from .space import GSDSpaceAnalysis

__all__ = [
    "GSDSpaceAnalysis",
    "InformationImbalanceSelector",
    "distance_correlation",
    "information_imbalance",
    "plot_imbalance_plane",
    "rank_correlation",
    "symmetric_imbalance",
]


def __getattr__(name):
    # The selector lives in skdesc.selection and imports this package's
    # measures, so it is re-exported lazily (an eager import would be circular).
    if name == "InformationImbalanceSelector":
        from ..selection import InformationImbalanceSelector

        return InformationImbalanceSelector
    if name == "selector":  # the old module path, a shim
        import importlib

        return importlib.import_module(f"{__name__}.selector")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
