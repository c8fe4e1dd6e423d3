"""Real spherical harmonics for numba kernels."""

from math import lgamma

import numpy as np
from numba import njit


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
def real_harmonics(x, y, z, l_max, norm, out):
    """Real spherical harmonics Y_lm of the unit vector (x, y, z).

    Writes ``out[l*l + l + m]`` for ``l = 0..l_max`` and ``m = -l..l``:
    ``m > 0`` ~ cos(m phi), ``m < 0`` ~ sin(|m| phi), without the Condon-Shortley
    phase.  Uses P_l^m(z) / sin^m(theta) (a polynomial in z) and
    (x + i y)^m = sin^m(theta) e^{i m phi}, so no angle is computed.
    """
    p_mm = 1.0
    c_re = 1.0
    c_im = 0.0
    for m in range(l_max + 1):
        if m > 0:
            p_mm *= 2 * m - 1
            c_re, c_im = c_re * x - c_im * y, c_re * y + c_im * x
        p_prev = 0.0
        p_curr = p_mm
        for l in range(m, l_max + 1):
            if l == m + 1:
                p_prev, p_curr = p_curr, z * (2 * m + 1) * p_mm
            elif l > m + 1:
                p_prev, p_curr = p_curr, ((2 * l - 1) * z * p_curr - (l + m - 1) * p_prev) * _INVERSE[l - m - 1]
            base = l * l + l
            if m == 0:
                out[base] = norm[l, 0] * p_curr
            else:
                out[base + m] = norm[l, m] * p_curr * c_re
                out[base - m] = norm[l, m] * p_curr * c_im
