"""skdesc: atomic-structure descriptors as scikit-learn transformers."""

from .atomic import AtomicFeatures
from .derivatives import AtomicDerivatives
from .independence import FunctionalIndependenceSelector
from .local import ACSF, SOAP, ChebyshevLAED, CompressedSOAP
from .neighbors import neighbor_list
from .pooling import MomentGSD, gsd_space
from .structures import Frame, to_frames

__version__ = "0.1.0"

__all__ = [
    "ACSF",
    "AtomicDerivatives",
    "AtomicFeatures",
    "ChebyshevLAED",
    "CompressedSOAP",
    "Frame",
    "FunctionalIndependenceSelector",
    "MomentGSD",
    "SOAP",
    "gsd_space",
    "neighbor_list",
    "to_frames",
]

# pooling rules, geometric LAEDs, structure kernel (issue 5)
from .kernels import StructureKernel, structure_kernel  # noqa: E402
from .local import BondAngleStatistics, BondLengthStatistics, CoordinationNumber  # noqa: E402
from .pooling import (  # noqa: E402
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    SpeciesPooling,
    StatisticPooling,
    SumPooling,
)
from .regression import StructureKernelRidge  # noqa: E402

__all__ += [
    "BondAngleStatistics",
    "BondLengthStatistics",
    "CoordinationNumber",
    "HistogramPooling",
    "MaxPooling",
    "MeanPooling",
    "MinPooling",
    "SpeciesPooling",
    "StatisticPooling",
    "StructureKernel",
    "StructureKernelRidge",
    "SumPooling",
    "structure_kernel",
]
