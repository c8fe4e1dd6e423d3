"""Pooling rules: per-atom descriptors to one vector per structure."""

from .moments import MomentGSD, gsd_space, stacked_moments

__all__ = ["MomentGSD", "gsd_space", "stacked_moments"]
