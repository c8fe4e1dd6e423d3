"""Old path of AtomicDerivatives, kept importable: the code now lives in :mod:`skdesc.atomic`."""

from .atomic import AtomicDerivatives

__all__ = ["AtomicDerivatives"]
