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

import contextlib
import math
from typing import NamedTuple

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


# Cell geometry, in NumPy for all structures of a batch at once: the 3x3 linear
# algebra is microseconds per batch here, and in numba it was seconds of
# compilation for every new user.  The float operations are the ones the numba
# search used (same products and sums in the same order), so lists are
# bit-identical to it.

_NEXT = np.array([1, 2, 0])
_AFTER = np.array([2, 0, 1])
# entry (r, c) of the adjugate (the transposed cofactors) of a 3x3 matrix m is
# m[i1, j1] m[i2, j2] - m[i1, j2] m[i2, j1] with i = c + 1, c + 2 and j = r + 1, r + 2
# (mod 3): the flat (row-major) indices of those four entries, for r, c row-major
_ADJUGATE = [
    (3 * ((c + 1) % 3) + (r + 1) % 3, 3 * ((c + 2) % 3) + (r + 2) % 3,
     3 * ((c + 1) % 3) + (r + 2) % 3, 3 * ((c + 2) % 3) + (r + 1) % 3)
    for r in range(3) for c in range(3)
]


_QUIET = contextlib.nullcontext()  # Python floats need no np.errstate


def _pick(condition, a, b):
    """``a`` where ``condition`` else ``b``: :func:`numpy.where` for arrays, a plain choice for scalars."""
    if isinstance(condition, np.ndarray):
        return np.where(condition, a, b)
    return a if condition else b


def _cross(a, b):
    """Row-wise cross product of two (m, 3) arrays."""
    return a[:, _NEXT] * b[:, _AFTER] - a[:, _AFTER] * b[:, _NEXT]


def _norm(v):
    """Row-wise Euclidean norm of an (m, 3) array."""
    return np.sqrt(v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2])


def _unit_cross(a, b):
    """Row-wise (a x b) / |a x b| of two (m, 3) arrays."""
    c = _cross(a, b)
    return c / _norm(c)[:, None]


def _complete_cells(cells, pbc):
    """Cells with the rows of non-periodic axes replaced by orthonormal vectors.

    The completed cell spans 3-D space, so fractional coordinates exist, and
    the perpendicular width of every periodic axis equals the one within the
    periodic sub-lattice.

    Parameters
    ----------
    cells : ndarray of shape (n_structures, 3, 3), float64
        Lattice vectors as rows, in Å.
    pbc : ndarray of shape (n_structures, 3), bool
        Periodicity of each structure.

    Returns
    -------
    ndarray of shape (n_structures, 3, 3), float64
        The completed cells, in Å.
    """
    full = np.array(cells, dtype=np.float64)
    if pbc.all():
        return full
    with np.errstate(all="ignore"):  # a degenerate periodic row gives nan, like a singular cell
        n_periodic = pbc.sum(axis=1)
        full[n_periodic == 0] = np.eye(3)
        two = np.flatnonzero(n_periodic == 2)
        if two.size:
            # a stable sort of the flags: the periodic axes p < q, then the free one
            p, q, free = np.argsort(~pbc[two], axis=1, kind="stable").T
            full[two, free] = _unit_cross(cells[two, p], cells[two, q])
        one = np.flatnonzero(n_periodic == 1)
        if one.size:
            axis, free0, free1 = np.argsort(~pbc[one], axis=1, kind="stable").T
            c = cells[one, axis]
            a = c / _norm(c)[:, None]
            # crossed with the coordinate axis least aligned with a (first of equals)
            helper = np.zeros_like(a)
            helper[np.arange(one.size), np.argmin(np.abs(a), axis=1)] = 1.0
            u = _unit_cross(a, helper)
            full[one, free0] = u
            full[one, free1] = _cross(a, u)
    return full


