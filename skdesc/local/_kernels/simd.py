"""Four-lane vector values for numba kernels, written as LLVM intrinsics.

numba leaves LLVM's SLP vectoriser off, and its loop vectoriser processes
16 doubles per iteration on AVX2 and AVX-512 machines, so short loops (the
8 radial functions of one (l, m) row, a tile of a small matrix product) run
scalar.  :data:`vector4` is a numba type whose values are one LLVM
``<4 x double>`` (one AVX register, two SSE/NEON registers): kernels hold
them in local variables, which LLVM keeps in registers, and combine them
with the lane-wise operations below.  ``multiply_add4`` and its scalar twin
``multiply_add`` are ``llvm.fmuladd``: fused into one rounding where the CPU
has FMA instructions, the same way in a lane and in a scalar.

They do no bounds checks: the caller guarantees ``index + 4 <= size`` for
every access.
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


def _broadcast(builder, x):
    """The scalar ``x`` in every lane."""
    single = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(single, single, _ZEROS)


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
    name = "llvm.fmuladd.v4f64" if kind is _VECTOR else "llvm.fmuladd.f64"
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(kind, [kind] * 3), name)
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
