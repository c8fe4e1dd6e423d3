"""Chain rule through MomentGSD: structure-descriptor derivatives w.r.t. atomic positions.

Every output column of a moment descriptor is a function of one per-atom
feature c only (its values over the structure's atoms), so

    d G_col / d r_j = sum_i (d G_col / d x_ic) (d x_ic / d r_j),

with the first factor from the closed-form gradients of the moments below and
the second from :class:`~skdesc.AtomicDerivatives`.
"""

import numpy as np
import scipy.sparse as sp

from ..atomic import AtomicDerivatives, AtomicFeatures
from . import _moments_kernel as kernel
from ._sigma import _parse_sigma

__all__ = ["moment_gradients", "moment_gsd_derivatives"]


def moment_gradients(x, order, kind):
    """Gradients of the per-column moments of ``stacked_moments`` w.r.t. the data.

    For a column with N values, mean m and central moments mu_k:
    ``d m / d x_a = 1/N`` and ``d mu_k / d x_a = k/N ((x_a - m)^(k-1) - mu_(k-1))``
    (mu_1 = 0); standardised moments and cumulants follow by the chain rule
    from their definitions in terms of mu_k, and the signed roots r_k =
    sign(mu_k) |mu_k|^(1/k) by ``d r_k = |mu_k|^(1/k - 1) d mu_k / k``.  The
    rounding clean-ups of the values (odd moments of symmetric data set to 0,
    constant columns) are not differentiated.  A root is not differentiable
    where its moment is 0 (e.g. the standard deviation of identical values):
    there, and for a constant column's standardised moments, the gradient is
    set to zero (the zero subgradient).

    Parameters
    ----------
    x : ndarray of shape (N, p)
    order : int
    kind : int, one of the kernel's ROOT, CENTRAL, STANDARDIZED, CUMULANT

    Returns
    -------
    ndarray of shape (order, N, p)
        ``[k - 1, a, c] = d moment_k[c] / d x[a, c]``.
    """
    n = x.shape[0]
    dev = x - x.mean(axis=0)
    mu = [np.ones(x.shape[1]), np.zeros(x.shape[1])]
    dmu = [np.zeros_like(x), np.zeros_like(x)]
    for k in range(2, order + 1):
        mu.append((dev**k).mean(axis=0))
        dmu.append(k / n * (dev ** (k - 1) - mu[k - 1]))
    out = np.empty((order,) + x.shape)
    out[0] = 1.0 / n
    if kind == kernel.CENTRAL:
        for k in range(2, order + 1):
            out[k - 1] = dmu[k]
    elif kind == kernel.ROOT:
        cleaned = np.empty((order, x.shape[1]))
        kernel.column_moments(np.ascontiguousarray(x, dtype=np.float64), n, order, kernel.CENTRAL, cleaned)
        for k in range(2, order + 1):
            moment = np.abs(cleaned[k - 1])
            zero = moment == 0.0
            factor = np.where(zero, 0.0, 1.0 / (k * np.where(zero, 1.0, moment) ** ((k - 1) / k)))
            out[k - 1] = dmu[k] * factor
    elif kind == kernel.STANDARDIZED:
        if order >= 2:
            sigma = np.sqrt(mu[2])
            constant = sigma <= kernel._CONSTANT_TOL * np.abs(x).max(axis=0)
            safe = np.where(constant, 1.0, sigma)
            dsigma = np.where(constant, 0.0, dmu[2] / (2.0 * safe))
            out[1] = dsigma
            for k in range(3, order + 1):
                grad = dmu[k] / safe**k - k * mu[k] / safe ** (k + 1) * dsigma
                out[k - 1] = np.where(constant, 0.0, grad)
    else:  # cumulants: kappa_n = mu_n - sum_{m=2}^{n-2} C(n-1, m-1) kappa_m mu_{n-m}
        kappa = {2: mu[2] if order >= 2 else None}
        dkappa = {}
        for n_ in range(2, order + 1):
            value, grad = mu[n_], dmu[n_].copy()
            for m in range(2, n_ - 1):
                c = kernel._binomial(n_ - 1, m - 1)
                value = value - c * kappa[m] * mu[n_ - m]
                grad -= c * (dkappa[m] * mu[n_ - m] + kappa[m] * dmu[n_ - m])
            kappa[n_], dkappa[n_] = value, grad
            out[n_ - 1] = grad
    return out


def _column_features(gsd):
    """Per-atom feature index of every output column, in MomentGSD's layout."""
    n_out, n_in, k, _ = gsd._settings()
    d = gsd.n_features_in_
    features = []
    for label in gsd.blocks_:
        i, j, _ = _parse_sigma(label)
        if i == 0:
            features.append(np.tile(np.arange(d), len(gsd.species_) * j))
        elif j == 0:
            features.append(np.tile(np.arange(d), i))
        else:
            features.append(np.tile(np.arange(d), i * j))
    return np.concatenate(features)


