"""Register-tiled small matrix products for the numba kernels.

Both hot products of the SOAP kernel have the form

    out[a, b] = sum_k left[k, a] right[k, b]

with a few to a hundred terms: the density expansion (k: the neighbours of
one element, a: the (l, m) rows, b: the radial functions of one l) and the
Gram matrices of the power spectrum (k: m, a and b: channels).  Accumulating
such a product in memory costs a load and a store per multiply-add.  Here a
tile of 4 rows by 8 columns (eight :data:`~.simd.vector4` accumulators) stays
in registers for the whole sum over k, so each step loads two vectors and four
scalars for eight vector multiply-adds, and the tile is stored once.

Every entry, whatever its place in a tile or remainder, is the same chain
``total = fmuladd(left[k, a], right[k, b], total)`` over k = 0, 1, ...: its
value does not depend on the shape of the product it belongs to.
"""

from numba import njit

from .simd import load4, multiply_add, multiply_add4, splat4, store4, zeros4


@njit(cache=True, nogil=True, inline="always")
def tile_product(left, left_start, left_k, left_a, right, right_start, right_k, out, out_start, out_a,
                 n_k, n_a, n_b):
    """``out[a, b] = sum_{k < n_k} left[k, a] right[k, b]`` for ``a < n_a``, ``b < n_b``, on flat arrays.

    Entry (k, a) of ``left`` is ``left[left_start + k * left_k + a * left_a]``
    (any strides), entry (k, b) of ``right`` is
    ``right[right_start + k * right_k + b]`` (rows contiguous) and entry (a, b)
    of ``out`` is ``out[out_start + a * out_a + b]``; ``out`` is overwritten,
    not added to.  No bounds checks: the caller guarantees every index.
    """
    a = 0
    while a < n_a:
        # a group of 1-3 last rows repeats its last row (the same values stored again):
        # four rows' eight independent sums keep the FMA units busy, one row's two would wait
        a1 = min(a + 1, n_a - 1)
        a2 = min(a + 2, n_a - 1)
        a3 = min(a + 3, n_a - 1)
        _four_rows(left, left_start + a * left_a, left_start + a1 * left_a, left_start + a2 * left_a,
                   left_start + a3 * left_a, left_k, right, right_start, right_k,
                   out, out_start + a * out_a, out_start + a1 * out_a, out_start + a2 * out_a,
                   out_start + a3 * out_a, n_k, n_b)
        a += 4


@njit(cache=True, nogil=True)
def _four_rows(left, l0, l1, l2, l3, left_k, right, right_start, right_k, out, o0, o1, o2, o3, n_k, n_b):
    """Four rows of :func:`tile_product` (``left`` entries from l0..l3, ``out`` rows at o0..o3):
    8 columns at a time, then 4, then one at a time."""
    # one running index and three fixed offsets: few enough registers that the loop never spills
    d1 = l1 - l0
    d2 = l2 - l0
    d3 = l3 - l0
    b = 0
    while b + 8 <= n_b:
        t00 = zeros4()
        t01 = zeros4()
        t10 = zeros4()
        t11 = zeros4()
        t20 = zeros4()
        t21 = zeros4()
        t30 = zeros4()
        t31 = zeros4()
        p = l0
        q = right_start + b
        for _ in range(n_k):
            r0 = load4(right, q)
            r1 = load4(right, q + 4)
            x = splat4(left, p)
            t00 = multiply_add4(t00, x, r0)
            t01 = multiply_add4(t01, x, r1)
            x = splat4(left, p + d1)
            t10 = multiply_add4(t10, x, r0)
            t11 = multiply_add4(t11, x, r1)
            x = splat4(left, p + d2)
            t20 = multiply_add4(t20, x, r0)
            t21 = multiply_add4(t21, x, r1)
            x = splat4(left, p + d3)
            t30 = multiply_add4(t30, x, r0)
            t31 = multiply_add4(t31, x, r1)
            p += left_k
            q += right_k
        store4(out, o0 + b, t00)
        store4(out, o0 + b + 4, t01)
        store4(out, o1 + b, t10)
        store4(out, o1 + b + 4, t11)
        store4(out, o2 + b, t20)
        store4(out, o2 + b + 4, t21)
        store4(out, o3 + b, t30)
        store4(out, o3 + b + 4, t31)
        b += 8
    if b + 4 <= n_b:
        t0 = zeros4()
        t1 = zeros4()
        t2 = zeros4()
        t3 = zeros4()
        p = l0
        q = right_start + b
        for _ in range(n_k):
            r0 = load4(right, q)
            t0 = multiply_add4(t0, splat4(left, p), r0)
            t1 = multiply_add4(t1, splat4(left, p + d1), r0)
            t2 = multiply_add4(t2, splat4(left, p + d2), r0)
            t3 = multiply_add4(t3, splat4(left, p + d3), r0)
            p += left_k
            q += right_k
        store4(out, o0 + b, t0)
        store4(out, o1 + b, t1)
        store4(out, o2 + b, t2)
        store4(out, o3 + b, t3)
        b += 4
    if b < n_b:
        _scalar_columns(left, l0, left_k, right, right_start, right_k, out, o0, n_k, b, n_b)
        _scalar_columns(left, l1, left_k, right, right_start, right_k, out, o1, n_k, b, n_b)
        _scalar_columns(left, l2, left_k, right, right_start, right_k, out, o2, n_k, b, n_b)
        _scalar_columns(left, l3, left_k, right, right_start, right_k, out, o3, n_k, b, n_b)


@njit(cache=True, nogil=True, inline="always")
def _scalar_columns(left, left_start, left_k, right, right_start, right_k, out, out_start, n_k, b0, n_b):
    """Columns b0..n_b - 1 of one row, one at a time (the same chain as a vector lane)."""
    for b in range(b0, n_b):
        total = 0.0
        p = left_start
        q = right_start + b
        for _ in range(n_k):
            total = multiply_add(total, left[p], right[q])
            p += left_k
            q += right_k
        out[out_start + b] = total
