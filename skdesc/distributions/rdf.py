"""Radial and angular distribution functions of whole structures (the second rung of the descriptor ladder)."""

import math
from numbers import Real

import numpy as np

from .._param_validation import Interval, Options
from ..elements import SPECIES_CONSTRAINT, resolve_species
from ..structures import atomic_symbol
from ._base import DistributionFunction, _label
from ._kernels import TAIL, angle_histogram_kernel, pair_histogram_kernel

__all__ = ["AngularDistributionFunction", "PartialRadialDistributionFunction", "RadialDistributionFunction"]

_RADIAL_NORMALIZATIONS = ("rdf", "pair_density", "count")


class _RadialBase(DistributionFunction):
    """Binning, cutoff and normalisation shared by the total and partial RDF."""

    _parameter_constraints = {
        "r_cut": [Interval(Real, 0, None, closed="neither")],
        "normalization": [Options(str, _RADIAL_NORMALIZATIONS)],
    }
    _citations = ("schutt2014",)

    def _cutoff(self):
        # a smeared distance just beyond r_cut still adds to the last bins
        return float(self.r_cut) + (TAIL * float(self.smearing) if self.smearing > 0 else 0.0)

    def _pair_counts(self, batch, neighbors, n_species, partial):
        n_structures = len(batch.offsets) - 1
        n_groups = n_species * (n_species + 1) // 2 if partial else 1
        counts = np.zeros((n_structures, n_groups, self.n_bins_))
        pair_histogram_kernel(
            batch.offsets,
            neighbors.first,
            neighbors.index,
            neighbors.distances,
            batch.species_index,
            n_species,
            partial,
            float(self.bin_width_),
            int(self.n_bins_),
            float(self.smearing),
            counts,
        )
        return counts

    def _shells(self):
        edges = self.bin_edges_
        return 4.0 / 3.0 * math.pi * (edges[1:] ** 3 - edges[:-1] ** 3)

    def _volumes(self, batch, start):
        volume = np.abs(np.linalg.det(batch.cells))
        lengths = np.linalg.norm(batch.cells, axis=2).max(axis=1)
        empty = np.flatnonzero(~(volume > 1e-9 * np.maximum(lengths, 1.0) ** 3))
        if empty.size:
            raise ValueError(
                f"structure {start + int(empty[0])} has no cell volume (a molecule without a box?): "
                "normalization='rdf' needs the number density N/V; give the structure a cell, or use "
                "normalization='pair_density' or 'count'"
            )
        return volume

    def _normalize(self, counts, centres, others, volume):
        """counts (n_structures, n_groups, n_bins) of pairs (A centres, B neighbours) -> the chosen normalisation."""
        if self.normalization == "count":
            scale = np.divide(1.0, centres, out=np.zeros_like(centres), where=centres > 0)
            return counts * scale[:, :, None]
        if self.normalization == "pair_density":
            scale = np.divide(1.0, centres, out=np.zeros_like(centres), where=centres > 0)
            return counts * scale[:, :, None] / self._shells()
        pairs = centres * others
        scale = np.divide(volume[:, None], pairs, out=np.zeros_like(pairs), where=pairs > 0)
        return counts * scale[:, :, None] / self._shells()


