"""Cell-list neighbour search over periodic images (numba).

One neighbour list is built per structure and shared by every term of a
descriptor.  The search handles

* triclinic cells and cutoffs larger than the cell's perpendicular widths
  (as many periodic images as needed are generated),
* mixed periodicity (slabs: two periodic axes; wires: one) and molecules
  without any cell: along a non-periodic axis no image is made and the cell
  vector there is ignored (it may be zero),
* atoms outside the home cell (positions are wrapped along periodic axes
  internally; reported vectors and shifts refer to the caller's positions).

The list is returned in compressed sparse row (CSR) layout: the neighbours of
atom ``i`` are entries ``first[i]:first[i + 1]``.  A pair ``(i, j)`` with image
shift ``S`` has vector ``positions[j] - positions[i] + S @ cell`` and appears
once per centre (both ``(i, j)`` and ``(j, i)`` are listed).  Pairs with
distance strictly below the cutoff are kept; an atom is never its own
neighbour unless through a non-zero image shift.
"""

from typing import NamedTuple

import math

import numpy as np
from numba import njit

__all__ = ["NeighborList", "estimate_neighbors", "guarded_neighbor_list", "neighbor_list"]


class NeighborList(NamedTuple):
    """Neighbour list of one structure in CSR layout.

    Attributes
    ----------
    first : ndarray of shape (n_atoms + 1,), int64
        Neighbours of atom ``i`` are entries ``first[i]:first[i + 1]``.
    index : ndarray of shape (n_pairs,), int64
        Index ``j`` of each neighbour.
    vectors : ndarray of shape (n_pairs, 3), float64
        Vector from the centre to the neighbour (image), in Å.
    distances : ndarray of shape (n_pairs,), float64
        Length of ``vectors``, in Å.
    shifts : ndarray of shape (n_pairs, 3), int64
        Integer image shift ``S`` relative to the caller's positions.
    """

    first: np.ndarray
    index: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    shifts: np.ndarray

    @property
    def centers(self):
        """Index ``i`` of the centre of each pair, shape (n_pairs,)."""
        return np.repeat(np.arange(len(self.first) - 1), np.diff(self.first))


# The numba functions below avoid array expressions, slice assignment from
# arrays and most NumPy functions: each of those pulls a generic
# implementation into the compilation (slice assignment alone brings a
# string-formatting error path that took ~10 s to compile), and a new user
# waits for all of it on the first call.


@njit(cache=True, nogil=True)
def _unit_cross(a0, a1, a2, b0, b1, b2, out, row):
    """out[row] = (a x b) / |a x b|."""
    c0 = a1 * b2 - a2 * b1
    c1 = a2 * b0 - a0 * b2
    c2 = a0 * b1 - a1 * b0
    norm = math.sqrt(c0 * c0 + c1 * c1 + c2 * c2)
    out[row, 0] = c0 / norm
    out[row, 1] = c1 / norm
    out[row, 2] = c2 / norm


@njit(cache=True, nogil=True)
def _complete_cell(cell, pbc):
    """Replace the rows of non-periodic axes by orthonormal vectors.

    The completed cell spans 3-D space, so fractional coordinates exist, and
    the perpendicular width of every periodic axis equals the one within the
    periodic sub-lattice.
    """
    out = np.empty((3, 3))
    n_periodic = 0
    for k in range(3):
        if pbc[k]:
            n_periodic += 1
        for c in range(3):
            out[k, c] = cell[k, c]
    if n_periodic == 3:
        return out
    if n_periodic == 0:
        for k in range(3):
            for c in range(3):
                out[k, c] = 1.0 if k == c else 0.0
        return out
    if n_periodic == 2:
        p = 0
        q = 0
        free = 0
        seen = 0
        for k in range(3):
            if pbc[k]:
                if seen == 0:
                    p = k
                else:
                    q = k
                seen += 1
            else:
                free = k
        _unit_cross(cell[p, 0], cell[p, 1], cell[p, 2], cell[q, 0], cell[q, 1], cell[q, 2], out, free)
        return out
    # one periodic axis: two unit vectors perpendicular to it
    axis = 0
    for k in range(3):
        if pbc[k]:
            axis = k
    norm = math.sqrt(cell[axis, 0] * cell[axis, 0] + cell[axis, 1] * cell[axis, 1] + cell[axis, 2] * cell[axis, 2])
    a = np.empty(3)
    for c in range(3):
        a[c] = cell[axis, c] / norm
    # the coordinate axis least aligned with a (first of equals)
    smallest = 0
    for c in range(1, 3):
        if abs(a[c]) < abs(a[smallest]):
            smallest = c
    helper = np.zeros(3)
    helper[smallest] = 1.0
    uv = np.empty((2, 3))
    _unit_cross(a[0], a[1], a[2], helper[0], helper[1], helper[2], uv, 0)
    v0 = a[1] * uv[0, 2] - a[2] * uv[0, 1]
    v1 = a[2] * uv[0, 0] - a[0] * uv[0, 2]
    v2 = a[0] * uv[0, 1] - a[1] * uv[0, 0]
    uv[1, 0] = v0
    uv[1, 1] = v1
    uv[1, 2] = v2
    free_rows = 0
    for k in range(3):
        if not pbc[k]:
            for c in range(3):
                out[k, c] = uv[free_rows, c]
            free_rows += 1
    return out


