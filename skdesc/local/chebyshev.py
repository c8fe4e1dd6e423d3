"""The Artrith-Urban Chebyshev descriptor, as aenet computes it."""

from numbers import Integral, Real

import numpy as np

from .._param_validation import Interval
from ..elements import ELEMENT_WEIGHTS_CONSTRAINT, resolve_element_weights
from ._kernels.chebyshev import chebyshev_kernel
from .._validation import check_shape
from .base import LocalDescriptor, NeighborRequest

__all__ = ["ChebyshevLAED"]


class ChebyshevLAED(LocalDescriptor):
    """Chebyshev expansion of the radial and angular distribution functions.

    The descriptor of Artrith, Urban & Ceder, PRB 96, 014112 (2017), with the
    conventions of aenet (reproduces its Fortran ``generate.x`` to 1e-10).
    For atom i with neighbours j, k (distance ``min_cutoff < r <= cutoff``):

    * radial: ``G_n = sum_j T_n(2 r_ij / R_rad - 1) f_c(r_ij)``, n = 0..rad_order;
    * angular: ``A_n = sum_{j<k} T_n(cos theta_ijk) f_c(r_ij) f_c(r_ik)``,
      n = 0..ang_order, with both neighbours inside ``ang_cutoff``;
    * with two or more elements, element-weighted copies
      ``sum_j w_j G`` and ``sum_{j<k} w_j w_k A`` follow.

    ``f_c(r) = (cos(pi r / R) + 1) / 2`` and ``T_n`` are Chebyshev polynomials
    of the first kind.  The feature layout is ``[radial, angular,
    radial_weighted, angular_weighted]``: ``(rad_order + 1) + (ang_order + 1)``
    features for one element, twice that otherwise.  The dimension does not
    grow with the number of elements.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order.  ``None`` learns the sorted atomic numbers in ``fit``.
        The order matters only for the default ``element_weights``.
    rad_cutoff : float, default=6.0
        Radial cutoff in Å.
    rad_order : int, default=19
        Highest Chebyshev order of the radial expansion (``rad_order + 1``
        functions).
    ang_cutoff : float, default=3.0
        Angular cutoff in Å, at most ``rad_cutoff``.
    ang_order : int, default=5
        Highest Chebyshev order of the angular expansion.
    element_weights : dict or sequence, default=None
        Weight of each element in the weighted blocks: a mapping from symbol or
        atomic number to weight, or one weight per element of ``species``.
        ``None`` gives aenet's "typespin" weights for the element order
        (-1, 1 for two elements; -1, 0, 1 for three; -2, -1, 1, 2 for four...).
    min_cutoff : float, default=0.55
        Neighbours closer than this (Å) are left out of both expansions (aenet's
        inner cutoff).
    min_distance : float, default=0.1
        Atoms closer than this (Å, periodic images included) raise
        ``ValueError`` as overlapping atoms.
    handle_unknown : {"error", "ignore"}, default="error"
        What ``transform`` does with elements that ``fit`` did not see:
        raise, or drop those atoms (as centres and as neighbours).
    n_jobs : int, default=None
        Number of threads over batches of structures (``None`` = 1, ``-1`` =
        all cores).  Results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    species_ : tuple of int
        Element order (atomic numbers).
    element_weights_ : ndarray of shape (n_species,)
        Weight of each element of ``species_``.
    n_features_out_ : int
        Number of features per atom.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import ChebyshevLAED
    >>> laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=10, ang_cutoff=1.5, ang_order=3)
    >>> laed.fit_transform([molecule("H2O")]).values.shape
    (3, 30)
    """

    _cli_name = "chebyshev"

    _parameter_constraints = {
        "rad_cutoff": [Interval(Real, 0, None, closed="neither")],
        "rad_order": [Interval(Integral, 0, None, closed="left")],
        "ang_cutoff": [Interval(Real, 0, None, closed="neither")],
        "ang_order": [Interval(Integral, 0, None, closed="left")],
        "element_weights": ELEMENT_WEIGHTS_CONSTRAINT,
        "min_cutoff": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        species=None,
        rad_cutoff=6.0,
        rad_order=19,
        ang_cutoff=3.0,
        ang_order=5,
        element_weights=None,
        min_cutoff=0.55,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.rad_cutoff = rad_cutoff
        self.rad_order = rad_order
        self.ang_cutoff = ang_cutoff
        self.ang_order = ang_order
        self.element_weights = element_weights
        self.min_cutoff = min_cutoff
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.ang_cutoff > self.rad_cutoff:
            raise ValueError(
                f"ang_cutoff ({self.ang_cutoff} Å) must not exceed rad_cutoff ({self.rad_cutoff} Å): the angular "
                "neighbours are a subset of the radial ones (aenet's convention); lower ang_cutoff or raise rad_cutoff"
            )
        if self.min_cutoff >= min(self.rad_cutoff, self.ang_cutoff):
            raise ValueError(
                f"min_cutoff ({self.min_cutoff} Å) must be smaller than rad_cutoff ({self.rad_cutoff} Å) "
                f"and ang_cutoff ({self.ang_cutoff} Å)"
            )

    _supports_gradients = True
    _citations = ("artrith2017", "artrith2016")  # keys of skdesc._bibliography.CITATIONS

    def _setup(self):
        self.element_weights_ = resolve_element_weights(self.element_weights, self.species_)
        names = [f"cheb[rad,n={n}]" for n in range(self.rad_order + 1)]
        names += [f"cheb[ang,n={n}]" for n in range(self.ang_order + 1)]
        if self._weighted:
            names += [f"cheb[rad_w,n={n}]" for n in range(self.rad_order + 1)]
            names += [f"cheb[ang_w,n={n}]" for n in range(self.ang_order + 1)]
        return names

    @property
    def _weighted(self):
        return len(self.species_) > 1

    def _neighbor_request(self):
        return NeighborRequest(
            cutoff=max(float(self.rad_cutoff), float(self.ang_cutoff)),
            cutoff_name="rad_cutoff" if self.rad_cutoff >= self.ang_cutoff else "ang_cutoff",
            angular=float(self.ang_cutoff),
            angular_name="ang_cutoff",
        )

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        # the kernel indexes the weights by each atom's element: check before the call
        check_shape(self.element_weights_, (len(self.species_),), "element_weights_")
        check_shape(values, (len(batch.species_index), 2 * (self.rad_order + self.ang_order + 2) if self._weighted
                             else self.rad_order + self.ang_order + 2), "Chebyshev output")
        gradients = pairs is not None
        if gradients:
            check_shape(dvalues, (pairs.atom.shape[0], 3, values.shape[1]), "Chebyshev derivatives")
        empty = np.zeros(0, dtype=np.int64)
        chebyshev_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            batch.species_index,
            np.ascontiguousarray(self.element_weights_, dtype=np.float64),
            float(self.rad_cutoff),
            int(self.rad_order),
            float(self.ang_cutoff),
            int(self.ang_order),
            float(self.min_cutoff),
            self._weighted,
            values,
            gradients,
            pairs.of_entry if gradients else empty,
            pairs.own if gradients else empty,
            dvalues if gradients else np.zeros((0, 3, 0)),
        )
