"""The four-lane vector helpers of the numba kernels: exact scalar semantics, checked types."""

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from skdesc.local._kernels.simd import add_product4, add_product4_twice


@njit
def _once(target, start, weight, y, source, source_start):
    add_product4(target, start, weight, y, source, source_start)


@njit
def _twice(first, first_start, first_weight, second, second_start, second_weight, y, source, source_start):
    add_product4_twice(first, first_start, first_weight, second, second_start, second_weight, y, source, source_start)


def test_add_product4_is_the_scalar_update_to_the_last_bit_and_touches_only_four_entries():
    rng = np.random.default_rng(0)
    target = rng.normal(size=11)
    source = rng.normal(size=9)
    expected = target.copy()
    expected[5:9] += -0.37 * (1.9 * source[3:7])
    _once(target, 5, -0.37, 1.9, source, 3)
    np.testing.assert_array_equal(target, expected)


def test_add_product4_twice_forms_the_product_once_for_both_targets():
    rng = np.random.default_rng(1)
    first = rng.normal(size=8)
    second = rng.normal(size=12)
    source = rng.normal(size=6)
    product = 0.61 * source[2:6]
    expected_first = first.copy()
    expected_second = second.copy()
    expected_first[4:8] += 1.3 * product
    expected_second[7:11] += -2.2 * product
    _twice(first, 4, 1.3, second, 7, -2.2, 0.61, source, 2)
    np.testing.assert_array_equal(first, expected_first)
    np.testing.assert_array_equal(second, expected_second)


def test_add_product4_refuses_other_dtypes_at_compile_time():
    with pytest.raises((TypeError, TypingError), match="float64"):
        _once(np.zeros(8, dtype=np.float32), 0, 1.0, 1.0, np.ones(8), 0)
