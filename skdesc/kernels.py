"""Old path of the structure kernel, kept importable: the code now lives in :mod:`skdesc.models`."""

from .models._structure_kernel import (
    DEFAULT_BLOCK_ATOMS,
    StructureKernel,
    gram_from_values,
    normalized_rows,
    structure_kernel,
)

__all__ = ["StructureKernel", "structure_kernel"]