@njit(cache=True, nogil=True)
def _inverse3(m):
    """Inverse of a 3x3 matrix by cofactors (a LAPACK call costs more for one cell)."""
    out = np.empty((3, 3))
    out[0, 0] = m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]
    out[0, 1] = m[0, 2] * m[2, 1] - m[0, 1] * m[2, 2]
    out[0, 2] = m[0, 1] * m[1, 2] - m[0, 2] * m[1, 1]
    out[1, 0] = m[1, 2] * m[2, 0] - m[1, 0] * m[2, 2]
    out[1, 1] = m[0, 0] * m[2, 2] - m[0, 2] * m[2, 0]
    out[1, 2] = m[0, 2] * m[1, 0] - m[0, 0] * m[1, 2]
    out[2, 0] = m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]
    out[2, 1] = m[0, 1] * m[2, 0] - m[0, 0] * m[2, 1]
    out[2, 2] = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    det = m[0, 0] * out[0, 0] + m[0, 1] * out[1, 0] + m[0, 2] * out[2, 0]
    if det == 0.0:
        raise ValueError("the cell has zero volume along its periodic axes")
    for k in range(3):
        for c in range(3):
            out[k, c] = out[k, c] / det
    return out


@njit(cache=True, nogil=True, inline="always")
def _inverse_width(inverse, k):
    """1 / perpendicular width of axis k: the norm of column k of inv(cell), in 1/Å."""
    return math.sqrt(inverse[0, k] * inverse[0, k] + inverse[1, k] * inverse[1, k] + inverse[2, k] * inverse[2, k])


@njit(cache=True, nogil=True)
def _times3(rows, m):
    """rows @ m for an (n, 3) array and a 3x3 matrix."""
    out = np.empty((rows.shape[0], 3))
    for i in range(rows.shape[0]):
        for k in range(3):
            out[i, k] = rows[i, 0] * m[0, k] + rows[i, 1] * m[1, k] + rows[i, 2] * m[2, k]
    return out


@njit(cache=True, nogil=True, inline="always")
def _positive_shift(shift):
    """Whether an image shift is lexicographically positive (one of each +-S pair)."""
    if shift[0] != 0:
        return shift[0] > 0
    if shift[1] != 0:
        return shift[1] > 0
    return shift[2] > 0


@njit(cache=True, nogil=True)
def _grow_float(a, capacity):
    """Copy of the 1-D array ``a`` with room for ``capacity`` entries."""
    out = np.empty(capacity)
    for k in range(a.shape[0]):
        out[k] = a[k]
    return out


@njit(cache=True, nogil=True)
def _grow_int(a, capacity):
    """Copy of the 1-D array ``a`` with room for ``capacity`` entries."""
    out = np.empty(capacity, dtype=np.int64)
    for k in range(a.shape[0]):
        out[k] = a[k]
    return out


