"""Recover a Gram matrix from random projections of its rows (Darby et al. 2022, Sec. II.3)."""

import numpy as np

__all__ = ["gram_from_projection"]


def gram_from_projection(projected, weights, rtol=1e-13):
    """Rebuild the Gram matrix ``G = X^T X`` from ``M = W^T G``.

    ``M W = W^T G W`` is diagonalised as ``V diag(lam) V^T``; with
    ``Z = lam^{-1/2} V^T M`` one gets ``Z^T Z = G`` whenever ``X W`` spans the
    row space of ``X`` (true for random ``W`` with at least rank(X) columns).
    Eigenvalues below ``rtol * max(lam)`` are discarded, which handles
    ``rank(X) < W.shape[1]`` (e.g. environments with few atoms).

    Parameters
    ----------
    projected : ndarray of shape (k, p)
        ``M = W^T G``.
    weights : ndarray of shape (p, k)
        The projection ``W``.
    rtol : float, default=1e-13
        Relative threshold for zero eigenvalues: a few hundred times the
        rounding noise of the eigenvalues, well below genuine small ones
        (environments with few atoms give values near 1e-12).

    Returns
    -------
    ndarray of shape (p, p)
        The recovered ``G``.
    """
    small = projected @ weights
    small = 0.5 * (small + small.T)
    lam, vectors = np.linalg.eigh(small)
    top = lam.max(initial=0.0)
    if top <= 0:
        return np.zeros((projected.shape[1], projected.shape[1]))
    keep = lam > rtol * top
    factor = (vectors[:, keep] / np.sqrt(lam[keep])).T @ projected
    return factor.T @ factor