def _local_gradient(gsd, x, element):
    """d G / d x[a, feature(col)] of one structure, shape (N, D)."""
    n_out, n_in, k, kind = gsd._settings()
    weights = gsd.element_weights_
    n_atoms, d = x.shape
    columns = []
    passes = [pw for pw in (False, True) if (pw and k in (1, 2)) or (not pw and k in (0, 2))]
    ceds, dceds, members = {}, {}, {}
    if n_in > 0:
        for e in range(len(gsd.species_)):
            rows = np.flatnonzero(element == e)
            if rows.size:
                block = np.ascontiguousarray(x[rows])
                ced = np.empty((n_in, d))
                kernel.column_moments(block, rows.size, n_in, kind, ced)
                ceds[e], dceds[e], members[e] = ced, moment_gradients(block, n_in, kind), rows
    present = sorted(ceds)
    if n_in > 0 and n_out > 0:
        for pass_weighted in passes:
            w = np.array([weights[e] if pass_weighted else 1.0 for e in present])
            stack = np.stack([w[q] * ceds[e].ravel() for q, e in enumerate(present)])
            outer = moment_gradients(stack, n_out, kind)  # (n_out, n_present, n_in d)
            grad = np.zeros((n_atoms, n_out, n_in, d))
            for q, e in enumerate(present):
                # outer[n, q, (m, c)] * w_e * dced_e[m, a, c]
                inner = dceds[e]  # (n_in, N_e, d)
                factor = outer[:, q].reshape(n_out, n_in, d) * w[q]
                grad[members[e]] = factor[None] * inner.transpose(1, 0, 2)[:, None]
            columns.append(grad.reshape(n_atoms, -1))
    if n_out > 0 and (n_in == 0 or gsd.include_atom_moments):
        for pass_weighted in passes:
            w = weights[element] if pass_weighted else np.ones(n_atoms)
            outer = moment_gradients(w[:, None] * x, n_out, kind)  # (n_out, N, d)
            columns.append((outer * w[None, :, None]).transpose(1, 0, 2).reshape(n_atoms, -1))
    if n_out == 0 or gsd.include_element_stack:
        grad = np.zeros((n_atoms, len(gsd.species_), n_in, d))
        for e in present:
            grad[members[e], e] = dceds[e].transpose(1, 0, 2)
        columns.append(grad.reshape(n_atoms, -1))
    return np.concatenate(columns, axis=1)


def moment_gsd_derivatives(gsd, features, derivatives):
    """Derivatives of a fitted MomentGSD's output w.r.t. atomic positions.

    Parameters
    ----------
    gsd : fitted MomentGSD
    features : AtomicFeatures
        Per-atom descriptors (from ``transform_with_derivatives``).
    derivatives : AtomicDerivatives
        Their position derivatives, same structures.

    Returns
    -------
    list of ndarray
        One array of shape (n_atoms_s, 3, n_features_out_) per structure:
        ``[j, xyz, col] = d G_s[col] / d r_j`` (per Å).
    """
    if not isinstance(features, AtomicFeatures) or not isinstance(derivatives, AtomicDerivatives):
        raise TypeError("features must be AtomicFeatures and derivatives AtomicDerivatives")
    if not np.array_equal(features.offsets, derivatives.offsets) or features.n_features != derivatives.n_features:
        raise ValueError("features and derivatives must describe the same structures and features")
    if features.n_features != gsd.n_features_in_:
        raise ValueError(f"features have {features.n_features} columns, MomentGSD was fitted on {gsd.n_features_in_}")
    lookup = {z: e for e, z in enumerate(gsd.species_)}
    try:
        element_all = np.array([lookup[int(z)] for z in features.numbers], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"element Z={exc.args[0]} was not seen in MomentGSD.fit") from None
    feature_of_column = _column_features(gsd)
    out = []
    for s in range(features.n_structures):
        a, b = features.offsets[s], features.offsets[s + 1]
        x = features.values[a:b]
        x = np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float64)
        local = _local_gradient(gsd, x, element_all[a:b])  # (N, D)
        p, q = derivatives.pair_offsets[a], derivatives.pair_offsets[b]
        centre = derivatives.center[p:q] - a
        atom = derivatives.atom[p:q] - a
        contributions = local[centre][:, None, :] * derivatives.values[p:q][:, :, feature_of_column]
        gather = sp.csr_matrix((np.ones(q - p), (atom, np.arange(q - p))), shape=(b - a, q - p))
        out.append((gather @ contributions.reshape(q - p, -1)).reshape(b - a, 3, -1))
    return out
