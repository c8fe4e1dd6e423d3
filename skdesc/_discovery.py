"""Registry of skdesc's public estimators (as scikit-learn's ``all_estimators``)."""

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators"]

# the public namespaces, in the order the data flows
_NAMESPACES = (
    "skdesc",
    "skdesc.local",
    "skdesc.composition",
    "skdesc.distributions",
    "skdesc.pooling",
    "skdesc.models",
    "skdesc.information",
    "skdesc.selection",
    "skdesc.matminer",
)


def all_estimators():
    """Every public scikit-learn estimator class of skdesc, by name.

    Found from the ``__all__`` of the public namespaces, so a new estimator
    exported there is seen by the common tests and the API reference without
    editing a list.  Abstract bases (``LocalDescriptor``) are left out; local
    descriptors defined by the user are in
    :func:`skdesc.local.all_descriptors`.

    Returns
    -------
    dict of str to type
        Sorted by name.
    """
    found = {}
    for name in _NAMESPACES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency is missing (matminer)
            continue
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and obj.__module__.startswith("skdesc")
                and not inspect.isabstract(obj)
            ):
                found[obj.__name__] = obj
    return dict(sorted(found.items()))
