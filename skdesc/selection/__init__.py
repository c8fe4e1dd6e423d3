"""Feature selectors: functional independence (from descriptor derivatives) and information imbalance."""

from ._independence import FunctionalIndependenceSelector, independent_components

__all__ = ["FunctionalIndependenceSelector", "InformationImbalanceSelector", "independent_components"]


def __getattr__(name):
    # Imported on first use: the information-imbalance selector needs
    # skdesc.information, whose plotting imports matplotlib, a cost that
    # `import skdesc` should not pay.
    if name == "InformationImbalanceSelector":
        from ._information import InformationImbalanceSelector

        return InformationImbalanceSelector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