def _cell_geometry(cells, pbc, check=None):
    """Completed cells, their inverses and the inverse perpendicular widths.

    Parameters
    ----------
    cells : ndarray of shape (n_structures, 3, 3), float64
        Lattice vectors as rows, in Å.
    pbc : ndarray of shape (n_structures, 3), bool
        Periodicity of each structure.
    check : ndarray of shape (n_structures,), bool, optional
        Structures whose cell must be invertible (default: all).

    Returns
    -------
    full : ndarray of shape (n_structures, 3, 3), float64
        Completed cells (see :func:`_complete_cells`), in Å.
    inverse : ndarray of shape (n_structures, 3, 3), float64
        Their inverses, by cofactors, in 1/Å.
    inv_width : ndarray of shape (n_structures, 3), float64
        1 / perpendicular width of each axis (norm of column k of the
        inverse), in 1/Å.
    det : ndarray of shape (n_structures,), float64
        Determinant of the completed cells, in Å³.

    Raises
    ------
    ValueError
        If a checked cell has zero volume along its periodic axes.
    """
    full = _complete_cells(cells, pbc)
    # entry by entry, row-major: one cell (a neighbor_list call) in Python
    # floats, which costs a tenth of NumPy's per-call overhead (and warns of
    # nothing); a batch as arrays over its cells
    one = full.shape[0] == 1
    with _QUIET if one else np.errstate(all="ignore"):
        m = full.reshape(-1).tolist() if one else list(full.reshape(-1, 9).T)
        adj = [m[a] * m[b] - m[c] * m[d] for a, b, c, d in _ADJUGATE]
        det = m[0] * adj[0] + m[1] * adj[3] + m[2] * adj[6]
        if one:
            singular = det == 0.0 and (check is None or check[0])
        else:
            singular = ((det == 0.0) & (True if check is None else check)).any()
        if singular:
            raise ValueError("the cell has zero volume along its periodic axes")
        if one and det == 0.0:
            # an unchecked singular cell: inf and nan, as for arrays
            with np.errstate(all="ignore"):
                inv = [x / np.float64(det) for x in adj]
        else:
            inv = [x / det for x in adj]
        sqrt = math.sqrt if one else np.sqrt
        inv_width = [sqrt(inv[k] * inv[k] + inv[3 + k] * inv[3 + k] + inv[6 + k] * inv[6 + k]) for k in range(3)]
    if one:
        return full, np.array(inv).reshape(1, 3, 3), np.array([inv_width]), np.array([det], dtype=np.float64)
    return full, np.ascontiguousarray(np.array(inv).T).reshape(-1, 3, 3), np.ascontiguousarray(np.array(inv_width).T), det


# The numba search below is one function without calls to other numba
# functions, array expressions, slice assignment, min/max or np.zeros: each of
# those pulls a separately compiled implementation (or, for a callee, its
# re-optimised IR) into the compilation, and a new user waits for all of it on
# the first call.  Arrays are 1-D (3 entries per row) and allocated by
# np.empty with an int64 size, so numba compiles only two allocators.


@njit(cache=True, nogil=True, inline="always")
def _positive_shift(shift):
    """Whether an image shift is lexicographically positive (one of each +-S pair)."""
    if shift[0] != 0:
        return shift[0] > 0
    if shift[1] != 0:
        return shift[1] > 0
    return shift[2] > 0


# bins along axis 2 are this many times narrower: a row of bins is cut to the cutoff sphere's chord
# in steps of an eighth of the cutoff, not a half (NbMoTaW cells: 2.8 candidates per pair, not 3.9)
_Z_SPLIT = 4


