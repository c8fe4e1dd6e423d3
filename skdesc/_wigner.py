"""Clebsch-Gordan coefficients and their real-spherical-harmonic form (angular-momentum coupling).

The coefficients are computed exactly (Racah's formula in integers and
fractions, rounded to float64 once), for integer angular momenta, as in
D. A. Varshalovich, A. N. Moskalev, V. K. Khersonskii, *Quantum Theory of
Angular Momentum* (World Scientific, 1988), Sec. 8.2, with the Condon-Shortley
phase convention.

:func:`real_coupling` turns them into the coupling tensor of *real* spherical
harmonics in skdesc's convention (``skdesc.local._kernels.spherical``:
``m > 0`` ~ cos(m phi), ``m < 0`` ~ sin(|m| phi), no Condon-Shortley phase),
the form the SOAP density coefficients c_nlm take.
"""

from fractions import Fraction
from functools import lru_cache
from math import factorial, sqrt

import numpy as np

__all__ = ["clebsch_gordan", "real_coupling", "complex_to_real"]


def _triangle(l1, l2, l3):
    return abs(l1 - l2) <= l3 <= l1 + l2


@lru_cache(maxsize=None)
def clebsch_gordan(l1, m1, l2, m2, l3, m3):
    """<l1 m1 l2 m2 | l3 m3> for integer angular momenta (Condon-Shortley phase).

    Racah's formula evaluated in exact rational arithmetic; the result is the
    float64 nearest to ``sign * sqrt(radicand) * sum`` up to one rounding of
    the square root.

    Parameters
    ----------
    l1, m1, l2, m2, l3, m3 : int
        Degrees ``l >= 0`` and orders ``|m| <= l``.

    Returns
    -------
    float
        0.0 when the selection rules (m1 + m2 = m3, triangle l3 in
        |l1 - l2|..l1 + l2, |m| <= l) fail.
    """
    for value in (l1, m1, l2, m2, l3, m3):
        if int(value) != value:
            raise ValueError(f"clebsch_gordan takes integer angular momenta, got {value!r}")
    if m1 + m2 != m3 or not _triangle(l1, l2, l3) or abs(m1) > l1 or abs(m2) > l2 or abs(m3) > l3:
        return 0.0
    f = factorial
    radicand = Fraction(
        (2 * l3 + 1) * f(l1 + l2 - l3) * f(l1 - l2 + l3) * f(-l1 + l2 + l3) * f(l3 + m3) * f(l3 - m3)
        * f(l1 - m1) * f(l1 + m1) * f(l2 - m2) * f(l2 + m2),
        f(l1 + l2 + l3 + 1),
    )
    total = Fraction(0)
    k_min = max(0, l2 - l3 - m1, l1 - l3 + m2)
    k_max = min(l1 + l2 - l3, l1 - m1, l2 + m2)
    for k in range(k_min, k_max + 1):
        term = Fraction(
            1,
            f(k) * f(l1 + l2 - l3 - k) * f(l1 - m1 - k) * f(l2 + m2 - k) * f(l3 - l2 + m1 + k) * f(l3 - l1 - m2 + k),
        )
        total += -term if k % 2 else term
    if total == 0:
        return 0.0
    # sqrt(radicand) * |total| = sqrt(radicand * total^2): the fraction is rounded once
    # (Fraction.__float__ is correctly rounded), then the square root
    square = radicand * total * total
    return sqrt(float(square)) if total > 0 else -sqrt(float(square))


@lru_cache(maxsize=None)
def complex_to_real(l):
    """Unitary ``U`` with ``Y^R_{l mu} = sum_m U[mu + l, m + l] Y_{l m}``.

    ``Y_{lm}`` are the complex spherical harmonics with the Condon-Shortley
    phase, ``Y^R`` skdesc's real harmonics: for m > 0,
    ``Y^R_{l m} = ((-1)^m Y_{lm} + Y_{l,-m}) / sqrt(2)`` and
    ``Y^R_{l,-m} = i (Y_{l,-m} - (-1)^m Y_{lm}) / sqrt(2)``.

    Returns
    -------
    ndarray of shape (2l + 1, 2l + 1), complex128 (read-only)
    """
    U = np.zeros((2 * l + 1, 2 * l + 1), dtype=np.complex128)
    U[l, l] = 1.0
    h = 1.0 / np.sqrt(2.0)
    for m in range(1, l + 1):
        sign = -1.0 if m % 2 else 1.0
        U[l + m, l + m] = sign * h
        U[l + m, l - m] = h
        U[l - m, l - m] = 1j * h
        U[l - m, l + m] = -1j * sign * h
    U.setflags(write=False)
    return U


@lru_cache(maxsize=None)
def real_coupling(l1, l2, l3):
    """Coupling tensor of real harmonics: ``(a (x) b)_{l3 mu3} = sum R[mu1, mu2, mu3] a_{mu1} b_{mu2}``.

    For coefficient sets ``a``, ``b`` of degrees l1, l2 in the real basis
    (indices ``mu + l``), the complex coupled product
    ``A_{l3 m3} = sum_{m1 m2} <l1 m1 l2 m2 | l3 m3> a^C_{m1} b^C_{m2}``
    (``a^C = U^T a``, see :func:`complex_to_real`) expressed in the real basis
    is ``T = sum_{m} <..|..> U[mu1, m1] U[mu2, m2] conj(U[mu3, m3])``.  For the
    coefficients of a real function T is real when l1 + l2 + l3 is even and
    purely imaginary when it is odd; ``R`` is T, resp. T / i, so that it is
    real in both cases.  The contraction of two such products of the same
    degree, ``sum_mu3 (a (x) b)_{mu3} (c (x) d)_{mu3}``, is then the complex
    invariant ``sum_M A_M conj(C_M)`` exactly when both couplings have the
    same parity (it is real either way).

    Returns
    -------
    ndarray of shape (2 l1 + 1, 2 l2 + 1, 2 l3 + 1), float64 (read-only)
        Zero unless ``l3`` is in ``|l1 - l2|..l1 + l2``.
    """
    cg = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1))
    if _triangle(l1, l2, l3):
        for m1 in range(-l1, l1 + 1):
            for m2 in range(max(-l2, -l3 - m1), min(l2, l3 - m1) + 1):
                cg[m1 + l1, m2 + l2, m1 + m2 + l3] = clebsch_gordan(l1, m1, l2, m2, l3, m1 + m2)
    U1, U2, U3 = complex_to_real(l1), complex_to_real(l2), complex_to_real(l3)
    tensor = np.einsum("abc,ia,jb,kc->ijk", cg, U1, U2, np.conj(U3))
    odd = (l1 + l2 + l3) % 2
    kept, dropped = (tensor.imag, tensor.real) if odd else (tensor.real, tensor.imag)
    if np.abs(dropped).max(initial=0.0) > 1e-12:
        raise RuntimeError(f"real coupling ({l1}, {l2}, {l3}) is not of the expected phase")
    result = np.where(np.abs(kept) < 1e-15, 0.0, kept)
    result.setflags(write=False)
    return result
