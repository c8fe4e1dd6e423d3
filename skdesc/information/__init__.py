"""Information-theoretic comparison of descriptor spaces."""

from .measures import (
    distance_correlation,
    information_imbalance,
    rank_correlation,
    symmetric_imbalance,
)

__all__ = ["distance_correlation", "information_imbalance", "rank_correlation", "symmetric_imbalance"]
