"""Models on per-atom descriptors: the structure kernel and kernel ridge regression of total energies."""

from ._kernel_ridge import StructureKernelRidge
from ._structure_kernel import StructureKernel, structure_kernel

__all__ = ["StructureKernel", "StructureKernelRidge", "structure_kernel"]
