"""Register-tiled products, vector values and the batched harmonics/radial routines of the SOAP kernel."""

import numpy as np
import pytest
from numba import njit

from skdesc.local._kernels.simd import (add4, broadcast4, load4, mul4, multiply_add, multiply_add4, store4,
                                        sub4)
from skdesc.local._kernels.soap import _radial_values, _weighted_radial_values, gto_basis, radial_table, star_basis
from skdesc.local._kernels.spherical import real_harmonics, real_harmonics_batch, real_harmonics_norm
from skdesc.local._kernels.tiles import tile_product


@njit(cache=True)
def _tile(left, left_start, left_k, left_a, right, right_start, right_k, out, out_start, out_a, n_k, n_a, n_b):
    tile_product(left, left_start, left_k, left_a, right, right_start, right_k, out, out_start, out_a, n_k, n_a, n_b)


def _run_tile(left2d, right2d, n_k, n_a, n_b, transposed, rng):
    """tile_product on 2-D operands embedded at random offsets in flat arrays, and the target region."""
    pad = int(rng.integers(0, 5))
    if transposed:  # left stored (a, k): k stride 1, a stride = row length
        stored = np.ascontiguousarray(left2d.T)
        left_k, left_a = 1, stored.shape[1]
    else:
        stored = left2d
        left_k, left_a = stored.shape[1], 1
    left = np.concatenate([np.full(pad, np.nan), stored.ravel()])
    right = np.concatenate([np.full(pad + 1, np.nan), right2d.ravel()])
    out_a = n_b + int(rng.integers(0, 3))
    out = np.full(pad + 2 + n_a * out_a + 3, np.nan)
    _tile(left, pad, left_k, left_a, right, pad + 1, right2d.shape[1], out, pad + 2, out_a, n_k, n_a, n_b)
    region = np.zeros(out.shape, dtype=bool)
    for a in range(n_a):
        region[pad + 2 + a * out_a: pad + 2 + a * out_a + n_b] = True
    return out, region, pad + 2, out_a


@pytest.mark.parametrize("transposed", [False, True])
def test_tile_product_is_the_matrix_product_and_writes_only_its_target(transposed):
    rng = np.random.default_rng(0)
    for n_k, n_a, n_b in [(0, 3, 5), (1, 1, 1), (3, 4, 8), (7, 5, 13), (13, 9, 16), (5, 2, 3), (9, 12, 40), (2, 7, 4)]:
        left2d = rng.normal(size=(n_k, n_a))
        right2d = rng.normal(size=(n_k, n_b + int(rng.integers(0, 3))))
        out, region, start, out_a = _run_tile(left2d, right2d, n_k, n_a, n_b, transposed, rng)
        expected = left2d.T @ right2d[:, :n_b]
        got = np.array([out[start + a * out_a: start + a * out_a + n_b] for a in range(n_a)]).reshape(n_a, n_b)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13 * max(1.0, np.abs(expected).max(initial=0)))
        assert np.isnan(out[~region]).all(), "tile_product wrote outside its target"


def test_an_entry_does_not_depend_on_the_shape_of_its_product():
    """Each entry is one fused chain over k: a sub-block of rows and columns gives the same bits."""
    rng = np.random.default_rng(1)
    n_k, n_a, n_b = 11, 13, 21
    left2d = rng.normal(size=(n_k, n_a))
    right2d = rng.normal(size=(n_k, n_b))
    full, _, start, out_a = _run_tile(left2d, right2d, n_k, n_a, n_b, False, np.random.default_rng(5))
    full = np.array([full[start + a * out_a: start + a * out_a + n_b] for a in range(n_a)])
    for a0, a1, b1 in [(0, 1, 1), (3, 6, 9), (5, 13, 4), (12, 13, 21), (2, 10, 17)]:
        sub, _, s, oa = _run_tile(left2d[:, a0:a1], right2d[:, :b1], n_k, a1 - a0, b1, False, np.random.default_rng(6))
        sub = np.array([sub[s + a * oa: s + a * oa + b1] for a in range(a1 - a0)])
        np.testing.assert_array_equal(sub, full[a0:a1, :b1])