@njit(cache=True, nogil=True)
def _search(
    positions, offsets, cells, inverses, inv_widths, pbc, probe, half, cutoff, min_distance, keep_close,
    index, distances, vectors, shifts,
):
    # cells, inverses, inv_widths: from _cell_geometry; probe[s]: look for pairs closer than min_distance first
    # (a structure with any gets no list); half[s]: keep one of (i, j, S) and (j, i, -S): j > i, or j == i
    # with S > 0 lexicographically; keep_close: do not drop structures with pairs closer than min_distance;
    # index, distances (cap,), vectors, shifts (3 * cap,): the pair buffers to fill first (grown if too small)
    n_frames = offsets.shape[0] - 1
    n_atoms = positions.shape[0]
    first = np.empty(n_atoms + 1, dtype=np.int64)
    for i in range(n_atoms + 1):
        first[i] = 0
    shortest = np.empty(n_frames)

    # scratch reused by every structure: per atom, per image (grown on demand), per axis
    n_max = 1
    for s in range(n_frames):
        if offsets[s + 1] - offsets[s] > n_max:
            n_max = offsets[s + 1] - offsets[s]
    frac = np.empty(3 * n_max)
    wrapped = np.empty(3 * n_max)
    wrap = np.empty(3 * n_max, dtype=np.int64)
    lo = np.empty(3 * n_max, dtype=np.int64)
    hi = np.empty(3 * n_max, dtype=np.int64)
    img_cap = 0
    img_pos = np.empty(0)
    img_atom = np.empty(0, dtype=np.int64)
    img_shift = np.empty(0, dtype=np.int64)
    img_bin = np.empty(0, dtype=np.int64)
    sorted_pos = np.empty(0)
    sorted_atom = np.empty(0, dtype=np.int64)
    sorted_shift = np.empty(0, dtype=np.int64)
    bin_start = np.empty(0, dtype=np.int64)
    fill = np.empty(0, dtype=np.int64)
    pad = np.empty(3)
    low = np.empty(3)
    high = np.empty(3)
    bin_size = np.empty(3)
    n_img = np.empty(3, dtype=np.int64)
    n_bins = np.empty(3, dtype=np.int64)
    reach = np.empty(3, dtype=np.int64)
    home = np.empty(3, dtype=np.int64)

    cap = index.shape[0]
    n = 0
    for s in range(n_frames):
        a = offsets[s]
        n_s = offsets[s + 1] - a
        half_s = half[s]
        shortest[s] = np.inf
        if n_s == 0:
            continue
        # wrap into the home cell along periodic axes; remember the integer shift
        for i in range(n_s):
            for k in range(3):
                f = (
                    positions[a + i, 0] * inverses[s, 0, k] + positions[a + i, 1] * inverses[s, 1, k]
                    + positions[a + i, 2] * inverses[s, 2, k]
                )
                w = 0
                if pbc[s, k]:
                    w = math.floor(f)
                    f -= w
                frac[3 * i + k] = f
                wrap[3 * i + k] = w
        for i in range(n_s):
            for k in range(3):
                wrapped[3 * i + k] = (
                    frac[3 * i] * cells[s, 0, k] + frac[3 * i + 1] * cells[s, 1, k] + frac[3 * i + 2] * cells[s, 2, k]
                )

        # a probe pass with cut = min_distance, then (if it found nothing) the search with cut = cutoff
        probing = probe[s]
        while True:
            cut = min_distance if probing else cutoff
            # periodic images that can lie within the cutoff of the home cell:
            # per atom, the shifts s with frac + s in [-pad, 1 + pad] along each
            # periodic axis (a hair wider: a boundary image is beyond the cutoff anyway)
            for k in range(3):
                pad[k] = cut * inv_widths[s, k]
                n_img[k] = math.ceil(pad[k]) + 1
            n_images = 0
            for i in range(n_s):
                for k in range(3):
                    lower = 0
                    upper = 0
                    if pbc[s, k]:
                        lower = math.ceil(-pad[k] - frac[3 * i + k] - 1e-9)
                        lower = -n_img[k] if -n_img[k] > lower else lower
                        upper = math.floor(1.0 + pad[k] - frac[3 * i + k] + 1e-9)
                        upper = n_img[k] if n_img[k] < upper else upper
                    lo[3 * i + k] = lower
                    hi[3 * i + k] = upper
                n_images += (hi[3 * i] - lo[3 * i] + 1) * (hi[3 * i + 1] - lo[3 * i + 1] + 1) * (hi[3 * i + 2] - lo[3 * i + 2] + 1)
            if n_images > img_cap:
                img_cap = n_images
                img_pos = np.empty(3 * img_cap)
                img_atom = np.empty(img_cap, dtype=np.int64)
                img_shift = np.empty(3 * img_cap, dtype=np.int64)
                img_bin = np.empty(img_cap, dtype=np.int64)
                sorted_pos = np.empty(3 * img_cap)
                sorted_atom = np.empty(img_cap, dtype=np.int64)
                sorted_shift = np.empty(3 * img_cap, dtype=np.int64)
                bin_start = np.empty(4 * img_cap + 65, dtype=np.int64)
                fill = np.empty(4 * img_cap + 64, dtype=np.int64)
            m = 0
            for i in range(n_s):
                for s0 in range(lo[3 * i], hi[3 * i] + 1):
                    f0 = frac[3 * i] + s0
                    for s1 in range(lo[3 * i + 1], hi[3 * i + 1] + 1):
                        f1 = frac[3 * i + 1] + s1
                        for s2 in range(lo[3 * i + 2], hi[3 * i + 2] + 1):
                            f2 = frac[3 * i + 2] + s2
                            for k in range(3):
                                img_pos[3 * m + k] = f0 * cells[s, 0, k] + f1 * cells[s, 1, k] + f2 * cells[s, 2, k]
                            img_atom[m] = i
                            img_shift[3 * m] = s0
                            img_shift[3 * m + 1] = s1
                            img_shift[3 * m + 2] = s2
                            m += 1

            # axis-aligned bins of about half the cutoff along axes 0 and 1 (a quarter of
            # that along axis 2, which a row of bins runs along): a centre scans the rows
            # within `reach` bins of its own and, in each, the bins its cutoff sphere reaches
            for k in range(3):
                low[k] = img_pos[k]
                high[k] = img_pos[k]
            for m in range(n_images):
                for k in range(3):
                    v = img_pos[3 * m + k]
                    low[k] = v if v < low[k] else low[k]
                    high[k] = v if v > high[k] else high[k]
            bin_width = 0.5 * cut
            bin_width = 1e-3 if 1e-3 > bin_width else bin_width
            while True:
                for k in range(3):
                    count = np.int64((high[k] - low[k]) / (bin_width if k < 2 else bin_width / _Z_SPLIT))
                    n_bins[k] = count if count > 1 else 1
                if n_bins[0] * n_bins[1] * n_bins[2] <= 4 * n_images + 64:
                    break
                bin_width *= 1.5
            for k in range(3):
                size = (high[k] - low[k]) / n_bins[k]
                bin_size[k] = 1e-12 if 1e-12 > size else size
                count = math.ceil(cut / bin_size[k])
                reach[k] = n_bins[k] if n_bins[k] < count else count
            total_bins = n_bins[0] * n_bins[1] * n_bins[2]
            for b in range(total_bins + 1):
                bin_start[b] = 0
            for m in range(n_images):
                b = 0
                for k in range(3):
                    c = np.int64((img_pos[3 * m + k] - low[k]) / bin_size[k])
                    c = n_bins[k] - 1 if n_bins[k] - 1 < c else c
                    b = b * n_bins[k] + c
                img_bin[m] = b
                bin_start[b + 1] += 1
            for b in range(total_bins):
                bin_start[b + 1] += bin_start[b]
            # images sorted by bin, so that a row of bins is one contiguous range
            for b in range(total_bins):
                fill[b] = bin_start[b]
            for m in range(n_images):
                q = fill[img_bin[m]]
                fill[img_bin[m]] += 1
                j = img_atom[m]
                for k in range(3):
                    sorted_pos[3 * q + k] = img_pos[3 * m + k]
                    # the pair's shift is this minus the centre's wrap: no lookup of the neighbour's wrap in the scan
                    sorted_shift[3 * q + k] = img_shift[3 * m + k] - wrap[3 * j + k]
                sorted_atom[q] = j

            cut2 = cut * cut
            # rows of bins are pruned against a sphere a hair larger than the cutoff (candidates
            # are still tested against cut2): rounding never drops a neighbour
            margin = 1e-9 * (1.0 + cut)
            reach2 = (cut + 2.0 * margin) * (cut + 2.0 * margin)
            n_pairs = n
            for i in range(n_s):
                x0 = wrapped[3 * i]
                x1 = wrapped[3 * i + 1]
                x2 = wrapped[3 * i + 2]
                w0 = wrap[3 * i]
                w1 = wrap[3 * i + 1]
                w2 = wrap[3 * i + 2]
                for k in range(3):
                    c = np.int64((wrapped[3 * i + k] - low[k]) / bin_size[k])
                    c = 0 if 0 > c else c
                    home[k] = n_bins[k] - 1 if n_bins[k] - 1 < c else c
                lo0 = home[0] - reach[0]
                lo1 = home[1] - reach[1]
                lo2 = home[2] - reach[2]
                hi0 = home[0] + reach[0] + 1
                hi1 = home[1] + reach[1] + 1
                hi2 = home[2] + reach[2]
                lo0 = 0 if 0 > lo0 else lo0
                lo1 = 0 if 0 > lo1 else lo1
                lo2 = 0 if 0 > lo2 else lo2
                hi0 = n_bins[0] if n_bins[0] < hi0 else hi0
                hi1 = n_bins[1] if n_bins[1] < hi1 else hi1
                hi2 = n_bins[2] - 1 if n_bins[2] - 1 < hi2 else hi2
                for b0 in range(lo0, hi0):
                    # distance from the centre to the slab of bins b0 along axis 0 (0 inside it),
                    # less a margin for points rounded into a neighbouring bin
                    g0 = low[0] + b0 * bin_size[0] - x0
                    g0 = x0 - (low[0] + (b0 + 1) * bin_size[0]) if g0 < 0.0 else g0
                    g0 = 0.0 if g0 < margin else g0 - margin
                    for b1 in range(lo1, hi1):
                        g1 = low[1] + b1 * bin_size[1] - x1
                        g1 = x1 - (low[1] + (b1 + 1) * bin_size[1]) if g1 < 0.0 else g1
                        g1 = 0.0 if g1 < margin else g1 - margin
                        rest = reach2 - g0 * g0 - g1 * g1
                        if rest < 0.0:
                            continue  # the whole row of bins is beyond the cutoff
                        # only the bins along axis 2 that the cutoff sphere reaches in this row
                        extent = math.sqrt(rest)
                        c_lo = np.int64(math.floor((x2 - extent - low[2]) / bin_size[2]))
                        c_hi = np.int64(math.floor((x2 + extent - low[2]) / bin_size[2]))
                        c_lo = lo2 if lo2 > c_lo else c_lo
                        c_hi = hi2 if hi2 < c_hi else c_hi
                        if c_hi < c_lo:
                            continue
                        row = (b0 * n_bins[1] + b1) * n_bins[2]
                        q0 = bin_start[row + c_lo]
                        q1 = bin_start[row + c_hi + 1]
                        # the buffers come sized by the caller's estimate (_pair_capacity);
                        # if that was short they double
                        need = n_pairs + q1 - q0
                        if need > cap:
                            cap = 2 * cap if 2 * cap > need else need
                            grown_index = np.empty(cap, dtype=np.int64)
                            grown_distances = np.empty(cap)
                            grown_vectors = np.empty(3 * cap)
                            grown_shifts = np.empty(3 * cap, dtype=np.int64)
                            for p in range(n_pairs):
                                grown_index[p] = index[p]
                                grown_distances[p] = distances[p]
                            for p in range(3 * n_pairs):
                                grown_vectors[p] = vectors[p]
                                grown_shifts[p] = shifts[p]
                            index = grown_index
                            distances = grown_distances
                            vectors = grown_vectors
                            shifts = grown_shifts
                        # every candidate is written at n_pairs, which only advances for a neighbour: no
                        # unpredictable branch per candidate (a quarter to a half of them are neighbours)
                        for q in range(q0, q1):
                            d0 = sorted_pos[3 * q] - x0
                            d1 = sorted_pos[3 * q + 1] - x1
                            d2 = sorted_pos[3 * q + 2] - x2
                            r2 = d0 * d0 + d1 * d1 + d2 * d2
                            j = sorted_atom[q]
                            s0 = sorted_shift[3 * q] + w0
                            s1 = sorted_shift[3 * q + 1] + w1
                            s2 = sorted_shift[3 * q + 2] + w2
                            # bitwise, not short-circuit: no branch per candidate
                            itself = (j == i) & (s0 == 0) & (s1 == 0) & (s2 == 0)
                            keep = (r2 < cut2) & (not itself)
                            if half_s:
                                keep = keep & ((j > i) | ((j == i) & ((s0 > 0) | ((s0 == 0) & (s1 > 0)) | ((s0 == 0) & (s1 == 0) & (s2 > 0)))))
                            index[n_pairs] = a + j
                            vectors[3 * n_pairs] = d0
                            vectors[3 * n_pairs + 1] = d1
                            vectors[3 * n_pairs + 2] = d2
                            distances[n_pairs] = math.sqrt(r2)
                            shifts[3 * n_pairs] = s0
                            shifts[3 * n_pairs + 1] = s1
                            shifts[3 * n_pairs + 2] = s2
                            n_pairs += 1 if keep else 0
                first[a + i + 1] = n_pairs
            if not probing or n_pairs > n:
                break
            probing = False

        nearest = np.inf
        for p in range(n, n_pairs):
            nearest = distances[p] if distances[p] < nearest else nearest
        shortest[s] = nearest
        # a probe that found pairs leaves `probing` set
        if probing or (not keep_close and (nearest < min_distance or nearest <= 0.0)):
            for i in range(n_s):
                first[a + i + 1] = n
        else:
            n = n_pairs
    return first, index, vectors, distances, shifts, shortest, n


