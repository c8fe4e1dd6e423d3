"""Old path of the structure-kernel ridge regression, kept importable: the code now lives in :mod:`skdesc.models`."""

from .models._kernel_ridge import StructureKernelRidge

__all__ = ["StructureKernelRidge"]
