"""The ``Sigma_ijk`` labels of the moment GSDs (Gharakhanyan et al. 2023): their indices, formatting and parsing.

``i`` is the highest outer moment, ``j`` the highest inner moment and ``k``
the element weighting (0 unweighted, 1 weighted, 2 both; 4 and 5 the paper's
concatenations ``Sigma_ij2 + Sigma_i02`` and ``Sigma_ij2 + Sigma_i02 +
Sigma_0j0``).  Used by :class:`~skdesc.MomentGSD`, its derivatives and the
GSD-space analysis.
"""

import numbers
import re

# ``weighting`` parameter value -> k
_WEIGHTINGS = {"none": 0, "element": 1, "both": 2, 0: 0, 1: 1, 2: 2}


def _check_order(value, name, minimum=0):
    """A moment order (or Sigma index): an integer >= ``minimum``; TypeError or ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _sigma(i, j, k):
    """The label of ``Sigma_ijk``: ``"Sigma332"``, or ``"Sigma_10,2,1"`` once an index has two digits."""
    return f"Sigma{i}{j}{k}" if max(i, j, k) < 10 else f"Sigma_{i},{j},{k}"


def _parse_sigma(label):
    """``(i, j, k)`` from ``"332"``, ``"Sigma332"``, ``"Σ332"``, ``"Sigma_10,2,1"`` or a 3-tuple of integers."""
    if isinstance(label, (tuple, list)) and len(label) == 3:
        return tuple(_check_order(v, "Sigma index") for v in label)
    if isinstance(label, str):
        text = label.strip()
        match = re.fullmatch(r"(?:Sigma|Σ|S)?_?(\d)(\d)(\d)", text) or re.fullmatch(
            r"(?:Sigma|Σ|S)?_?(\d+),(\d+),(\d+)", text
        )
        if match:
            i, j, k = (int(g) for g in match.groups())
            if k in (0, 1, 2, 4, 5):
                return i, j, k
    raise ValueError(
        f"cannot read the descriptor label {label!r}: use 'ijk' such as '332' "
        "(i outer, j inner moments, k = 0 unweighted, 1 weighted, 2 both, 4/5 the "
        "paper's concatenations '554'/'555')"
    )
