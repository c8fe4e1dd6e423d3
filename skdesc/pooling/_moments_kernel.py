"""Numba kernels of the moment pooling (inner/outer moments per structure)."""

import numpy as np
from numba import njit

CENTRAL = 0
STANDARDIZED = 1
CUMULANT = 2

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
def column_moments(data, n_rows, order, kind, out):
    """Moments of the first ``n_rows`` rows of ``data``, column by column.

    Writes ``out[0] = mean`` and ``out[k - 1]`` = the k-th moment for
    k = 2..order, where the k-th moment is

    * ``CENTRAL``: mu_k = mean((x - mean)^k) (population, 1/N); an odd mu_k
      smaller than 1e-10 mean(|x - mean|^k), or than its first-order rounding
      error (k (n + 10) 8.9e-16 max|x| mean((x - mean)^(k-1))), is rounding
      noise (e.g. any odd moment of two points) and is set to 0, and so are all mu_k of a column
      whose spread is below 1e-10 of its largest |x| (constant up to rounding);
    * ``STANDARDIZED``: the standard deviation for k = 2, mu_k / sigma^k for
      k >= 3 (0 for a constant column);
    * ``CUMULANT``: the population cumulant kappa_k, from the recursion
      kappa_k = mu_k - sum_{m=2}^{k-2} C(k-1, m-1) kappa_m mu_{k-m}.
    """
    p = data.shape[1]
    for c in range(p):
        out[0, c] = 0.0
    for r in range(n_rows):
        for c in range(p):
            out[0, c] += data[r, c]
    for c in range(p):
        out[0, c] /= n_rows
    if order == 1:
        return
    for k in range(1, order):
        for c in range(p):
            out[k, c] = 0.0
    scale = np.zeros(p)
    # sum of |dev|^k for odd k: an odd moment far below it is cancellation noise
    absolute = np.zeros((order, p))
    for r in range(n_rows):
        for c in range(p):
            dev = data[r, c] - out[0, c]
            scale[c] = max(scale[c], abs(data[r, c]))
            power = dev * dev
            out[1, c] += power
            for k in range(2, order):
                power *= dev
                out[k, c] += power
                if k % 2 == 0:
                    absolute[k, c] += abs(power)
    for k in range(1, order):
        for c in range(p):
            out[k, c] /= n_rows
            # e.g. the 3rd moment of two points is exactly 0, but rounding of the
            # mean leaves ~1e-16 of |dev|^3, which feature scaling would blow up
            if k % 2 == 0:
                # first-order rounding of mu_{k+1}: the mean is off by up to
                # ~n eps max|x|, each deviation by as much, and
                # d(dev^{k+1}) = (k+1) dev^k d(dev), with mean(dev^k) = out[k - 1]
                rounding = (k + 1) * (n_rows + 10) * _EPS * scale[c] * out[k - 1, c]
                if (
                    abs(out[k, c]) * n_rows <= _ODD_MOMENT_TOL * absolute[k, c]
                    or abs(out[k, c]) <= rounding
                ):
                    out[k, c] = 0.0
    # a column constant up to rounding (spread below 1e-10 of its magnitude) has
    # exactly zero central moments: its deviations are rounding noise (1e-17 of
    # the values, moments down to 1e-45) that would otherwise be the only
    # non-zero entries of a column across structures, and dominate it once scaled
    for c in range(p):
        if np.sqrt(out[1, c]) <= _CONSTANT_TOL * scale[c]:
            for k in range(1, order):
                out[k, c] = 0.0
    if kind == STANDARDIZED:
        for c in range(p):
            variance = out[1, c]
            sigma = np.sqrt(variance)
            out[1, c] = sigma
            for k in range(2, order):
                if sigma == 0.0:
                    out[k, c] = 0.0  # constant column (see above)
                else:
                    out[k, c] = out[k, c] / sigma ** (k + 1)
    elif kind == CUMULANT:
        # out[k] holds mu_{k+1}; turn it into kappa_{k+1} in place, low orders first
        central = np.empty(order + 1)
        for c in range(p):
            for k in range(1, order):
                central[k + 1] = out[k, c]
            for n in range(4, order + 1):
                value = central[n]
                for m in range(2, n - 1):
                    value -= _binomial(n - 1, m - 1) * out[m - 1, c] * central[n - m]
                out[n - 1, c] = value


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
