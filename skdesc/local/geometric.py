"""Simple geometric LAEDs: coordination numbers, bond-length and bond-angle statistics.

The "simple geometry" rung of the descriptor ladder (Pelz, Materials Genomics, Unit 6, §C): a few
interpretable numbers per atom, computed from the one neighbour list of each
structure.  Neighbours of atom i are all atoms (periodic images included) with
``0 < r_ij < cutoff``.
"""

from numbers import Integral, Real

from .._param_validation import Interval
from .._validation import check_shape
from ..structures import atomic_symbol
from ._kernels.geometric import (
    bond_angle_kernel,
    bond_length_kernel,
    coordination_kernel,
)
from .base import LocalDescriptor, NeighborRequest

__all__ = ["BondAngleStatistics", "BondLengthStatistics", "CoordinationNumber"]


class _GeometricDescriptor(LocalDescriptor):
    """Shared constructor arguments and batch arrays of the geometric LAEDs."""

    # per_element: CoordinationNumber and BondLengthStatistics
    _parameter_constraints = {"cutoff": [Interval(Real, 0, None, closed="neither")], "per_element": ["boolean"]}

    def _groups(self):
        """Labels of the neighbour groups: ``all`` then one per element."""
        labels = ["all"]
        if self.per_element:
            labels += [f"el={atomic_symbol(z)}" for z in self.species_]
        return labels

    # counts, extrema and histograms are not smooth functions of the positions
    _supports_gradients = False

    def _neighbor_request(self):
        return NeighborRequest(cutoff=float(self.cutoff), cutoff_name="cutoff")

    def _check_output(self, batch, values):
        check_shape(values, (len(batch.species_index), self.n_features_out_), f"{type(self).__name__} output")
        # the kernels size their output from the current parameters: a change after fit must not write
        # a different layout into the fitted columns
        if len(self._setup()) != self.n_features_out_:
            raise ValueError(
                f"internal shape check failed: {type(self).__name__}'s parameters now give "
                f"{len(self._setup())} features, fit learned {self.n_features_out_}; call fit again"
            )
        if len(batch.species_index) and batch.species_index.max() >= len(self.species_):
            raise ValueError("internal shape check failed: an atom's element is outside the fitted species")


class CoordinationNumber(_GeometricDescriptor):
    """Number of neighbours of each atom within a cutoff, in total and per element.

    ``N_i = sum_j s(r_ij)`` and ``N_i,A = sum_{j: Z_j = A} s(r_ij)`` (Pelz,
    Materials Genomics, Unit 6, slide 20).  With ``smooth_width = 0`` the switch is the hard step
    ``s(r) = 1[r < cutoff]`` (integer counts); with ``smooth_width = w > 0``,
    ``s(r) = 1`` for ``r <= cutoff - w`` and ``(cos(pi (r - cutoff + w) / w) + 1) / 2``
    up to the cutoff, so the count is continuous in the positions.
    ``smooth_width = cutoff`` is the Behler cosine cutoff function over the whole
    sphere.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order of the per-element counts; ``None`` learns the sorted
        atomic numbers in ``fit``.
    cutoff : float, default=3.0
        Neighbour cutoff in Å.  Choose it between the first and second
        coordination shells (e.g. the first minimum of the radial distribution).
    smooth_width : float, default=0.0
        Width (Å) of the cosine taper below the cutoff; 0 gives integer counts.
    per_element : bool, default=True
        Append one count per element of ``species_`` after the total.
    min_distance : float, default=0.1
        Atoms closer than this (Å) raise ``ValueError`` as overlapping.
    handle_unknown : {"error", "ignore"}, default="error"
        Elements unseen in ``fit``: raise, or drop those atoms.
    n_jobs : int, default=None
        Threads over batches of structures; results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    species_ : tuple of int
    n_features_out_ : int
        ``1 + n_species`` with ``per_element``, else 1.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import CoordinationNumber
    >>> CoordinationNumber(cutoff=3.0).fit_transform([bulk("Cu", "fcc", a=3.6)]).values
    array([[12., 12.]])
    """

    _cli_name = "coordination"

    _parameter_constraints = {"smooth_width": [Interval(Real, 0, None, closed="left")]}

    def __init__(
        self,
        species=None,
        cutoff=3.0,
        smooth_width=0.0,
        per_element=True,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.cutoff = cutoff
        self.smooth_width = smooth_width
        self.per_element = per_element
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.smooth_width > self.cutoff:
            raise ValueError(f"smooth_width ({self.smooth_width} Å) must not exceed cutoff ({self.cutoff} Å)")

    def _setup(self):
        return [f"cn[{g}]" for g in self._groups()]

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        self._check_output(batch, values)
        coordination_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.distances,
            batch.species_index,
            bool(self.per_element),
            float(self.cutoff),
            float(self.smooth_width),
            values,
        )


