"""Numba kernels of the moment pooling (inner/outer moments per structure)."""

import math

import numpy as np
from numba import njit

CENTRAL = 0
STANDARDIZED = 1
CUMULANT = 2
ROOT = 3

# A spread below this fraction of the largest |value| counts as a constant feature.
_CONSTANT_TOL = 1e-10
# An odd central moment below this fraction of the mean |x - mean|^k is set to 0,
# and so is one below its own rounding error (4 x machine epsilon per operation).
_ODD_MOMENT_TOL = 1e-10
_EPS = 4 * 2.0**-52


@njit(cache=True, nogil=True)
def _binomial(n, k):
    result = 1.0
    for i in range(1, k + 1):
        result = result * (n - k + i) / i
    return result


@njit(cache=True, nogil=True)
def _exponent(value):
    """Binary exponent e with value < 2**e (0 for value == 0), kept >= -1021.

    Scaling by 2**-e is then exact and both 2**e and 2**-e are finite.
    """
    if value == 0.0:
        return 0
    return max(math.frexp(value)[1], -1021)


@njit(cache=True, nogil=True)
def column_moments(data, n_rows, order, kind, out):
    """Moments of the first ``n_rows`` rows of ``data``, column by column.

    Writes ``out[0] = mean`` and ``out[k - 1]`` = the k-th moment for
    k = 2..order, where the k-th moment is

    * ``ROOT``: the signed k-th root of mu_k, sign(mu_k) |mu_k|^(1/k): the
      standard deviation for k = 2; every row has the units of ``data``;
    * ``CENTRAL``: mu_k = mean((x - mean)^k) (population, 1/N);
    * ``STANDARDIZED``: the standard deviation for k = 2, mu_k / sigma^k for
      k >= 3 (0 for a constant column);
    * ``CUMULANT``: the population cumulant kappa_k, from the recursion
      kappa_k = mu_k - sum_{m=2}^{k-2} C(k-1, m-1) kappa_m mu_{k-m}.

    Each column is computed in a rescaled frame: the values are multiplied by
    a power of two that brings max|x| into [1/2, 1), the deviations from the
    mean by another that brings max|x - mean| there, and the result is scaled
    back with ``ldexp``.  Power-of-two scaling is exact, so the moments equal
    those of the plain formulas bit for bit wherever those do not overflow or
    underflow, and no intermediate can overflow: ROOT and STANDARDIZED are
    finite for every finite input.  CENTRAL and CUMULANT are inf where the
    moment itself exceeds the float64 range (the caller reports that).

    Rounding clean-ups (in every kind): an odd mu_k smaller than 1e-10
    mean(|x - mean|^k), or than its first-order rounding error
    (k (n + 10) 8.9e-16 max|x| mean((x - mean)^(k-1))), is rounding noise
    (e.g. any odd moment of two points) and is set to 0, and so are all mu_k
    of a column whose spread is below 1e-10 of its largest |x| (constant up
    to rounding).
    """
    p = data.shape[1]
    if order > 1:
        for k in range(1, order):
            for c in range(p):
                out[k, c] = 0.0
    # frame of the values: x_s = x 2^-e1, max|x_s| in [1/2, 1)
    largest = np.zeros(p)
    for r in range(n_rows):
        for c in range(p):
            largest[c] = max(largest[c], abs(data[r, c]))
    e1 = np.empty(p, dtype=np.int64)
    inv1 = np.empty(p)
    for c in range(p):
        e1[c] = _exponent(largest[c])
        inv1[c] = math.ldexp(1.0, -e1[c])
    mean = np.zeros(p)
    for r in range(n_rows):
        for c in range(p):
            mean[c] += data[r, c] * inv1[c]
    for c in range(p):
        mean[c] /= n_rows
        out[0, c] = math.ldexp(mean[c], e1[c])
    if order == 1:
        return
    # frame of the deviations: d = (x_s - mean_s) 2^-e2, max|d| in [1/2, 1)
    spread = np.zeros(p)
    for r in range(n_rows):
        for c in range(p):
            spread[c] = max(spread[c], abs(data[r, c] * inv1[c] - mean[c]))
    e2 = np.empty(p, dtype=np.int64)
    inv2 = np.empty(p)
    for c in range(p):
        e2[c] = _exponent(spread[c])
        inv2[c] = math.ldexp(1.0, -e2[c])
    # scaled[k, c] = mean(d^(k+1)); absolute[k, c] = mean |d|^(k+1) for odd k + 1
    scaled = np.zeros((order, p))
    kappa = np.zeros(order + 1)  # cumulant recursion of one column (every entry rewritten before use)
    absolute = np.zeros((order, p))
    for r in range(n_rows):
        for c in range(p):
            dev = (data[r, c] * inv1[c] - mean[c]) * inv2[c]
            power = dev * dev
            scaled[1, c] += power
            for k in range(2, order):
                power *= dev
                scaled[k, c] += power
                if k % 2 == 0:
                    absolute[k, c] += abs(power)
    for c in range(p):
        # max|x| in units of the deviation frame (finite: < 2^1022)
        magnitude = largest[c] * inv1[c] * inv2[c] if spread[c] > 0.0 else 0.0
        for k in range(1, order):
            scaled[k, c] /= n_rows
            # e.g. the 3rd moment of two points is exactly 0, but rounding of the
            # mean leaves ~1e-16 of |dev|^3, which feature scaling would blow up
            if k % 2 == 0:
                # first-order rounding of mu_{k+1}: the mean is off by up to
                # ~n eps max|x|, each deviation by as much, and
                # d(dev^{k+1}) = (k+1) dev^k d(dev), with mean(dev^k) = scaled[k - 1]
                rounding = (k + 1) * (n_rows + 10) * _EPS * magnitude * scaled[k - 1, c]
                if abs(scaled[k, c]) * n_rows <= _ODD_MOMENT_TOL * absolute[k, c] or abs(scaled[k, c]) <= rounding:
                    scaled[k, c] = 0.0
        # a column constant up to rounding (spread below 1e-10 of its magnitude) has
        # exactly zero central moments: its deviations are rounding noise (1e-17 of
        # the values, moments down to 1e-45) that would otherwise be the only
        # non-zero entries of a column across structures, and dominate it once scaled
        if spread[c] == 0.0 or np.sqrt(scaled[1, c]) <= _CONSTANT_TOL * magnitude:
            continue  # out[1:, c] stays 0
        exponent = e1[c] + e2[c]
        if kind == ROOT:
            out[1, c] = math.ldexp(np.sqrt(scaled[1, c]), exponent)
            for k in range(2, order):
                m = scaled[k, c]
                root = abs(m) ** (1.0 / (k + 1))
                out[k, c] = math.ldexp(root if m >= 0.0 else -root, exponent)
        elif kind == CENTRAL:
            for k in range(1, order):
                out[k, c] = math.ldexp(scaled[k, c], (k + 1) * exponent)
        elif kind == STANDARDIZED:
            sigma = np.sqrt(scaled[1, c])
            out[1, c] = math.ldexp(sigma, exponent)
            for k in range(2, order):
                out[k, c] = scaled[k, c] / sigma ** (k + 1)
        else:  # CUMULANT, from the scaled central moments, low orders first
            for n in range(2, order + 1):
                value = scaled[n - 1, c]
                for m in range(2, n - 1):
                    value -= _binomial(n - 1, m - 1) * kappa[m] * scaled[n - m - 1, c]
                kappa[n] = value
                out[n - 1, c] = math.ldexp(value, n * exponent)