@njit(cache=True, nogil=True)
def _neighbor_list(positions, cell, pbc, cutoff, half):
    # half=True keeps one of (i, j, S) and (j, i, -S): j > i, or j == i with S > 0 lexicographically
    n_atoms = positions.shape[0]
    full_cell = _complete_cell(cell, pbc)
    inverse = _inverse3(full_cell)
    frac = _times3(positions, inverse)

    # wrap into the home cell along periodic axes; remember the integer shift
    wrap = np.zeros((n_atoms, 3), dtype=np.int64)
    pad = np.zeros(3)
    n_img = np.zeros(3, dtype=np.int64)
    for k in range(3):
        if pbc[k]:
            pad[k] = cutoff * _inverse_width(inverse, k)
            n_img[k] = (math.ceil(pad[k])) + 1
            for i in range(n_atoms):
                w = math.floor(frac[i, k])
                frac[i, k] -= w
                wrap[i, k] = int(w)
    wrapped = _times3(frac, full_cell)

    # periodic images that can lie within the cutoff of the home cell
    # per atom, the shifts s with frac + s in [-pad, 1 + pad] along each
    # periodic axis (a hair wider: a boundary image is beyond the cutoff anyway)
    lo = np.zeros((n_atoms, 3), dtype=np.int64)
    hi = np.zeros((n_atoms, 3), dtype=np.int64)
    n_images = 0
    for i in range(n_atoms):
        for k in range(3):
            if pbc[k]:
                lo[i, k] = max((math.ceil(-pad[k] - frac[i, k] - 1e-9)), -n_img[k])
                hi[i, k] = min((math.floor(1.0 + pad[k] - frac[i, k] + 1e-9)), n_img[k])
        n_images += (hi[i, 0] - lo[i, 0] + 1) * (hi[i, 1] - lo[i, 1] + 1) * (hi[i, 2] - lo[i, 2] + 1)
    img_pos = np.empty((n_images, 3))
    img_atom = np.empty(n_images, dtype=np.int64)
    img_shift = np.empty((n_images, 3), dtype=np.int64)
    n_images = 0
    for i in range(n_atoms):
        for s0 in range(lo[i, 0], hi[i, 0] + 1):
            f0 = frac[i, 0] + s0
            for s1 in range(lo[i, 1], hi[i, 1] + 1):
                f1 = frac[i, 1] + s1
                for s2 in range(lo[i, 2], hi[i, 2] + 1):
                    f2 = frac[i, 2] + s2
                    for k in range(3):
                        img_pos[n_images, k] = (
                            f0 * full_cell[0, k] + f1 * full_cell[1, k] + f2 * full_cell[2, k]
                        )
                    img_atom[n_images] = i
                    img_shift[n_images, 0] = s0
                    img_shift[n_images, 1] = s1
                    img_shift[n_images, 2] = s2
                    n_images += 1

    # axis-aligned bins of about half the cutoff: a centre scans the bins within
    # `reach` bins of its own (a third fewer candidates than cutoff-sized bins)
    low = np.empty(3)
    high = np.empty(3)
    for k in range(3):
        low[k] = img_pos[0, k]
        high[k] = img_pos[0, k]
    for m in range(n_images):
        for k in range(3):
            low[k] = min(low[k], img_pos[m, k])
            high[k] = max(high[k], img_pos[m, k])
    bin_width = max(0.5 * cutoff, 1e-3)
    n_bins = np.ones(3, dtype=np.int64)
    while True:
        for k in range(3):
            n_bins[k] = max(1, int((high[k] - low[k]) / bin_width))
        if n_bins[0] * n_bins[1] * n_bins[2] <= 4 * n_images + 64:
            break
        bin_width *= 1.5
    bin_size = np.empty(3)
    reach = np.empty(3, dtype=np.int64)
    for k in range(3):
        bin_size[k] = max((high[k] - low[k]) / n_bins[k], 1e-12)
        reach[k] = min((math.ceil(cutoff / bin_size[k])), n_bins[k])
    total_bins = n_bins[0] * n_bins[1] * n_bins[2]
    img_bin = np.empty(n_images, dtype=np.int64)
    bin_start = np.zeros(total_bins + 1, dtype=np.int64)
    for m in range(n_images):
        b = 0
        for k in range(3):
            c = min(int((img_pos[m, k] - low[k]) / bin_size[k]), n_bins[k] - 1)
            b = b * n_bins[k] + c
        img_bin[m] = b
        bin_start[b + 1] += 1
    for b in range(total_bins):
        bin_start[b + 1] += bin_start[b]
    # images sorted by bin, so that a row of bins is one contiguous range
    fill = np.empty(total_bins, dtype=np.int64)
    for b in range(total_bins):
        fill[b] = bin_start[b]
    sorted_pos = np.empty((n_images, 3))
    sorted_atom = np.empty(n_images, dtype=np.int64)
    sorted_shift = np.empty((n_images, 3), dtype=np.int64)
    for m in range(n_images):
        q = fill[img_bin[m]]
        fill[img_bin[m]] += 1
        j = img_atom[m]
        for k in range(3):
            sorted_pos[q, k] = img_pos[m, k]
            # the pair's shift is this minus the centre's wrap: no lookup of the neighbour's wrap in the scan
            sorted_shift[q, k] = img_shift[m, k] - wrap[j, k]
        sorted_atom[q] = j

    cutoff2 = cutoff * cutoff
    first = np.zeros(n_atoms + 1, dtype=np.int64)
    # expected pairs: image density times the cutoff sphere, plus slack
    box = 1.0
    for k in range(3):
        box *= max(high[k] - low[k], cutoff)
    expected = n_atoms * (n_images / box) * 4.19 * cutoff2 * cutoff
    cap = max(16, np.int64(1.2 * expected) + 8 * n_atoms)
    # vectors and shifts as flat (3 * cap) buffers: 1-D arrays grow by a plain loop
    nbr = np.empty(cap, dtype=np.int64)
    vec = np.empty(3 * cap)
    dist = np.empty(cap)
    shift = np.empty(3 * cap, dtype=np.int64)
    n_pairs = 0
    home = np.empty(3, dtype=np.int64)
    for i in range(n_atoms):
        x0 = wrapped[i, 0]
        x1 = wrapped[i, 1]
        x2 = wrapped[i, 2]
        w0 = wrap[i, 0]
        w1 = wrap[i, 1]
        w2 = wrap[i, 2]
        for k in range(3):
            home[k] = min(max(int((wrapped[i, k] - low[k]) / bin_size[k]), 0), n_bins[k] - 1)
        lo2 = max(home[2] - reach[2], 0)
        hi2 = min(home[2] + reach[2], n_bins[2] - 1)
        for b0 in range(max(home[0] - reach[0], 0), min(home[0] + reach[0] + 1, n_bins[0])):
            for b1 in range(max(home[1] - reach[1], 0), min(home[1] + reach[1] + 1, n_bins[1])):
                row = (b0 * n_bins[1] + b1) * n_bins[2]
                q0 = bin_start[row + lo2]
                q1 = bin_start[row + hi2 + 1]
                if n_pairs + q1 - q0 > cap:
                    cap = max(2 * cap, n_pairs + q1 - q0)
                    nbr = _grow_int(nbr, cap)
                    dist = _grow_float(dist, cap)
                    vec = _grow_float(vec, 3 * cap)
                    shift = _grow_int(shift, 3 * cap)
                # every candidate is written at n_pairs, which only advances for a neighbour: no
                # unpredictable branch per candidate (a quarter to a half of them are neighbours)
                for q in range(q0, q1):
                    d0 = sorted_pos[q, 0] - x0
                    d1 = sorted_pos[q, 1] - x1
                    d2 = sorted_pos[q, 2] - x2
                    r2 = d0 * d0 + d1 * d1 + d2 * d2
                    j = sorted_atom[q]
                    s0 = sorted_shift[q, 0] + w0
                    s1 = sorted_shift[q, 1] + w1
                    s2 = sorted_shift[q, 2] + w2
                    itself = j == i and s0 == 0 and s1 == 0 and s2 == 0
                    keep = r2 < cutoff2 and not itself
                    if half:
                        keep = keep and (j > i or (j == i and (s0 > 0 if s0 != 0 else (s1 > 0 if s1 != 0 else s2 > 0))))
                    nbr[n_pairs] = j
                    vec[3 * n_pairs] = d0
                    vec[3 * n_pairs + 1] = d1
                    vec[3 * n_pairs + 2] = d2
                    dist[n_pairs] = math.sqrt(r2)
                    shift[3 * n_pairs] = s0
                    shift[3 * n_pairs + 1] = s1
                    shift[3 * n_pairs + 2] = s2
                    n_pairs += 1 if keep else 0
        first[i + 1] = n_pairs
    return first, nbr[:n_pairs], vec[: 3 * n_pairs].reshape((n_pairs, 3)), dist[:n_pairs], shift[: 3 * n_pairs].reshape((n_pairs, 3))