def _probes(offsets, pbc, inv_width, cutoff, min_distance):
    """Structures to probe for atoms closer than ``min_distance`` before the full search.

    Those whose search would visit very many periodic images (a cell much
    smaller than the cutoff): atoms times image shifts above 200,000.
    """
    if not min_distance > 0:
        return np.zeros(pbc.shape[0], dtype=np.bool_)
    with np.errstate(all="ignore"):
        per_axis = np.where(pbc, 2 * (np.ceil(cutoff * inv_width).astype(np.int64) + 1) + 1, 1)
    return (offsets[1:] - offsets[:-1]) * per_axis.prod(axis=1) > 200_000


def _search_lists(positions, offsets, pbc, geometry, cutoff, min_distance, half, keep_close, expected=None):
    """Run :func:`_search` and trim its buffers; returns the lists and ``shortest``.

    ``positions`` (float64), ``offsets`` (int64), ``pbc`` and ``half`` (bool)
    must be C-contiguous, ``geometry`` the :func:`_cell_geometry` of the cells
    and ``cutoff``, ``min_distance`` floats (one compiled signature for all callers).
    ``expected`` is the expected number of neighbours per atom of each
    structure (:func:`_estimate`; computed here if not given).
    """
    full, inverse, inv_width, _ = geometry
    probe = _probes(offsets, pbc, inv_width, cutoff, min_distance)
    cap = _pair_capacity(positions, offsets, pbc, geometry, cutoff, half, probe, expected)
    first, index, vectors, distances, shifts, shortest, n = _search(
        positions, offsets, full, inverse, inv_width, pbc, probe, half, cutoff, min_distance, keep_close,
        np.empty(cap, dtype=np.int64), np.empty(cap), np.empty(3 * cap), np.empty(3 * cap, dtype=np.int64),
    )
    return first, index[:n], vectors[: 3 * n].reshape(n, 3), distances[:n], shifts[: 3 * n].reshape(n, 3), shortest


