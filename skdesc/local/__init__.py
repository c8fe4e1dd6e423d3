"""Local atomic environment descriptors (one vector per atom)."""

from .acsf import ACSF
from .base import LocalDescriptor
from .chebyshev import ChebyshevLAED

__all__ = ["LocalDescriptor", "ACSF", "ChebyshevLAED"]
