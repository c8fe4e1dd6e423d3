"""Old path of the functional-independence selector, kept importable: the code now lives in :mod:`skdesc.selection`."""

from .selection._independence import FunctionalIndependenceSelector, independent_components

__all__ = ["FunctionalIndependenceSelector", "independent_components"]