def _pair_capacity(positions, offsets, pbc, geometry, cutoff, half, probe, expected):
    """Entries to allocate for a batch's pairs: the expected count with room for a crystal's shells.

    The buffers are allocated here, by NumPy, not in the numba search: NumPy
    asks the kernel for huge pages for large arrays, and the first touch of a
    large list then costs about a quarter of what it does in 4 KiB pages
    (a 20,000-atom box's list: 6 ms instead of 22 ms).  The search grows the
    buffers if they are too small.  A probed structure (a cell much smaller
    than the cutoff) counts only 16 entries per atom: it may have overlapping
    atoms and get no list at all.
    """
    counts = offsets[1:] - offsets[:-1]
    if expected is None:
        expected = _estimate(positions, offsets, pbc, cutoff, geometry)[0]
    pairs = np.where(probe, 0.0, counts * np.where(half, 0.5, 1.0) * expected)
    return int(1.2 * pairs.sum()) + 16 * int(counts.sum()) + 64


def _batch_arrays(positions, offsets, cells, pbc):
    """C-contiguous float64 positions, int64 offsets, float64 cells and bool pbc."""
    return (
        np.ascontiguousarray(positions, dtype=np.float64), np.ascontiguousarray(offsets, dtype=np.int64),
        np.asarray(cells, dtype=np.float64), np.ascontiguousarray(pbc, dtype=np.bool_),
    )