@njit(cache=True)
def _lane_ops(a, b, c, out):
    va, vb, vc = load4(a, 0), load4(b, 0), load4(c, 0)
    store4(out, 0, multiply_add4(vc, va, vb))
    store4(out, 4, add4(va, vb))
    store4(out, 8, sub4(va, vb))
    store4(out, 12, mul4(va, broadcast4(b[1])))
    for k in range(4):
        out[16 + k] = multiply_add(c[k], a[k], b[k])


def test_vector_lanes_are_the_scalar_operations():
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(3, 4)) * np.array([[1.0], [1e8], [1e-8]])
    out = np.empty(20)
    _lane_ops(a, b, c, out)
    np.testing.assert_array_equal(out[0:4], out[16:20])  # fused the same way in a lane and in a scalar
    np.testing.assert_allclose(out[0:4], c + a * b, rtol=1e-15)
    np.testing.assert_array_equal(out[4:8], a + b)
    np.testing.assert_array_equal(out[8:12], a - b)
    np.testing.assert_array_equal(out[12:16], a * b[1])


@njit(cache=True)
def _scalar_harmonics(x, y, z, l_max, norm, out):
    h = np.empty(out.shape[0])
    for k in range(x.shape[0]):
        real_harmonics(x[k], y[k], z[k], l_max, norm, h)
        out[:, k] = h


