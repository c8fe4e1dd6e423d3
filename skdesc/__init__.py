"""skdesc: atomic-structure descriptors as scikit-learn transformers."""

from ._config import config_context, get_config, set_config
from ._discovery import all_estimators
from .atomic import AtomicDerivatives, AtomicFeatures
from .composition import ElementFractions
from .local import (
    ACSF,
    SOAP,
    SOAPBispectrum,
    BondAngleStatistics,
    BondLengthStatistics,
    CartesianInvariants,
    ChebyshevLAED,
    CompressedSOAP,
    CoordinationNumber,
    VoronoiCellStatistics,
)
from .models import StructureKernel, StructureKernelRidge, structure_kernel
from .neighbors import neighbor_list
from .pooling import (
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    MomentGSD,
    SpeciesPooling,
    StatisticPooling,
    SumPooling,
    gsd_space,
)
from .selection import FunctionalIndependenceSelector
from .structures import Frame, to_frames

# old module paths (thin shims), still reachable as attributes of the package
from . import derivatives, independence, kernels, regression  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "ACSF",
    "AtomicDerivatives",
    "AtomicFeatures",
    "BondAngleStatistics",
    "BondLengthStatistics",
    "CartesianInvariants",
    "ChebyshevLAED",
    "CompressedSOAP",
    "CoordinationNumber",
    "ElementFractions",
    "Frame",
    "FunctionalIndependenceSelector",
    "HistogramPooling",
    "MaxPooling",
    "MeanPooling",
    "MinPooling",
    "MomentGSD",
    "SOAP",
    "SOAPBispectrum",
    "SpeciesPooling",
    "StatisticPooling",
    "StructureKernel",
    "StructureKernelRidge",
    "SumPooling",
    "VoronoiCellStatistics",
    "all_estimators",
    "config_context",
    "get_config",
    "gsd_space",
    "neighbor_list",
    "set_config",
    "structure_kernel",
    "to_frames",
]