@njit(cache=True, nogil=True)
def _count_shifts(cell, pbc, cutoff):
    """Number of periodic image shifts a search with ``cutoff`` would visit."""
    inverse = _inverse3(_complete_cell(cell, pbc))
    count = 1
    for k in range(3):
        if pbc[k]:
            count *= 2 * ((math.ceil(cutoff * _inverse_width(inverse, k))) + 1) + 1
    return count


@njit(cache=True, nogil=True, inline="always")
def _smallest(distances):
    shortest = np.inf
    for p in range(distances.shape[0]):
        shortest = min(shortest, distances[p])
    return shortest


@njit(cache=True, nogil=True)
def guarded_neighbor_list(positions, cell, pbc, cutoff, min_distance, half):
    """Neighbour list plus the shortest distance, cheap for overlapping atoms.

    When the search would visit very many periodic images (a cell much
    smaller than the cutoff), atoms closer than ``min_distance`` are looked
    for first with that tiny cutoff; if any exist the full list is not built
    (it could hold millions of pairs) and an empty list is returned.
    With ``half=True`` each pair is listed once: (i, j, S) is kept and
    (j, i, -S) dropped when j > i, or when j == i and S is lexicographically
    positive.

    Returns
    -------
    first, index, vectors, distances, shifts, shortest
        The CSR list (see :func:`neighbor_list`) and the shortest distance
        found (``inf`` if none).
    """
    n_atoms = positions.shape[0]
    if min_distance > 0 and n_atoms * _count_shifts(cell, pbc, cutoff) > 200_000:
        first, index, vectors, distances, shifts = _neighbor_list(positions, cell, pbc, min_distance, half)
        if distances.shape[0] > 0:
            return np.zeros(n_atoms + 1, dtype=np.int64), index[:0], vectors[:0], distances[:0], shifts[:0], _smallest(distances)
    first, index, vectors, distances, shifts = _neighbor_list(positions, cell, pbc, cutoff, half)
    return first, index, vectors, distances, shifts, _smallest(distances)


