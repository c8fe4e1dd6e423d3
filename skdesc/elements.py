"""Element orders and element weights shared by descriptors and pooling rules."""

import numbers
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from ._param_validation import InstanceOf, Predicate
from .structures import atomic_number, atomic_symbol

__all__ = ["typespin_weights", "resolve_species", "resolve_element_weights"]


def _is_element_list(value):
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes, numbers.Number))


# Parameter constraints (skdesc._param_validation) of ``species`` and
# ``element_weights``; the entries themselves are checked by resolve_species and
# resolve_element_weights, which know the elements.
SPECIES_CONSTRAINT = [None, Predicate(_is_element_list, "a list of elements such as ['Ti', 'O']")]
ELEMENT_WEIGHTS_CONSTRAINT = [
    None,
    InstanceOf(Mapping, "a mapping from element to weight such as {'Ti': 1.0, 'O': -1.0}"),
    "array-like",
]


def typespin_weights(n_species):
    """aenet's default element weights ("typespin") for ``n_species`` elements.

    The weights are consecutive integers centred on zero, taken in the given
    element order; zero is skipped when the number of elements is even:
    ``{-1, 1}``, ``{-1, 0, 1}``, ``{-2, -1, 1, 2}``, ``{-2, -1, 0, 1, 2}``, ...

    Parameters
    ----------
    n_species : int
        Number of elements.

    Returns
    -------
    weights : ndarray of shape (n_species,), float64
    """
    start = -(n_species // 2)
    values = np.arange(start, start + n_species + (1 - n_species % 2), dtype=np.float64)
    if n_species % 2 == 0:
        values = values[values != 0]
    return values[:n_species]


def resolve_species(species, observed_numbers, param_name="species"):
    """Return the element order as a tuple of atomic numbers.

    Parameters
    ----------
    species : None or sequence of str/int
        User-fixed element order; ``None`` means the sorted atomic numbers of
        ``observed_numbers``.
    observed_numbers : array-like of int
        Atomic numbers seen in the training data.
    param_name : str
        Parameter name used in error messages.
    """
    if species is None:
        return tuple(int(z) for z in np.unique(np.asarray(observed_numbers, dtype=np.int64)))
    if isinstance(species, (str, numbers.Number)) or not isinstance(species, Iterable):
        raise TypeError(f"{param_name} must be None or a list of elements such as ['Ti', 'O'], got {species!r}")
    try:
        order = tuple(atomic_number(s) for s in species)
    except ValueError as error:
        raise ValueError(f"{param_name} must be None or a list of distinct elements: {error}") from None
    if len(order) == 0:
        raise ValueError(f"{param_name} must name at least one element")
    if len(set(order)) != len(order):
        raise ValueError(f"{param_name} must list distinct elements, got {list(species)} (an element twice)")
    return order


def resolve_element_weights(element_weights, species, param_name="element_weights"):
    """Return one weight per element of ``species`` (same order).

    Parameters
    ----------
    element_weights : None, mapping or sequence
        ``None`` gives :func:`typespin_weights` in the order of ``species``;
        a mapping from symbol or atomic number to weight must cover every
        element; a sequence gives the weights in the order of ``species``.
    species : tuple of int
        Element order (atomic numbers).
    """
    if element_weights is None:
        return typespin_weights(len(species))
    accepted = (
        f"None, a mapping from element to weight such as {{'Ti': 1.0, 'O': -1.0}}, or "
        f"{len(species)} numbers (one per element of {[atomic_symbol(z) for z in species]})"
    )
    if isinstance(element_weights, (str, bytes)):
        raise TypeError(f"{param_name} must be {accepted}, got {element_weights!r}")
    if isinstance(element_weights, Mapping):
        try:
            table = {atomic_number(k): float(v) for k, v in element_weights.items()}
        except (TypeError, ValueError) as error:
            raise ValueError(f"{param_name} must be {accepted}: {error}") from None
        missing = [atomic_symbol(z) for z in species if z not in table]
        if missing:
            raise ValueError(f"{param_name} must give a weight for every element: no weight for {missing}")
        weights = np.array([table[z] for z in species], dtype=np.float64)
    else:
        try:
            weights = np.asarray(element_weights, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise TypeError(f"{param_name} must be {accepted}, got {element_weights!r}") from None
        if weights.shape != (len(species),):
            raise ValueError(
                f"{param_name} must give {len(species)} weights (one per element of "
                f"{[atomic_symbol(z) for z in species]}), got {weights.size}"
            )
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"{param_name} must be finite numbers, got {element_weights!r}")
    return weights


def warn_zero_weights(weights, species, what):
    """Warn that elements with zero weight vanish from a weighted block."""
    zero = [atomic_symbol(z) for z, w in zip(species, weights) if w == 0]
    if zero:
        warnings.warn(
            f"{what}: elements {zero} have weight 0 and do not contribute to the "
            "element-weighted features (aenet's default for an odd number of elements)",
            UserWarning,
            stacklevel=3,
        )