class BondLengthStatistics(_GeometricDescriptor):
    """Count, min, max, mean and standard deviation of each atom's bond lengths.

    For atom i with neighbours ``N(i) = {j : r_ij < cutoff}`` (Pelz, Materials
    Genomics, Unit 6, slide 22): ``[count, min r_ij, max r_ij, mean r_ij, std r_ij]`` with the
    population standard deviation ``sqrt(mean (r_ij - mean)^2)``, in Å (count
    dimensionless), then the same five for the neighbours of each element of
    ``species_``.  An atom with no neighbour in a group gets count 0 and all
    four statistics 0 for that group (never NaN): read the statistics together
    with the count.  The mean tracks strain, the standard deviation disorder
    and Jahn-Teller-like distortions at fixed mean.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order of the per-element blocks.
    cutoff : float, default=3.0
        Neighbour cutoff in Å.
    per_element : bool, default=True
        Append the per-neighbour-element blocks after the ``all`` block.
    min_distance, handle_unknown, n_jobs, verbose
        As in :class:`CoordinationNumber`.

    Attributes
    ----------
    species_ : tuple of int
    n_features_out_ : int
        ``5 (1 + n_species)`` with ``per_element``, else 5.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import BondLengthStatistics
    >>> laed = BondLengthStatistics(cutoff=3.0, per_element=False)
    >>> laed.fit_transform([bulk("Cu", "fcc", a=3.6)]).values.round(4)
    array([[12.    ,  2.5456,  2.5456,  2.5456,  0.    ]])
    """

    _cli_name = "bond-lengths"

    _STATS = ("count", "min", "max", "mean", "std")

    def __init__(
        self,
        species=None,
        cutoff=3.0,
        per_element=True,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.cutoff = cutoff
        self.per_element = per_element
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _setup(self):
        return [f"bond[{g},{stat}]" for g in self._groups() for stat in self._STATS]

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        self._check_output(batch, values)
        bond_length_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.distances,
            batch.species_index,
            len(self.species_),
            bool(self.per_element),
            values,
        )


class BondAngleStatistics(_GeometricDescriptor):
    """Statistics of the bond angles theta_jik at each atom, optionally a cos-theta histogram.

    For atom i and every unordered pair of neighbours ``j < k`` within the
    cutoff (Pelz, Materials Genomics, Unit 6, slide 23), ``theta_jik`` is the angle between
    ``r_j - r_i`` and ``r_k - r_i`` in degrees.  Per atom:
    ``[count, mean, std, min, max]`` of the angles (count = number of pairs,
    ``n (n - 1) / 2`` for n neighbours; population std), then, if
    ``n_bins > 0``, the fraction of pairs whose ``cos theta`` falls in each of
    ``n_bins`` equal bins over [-1, 1] (bin 0 starts at cos = -1, i.e. 180°).
    Bin b holds ``-1 + 2 b / n_bins - 1e-6 <= cos theta < -1 + 2 (b + 1) /
    n_bins - 1e-6``: a cosine on an edge, as symmetric structures give (cos
    90° = 0, cos 60° = 0.5), counts in the upper bin however the positions
    were rounded (equivalent cells, wrapped or shifted positions, rotations).
    With ``per_element_pair`` the same block follows for each unordered pair
    of neighbour elements (A, B), A <= B in the ``species_`` order.  An atom
    with fewer than two neighbours in a group gets zeros (count 0) there,
    never NaN.  Tetrahedral sites give 109.47°, octahedral ones 90° and 180°.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order of the per-pair blocks.
    cutoff : float, default=3.0
        Neighbour cutoff in Å.
    n_bins : int, default=0
        Number of cos-theta bins per block (0: no histogram).
    per_element_pair : bool, default=False
        Append one block per unordered neighbour-element pair.
    min_distance, handle_unknown, n_jobs, verbose
        As in :class:`CoordinationNumber`.

    Attributes
    ----------
    species_ : tuple of int
    n_features_out_ : int
        ``(5 + n_bins) (1 + S (S + 1) / 2)`` with ``per_element_pair`` (S
        elements), else ``5 + n_bins``.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import BondAngleStatistics
    >>> laed = BondAngleStatistics(cutoff=1.2)
    >>> laed.fit_transform([molecule("CH4")]).values[0].round(2)
    array([  6.  , 109.47,   0.  , 109.47, 109.47])
    """

    _cli_name = "bond-angles"

    _STATS = ("count", "mean", "std", "min", "max")
    _parameter_constraints = {
        "n_bins": [Interval(Integral, 0, None, closed="left")],
        "per_element_pair": ["boolean"],
    }

    def __init__(
        self,
        species=None,
        cutoff=3.0,
        n_bins=0,
        per_element_pair=False,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.cutoff = cutoff
        self.n_bins = n_bins
        self.per_element_pair = per_element_pair
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _groups(self):
        labels = ["all"]
        if self.per_element_pair:
            symbols = [atomic_symbol(z) for z in self.species_]
            for x in range(len(symbols)):
                labels += [f"{symbols[x]}-{symbols[y]}" for y in range(x, len(symbols))]
        return labels

    def _setup(self):
        names = []
        for g in self._groups():
            names += [f"angle[{g},{stat}]" for stat in self._STATS]
            names += [f"angle[{g},cos_bin={b}]" for b in range(int(self.n_bins))]
        return names

    def _neighbor_request(self):
        # the kernel keeps angle, cosine and group (8 bytes each) of every neighbour pair of a centre
        cutoff = float(self.cutoff)
        return NeighborRequest(cutoff=cutoff, cutoff_name="cutoff", angular=cutoff, angular_name="cutoff", scratch=24)

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        self._check_output(batch, values)
        bond_angle_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            batch.species_index,
            len(self.species_),
            bool(self.per_element_pair),
            int(self.n_bins),
            values,
        )
