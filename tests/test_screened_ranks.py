"""float32-screened first-neighbour ranks equal a plain float64 transcription, also on hard data."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from skdesc import config_context
from skdesc.information import information_imbalance
from skdesc.information._screened import _Space, screenable, screened_rank_means
from skdesc.information.measures import TIE_RTOL, _as_points, _mean_conditional_rank_float64


def _reference(A, B):
    """Mean first-neighbour ranks and tie count, straight from the definitions, float64."""
    A, B = _as_points(A, "A"), _as_points(B, "B")
    DA, DB = cdist(A, A, "sqeuclidean"), cdist(B, B, "sqeuclidean")
    n = A.shape[0]

    def one_direction(D_from, D_to):
        ranks, tie_rows = [], 0
        for i in range(n):
            others = np.flatnonzero(np.arange(n) != i)
            row_from, row_to = D_from[i], D_to[i]
            tol_from, tol_to = TIE_RTOL * row_from.max(), TIE_RTOL * row_to.max()
            nearest = others[row_from[others] <= row_from[others].min() + tol_from]
            rank_sum, tie = 0.0, len(nearest) > 1
            for j in nearest:
                rest = others[others != j]
                tied = np.abs(row_to[rest] - row_to[j]) <= tol_to
                closer = ~tied & (row_to[rest] < row_to[j])
                rank_sum += 1 + closer.sum() + 0.5 * tied.sum()
                tie = tie or tied.any()
            ranks.append(rank_sum / len(nearest))
            tie_rows += tie
        return np.mean(ranks), tie_rows

    mean_ab, ties_ab = one_direction(DA, DB)
    mean_ba, ties_ba = one_direction(DB, DA)
    return mean_ab, mean_ba, ties_ab + ties_ba


def _screened_means(A, B):
    A, B = _as_points(A, "A"), _as_points(B, "B")
    assert screenable(A) and screenable(B)
    return screened_rank_means(A, B, TIE_RTOL)


def _hard_cases():
    rng = np.random.default_rng(7)
    n = 120
    base = rng.normal(size=(n, 30))
    yield "random", base, np.column_stack([base[:, :5], rng.normal(size=(n, 20))])
    # a huge common offset: float32 of the raw values would lose every digit of the distances
    yield "offset", base + 1e7, 1e-3 * base[:, ::-1] - 4e5
    # exact duplicates in each space (tied nearest neighbours, tied ranks, zero distances)
    dup_a, dup_b = base.copy(), rng.normal(size=(n, 8))
    dup_a[1::7] = dup_a[0::7][: len(dup_a[1::7])]
    dup_b[2::5] = dup_b[0::5][: len(dup_b[2::5])]
    yield "duplicates", dup_a, dup_b
    # a lattice: many equal distances, split by 1e-8 perturbations, i.e. far below float32
    # resolution but above the tie tolerance (plus exact ties where nothing is perturbed)
    grid = np.stack(np.meshgrid(*[np.arange(5.0)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    shaken = grid + 1e-8 * rng.integers(-1, 2, size=grid.shape)
    yield "near ties", shaken, grid[:, ::-1] + 1e-8 * rng.integers(-1, 2, size=grid.shape)
    # one far outlier and values spanning many decades
    wide = rng.normal(size=(n, 12)) * np.logspace(-20, 3, 12)
    wide[0] *= 1e6
    yield "wide range", wide, np.exp(rng.normal(size=(n, 4)) * 3)
    # a constant space: every distance tied
    yield "constant", base[:20], np.ones((20, 3))


@pytest.mark.parametrize("name, A, B", list(_hard_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_screened_equals_float64_reference(name, A, B):
    expected = _reference(A, B)
    assert _screened_means(A, B) == expected  # bit-identical means and the same tie count
    if name != "near ties":  # GEMM-based float64 distances cannot resolve 1e-8 perturbations of 5
        assert _screened_means(A, B)[:2] == pytest.approx(_mean_conditional_rank_float64(
            _as_points(A, "A"), _as_points(B, "B"), 1)[:2], rel=1e-14)


def test_row_blocks_equal_the_whole_gram():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(150, 9))
    B = A[:, :3] + 0.2 * rng.normal(size=(150, 3))
    whole = _screened_means(A, B)
    with config_context(rank_block_rows=32):  # 5 blocks, the last one short
        assert _screened_means(A, B) == whole
        with config_context(rank_symmetric_bytes=0):  # full rows per block
            assert _screened_means(A, B) == whole
    space = _Space(A)
    blocks = [block.copy() for _, block in space.gram_blocks(32)]
    gram = np.vstack(blocks)
    other_block = (np.arange(150)[:, None] // 32) != (np.arange(150)[None, :] // 32)
    np.testing.assert_array_equal(gram[other_block], gram.T[other_block])  # computed once, mirrored
    np.testing.assert_allclose(gram, space.X32.astype(np.float64) @ space.X32.T.astype(np.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scale", [1e-60, 1.0, 1e60])
def test_error_bound_holds(scale):
    # long rows with cancelling large entries: the worst case for float32 dot products
    rng = np.random.default_rng(11)
    X = rng.normal(size=(60, 2000)) * np.logspace(0, 6, 2000) * scale
    X[::2] += 1e3 * scale * np.sign(rng.normal(size=2000))
    space = _Space(_as_points(X, "X"))
    gram = np.vstack([block.astype(np.float64) for _, block in space.gram_blocks(25)])
    norms = space.norms
    screened = norms[:, None] + norms[None, :] - space.gram_scale * gram
    bound = space.coef * (norms[:, None] + norms[None, :]) + space.floor
    exact = cdist(space.X, space.X, "sqeuclidean")
    assert np.all(np.abs(screened - exact) <= bound)
    assert np.abs(screened - exact).max() > 1e-3 * bound.max()  # the bound is not vacuous


def test_unscreenable_data_take_the_float64_path():
    assert not screenable(np.array([[1e-200], [0.0]]))
    assert not screenable(np.array([[1e200], [0.0]]))
    assert screenable(np.zeros((3, 2)))


def test_public_function_uses_the_screened_ranks():
    name, A, B = [case for case in _hard_cases() if case[0] == "duplicates"][0]
    mean_ab, mean_ba, ties = _reference(A, B)
    assert ties > 0
    with pytest.warns(UserWarning, match=f"{ties} points have tied"):
        assert information_imbalance(A, B, normalize=False) == (mean_ab, mean_ba)
