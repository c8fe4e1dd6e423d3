"""Pooling rules: per-atom descriptors to one vector per structure."""

from .histogram import HistogramPooling
from .moments import MomentGSD, gsd_space, stacked_moments
from .simple import MaxPooling, MeanPooling, MinPooling, StatisticPooling, SumPooling
from .species import SpeciesPooling

__all__ = [
    "HistogramPooling",
    "MaxPooling",
    "MeanPooling",
    "MinPooling",
    "MomentGSD",
    "SpeciesPooling",
    "StatisticPooling",
    "SumPooling",
    "gsd_space",
    "stacked_moments",
]