class RadialDistributionFunction(_RadialBase):
    """Total radial distribution function g(r) of each structure, binned or Gaussian-smeared.

    ``g(r) = V / (N^2 4 pi r^2) sum_i sum_{j != i} delta(r - r_ij)`` (Pelz,
    Materials Genomics, Unit 6, slide 9), the sum over every atom ``i`` of a
    structure of ``N`` atoms and cell volume ``V`` and every other atom or
    periodic image ``j``, averaged over each bin: bin ``b`` of width
    ``w`` covers ``[b w, (b + 1) w)`` and holds
    ``g_b = V n_b / (N^2 (4 pi / 3) ((b + 1)^3 - b^3) w^3)``, with ``n_b`` the
    number of ordered pairs ``(i, j)`` whose distance falls in the bin.  For
    a homogeneous periodic structure g(r) tends to 1 at large ``r``; it is
    the same for a cell and any supercell of it.  With ``smearing = s > 0``
    each distance is a normalised Gaussian of standard deviation ``s`` (Å)
    and ``n_b`` is its integral over the bin.

    Parameters
    ----------
    r_cut : float, default=6.0
        Upper end of the histogram, in Å (the neighbour cutoff; with smearing
        the list reaches ``8 smearing`` further, so the last bins get the
        tails of the Gaussians beyond ``r_cut``).
    bin_width : float, default=0.1
        Bin width in Å; ``r_cut`` must be a whole multiple of it.
    n_bins : int, default=None
        Number of bins over ``[0, r_cut]``; when given, it sets the bins and
        ``bin_width`` is ignored.
    smearing : float, default=0.0
        Standard deviation (Å) of the Gaussian of each distance; 0: a plain
        histogram.
    normalization : {"rdf", "pair_density", "count"}, default="rdf"
        ``"rdf"``: g(r) as above (dimensionless).  ``"pair_density"``:
        ``n_b / (N shell_b)``, the number density of neighbours around an
        atom in 1/Å³ (``(N / V) g(r)``; needs no volume, so it suits molecules).
        ``"count"``: ``n_b / N``, neighbours per atom in the bin (summing the
        bins up to r gives the mean coordination number within r).
    min_distance : float, default=0.1
        Atoms closer than this (Å) raise ``ValueError`` as overlapping.
    n_jobs : int, default=None
        Threads over batches of structures; results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    n_bins_ : int
    bin_width_ : float
        In Å.
    bin_edges_ : ndarray of shape (n_bins_ + 1,)
        In Å.
    feature_names_out_ : ndarray of str
        ``"rdf[<lo>-<hi>]"``, the bin edges in Å.
    n_features_out_ : int
        ``n_bins_``.

    Notes
    -----
    ``V`` is the volume of the cell, also for a structure that is not
    periodic along every axis (as matminer does); for such a structure it is
    a reference volume only (g(r) then depends on the vacuum) and
    ``normalization="pair_density"`` or ``"count"`` is the better choice.  A
    structure without a cell volume (a molecule without a box) raises
    ``ValueError`` under ``"rdf"``.  A distance within 1e-9 Å below a bin
    edge is counted in the upper bin, so distances on an edge (symmetric
    crystals) fall into the same bin whatever the rounding of the positions.

    matminer's ``RadialDistributionFunction(cutoff, bin_size)`` divides the
    histogram by the shells and by ``N / V`` only, so it equals ``N g(r)``
    (not the physical g(r), and it grows with the size of the cell for the
    same crystal).

    References
    ----------
    K. T. Schütt, H. Glawe, F. Brockherde, A. Sanna, K. R. Müller and
    E. K. U. Gross, "How to represent crystal structures for machine
    learning: Towards fast prediction of electronic properties", Phys. Rev. B
    89, 205118 (2014), doi:10.1103/PhysRevB.89.205118 (radial distribution
    functions as crystal descriptors).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import RadialDistributionFunction
    >>> rdf = RadialDistributionFunction(r_cut=3.0, bin_width=0.5)
    >>> rdf.fit_transform([bulk("Cu", "fcc", a=3.6)]).round(3)  # 12 neighbours at 2.55 Å
    array([[0.   , 0.   , 0.   , 0.   , 0.   , 2.938]])
    """

    def __init__(
        self,
        r_cut=6.0,
        bin_width=0.1,
        n_bins=None,
        smearing=0.0,
        normalization="rdf",
        min_distance=0.1,
        n_jobs=None,
        verbose=0,
    ):
        self.r_cut = r_cut
        self.bin_width = bin_width
        self.n_bins = n_bins
        self.smearing = smearing
        self.normalization = normalization
        self.min_distance = min_distance
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _setup(self):
        n_bins, width = self._bins()
        return [f"rdf[{_label(b * width)}-{_label((b + 1) * width)}]" for b in range(n_bins)]

    def _fill(self, batch, neighbors, out, start):
        counts = self._pair_counts(batch, neighbors, 1, False)
        atoms = np.diff(batch.offsets).astype(np.float64)[:, None]
        volume = self._volumes(batch, start) if self.normalization == "rdf" else None
        out[:] = self._normalize(counts, atoms, atoms, volume)[:, 0]


