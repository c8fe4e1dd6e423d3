"""Four-lane vector updates for numba kernels, written as LLVM intrinsics.

numba leaves LLVM's SLP vectoriser off, and its loop vectoriser processes
16 doubles per iteration on AVX2 and AVX-512 machines, so a loop over the
8 radial functions of one (l, m) row runs in its scalar remainder.  These
helpers spell out one 4-lane step with LLVM vector types (``<4 x double>``,
one AVX register, two SSE/NEON registers), with the same operations in the
same order as the scalar code they replace: the results are bit-identical.

They do no bounds checks: the caller guarantees ``start + 4 <= size`` for
every array.
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_LANES = 4
_VECTOR = ir.VectorType(ir.DoubleType(), _LANES)
_ZEROS = ir.Constant(ir.VectorType(ir.IntType(32), _LANES), [0] * _LANES)


def _check_types(arrays, starts, scalars):
    """Refuse at compile time anything but C-contiguous float64 vectors, integer starts, float64 scalars."""
    for array in arrays:
        if not (isinstance(array, types.Array) and array.dtype == types.float64 and array.layout == "C"):
            raise TypeError(f"expected a C-contiguous float64 array, got {array}")
    for start in starts:
        if not isinstance(start, types.Integer):
            raise TypeError(f"expected an integer start, got {start}")
    for scalar in scalars:
        if scalar != types.float64:
            raise TypeError(f"expected a float64 scalar, got {scalar}")


def _lanes(context, builder, array_type, array, start):
    """Pointer to ``array[start : start + 4]`` as one vector."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [start]), _VECTOR.as_pointer())


def _broadcast(builder, x):
    """The scalar ``x`` in every lane."""
    single = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(single, single, _ZEROS)


def _scaled_add(builder, pointer, weight, values):
    """*pointer += weight * values."""
    total = builder.fadd(builder.load(pointer, align=8), builder.fmul(_broadcast(builder, weight), values))
    builder.store(total, pointer, align=8)


@intrinsic
def add_product4(typingctx, target, start, weight, y, source, source_start):
    """``target[start + k] += weight * (y * source[source_start + k])`` for k < 4."""
    _check_types((target, source), (start, source_start), (weight, y))
    signature = types.void(target, start, weight, y, source, source_start)

    def codegen(context, builder, sig, args):
        target, start, weight, y, source, source_start = args
        values = builder.load(_lanes(context, builder, sig.args[4], source, source_start), align=8)
        product = builder.fmul(_broadcast(builder, y), values)
        _scaled_add(builder, _lanes(context, builder, sig.args[0], target, start), weight, product)
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def add_product4_twice(typingctx, first, first_start, first_weight, second, second_start, second_weight, y, source,
                       source_start):
    """As :func:`add_product4` into two targets: the product ``y * source`` is formed once."""
    _check_types((first, second, source), (first_start, second_start, source_start), (first_weight, second_weight, y))
    signature = types.void(first, first_start, first_weight, second, second_start, second_weight, y, source,
                           source_start)

    def codegen(context, builder, sig, args):
        first, first_start, first_weight, second, second_start, second_weight, y, source, source_start = args
        values = builder.load(_lanes(context, builder, sig.args[7], source, source_start), align=8)
        product = builder.fmul(_broadcast(builder, y), values)
        _scaled_add(builder, _lanes(context, builder, sig.args[0], first, first_start), first_weight, product)
        _scaled_add(builder, _lanes(context, builder, sig.args[3], second, second_start), second_weight, product)
        return context.get_dummy_value()

    return signature, codegen
