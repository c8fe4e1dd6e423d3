"""Structure-level distribution functions: one histogram row per structure.

The second rung of the descriptor ladder (globally pooled structure, Pelz,
Materials Genomics, Unit 6): the total and partial radial distribution
functions and the bond-angle distribution, from the one neighbour list of each
structure (:mod:`skdesc.neighbors`) and numba histogram kernels.
"""

from .rdf import AngularDistributionFunction, PartialRadialDistributionFunction, RadialDistributionFunction

__all__ = ["AngularDistributionFunction", "PartialRadialDistributionFunction", "RadialDistributionFunction"]
