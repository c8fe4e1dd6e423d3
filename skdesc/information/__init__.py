"""Information-theoretic comparison of descriptor spaces."""

from .measures import (
    distance_correlation,
    information_imbalance,
    rank_correlation,
    symmetric_imbalance,
)
from .plots import plot_imbalance_plane
from .selector import InformationImbalanceSelector
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
