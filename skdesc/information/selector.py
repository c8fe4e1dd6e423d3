"""Old path of the information-imbalance selector, kept importable: the code now lives in :mod:`skdesc.selection`."""

from ..selection._information import InformationImbalanceSelector

__all__ = ["InformationImbalanceSelector"]
