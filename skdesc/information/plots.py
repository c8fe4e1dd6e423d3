"""Plots of information-imbalance results (pyplot-free: no global backend state)."""

import numbers

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_imbalance_plane"]


def plot_imbalance_plane(imbalances, path=None, ax=None, reference="full"):
    """Information-imbalance plane (Darby et al. 2022, Figs. 5-6).

    Parameters
    ----------
    imbalances : dict
        Label -> ``(Delta(reference -> X), Delta(X -> reference))``, in
        DADApy's normalised convention (0 = fully informative, 1 = none).
    path : str or Path, optional
        Write a PNG there.
    ax : matplotlib Axes, optional
    reference : str, default="full"
        Name of the reference space for the axis labels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not hasattr(imbalances, "items"):
        raise TypeError(
            "imbalances must be a dict label -> (Delta(reference -> X), Delta(X -> reference)), "
            f"got {type(imbalances).__name__}"
        )
    for label, pair in imbalances.items():
        values = np.asarray(pair, dtype=object).ravel()
        if values.shape != (2,) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v) for v in values
        ):
            raise ValueError(
                f"imbalances[{label!r}] must be a pair of finite numbers (Delta(reference -> X), "
                f"Delta(X -> reference)), got {pair!r}"
            )
    if ax is None:
        fig = Figure(figsize=(5, 4.5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.8, ls="--")
    for label, (forward, backward) in imbalances.items():
        ax.scatter(forward, backward, s=25)
        ax.annotate(label, (forward, backward), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"Δ({reference} → X)")
    ax.set_ylabel(f"Δ(X → {reference})")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
