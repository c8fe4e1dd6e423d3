"""Local atomic environment descriptors (one vector per atom)."""

from .base import LocalDescriptor
from .chebyshev import ChebyshevLAED

__all__ = ["LocalDescriptor", "ChebyshevLAED"]
