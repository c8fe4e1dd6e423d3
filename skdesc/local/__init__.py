"""Local atomic environment descriptors (one vector per atom)."""

from ._projection import gram_from_projection
from .acsf import ACSF
from .base import LocalDescriptor, NeighborRequest, all_descriptors
from .cartesian import CartesianInvariants
from .bispectrum import SOAPBispectrum
from .chebyshev import ChebyshevLAED
from .geometric import BondAngleStatistics, BondLengthStatistics, CoordinationNumber
from .soap import SOAP, CompressedSOAP
from .voronoi import VoronoiCellStatistics

__all__ = [
    "LocalDescriptor",
    "NeighborRequest",
    "all_descriptors",
    "ACSF",
    "BondAngleStatistics",
    "BondLengthStatistics",
    "CartesianInvariants",
    "ChebyshevLAED",
    "CompressedSOAP",
    "CoordinationNumber",
    "SOAP",
    "SOAPBispectrum",
    "VoronoiCellStatistics",
    "gram_from_projection",
]