@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 9])
@pytest.mark.parametrize("l_max", [0, 1, 6])
def test_batched_harmonics_equal_the_scalar_routine_to_the_last_bit(count, l_max):
    rng = np.random.default_rng(count + 10 * l_max)
    width = -(-max(count, 1) // 4) * 4
    v = rng.normal(size=(width, 3))
    v[0] = [0.0, 0.0, 1.0]  # a pole
    v /= np.linalg.norm(v, axis=1)[:, None]
    x, y, z = (np.ascontiguousarray(v[:, c]) for c in range(3))
    norm = real_harmonics_norm(l_max)
    batch = np.full(((l_max + 1) ** 2, width), np.nan)
    real_harmonics_batch(x, y, z, count, l_max, norm, batch)
    scalar = np.empty_like(batch)
    _scalar_harmonics(x, y, z, l_max, norm, scalar)
    np.testing.assert_array_equal(batch[:, :count], scalar[:, :count])


@njit(cache=True)
def _both_radials(table, inv_width, r, weight, horner, estrin):
    flat = table.reshape(-1)
    for k in range(r.shape[0]):
        _radial_values(table, inv_width, r[k], horner[k])
        _weighted_radial_values(table, flat, inv_width, r[k], weight, estrin.reshape(-1), k * table.shape[2])


@pytest.mark.parametrize("star", [False, True])
def test_weighted_radial_values_are_the_tabulated_polynomials(star):
    """Estrin's evaluation (four lanes plus a scalar remainder: 56 and 91 functions) equals
    weight times the Horner values to rounding."""
    sigma, r_cut, l_max = 0.5, 5.0, 6
    if star:
        alpha, beta = star_basis(r_cut, l_max)
        counts = 2 * np.arange(l_max + 1) + 1
    else:
        alpha, beta = gto_basis(r_cut, 8, l_max)
        counts = np.full(l_max + 1, 8)
    table, inv_width = radial_table(alpha, beta, counts, sigma, r_cut + 3.72 * sigma)
    r = np.concatenate([[0.0], np.random.default_rng(3).uniform(0.0, r_cut + 3.72 * sigma, 200)])
    horner = np.empty((r.size, table.shape[2]))
    estrin = np.empty_like(horner)
    _both_radials(table, inv_width, r, -1.7, horner, estrin)
    np.testing.assert_allclose(estrin, -1.7 * horner, rtol=0, atol=1e-14 * np.abs(horner).max())


@pytest.mark.parametrize("n_out", [1, 5, 8, 13, 24])
def test_channel_map_tiled_and_dot_forms_agree(n_out):
    """The SOAP kernel's channel map: tiled (>= 8 mapped channels, padded rows) or dot products (fewer)."""
    from skdesc.local._kernels.soap import _apply_map, _map_dot, _map_rows

    rng = np.random.default_rng(n_out)
    l_max, n_in = 4, 40
    coef = rng.normal(size=((l_max + 1) ** 2, n_in))
    mapping_t = rng.normal(size=(l_max + 1, n_out, n_in))
    expected = np.empty((coef.shape[0], n_out))
    for l in range(l_max + 1):
        rows = slice(l * l, (l + 1) ** 2)
        expected[rows] = coef[rows] @ mapping_t[l].T
    rows = _map_rows(mapping_t, True)
    if n_out < 8:
        assert rows.shape == (0, 0, 0)
        width = n_out
    else:
        width = -(-n_out // 4) * 4
        assert rows.shape == (l_max + 1, n_in, width)
        np.testing.assert_array_equal(rows[:, :, :n_out], mapping_t.transpose(0, 2, 1))
        assert not rows[:, :, n_out:].any()
    out = np.full((coef.shape[0], width), np.nan)
    _apply_map(coef, mapping_t, rows, np.zeros((0, 0, 0)), 8, out, l_max)
    np.testing.assert_allclose(out[:, :n_out], expected, rtol=1e-13, atol=1e-13)
    assert not out[:, n_out:].any()  # the padding channels are zero, not left unset
    dot = np.empty((coef.shape[0], n_out))
    _map_dot(coef, mapping_t, dot, l_max)
    np.testing.assert_allclose(dot, expected, rtol=1e-13, atol=1e-13)
    assert _map_rows(mapping_t, False).shape == (0, 0, 0)


@pytest.mark.parametrize("n_max, n_elements, n_groups", [(8, 5, 1), (8, 4, 3), (3, 2, 2)])
def test_element_block_map_equals_the_tiled_map(n_max, n_elements, n_groups):
    """Maps kron(W_l, I) (nu1mu1's element sums, embeddings): found, and the same values as the tiled form."""
    from skdesc.local._kernels.soap import _apply_map, _map_blocks, _map_rows

    rng = np.random.default_rng(n_max * 10 + n_groups)
    l_max = 3
    weights = rng.normal(size=(l_max + 1, n_elements, n_groups))
    weights[1, 0, 0] = 0.0  # a zero weight is still a kron map
    mapping = np.stack([np.kron(w, np.eye(n_max)) for w in weights])  # (l, n_in, n_out)
    mapping_t = np.ascontiguousarray(mapping.transpose(0, 2, 1))
    coef = rng.normal(size=((l_max + 1) ** 2, n_elements * n_max))
    blocks = _map_blocks(mapping_t, n_max, True)
    np.testing.assert_array_equal(blocks, weights)
    rows = _map_rows(mapping_t, True)
    width = rows.shape[2] if rows.shape[0] else n_groups * n_max
    by_blocks = np.zeros(((l_max + 1) ** 2, width))
    _apply_map(coef, mapping_t, rows, blocks, n_max, by_blocks, l_max)
    expected = np.concatenate([coef[l * l:(l + 1) ** 2] @ mapping[l] for l in range(l_max + 1)])
    np.testing.assert_allclose(by_blocks[:, :n_groups * n_max], expected, rtol=1e-13, atol=1e-13)
    if rows.shape[0]:
        tiled = np.zeros_like(by_blocks)
        _apply_map(coef, mapping_t, rows, np.zeros((0, 0, 0)), n_max, tiled, l_max)
        np.testing.assert_array_equal(by_blocks, tiled)  # the same multiply-add chains
    # not kron maps: one off-diagonal entry, or unequal diagonal entries
    for position, value in (((1, 0, 1), 0.5), ((2, 1, 1), mapping_t[2, 1, 1] + 1.0)):
        broken = mapping_t.copy()
        broken[position] = value
        assert _map_blocks(broken, n_max, True).shape == (0, 0, 0)
    assert _map_blocks(mapping_t, n_max, False).shape == (0, 0, 0)
    assert _map_blocks(mapping_t[:, :, 1:], n_max, True).shape == (0, 0, 0)