@njit(cache=True, nogil=True)
def moment_gsd_batch(
    values,
    offsets,
    element,
    weights,
    n_species,
    n_out,
    n_in,
    kind,
    unweighted,
    weighted,
    atom_moments,
    element_stack,
    n_columns,
):
    """Moment descriptors of a batch of structures.

    Column blocks, in this order, each present only if requested:
    [outer-over-CEDs unweighted, outer-over-CEDs weighted,
    outer-over-atoms unweighted, outer-over-atoms weighted, stacked CEDs].
    Within a block: outer moment, then inner moment, then feature (stacked
    CEDs: element, then inner moment, then feature).
    """
    n_struct = offsets.shape[0] - 1
    d = values.shape[1]
    out = np.zeros((n_struct, n_columns))
    ced_len = n_in * d
    for s in range(n_struct):
        a = offsets[s]
        b = offsets[s + 1]
        n_atoms = b - a
        row = out[s]
        col = 0
        ceds = np.zeros((n_species, max(ced_len, 1)))
        buffer = np.empty((n_atoms, d))
        if n_in > 0:
            present = np.zeros(n_species, dtype=np.bool_)
            for e in range(n_species):
                count = 0
                for r in range(a, b):
                    if element[r] == e:
                        buffer[count] = values[r]
                        count += 1
                if count > 0:
                    present[e] = True
                    column_moments(buffer, count, n_in, kind, ceds[e].reshape((n_in, d)))
            if n_out > 0:
                n_present = 0
                for e in range(n_species):
                    if present[e]:
                        n_present += 1
                stack = np.empty((n_present, ced_len))
                for pass_weighted in (False, True):
                    if (pass_weighted and not weighted) or (not pass_weighted and not unweighted):
                        continue
                    q = 0
                    for e in range(n_species):
                        if present[e]:
                            w = weights[e] if pass_weighted else 1.0
                            for c in range(ced_len):
                                stack[q, c] = w * ceds[e, c]
                            q += 1
                    width = n_out * ced_len
                    column_moments(stack, n_present, n_out, kind, row[col : col + width].reshape((n_out, ced_len)))
                    col += width
        if n_out > 0 and (n_in == 0 or atom_moments):
            for pass_weighted in (False, True):
                if (pass_weighted and not weighted) or (not pass_weighted and not unweighted):
                    continue
                for r in range(n_atoms):
                    w = weights[element[a + r]] if pass_weighted else 1.0
                    for c in range(d):
                        buffer[r, c] = w * values[a + r, c]
                width = n_out * d
                column_moments(buffer, n_atoms, n_out, kind, row[col : col + width].reshape((n_out, d)))
                col += width
        if element_stack:
            for e in range(n_species):
                for c in range(ced_len):
                    row[col + c] = ceds[e, c]
                col += ced_len
    return out
