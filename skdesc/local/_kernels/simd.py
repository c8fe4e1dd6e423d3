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
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

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


# ------------------------------------------------------------------ vector values
# A numba type whose values are one LLVM <4 x double>: kernels hold them in
# local variables, which LLVM keeps in registers, so a loop can carry a tile
# of accumulators without touching memory.


class Vector4Type(types.Type):
    """Four float64 lanes held as one LLVM vector value (one AVX register)."""

    def __init__(self):
        super().__init__(name="vector4_float64")


vector4 = Vector4Type()


@register_model(Vector4Type)
class _Vector4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VECTOR)


def _element(context, builder, array_type, array, index):
    """Pointer to ``array.ravel()[index]`` (no wraparound, no bounds check)."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [index])


@intrinsic
def load4(typingctx, array, index):
    """``array[index : index + 4]`` of a C-contiguous float64 vector, as one vector value."""
    _check_types((array,), (index,), ())

    def codegen(context, builder, sig, args):
        pointer = builder.bitcast(_element(context, builder, sig.args[0], *args), _VECTOR.as_pointer())
        return builder.load(pointer, align=8)

    return vector4(array, index), codegen


@intrinsic
def store4(typingctx, array, index, value):
    """``array[index : index + 4] = value``."""
    _check_types((array,), (index,), ())
    if value != vector4:
        raise TypeError(f"expected a vector4 value, got {value}")

    def codegen(context, builder, sig, args):
        pointer = builder.bitcast(_element(context, builder, sig.args[0], args[0], args[1]), _VECTOR.as_pointer())
        builder.store(args[2], pointer, align=8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@intrinsic
def splat4(typingctx, array, index):
    """``array[index]`` in all four lanes."""
    _check_types((array,), (index,), ())

    def codegen(context, builder, sig, args):
        return _broadcast(builder, builder.load(_element(context, builder, sig.args[0], *args), align=8))

    return vector4(array, index), codegen


@intrinsic
def zeros4(typingctx):
    """Four zeros."""

    def codegen(context, builder, sig, args):
        return ir.Constant(_VECTOR, [0.0] * _LANES)

    return vector4(), codegen


def _fmuladd(builder, a, b, c, kind):
    """``a * b + c``: LLVM fuses it into one rounding where the CPU has FMA instructions."""
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(kind, [kind] * 3), f"llvm.fmuladd.{'v4f64' if kind is _VECTOR else 'f64'}")
    return builder.call(function, [a, b, c])


@intrinsic
def multiply_add4(typingctx, total, a, b):
    """``total + a * b`` lane by lane, rounded as :func:`multiply_add` rounds each lane."""
    for value in (total, a, b):
        if value != vector4:
            raise TypeError(f"expected vector4 values, got {value}")

    def codegen(context, builder, sig, args):
        return _fmuladd(builder, args[1], args[2], args[0], _VECTOR)

    return vector4(vector4, vector4, vector4), codegen


@intrinsic
def multiply_add(typingctx, total, a, b):
    """``total + a * b`` for float64 scalars, fused exactly where :func:`multiply_add4` is."""
    _check_types((), (), (total, a, b))

    def codegen(context, builder, sig, args):
        return _fmuladd(builder, args[1], args[2], args[0], ir.DoubleType())

    return types.float64(types.float64, types.float64, types.float64), codegen


def _lane_op(name, doc):
    """An intrinsic ``name(a, b)``: the IEEE operation lane by lane (no fusing, no reassociation)."""

    def typer(typingctx, a, b):
        if a != vector4 or b != vector4:
            raise TypeError(f"expected vector4 values, got {a} and {b}")

        def codegen(context, builder, sig, args):
            return getattr(builder, name)(args[0], args[1])

        return vector4(vector4, vector4), codegen

    typer.__name__ = f"{name[1:]}4"
    typer.__doc__ = doc
    return intrinsic(typer)


add4 = _lane_op("fadd", "``a + b`` lane by lane.")
sub4 = _lane_op("fsub", "``a - b`` lane by lane.")
mul4 = _lane_op("fmul", "``a * b`` lane by lane.")


@intrinsic
def broadcast4(typingctx, x):
    """The float64 scalar ``x`` in all four lanes."""
    _check_types((), (), (x,))

    def codegen(context, builder, sig, args):
        return _broadcast(builder, args[0])

    return vector4(types.float64), codegen
