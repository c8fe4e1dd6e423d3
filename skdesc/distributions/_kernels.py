"""Numba kernels of the distribution functions: smeared pair-distance and bond-angle histograms.

Each kernel reads the CSR neighbour lists of a batch (full lists) and adds raw
counts into an output the caller allocated and zeroed, one row per structure of
the batch; the estimators normalise the counts.  Conventions as in
``skdesc/local/_kernels``: contiguous float64/int64 arrays, no Python objects,
no exceptions, shapes checked by the caller.
"""

import math

import numpy as np
from numba import njit

#: A distance (Å) or angle (degree) this close below a bin edge is counted in the upper bin,
#: so values on an edge (as symmetric structures give) fall in the same bin however the
#: positions were rounded (rotations, wrapped positions, supercells).
EDGE_TOLERANCE = 1e-9

#: Gaussians are cut this many standard deviations from their centre (the lost weight is below 1e-15).
TAIL = 8.0


@njit(cache=True, nogil=True)
def _add_gaussian(row, centre, sigma, width, n_bins, weight):
    """Add ``weight`` times the integral over each bin of a normalised Gaussian at ``centre``."""
    lo = max(0, int(math.floor((centre - TAIL * sigma) / width)))
    hi = min(n_bins - 1, int(math.floor((centre + TAIL * sigma) / width)))
    scale = 1.0 / (math.sqrt(2.0) * sigma)
    below = math.erf((lo * width - centre) * scale)
    for b in range(lo, hi + 1):
        above = math.erf(((b + 1) * width - centre) * scale)
        row[b] += 0.5 * weight * (above - below)
        below = above


@njit(cache=True, nogil=True)
def pair_histogram_kernel(offsets, first, index, distances, species_index, n_species, partial, width, n_bins, sigma, out):
    """Distance histogram of the ordered pairs (centre, neighbour) of every structure.

    ``out[s, g, b]`` receives the number of neighbour-list entries of structure
    ``s`` in bin ``b`` (``[b width, (b + 1) width)``, Å), or with ``sigma > 0``
    the integral of a Gaussian of standard deviation ``sigma`` (Å) at each
    distance over the bin.  Without ``partial`` there is one group (all
    entries); with it the group of an entry is the unordered element pair
    ``(A, B)``, ``A <= B`` in species order, and only entries whose centre is
    of element ``A`` and neighbour of element ``B`` are counted (both
    directions for ``A = B``).
    """
    for s in range(offsets.shape[0] - 1):
        for i in range(offsets[s], offsets[s + 1]):
            a = species_index[i]
            for p in range(first[i], first[i + 1]):
                g = 0
                if partial:
                    b = species_index[index[p]]
                    if b < a:
                        continue
                    # index of (a, b), a <= b, in the row-major upper triangle
                    g = a * n_species - (a * (a - 1)) // 2 + (b - a)
                d = distances[p]
                if sigma > 0.0:
                    _add_gaussian(out[s, g], d, sigma, width, n_bins, 1.0)
                else:
                    k = int((d + EDGE_TOLERANCE) / width)
                    if k < n_bins:
                        out[s, g, k] += 1.0


@njit(cache=True, nogil=True)
def angle_histogram_kernel(offsets, first, vectors, distances, width, n_bins, sigma, out, triplets):
    """Histogram of the bond angles theta_jik (degrees) of every structure.

    For every centre ``i`` and unordered pair ``j < k`` of its neighbours,
    ``out[s, b]`` receives 1 in the bin ``[b width, (b + 1) width)`` of
    ``theta_jik`` (180° in the last bin), or with ``sigma > 0`` (degrees) the
    integral over the bin of a Gaussian at theta reflected at 0° and 180° (so
    each angle adds exactly 1 over [0°, 180°]).  ``triplets[s]`` receives the
    number of angles of structure ``s``.
    """
    to_degrees = 180.0 / math.pi
    for s in range(offsets.shape[0] - 1):
        row = out[s]
        for i in range(offsets[s], offsets[s + 1]):
            start = first[i]
            n = first[i + 1] - start
            triplets[s] += 0.5 * n * (n - 1)
            for j in range(start, start + n):
                uj0 = vectors[j, 0] / distances[j]
                uj1 = vectors[j, 1] / distances[j]
                uj2 = vectors[j, 2] / distances[j]
                for k in range(j + 1, start + n):
                    uk0 = vectors[k, 0] / distances[k]
                    uk1 = vectors[k, 1] / distances[k]
                    uk2 = vectors[k, 2] / distances[k]
                    c = uj0 * uk0 + uj1 * uk1 + uj2 * uk2
                    # atan2(|u x v|, u . v) stays accurate near 0° and 180°, where arccos is ill-conditioned
                    x = uj1 * uk2 - uj2 * uk1
                    y = uj2 * uk0 - uj0 * uk2
                    z = uj0 * uk1 - uj1 * uk0
                    theta = math.atan2(math.sqrt(x * x + y * y + z * z), c) * to_degrees
                    if sigma > 0.0:
                        _add_gaussian(row, theta, sigma, width, n_bins, 1.0)
                        _add_gaussian(row, -theta, sigma, width, n_bins, 1.0)
                        _add_gaussian(row, 360.0 - theta, sigma, width, n_bins, 1.0)
                    else:
                        row[min(int((theta + EDGE_TOLERANCE) / width), n_bins - 1)] += 1.0
