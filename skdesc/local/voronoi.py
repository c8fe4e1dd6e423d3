"""Voronoi cell statistics: coordination, face areas, cell volume and neighbour chemistry per atom.

Two atoms are Voronoi neighbours when their cells share a face (Pelz,
Materials Genomics, Unit 6, §C): a neighbourhood without a radial cutoff that
adapts to the local density.  The tessellation is Qhull's (through
``scipy.spatial.Voronoi``) of the atoms of a structure and their periodic
images; the face and cell geometry is computed in a numba kernel.
"""

from itertools import chain
from numbers import Real
from operator import itemgetter

import numpy as np
from scipy.spatial import QhullError, Voronoi

from .._param_validation import Interval, Options
from .._validation import check_shape
from ..neighbors import batch_neighbor_lists
from ..structures import atomic_symbol
from ._kernels.voronoi import INDEX_BINS, cell_kernel, face_kernel
from .base import LocalDescriptor, NeighborRequest

__all__ = ["VoronoiCellStatistics"]

_STATS = ("mean", "std", "min", "max")
_INDEX_LABELS = ("<=3", "4", "5", "6", "7", "8", "9", ">=10")
# the ghost points that bound every cell: the 8 corners and 6 face centres of a cube
_GHOSTS = np.array(
    [[x, y, z] for x in (-1.0, 1.0) for y in (-1.0, 1.0) for z in (-1.0, 1.0)]
    + [[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [0, 0, 1.0], [0, 0, -1.0]]
)


class VoronoiCellStatistics(LocalDescriptor):
    """Per-atom statistics of the Voronoi cell: face coordination, face areas, volume, neighbour chemistry.

    The Voronoi cell of atom i is the region closer to i than to any other
    atom (periodic images included); atoms whose cells share a face are
    Voronoi neighbours (Pelz, Materials Genomics, Unit 6, §C; O'Keeffe 1979).
    Each cell is intersected with the sphere of radius ``R = cutoff / 2`` Å
    around its atom, which bounds the cells of surface atoms (open,
    non-periodic directions: molecules, slabs, wires) and leaves every cell
    that lies within ``R`` of its atom unchanged, as in bulk crystals.  The
    neighbour search runs to ``cutoff``: only atoms closer than ``2 R`` can cut
    a face into the sphere, so the result is exact for the bounded cell.

    A face counts as a neighbour when its area ``A_f`` (within the sphere)
    exceeds ``area_threshold`` times the cell's largest face
    (``threshold_mode="relative"``, pymatgen's ``VoronoiNN(tol=...,
    weight="area")`` convention) or ``area_threshold`` Å^2 (``"absolute"``);
    faces below ``1e-8`` of the largest face are numerical zeros of degenerate
    tessellations and never count.  Tiny faces create marginal neighbours that
    flip under noise: keep the threshold above zero.

    Features per atom (counted faces only, except volume and exposure):

    * ``cn``: number of counted faces;
    * ``cn_eff``: effective coordination ``(sum_f A_f)^2 / sum_f A_f^2``
      (Ward et al. 2017): the 14 faces of unequal areas in bcc give 11.96;
    * ``volume``: volume of the (bounded) cell, Å^3;
    * ``exposed``: fraction of the directions around the atom in which the
      cell reaches the bounding sphere (0 in bulk with a large enough
      ``cutoff``; > 0 for surface atoms);
    * ``area,mean/std/min/max``: face areas, Å^2 (population std);
    * ``dist,mean/std/min/max``: distances to the face neighbours, Å;
    * ``faces[edges=k]``: the Voronoi index, the number of counted faces with
      ``<= 3``, 4, ..., 9, ``>= 10`` edges (edges inside the sphere; bcc: six
      4-gons and eight 6-gons, fcc: twelve 4-gons);
    * ``area_frac[el=X]``: share of the counted face area that borders
      element X, one per element of ``species_`` (sums to 1).

    An atom with no counted face gets zeros in the face statistics (never
    NaN).  The features are not smooth in the positions (faces appear and
    vanish): no derivatives.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order of the area fractions; ``None`` learns the sorted atomic
        numbers in ``fit``.
    cutoff : float, default=10.0
        Neighbour-search radius in Å; cells are bounded by the sphere of
        radius ``cutoff / 2`` around their atom.  Bulk cells are unchanged
        once ``cutoff / 2`` exceeds their farthest vertex (``exposed`` is
        then 0).
    area_threshold : float, default=0.01
        Minimum face area for a neighbour: a fraction of the cell's largest
        face, or Å^2 (see ``threshold_mode``).
    threshold_mode : {"relative", "absolute"}, default="relative"
        How ``area_threshold`` is read.
    min_distance : float, default=0.1
        Atoms closer than this (Å) raise ``ValueError`` as overlapping.
    handle_unknown : {"error", "ignore"}, default="error"
        Elements unseen in ``fit``: raise, or drop those atoms (they are then
        left out of the tessellation too).
    n_jobs : int, default=None
        Threads over batches of structures; results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    species_ : tuple of int
    n_features_out_ : int
        ``20 + n_species``.

    Notes
    -----
    Cost: one Qhull tessellation per structure of its atoms and the images
    within ``cutoff`` (a few ms for tens of atoms); lower ``cutoff`` for large
    cells when the cells are compact.

    References
    ----------
    O'Keeffe, M. (1979). A proposed rigorous definition of coordination
    number. Acta Crystallographica A 35, 772-775.
    Ward, L. et al. (2017). Including crystal structure attributes in machine
    learning models of formation energies via Voronoi tessellations. Physical
    Review B 96, 024104.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import VoronoiCellStatistics
    >>> laed = VoronoiCellStatistics().fit([bulk("Fe", "bcc", a=2.87)])
    >>> row = laed.transform([bulk("Fe", "bcc", a=2.87)]).to_pandas().iloc[0]
    >>> int(row["voronoi[cn]"]), round(float(row["voronoi[volume]"]), 4), round(2.87**3 / 2, 4)
    (14, 11.82, 11.82)
    """

    _cli_name = "voronoi"
    _citations = ("okeeffe1979", "ward2017")
    _supports_gradients = False

    _parameter_constraints = {
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "area_threshold": [Interval(Real, 0, None, closed="left")],
        "threshold_mode": [Options(str, ("relative", "absolute"))],
    }

    def __init__(
        self,
        species=None,
        cutoff=10.0,
        area_threshold=0.01,
        threshold_mode="relative",
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.cutoff = cutoff
        self.area_threshold = area_threshold
        self.threshold_mode = threshold_mode
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.threshold_mode == "relative" and self.area_threshold >= 1:
            raise ValueError(
                f"area_threshold={self.area_threshold} with threshold_mode='relative' would drop every "
                "face (it is a fraction of the largest face): it must be below 1"
            )

    def _setup(self):
        names = ["voronoi[cn]", "voronoi[cn_eff]", "voronoi[volume]", "voronoi[exposed]"]
        names += [f"voronoi[area,{s}]" for s in _STATS]
        names += [f"voronoi[dist,{s}]" for s in _STATS]
        names += [f"voronoi[faces[edges={k}]]" for k in _INDEX_LABELS]
        names += [f"voronoi[area_frac,el={atomic_symbol(z)}]" for z in self.species_]
        return names

    def _neighbor_request(self):
        return NeighborRequest(cutoff=float(self.cutoff), cutoff_name="cutoff")

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        check_shape(values, (len(batch.species_index), 12 + INDEX_BINS + len(self.species_)), "VoronoiCellStatistics output")
        if len(batch.species_index) and batch.species_index.max() >= len(self.species_):
            raise ValueError("internal shape check failed: an atom's element is outside the fitted species")
        for s in range(len(batch.offsets) - 1):
            a, b = int(batch.offsets[s]), int(batch.offsets[s + 1])
            if b > a:
                self._structure(batch, neighbors, s, a, b, values[a:b])

    def _structure(self, batch, neighbors, s, a, b, out):
        """Tessellate structure ``s`` (batch rows a:b) and fill its rows."""
        first, area, solid, n_edges, distance, species, _ = self._faces(batch, neighbors, s, a, b)
        cell_kernel(
            first, area, solid, n_edges, distance, species, 0.5 * float(self.cutoff), float(self.area_threshold),
            self.threshold_mode == "relative", len(self.species_), out,
        )

    def _structure_faces(self, structure):
        """The faces of every cell of one structure (a fitted descriptor; for tests and inspection).

        Returns ``(first, area, solid_angle, n_edges, distance, neighbour_species, neighbour_key)``
        as :meth:`_faces`, with rows of the structure's atoms.
        """
        self._check_fitted("species_")
        lookup = np.full(119, -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        batch = self._frame_batch([structure], 0, lookup)
        neighbors = batch_neighbor_lists(
            batch.positions, batch.offsets, batch.cells, batch.pbc, float(self.cutoff), float(self.min_distance), 0
        )
        return self._faces(batch, neighbors, 0, 0, int(batch.offsets[1]))

    def _faces(self, batch, neighbors, s, a, b):
        """The faces of the cells of structure ``s`` (batch rows a:b), grouped by atom.

        Returns ``first`` (faces of atom k: ``first[k]:first[k + 1]``) and per
        face its area within the sphere (Å^2), solid angle (sr), edges inside
        the sphere, neighbour distance (Å), neighbour element index (-1 for a
        ghost) and neighbour ``(row, shift)`` key (row -1 for a ghost).

        A periodic crystal is first tessellated with the images within
        ``4 r_ws`` only (``r_ws``: the Wigner-Seitz radius of the mean atomic
        volume); that result is exact when every cell's farthest vertex
        ``rho`` (or ``R``) is within half that radius, since a farther atom's
        bisector cannot reach the cell.  Otherwise (open cells, very
        distorted ones) the images within ``cutoff`` are used.
        """
        R = 0.5 * float(self.cutoff)
        n = b - a
        lo, hi = neighbors.first[a], neighbors.first[b]
        if batch.pbc[s].all():
            volume = abs(float(np.linalg.det(batch.cells[s])))
            near = min(float(self.cutoff), 4.0 * (3.0 * volume / (4.0 * np.pi * n)) ** (1.0 / 3.0))
            if near < float(self.cutoff):
                faces, reach = self._tessellate(batch, neighbors, s, a, b, neighbors.distances[lo:hi] < near)
                if np.all(2.0 * np.minimum(reach, R) <= near):
                    return faces
        return self._tessellate(batch, neighbors, s, a, b, None)[0]

    def _tessellate(self, batch, neighbors, s, a, b, keep):
        """Faces of structure ``s`` from its atoms and the images of the entries ``keep`` (None: all).

        Returns the faces (see :meth:`_faces`) and each cell's farthest vertex distance (Å).
        """
        R = 0.5 * float(self.cutoff)
        n = b - a
        positions = batch.positions[a:b]
        cell = batch.cells[s]
        # the distinct periodic images among the neighbour-list entries of the structure
        lo, hi = neighbors.first[a], neighbors.first[b]
        shifts = neighbors.shifts[lo:hi]
        code = neighbors.index[lo:hi] - a
        if keep is not None:
            shifts = shifts[keep]
            code = code[keep]
        span = int(np.abs(shifts).max(initial=0))
        width = 2 * span + 1
        for k in range(3):
            code = code * width + (shifts[:, k] + span)
        code = np.unique(code)
        keys = np.empty((len(code), 4), dtype=np.int64)
        for k in (3, 2, 1):
            keys[:, k] = code % width - span
            code = code // width
        keys[:, 0] = code
        keys = keys[np.any(keys[:, 1:] != 0, axis=1)]  # the home atoms come first, once
        images = positions[keys[:, 0]] + keys[:, 1:].astype(np.float64) @ cell
        centre = positions.mean(axis=0)
        reach = float(np.sqrt(((positions - centre) ** 2).sum(axis=1)).max())
        # ghosts beyond 2 R of every atom: they bound every cell without cutting the spheres
        ghosts = centre + (2.0 * (reach + 2.0 * R) + 1.0) * _GHOSTS
        points = np.concatenate([positions, images, ghosts])
        species = np.concatenate(
            [batch.species_index[a:b], batch.species_index[a + keys[:, 0]], np.full(len(ghosts), -1)]
        ).astype(np.int64)
        try:
            tessellation = Voronoi(points)
        except QhullError as error:  # pragma: no cover - the ghosts make the input full-dimensional
            raise ValueError(f"structure {s}: Qhull could not tessellate it ({error})") from error
        ridge_points = tessellation.ridge_points
        home = np.flatnonzero((ridge_points < n).any(axis=1))
        ridge_vertices = tessellation.ridge_vertices
        selected = [ridge_vertices[int(home[0])]] if len(home) == 1 else list(itemgetter(*home)(ridge_vertices))
        lengths = np.fromiter(map(len, selected), dtype=np.int64, count=len(selected))
        vindex = np.fromiter(chain.from_iterable(selected), dtype=np.int64, count=int(lengths.sum()))
        if (vindex < 0).any():  # pragma: no cover - the ghosts bound every home cell
            raise RuntimeError(f"structure {s}: an atom's Voronoi cell is unbounded; please report this")
        vstart = np.zeros(len(selected) + 1, dtype=np.int64)
        np.cumsum(lengths, out=vstart[1:])
        pairs = ridge_points[home]
        # one face entry per home end of each ridge, grouped by the home atom
        first_end = np.flatnonzero(pairs[:, 0] < n)
        second_end = np.flatnonzero(pairs[:, 1] < n)
        ridge = np.concatenate([first_end, second_end])
        owner = np.concatenate([pairs[first_end, 0], pairs[second_end, 1]]).astype(np.int64)
        other = np.concatenate([pairs[first_end, 1], pairs[second_end, 0]]).astype(np.int64)
        order = np.argsort(owner, kind="stable")
        ridge, owner, other = ridge[order], owner[order], other[order]
        first = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n), out=first[1:])
        area = np.zeros(len(owner))
        solid = np.zeros(len(owner))
        n_edges = np.zeros(len(owner), dtype=np.int64)
        points = np.ascontiguousarray(points)
        face_kernel(
            points, owner, other, ridge, vstart, vindex, np.ascontiguousarray(tessellation.vertices), R,
            area, solid, n_edges,
        )
        distance = np.linalg.norm(points[other] - points[owner], axis=1)
        all_keys = np.concatenate(
            [np.c_[np.arange(n), np.zeros((n, 3), dtype=np.int64)], keys, np.full((len(ghosts), 4), -1)]
        )
        # the farthest vertex of each cell (a ridge's vertices are equidistant from both its points)
        vertex_distance = np.linalg.norm(
            tessellation.vertices[vindex] - points[np.repeat(pairs[:, 0], lengths)], axis=1
        )
        farthest = np.zeros(n)
        np.maximum.at(farthest, owner, np.maximum.reduceat(vertex_distance, vstart[:-1])[ridge])
        return (first, area, solid, n_edges, distance, species[other], all_keys[other]), farthest
