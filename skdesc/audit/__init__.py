"""Audits of descriptors: sensitivity to atomic displacements."""

from .sensitivity import (
    count_zero_modes,
    environment_jacobian,
    plot_sensitivity_comparison,
    sensitivity_matrix,
    sensitivity_spectrum,
)

__all__ = [
    "count_zero_modes",
    "environment_jacobian",
    "plot_sensitivity_comparison",
    "sensitivity_matrix",
    "sensitivity_spectrum",
]
