"""Per-atom containers passed between estimators: descriptor values and their position derivatives."""

from ._derivatives import AtomicDerivatives
from ._features import AtomicFeatures

# Pickles and reprs name the public module, which does not move when the
# private files are reorganised.
AtomicFeatures.__module__ = __name__
AtomicDerivatives.__module__ = __name__

__all__ = ["AtomicDerivatives", "AtomicFeatures"]