@njit(cache=True, nogil=True)
def estimate_neighbors(positions, offsets, cells, pbc, cutoff):
    """Expected neighbours per atom and periodic images of each structure, without a search.

    The atoms are taken as spread uniformly over an effective volume: the
    volume (area, length) spanned by the periodic axes times, along each
    non-periodic direction, the extent of the atoms but at least ``2 cutoff``.
    The expected number of neighbours of an atom is that density times the
    cutoff sphere, ``n / V_eff * 4/3 pi cutoff^3``; for a fully periodic cell
    this is exact on average.  The periodic images are counted as the
    neighbour search generates them (``2 cutoff / width + 1`` per periodic
    axis and atom).  Cost: one pass over the positions.

    Parameters
    ----------
    positions : ndarray of shape (n_atoms, 3), float64
        Cartesian positions of all structures, in Å.
    offsets : ndarray of shape (n_structures + 1,), int64
        Rows ``offsets[s]:offsets[s + 1]`` are structure ``s``.
    cells : ndarray of shape (n_structures, 3, 3), float64
        Lattice vectors as rows, in Å.
    pbc : ndarray of shape (n_structures, 3), bool
        Periodicity of each structure.
    cutoff : float
        Cutoff radius in Å.

    Returns
    -------
    neighbors : ndarray of shape (n_structures,), float64
        Expected number of neighbours per atom.
    images : ndarray of shape (n_structures,), float64
        Number of atom images the search would generate.
    width : ndarray of shape (n_structures,), float64
        Narrowest perpendicular width of the periodic axes, in Å (``inf``
        without periodic axes).
    """
    n_frames = offsets.shape[0] - 1
    neighbors = np.zeros(n_frames)
    images = np.zeros(n_frames)
    width = np.empty(n_frames)
    sphere = 4.0 / 3.0 * np.pi * cutoff**3
    for s in range(n_frames):
        width[s] = np.inf
        a = offsets[s]
        b = offsets[s + 1]
        n = b - a
        if n == 0:
            continue
        full = _complete_cell(cells[s], pbc[s])
        inverse = _inverse3(full)
        # the completed rows of non-periodic axes are orthonormal and normal to
        # the periodic ones: |det| is the periodic measure, fractional
        # coordinates along them are lengths in Å
        det = abs(
            full[0, 0] * (full[1, 1] * full[2, 2] - full[1, 2] * full[2, 1])
            - full[0, 1] * (full[1, 0] * full[2, 2] - full[1, 2] * full[2, 0])
            + full[0, 2] * (full[1, 0] * full[2, 1] - full[1, 1] * full[2, 0])
        )
        volume = det
        per_atom_images = 1.0
        for k in range(3):
            if pbc[s, k]:
                inv_width = _inverse_width(inverse, k)
                width[s] = min(width[s], 1.0 / inv_width)
                per_atom_images *= 2.0 * cutoff * inv_width + 1.0
            else:
                low = np.inf
                high = -np.inf
                for i in range(a, b):
                    f = positions[i, 0] * inverse[0, k] + positions[i, 1] * inverse[1, k] + positions[i, 2] * inverse[2, k]
                    low = min(low, f)
                    high = max(high, f)
                volume *= max(high - low, 2.0 * cutoff)
        neighbors[s] = n / volume * sphere
        images[s] = n * per_atom_images
    return neighbors, images, width


