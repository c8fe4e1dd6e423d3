"""Cutoff scan: cross-validated error of a descriptor -> pooling -> model pipeline against the cutoff."""

import time

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..pooling import MomentGSD
from ._common import figure

__all__ = ["cutoff_scan"]


def cutoff_scan(
    descriptor,
    structures,
    y,
    param="r_cut",
    values=(4.0, 5.0, 6.0),
    pooling=None,
    model=None,
    cv=5,
    random_state=0,
    n_jobs=None,
    plot=False,
):
    """Cross-validated mean absolute error as a function of a cutoff (Pelz, Materials Genomics, Unit 6, slide 45).

    For each value the per-atom descriptors of all structures are computed
    once (a local descriptor treats every structure on its own, and ``fit``
    only learns the element order, so this leaks nothing between folds), then
    ``pooling -> StandardScaler -> model`` is cross-validated on them.  A
    robust setup gives a roughly flat curve; a sharp drop marks a relevant
    length scale; chaotic swings mean the descriptor or the data are brittle.

    Parameters
    ----------
    descriptor : LocalDescriptor
    structures : list of structures
    y : array-like of shape (n_structures,)
        Target (e.g. energy per atom).
    param : str, default="r_cut"
        Parameter of ``descriptor`` to scan (``"rad_cutoff"`` for
        ``ChebyshevLAED``).
    values : sequence of float, default=(4.0, 5.0, 6.0)
        Values of ``param`` in Å.
    pooling : estimator, default=None
        Per-atom to per-structure step; ``None`` is ``MomentGSD(n_out=1)`` (the mean).
    model : regressor, default=None
        ``None`` is ``Ridge(alpha=1e-3)``.
    cv : int or cross-validation splitter, default=5
        An int means ``KFold(cv, shuffle=True, random_state=random_state)``.
    random_state : int or None, default=0
    n_jobs : int, default=None
        Parallel folds in ``cross_val_score``.
    plot : bool, default=False
        Also return a Figure of MAE (with fold standard deviation) against the cutoff.

    Returns
    -------
    table : pandas.DataFrame
        One row per value: ``param`` value, ``mae``, ``mae_std`` (over
        folds), ``n_features`` (after pooling) and ``seconds`` (descriptor
        plus cross-validation).
    figure : matplotlib.figure.Figure
        Only with ``plot=True``.
    """
    if not isinstance(param, str) or param not in descriptor.get_params():
        raise ValueError(f"{type(descriptor).__name__} has no parameter {param!r}; choose one of {sorted(descriptor.get_params())}")
    values = list(values)
    if not values:
        raise ValueError("values must hold at least one cutoff")
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (len(structures),):
        raise ValueError(f"y must have one value per structure: shape ({len(structures)},), got {y.shape}")
    pooling = MomentGSD(n_out=1) if pooling is None else pooling
    model = Ridge(alpha=1e-3) if model is None else model
    splitter = KFold(cv, shuffle=True, random_state=random_state) if isinstance(cv, int) else cv
    rows = []
    for value in values:
        start = time.perf_counter()
        atomic = clone(descriptor).set_params(**{param: value}).fit_transform(structures)
        pipeline = make_pipeline(clone(pooling), StandardScaler(), clone(model))
        errors = -cross_val_score(pipeline, atomic, y, cv=splitter, scoring="neg_mean_absolute_error", n_jobs=n_jobs)
        n_features = getattr(clone(pooling).fit(atomic), "n_features_out_", np.nan)
        rows.append(
            {
                param: value,
                "mae": float(errors.mean()),
                "mae_std": float(errors.std()),
                "n_features": n_features,
                "seconds": time.perf_counter() - start,
            }
        )
    table = pd.DataFrame(rows)
    if plot:
        fig, ax = figure((5, 3.6))
        ax.errorbar(table[param], table["mae"], yerr=table["mae_std"], marker="o", capsize=3)
        ax.set_xlabel(f"{param} (Å)")
        ax.set_ylabel("cross-validated MAE")
        ax.set_title(f"{type(descriptor).__name__}: cutoff scan")
        fig.tight_layout()
        return table, fig
    return table