def guarded_neighbor_list(positions, cell, pbc, cutoff, min_distance, half):
    """Neighbour list plus the shortest distance, cheap for overlapping atoms.

    When the search would visit very many periodic images (a cell much
    smaller than the cutoff), atoms closer than ``min_distance`` are looked
    for first with that tiny cutoff; if any exist the full list is not built
    (it could hold millions of pairs) and an empty list is returned.
    With ``half=True`` each pair is listed once: (i, j, S) is kept and
    (j, i, -S) dropped when j > i, or when j == i and S is lexicographically
    positive.

    Parameters
    ----------
    positions : array-like of shape (n_atoms, 3)
        Cartesian positions in Å.
    cell : array-like of shape (3, 3)
        Lattice vectors as rows, in Å; rows of non-periodic axes are ignored.
    pbc : array-like of shape (3,), bool
        Periodicity along each lattice vector.
    cutoff : float
        Cutoff radius in Å.
    min_distance : float
        Overlap threshold of the probe, in Å (0: no probe).
    half : bool
        Whether to return a half list.

    Returns
    -------
    first, index, vectors, distances, shifts, shortest
        The CSR list (see :func:`neighbor_list`) and the shortest distance
        found, in Å (``inf`` if none).
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64).reshape(-1, 3)
    pbc = np.ascontiguousarray(pbc, dtype=np.bool_).reshape(1, 3)
    geometry = _cell_geometry(np.asarray(cell, dtype=np.float64).reshape(1, 3, 3), pbc)
    *lists, shortest = _search_lists(
        positions, np.array([0, positions.shape[0]]), pbc, geometry, float(cutoff), float(min_distance),
        np.array([bool(half)]), True,
    )
    return (*lists, float(shortest[0]))


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
    offsets = np.asarray(offsets, dtype=np.int64)
    pbc = np.asarray(pbc, dtype=np.bool_)
    geometry = _cell_geometry(np.asarray(cells, dtype=np.float64), pbc, check=np.diff(offsets) > 0)
    return _estimate(np.asarray(positions, dtype=np.float64), offsets, pbc, float(cutoff), geometry)


def _estimate(positions, offsets, pbc, cutoff, geometry):
    """:func:`estimate_neighbors` given the structures' :func:`_cell_geometry`."""
    full, inverse, inv_width, det = geometry
    counts = offsets[1:] - offsets[:-1]
    one = counts.shape[0] == 1
    if one:
        if counts[0] == 0:
            return np.zeros(1), np.zeros(1), np.full(1, np.inf)
        # one structure (a neighbor_list call): Python floats, as in _cell_geometry
        # (its cell was checked to be invertible: no division by zero)
        n, det, periodic, inv_width = int(counts[0]), float(det[0]), pbc[0].tolist(), inv_width[0].tolist()
    else:
        n, periodic, inv_width = counts, list(pbc.T), list(inv_width.T)
    filled = n > 0
    with _QUIET if one else np.errstate(all="ignore"):
        # the completed rows of non-periodic axes are orthonormal and normal to
        # the periodic ones: |det| is the periodic measure, fractional
        # coordinates along them are lengths in Å
        volume = abs(det)
        per_atom_images = 1.0
        width = np.inf if one else np.full(counts.shape[0], np.inf)
        for k in range(3):
            inside = periodic[k] & filled
            per_atom_images = _pick(inside, per_atom_images * (2.0 * cutoff * inv_width[k] + 1.0), per_atom_images)
            width = _pick(inside & (1.0 / inv_width[k] < width), 1.0 / inv_width[k], width)
            free = (not periodic[k] and filled) if one else ~periodic[k] & filled
            if free if one else free.any():
                owner = np.repeat(np.arange(counts.shape[0]), counts)
                column = inverse[owner, :, k]
                rows = positions[offsets[0] : offsets[-1]]
                along = rows[:, 0] * column[:, 0] + rows[:, 1] * column[:, 1] + rows[:, 2] * column[:, 2]
                starts = offsets[:-1][counts > 0] - offsets[0]
                extent = np.zeros(counts.shape[0])
                extent[counts > 0] = np.maximum.reduceat(along, starts) - np.minimum.reduceat(along, starts)
                extent = float(extent[0]) if one else extent
                volume = _pick(free, volume * _pick(2.0 * cutoff > extent, 2.0 * cutoff, extent), volume)
        sphere = 4.0 / 3.0 * np.pi * (cutoff * cutoff * cutoff)
        neighbors = _pick(filled, n / volume * sphere, 0.0)
        images = _pick(filled, n * per_atom_images, 0.0)
    if one:
        return np.array([neighbors]), np.array([images]), np.array([width])
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
    cells = np.ascontiguousarray(cell, dtype=np.float64).reshape(1, 3, 3)
    pbc = np.ascontiguousarray(pbc, dtype=np.bool_).reshape(1, 3)
    cutoff = float(cutoff)
    if not cutoff > 0 or not np.isfinite(cutoff):
        raise ValueError(f"cutoff must be a positive finite number of Å, got {cutoff}")
    if positions.shape[0] == 0:
        raise ValueError("no atoms: the neighbour list needs at least one atom")
    offsets = np.array([0, positions.shape[0]])
    geometry = _cell_geometry(cells, pbc)
    expected = _check_list_size(positions, offsets, pbc, cutoff, geometry)
    *lists, _ = _search_lists(
        positions, offsets, pbc, geometry, cutoff, 0.0, np.zeros(1, dtype=np.bool_), True, expected
    )
    return NeighborList(*lists)


def _check_list_size(positions, offsets, pbc, cutoff, geometry):
    """Refuse a list above the configured ``max_pairs``/``max_memory`` (see ``skdesc.set_config``).

    Returns the expected neighbours per atom (:func:`_estimate`).
    """
    from .._config import check_count, check_memory

    n_atoms = positions.shape[0]
    per_atom, images, width = _estimate(positions, offsets, pbc, cutoff, geometry)
    what = (
        f"neighbour list of {n_atoms} atoms at a {cutoff:g} Å cutoff (narrowest periodic cell width "
        f"{width[0]:.3g} Å), about {per_atom[0]:.3g} neighbours per atom"
    )
    advice = "lower the cutoff or check the cell (in a cell much narrower than the cutoff atoms meet their own images many times over)"
    check_count(n_atoms * per_atom[0] + images[0], "max_pairs", f"{what}: entries (pairs plus periodic images)", advice)
    check_memory(64.0 * n_atoms * per_atom[0] + 112.0 * images[0], what, advice)
    return per_atom
