"""Shared helpers of the audits: fitting, feature blocks, deviation tables, figures."""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone

from ..atomic import AtomicFeatures


def feature_blocks(names):
    """Group feature names into blocks: the text before the first ',' or ']' of each name.

    ``cheb[rad,n=3]`` belongs to ``cheb[rad]``, ``acsf[G2,Z=8,...]`` to
    ``acsf[G2]`` and ``soap[nu2|Z1=8,Z2=22,...]`` to ``soap[nu2|Z1=8]``.

    Returns
    -------
    dict
        Block name -> column indices, in order of first appearance.
    """
    blocks = {}
    for column, name in enumerate(names):
        name = str(name)
        cut = min((name.find(c) for c in ",]" if c in name), default=len(name))
        block = name[:cut] + ("]" if "[" in name[:cut] else "")
        blocks.setdefault(block, []).append(column)
    return {block: np.asarray(columns) for block, columns in blocks.items()}


def dense(values):
    return values.toarray() if sp.issparse(values) else np.asarray(values)


def per_atom(descriptor, frames):
    """Per-atom values of ``frames`` from a clone of ``descriptor`` fitted on them."""
    fitted = clone(descriptor).fit(frames)
    out = fitted.transform(frames)
    if not isinstance(out, AtomicFeatures):
        raise TypeError(
            f"the audits check per-atom descriptors; {type(descriptor).__name__} returned "
            f"{type(out).__name__}, not AtomicFeatures"
        )
    return out, fitted.get_feature_names_out()


def deviation_rows(reference, other, names, rtol, atol, **labels):
    """Max absolute / relative deviation per feature block as table rows.

    The relative deviation divides by the largest magnitude of the block in
    ``reference`` (the block's scale), so that features near zero do not
    inflate it.  A block passes if ``max_abs <= atol + rtol * scale``.
    """
    difference = np.abs(other - reference)
    rows = []
    for block, columns in feature_blocks(names).items():
        scale = float(np.max(np.abs(reference[:, columns]), initial=0.0))
        max_abs = float(np.max(difference[:, columns], initial=0.0))
        rows.append(
            {
                **labels,
                "block": block,
                "n_features": columns.size,
                "max_abs_deviation": max_abs,
                "max_rel_deviation": max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else np.inf),
                "passed": bool(max_abs <= atol + rtol * scale),
            }
        )
    return rows


def check_tolerance(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def finish_table(rows, key_columns):
    table = pd.DataFrame(rows)
    table.attrs["passed"] = bool(table["passed"].all())
    return table.set_index(key_columns)


def figure(size):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


def deviation_figure(table, title):
    """Bar chart of the max relative deviation per row of an audit table (log scale)."""
    fig, ax = figure((6.5, 0.3 * len(table) + 1.5))
    labels = [" / ".join(str(k) for k in (key if isinstance(key, tuple) else (key,))) for key in table.index]
    values = np.maximum(table["max_rel_deviation"].to_numpy(dtype=float), 1e-17)
    colours = ["tab:green" if ok else "tab:red" for ok in table["passed"]]
    ax.barh(np.arange(len(table)), values, color=colours)
    ax.set_yticks(np.arange(len(table)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("max relative deviation")
    ax.set_title(f"{title}: {'passed' if table.attrs.get('passed') else 'FAILED'}")
    fig.tight_layout()
    return fig