def neighbor_list(positions, cell, pbc, cutoff):
    """Return all neighbours closer than ``cutoff`` (periodic images included).

    Parameters
    ----------
    positions : array-like of shape (n_atoms, 3)
        Cartesian positions in Å.
    cell : array-like of shape (3, 3)
        Lattice vectors as rows, in Å; rows of non-periodic axes are ignored.
    pbc : array-like of shape (3,), bool
        Periodicity along each lattice vector.
    cutoff : float
        Cutoff radius in Å (pairs with distance < cutoff are returned).

    Returns
    -------
    NeighborList
        CSR neighbour list (see the module docstring for conventions).

    Raises
    ------
    ValueError
        For an invalid cutoff, no atoms, or a list whose estimated size exceeds
        the ``max_pairs``/``max_memory`` limits of :func:`skdesc.set_config`.
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64).reshape(-1, 3)
    cell = np.ascontiguousarray(cell, dtype=np.float64).reshape(3, 3)
    pbc = np.ascontiguousarray(pbc, dtype=np.bool_).reshape(3)
    cutoff = float(cutoff)
    if not cutoff > 0 or not np.isfinite(cutoff):
        raise ValueError(f"cutoff must be a positive finite number of Å, got {cutoff}")
    if positions.shape[0] == 0:
        raise ValueError("no atoms: the neighbour list needs at least one atom")
    _check_list_size(positions, cell, pbc, cutoff)
    return NeighborList(*_neighbor_list(positions, cell, pbc, cutoff, False))


def _check_list_size(positions, cell, pbc, cutoff):
    """Refuse a list above the configured ``max_pairs``/``max_memory`` (see ``skdesc.set_config``)."""
    from .._config import check_count, check_memory

    n_atoms = positions.shape[0]
    per_atom, images, width = estimate_neighbors(positions, np.array([0, n_atoms]), cell[None], pbc[None], cutoff)
    what = (
        f"neighbour list of {n_atoms} atoms at a {cutoff:g} Å cutoff (narrowest periodic cell width "
        f"{width[0]:.3g} Å), about {per_atom[0]:.3g} neighbours per atom"
    )
    advice = "lower the cutoff or check the cell (in a cell much narrower than the cutoff atoms meet their own images many times over)"
    check_count(n_atoms * per_atom[0] + images[0], "max_pairs", f"{what}: entries (pairs plus periodic images)", advice)
    check_memory(64.0 * n_atoms * per_atom[0] + 112.0 * images[0], what, advice)