class PartialRadialDistributionFunction(_RadialBase):
    """Partial radial distribution functions g_AB(r) of each element pair, binned or smeared.

    For elements ``A <= B`` (``species_`` order) of a structure with
    ``N_A``, ``N_B`` atoms and cell volume ``V`` (Pelz, Materials Genomics,
    Unit 6, slide 9; Schütt et al. 2014)::

        g_AB(r) = V / (N_A N_B 4 pi r^2) sum_{i in A} sum_{j in B, j != i} delta(r - r_ij)

    averaged over each bin as in :class:`RadialDistributionFunction`, so
    ``g_AB = g_BA`` tends to 1 at large ``r`` in a homogeneous periodic
    structure and the total RDF is ``g = sum_AB x_A x_B g_AB`` over ordered
    pairs (``x_A = N_A / N``).  An element absent from a structure gives
    zeros in its pairs (never NaN).  ``S`` elements give ``S (S + 1) / 2``
    blocks of ``n_bins_`` values, pairs in the order (A1, A1), (A1, A2), ...,
    (A2, A2), ...

    Parameters
    ----------
    species : list of str or int, default=None
        Elements and their order; ``None`` learns the elements of the
        training structures in ``fit``, sorted by atomic number.
    r_cut, bin_width, n_bins, smearing
        As in :class:`RadialDistributionFunction`.
    normalization : {"rdf", "pair_density", "count"}, default="rdf"
        ``"rdf"``: g_AB(r) above (dimensionless).  ``"pair_density"``:
        ``n_AB,b / (N_A shell_b)``, the number density (1/Å³) of B atoms
        around an A atom, i.e. ``(N_B / V) g_AB``: matminer's
        ``PartialRadialDistributionFunction`` convention, for the pair
        (A, B) with A the centre.  ``"count"``: ``n_AB,b / N_A``, B
        neighbours per A atom in the bin.  The last two are not symmetric in
        A and B; the pair (A, B) with ``A <= B`` is kept.
    min_distance, n_jobs, verbose
        As in :class:`RadialDistributionFunction`.
    handle_unknown : {"error", "ignore"}, default="error"
        Elements unseen in ``fit``: raise, or leave those atoms out (as
        centres, as neighbours and from ``N_A``).

    Attributes
    ----------
    species_ : tuple of int
    n_bins_, bin_width_, bin_edges_
        As in :class:`RadialDistributionFunction`.
    feature_names_out_ : ndarray of str
        ``"prdf[<A>-<B>,<lo>-<hi>]"``.
    n_features_out_ : int
        ``S (S + 1) / 2 n_bins_``.

    Notes
    -----
    The volume and bin-edge conventions are those of
    :class:`RadialDistributionFunction`.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import PartialRadialDistributionFunction
    >>> prdf = PartialRadialDistributionFunction(r_cut=4.0, bin_width=1.0)
    >>> prdf.fit_transform([bulk("NaCl", "rocksalt", a=5.64)]).round(2)  # Na-Cl at 2.82 Å, like pairs at 3.99 Å
    array([[0.  , 0.  , 0.  , 3.47, 0.  , 0.  , 3.38, 0.  , 0.  , 0.  , 0.  ,
            3.47]])
    """

    _parameter_constraints = {
        "species": SPECIES_CONSTRAINT,
        "handle_unknown": [Options(str, ("error", "ignore"))],
    }

    def __init__(
        self,
        species=None,
        r_cut=6.0,
        bin_width=0.1,
        n_bins=None,
        smearing=0.0,
        normalization="rdf",
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.r_cut = r_cut
        self.bin_width = bin_width
        self.n_bins = n_bins
        self.smearing = smearing
        self.normalization = normalization
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _learn_species(self, numbers, offsets):
        species = resolve_species(self.species, np.unique(numbers))
        if self.species is not None:
            self._check_unknown(numbers, offsets, species, "species")
        return species

    def _lookup(self):
        lookup = np.full(119, -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        return lookup

    def pairs(self):
        """The element pairs of the blocks, in order: list of (A, B) symbols."""
        self._check_fitted("species_")
        return self._pairs()

    def _pairs(self):
        symbols = [atomic_symbol(z) for z in self.species_]
        return [(symbols[a], symbols[b]) for a in range(len(symbols)) for b in range(a, len(symbols))]

    def _setup(self):
        n_bins, width = self._bins()
        return [
            f"prdf[{a}-{b},{_label(k * width)}-{_label((k + 1) * width)}]"
            for a, b in self._pairs()
            for k in range(n_bins)
        ]

    def _fill(self, batch, neighbors, out, start):
        n_species = len(self.species_)
        if len(batch.species_index) and batch.species_index.max() >= n_species:
            raise ValueError("internal shape check failed: an atom's element is outside the fitted species")
        counts = self._pair_counts(batch, neighbors, n_species, True)
        n_structures = len(batch.offsets) - 1
        row = np.repeat(np.arange(n_structures), np.diff(batch.offsets))
        per_element = np.bincount(row * n_species + batch.species_index, minlength=n_structures * n_species)
        per_element = per_element.reshape(n_structures, n_species).astype(np.float64)
        first, second = np.triu_indices(n_species)
        volume = self._volumes(batch, start) if self.normalization == "rdf" else None
        values = self._normalize(counts, per_element[:, first], per_element[:, second], volume)
        out[:] = values.reshape(n_structures, -1)


class AngularDistributionFunction(DistributionFunction):
    """Bond-angle distribution of each structure: the angles theta_jik between neighbours within a cutoff.

    For every atom ``i`` and every unordered pair ``j < k`` of its neighbours
    with ``r_ij, r_ik < r_cut`` (periodic images included), ``theta_jik`` is
    the angle in degrees between ``r_j - r_i`` and ``r_k - r_i`` (Pelz,
    Materials Genomics, Unit 6, slide 10: bond-angle distributions; the
    structure-level counterpart of :class:`~skdesc.BondAngleStatistics`).
    The angles of the whole structure are histogrammed over [0°, 180°] in
    bins ``[b w, (b + 1) w)`` (180° in the last bin) or, with
    ``smearing = s > 0``, each angle is a Gaussian of standard deviation
    ``s`` degrees reflected at 0° and 180° (so every angle still weighs 1
    inside [0°, 180°]; meant for ``s`` well below 180°), integrated over each
    bin.  Tetrahedral sites give 109.47°, octahedral ones 90° and 180°, fcc
    60°, 90°, 120° and 180°.

    Parameters
    ----------
    r_cut : float, default=3.0
        Bond cutoff in Å; choose it between the first and second coordination
        shells (the first minimum of g(r)).
    bin_width : float, default=5.0
        Bin width in degrees; 180 must be a whole multiple of it.
    n_bins : int, default=None
        Number of bins over [0°, 180°]; when given, ``bin_width`` is ignored.
    smearing : float, default=0.0
        Standard deviation of the Gaussian of each angle, in degrees; 0: a
        plain histogram.
    normalization : {"density", "count"}, default="density"
        ``"density"``: the probability density of the angles, in 1/degree
        (the bins times ``bin_width_`` sum to 1; all zeros for a structure
        without any angle).  ``"count"``: angles per atom in each bin.
    min_distance, n_jobs, verbose
        As in :class:`RadialDistributionFunction`.

    Attributes
    ----------
    n_bins_ : int
    bin_width_ : float
        In degrees.
    bin_edges_ : ndarray of shape (n_bins_ + 1,)
        In degrees.
    feature_names_out_ : ndarray of str
        ``"adf[<lo>-<hi>]"``, the bin edges in degrees.
    n_features_out_ : int
        ``n_bins_``.

    Notes
    -----
    An angle within 1e-9° below a bin edge is counted in the upper bin (the
    90° of a cubic crystal falls into the same bin whatever the rounding).

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import AngularDistributionFunction
    >>> adf = AngularDistributionFunction(r_cut=1.2, bin_width=30.0, normalization="count")
    >>> adf.fit_transform([molecule("CH4")])  # 6 H-C-H angles of 109.47° at the C atom, over 5 atoms
    array([[0. , 0. , 0. , 1.2, 0. , 0. ]])
    """

    _range_name = "180°"
    _unit = "degrees"

    _parameter_constraints = {
        "r_cut": [Interval(Real, 0, None, closed="neither")],
        "normalization": [Options(str, ("density", "count"))],
    }

    def __init__(
        self,
        r_cut=3.0,
        bin_width=5.0,
        n_bins=None,
        smearing=0.0,
        normalization="density",
        min_distance=0.1,
        n_jobs=None,
        verbose=0,
    ):
        self.r_cut = r_cut
        self.bin_width = bin_width
        self.n_bins = n_bins
        self.smearing = smearing
        self.normalization = normalization
        self.min_distance = min_distance
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _upper(self):
        return 180.0

    def _angular_request(self):
        return {"angular": float(self.r_cut), "angular_name": "r_cut"}

    def _setup(self):
        n_bins, width = self._bins()
        return [f"adf[{_label(b * width)}-{_label((b + 1) * width)}]" for b in range(n_bins)]

    def _fill(self, batch, neighbors, out, start):
        n_structures = len(batch.offsets) - 1
        counts = np.zeros((n_structures, self.n_bins_))
        triplets = np.zeros(n_structures)
        angle_histogram_kernel(
            batch.offsets,
            neighbors.first,
            neighbors.vectors,
            neighbors.distances,
            float(self.bin_width_),
            int(self.n_bins_),
            float(self.smearing),
            counts,
            triplets,
        )
        if self.normalization == "count":
            total = np.diff(batch.offsets).astype(np.float64)
        else:
            total = triplets * self.bin_width_
        scale = np.divide(1.0, total, out=np.zeros_like(total), where=total > 0)
        out[:] = counts * scale[:, None]
