"""Real spherical harmonics (and their gradients) for numba kernels."""

from math import lgamma

import numpy as np
from numba import njit

from .simd import add4, broadcast4, load4, mul4, store4, sub4


def real_harmonics_norm(l_max):
    """Normalisation table ``norm[l, m]`` of the real spherical harmonics.

    ``norm[l, m] = sqrt((2l+1)/(4 pi) (l-m)!/(l+m)!)``, times ``sqrt(2)`` for
    ``m > 0``, so that the harmonics below are orthonormal on the sphere.
    """
    norm = np.zeros((l_max + 1, l_max + 1))
    for l in range(l_max + 1):
        for m in range(l + 1):
            log_ratio = lgamma(l - m + 1) - lgamma(l + m + 1)
            norm[l, m] = np.sqrt((2 * l + 1) / (4 * np.pi) * np.exp(log_ratio))
            if m > 0:
                norm[l, m] *= np.sqrt(2.0)
    return norm


# 1 / k for the recurrence (a global array is a compile-time constant in numba;
# multiplying by it avoids a division per (l, m), a third of the cost)
_INVERSE = 1.0 / np.arange(1, 64, dtype=np.float64)


@njit(cache=True, nogil=True)
def real_harmonics(x, y, z, l_max, norm, out, gradient=None):
    """Real spherical harmonics Y_lm of the unit vector (x, y, z), and on request their gradients.

    Writes ``out[l*l + l + m]`` for ``l = 0..l_max`` and ``m = -l..l``:
    ``m > 0`` ~ cos(m phi), ``m < 0`` ~ sin(|m| phi), without the Condon-Shortley
    phase.  Uses P_l^m(z) / sin^m(theta) (a polynomial Q_lm in z) and
    (x + i y)^m = sin^m(theta) e^{i m phi}, so no angle is computed.

    With ``gradient`` (shape (n_lm, 3)) it also writes
    ``gradient[lm, c] = d Y_lm(v / |v|) / d v_c`` at v = (x, y, z): the
    gradient of the polynomial f_lm = Q_lm(z) Re/Im (x + i y)^m with its
    radial part removed, ``grad f - u (u . grad f)``.  Y_lm(v / |v|) does not
    depend on |v|, so at a vector of length R the gradient is this over R
    (in 1/Å for R in Å).  Numba compiles the call without ``gradient``
    separately, with the gradient branches removed: it is the value-only
    routine, and both give the same values.
    """
    p_mm = 1.0
    c_re = 1.0
    c_im = 0.0
    d_re = 0.0  # (x + i y)^(m - 1), for the gradient
    d_im = 0.0
    for m in range(l_max + 1):
        if m > 0:
            p_mm *= 2 * m - 1
            if gradient is not None:
                d_re = c_re
                d_im = c_im
            c_re, c_im = c_re * x - c_im * y, c_re * y + c_im * x
        p_prev = 0.0
        p_curr = p_mm
        dp_prev = 0.0  # d Q / d z
        dp_curr = 0.0
        for l in range(m, l_max + 1):
            if l == m + 1:
                if gradient is not None:
                    dp_prev, dp_curr = dp_curr, (2 * m + 1) * p_mm
                p_prev, p_curr = p_curr, z * (2 * m + 1) * p_mm
            elif l > m + 1:
                if gradient is not None:
                    dp_prev, dp_curr = (
                        dp_curr,
                        ((2 * l - 1) * (p_curr + z * dp_curr) - (l + m - 1) * dp_prev) * _INVERSE[l - m - 1],
                    )
                p_prev, p_curr = p_curr, ((2 * l - 1) * z * p_curr - (l + m - 1) * p_prev) * _INVERSE[l - m - 1]
            base = l * l + l
            if m == 0:
                out[base] = norm[l, 0] * p_curr
            else:
                out[base + m] = norm[l, m] * p_curr * c_re
                out[base - m] = norm[l, m] * p_curr * c_im
            if gradient is not None:
                # d/dx (x + i y)^m = m (x + i y)^(m-1), d/dy = i m (x + i y)^(m-1)
                slope = norm[l, m] * dp_curr
                if m == 0:
                    radial = slope * z
                    gradient[base, 0] = -x * radial
                    gradient[base, 1] = -y * radial
                    gradient[base, 2] = slope - z * radial
                else:
                    k = norm[l, m] * p_curr * m
                    fx, fy, fz = k * d_re, -k * d_im, slope * c_re
                    radial = fx * x + fy * y + fz * z
                    gradient[base + m, 0] = fx - x * radial
                    gradient[base + m, 1] = fy - y * radial
                    gradient[base + m, 2] = fz - z * radial
                    fx, fy, fz = k * d_im, k * d_re, slope * c_im
                    radial = fx * x + fy * y + fz * z
                    gradient[base - m, 0] = fx - x * radial
                    gradient[base - m, 1] = fy - y * radial
                    gradient[base - m, 2] = fz - z * radial


@njit(cache=True, nogil=True)
def real_harmonics_batch(x, y, z, count, l_max, norm, out):
    """Real spherical harmonics of ``count`` unit vectors: ``out[lm, k] = Y_lm(x[k], y[k], z[k])``.

    The operations of :func:`real_harmonics`, in the same order (so the same
    values to the last bit), on four vectors at a time held in registers
    (:data:`~.simd.vector4`): the recurrences are chains of dependent
    multiplications per vector, so four chains run side by side.  ``x, y,
    z`` and the rows of ``out`` must have room for ``count`` rounded up to a
    multiple of 4; the padding lanes are computed too (from whatever finite
    values they hold) and are not meaningful.
    """
    width = out.shape[1]
    flat = out.reshape(-1)
    for k in range(0, count, 4):
        _harmonics4(x, y, z, k, l_max, norm, flat, width)


@njit(cache=True, nogil=True, inline="always")
def _harmonics4(x, y, z, k, l_max, norm, out, width):
    """:func:`real_harmonics` of the vectors k..k+3, into ``out[lm * width + k ...]``."""
    vx = load4(x, k)
    vy = load4(y, k)
    vz = load4(z, k)
    p_mm = 1.0
    c_re = broadcast4(1.0)
    c_im = broadcast4(0.0)
    for m in range(l_max + 1):
        if m > 0:
            p_mm *= 2 * m - 1
            c_re, c_im = sub4(mul4(c_re, vx), mul4(c_im, vy)), add4(mul4(c_re, vy), mul4(c_im, vx))
        p_prev = broadcast4(0.0)
        p_curr = broadcast4(p_mm)
        for l in range(m, l_max + 1):
            if l == m + 1:
                p_prev, p_curr = p_curr, mul4(mul4(vz, broadcast4(float(2 * m + 1))), broadcast4(p_mm))
            elif l > m + 1:
                a = mul4(mul4(broadcast4(float(2 * l - 1)), vz), p_curr)
                b = mul4(broadcast4(float(l + m - 1)), p_prev)
                p_prev, p_curr = p_curr, mul4(sub4(a, b), broadcast4(_INVERSE[l - m - 1]))
            base = l * l + l
            scaled = mul4(broadcast4(norm[l, m]), p_curr)
            if m == 0:
                store4(out, base * width + k, scaled)
            else:
                store4(out, (base + m) * width + k, mul4(scaled, c_re))
                store4(out, (base - m) * width + k, mul4(scaled, c_im))
