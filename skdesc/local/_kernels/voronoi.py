"""Numba kernels of the Voronoi cell statistics: face geometry clipped to a sphere, per-atom sums.

Every cell is intersected with the ball of radius ``R`` around its atom.  A face
lies in the bisector plane at distance ``h`` from the atom; the plane meets the
ball in a disk of radius ``rho = sqrt(R^2 - h^2)`` around the foot point ``p0``
(the midpoint of the atom and its neighbour).  Area and solid angle of
``face ∩ disk`` are sums over a fan of triangles ``(p0, a, b)``, one per edge,
each in closed form: with ``d`` the distance from ``p0`` to the edge's line and
``psi`` the angle from its foot, the boundary in direction ``psi`` is at
``min(rho, d / cos psi)``, so

* area: ``d^2 / 2 (tan psi_2 - tan psi_1)`` along the edge, ``rho^2 / 2`` per
  radian along the circle;
* solid angle: ``(psi_2 - psi_1) - [asin(h sin psi / sqrt(h^2 + d^2))]`` along
  the edge, ``1 - h / R`` per radian along the circle.

The cell volume is ``(1/3) (sum_f h_f A_f + R^3 (4 pi - sum_f Omega_f))``
(cones from the atom over the plane parts and over the sphere part).
"""

import math

import numpy as np
from numba import njit

#: faces of at most ``ZERO_AREA`` times the cell's largest face are numerical zeros (never counted)
ZERO_AREA = 1e-8
#: polygon vertices closer than this (Å) are one vertex (degenerate tessellations repeat them)
MERGE_LENGTH = 1e-6
#: open solid angles below this (sr) are a closed cell (Qhull merges nearly degenerate
#: vertices, so the face angles of a closed cell add up to 4 pi within about 1e-7)
OPEN_TOLERANCE = 1e-6
#: Voronoi-index bins: faces with <= 3 edges, 4, ..., 9, >= 10
INDEX_BINS = 8


@njit(cache=True, nogil=True)
def _fan_piece(ax, ay, bx, by, h, rho, R):
    """Signed area and solid angle of triangle (p0, a, b) ∩ disk(p0, rho); a, b relative to p0."""
    cross = ax * by - ay * bx
    ex = bx - ax
    ey = by - ay
    length = math.sqrt(ex * ex + ey * ey)
    if length <= 0.0:
        return 0.0, 0.0
    d = abs(cross) / length
    if d <= 1e-14 * (length + rho):
        return 0.0, 0.0
    sign = 1.0 if cross > 0.0 else -1.0
    ta = (ax * ex + ay * ey) / length
    tb = (bx * ex + by * ey) / length
    psi_a = math.atan2(ta, d)
    psi_b = math.atan2(tb, d)
    sweep = psi_b - psi_a
    lower = 0.0
    upper = 0.0
    if d < rho:
        limit = math.acos(d / rho)
        lower = max(psi_a, -limit)
        upper = min(psi_b, limit)
        if upper < lower:
            upper = lower
    along_edge = upper - lower
    along_circle = sweep - along_edge
    area = 0.5 * rho * rho * along_circle
    solid = (1.0 - h / R) * along_circle
    if along_edge > 0.0:
        area += 0.5 * d * d * (math.tan(upper) - math.tan(lower))
        hyp = math.sqrt(h * h + d * d)
        solid += along_edge - (math.asin(h * math.sin(upper) / hyp) - math.asin(h * math.sin(lower) / hyp))
    return sign * area, sign * solid


@njit(cache=True, nogil=True)
def face_kernel(points, owner, other, ridge, vstart, vindex, vertices, R, area, solid, n_edges):
    """Clipped area (Å^2), solid angle (sr) and edge count of each face entry.

    Entry ``f`` is the face of point ``owner[f]`` shared with point
    ``other[f]``; its polygon's vertices are
    ``vertices[vindex[vstart[ridge[f]]:vstart[ridge[f] + 1]]]``.
    """
    for f in range(owner.shape[0]):
        c = points[owner[f]]
        o = points[other[f]]
        nx = o[0] - c[0]
        ny = o[1] - c[1]
        nz = o[2] - c[2]
        dist = math.sqrt(nx * nx + ny * ny + nz * nz)
        nx /= dist
        ny /= dist
        nz /= dist
        h = 0.5 * dist
        if h >= R:
            continue
        rho = math.sqrt(R * R - h * h)
        px = c[0] + h * nx
        py = c[1] + h * ny
        pz = c[2] + h * nz
        # an orthonormal basis (e1, e2) of the face plane
        if abs(nx) < 0.9:
            ux, uy, uz = 0.0, nz, -ny  # n x (1, 0, 0)
        else:
            ux, uy, uz = -nz, 0.0, nx  # n x (0, 1, 0)
        norm = math.sqrt(ux * ux + uy * uy + uz * uz)
        ux /= norm
        uy /= norm
        uz /= norm
        wx = ny * uz - nz * uy
        wy = nz * ux - nx * uz
        wz = nx * uy - ny * ux
        r = ridge[f]
        start = vstart[r]
        m = vstart[r + 1] - start
        xs = np.empty(m)
        ys = np.empty(m)
        angle = np.empty(m)
        cx = 0.0
        cy = 0.0
        for k in range(m):
            v = vertices[vindex[start + k]]
            dx = v[0] - px
            dy = v[1] - py
            dz = v[2] - pz
            xs[k] = dx * ux + dy * uy + dz * uz
            ys[k] = dx * wx + dy * wy + dz * wz
            cx += xs[k]
            cy += ys[k]
        cx /= m
        cy /= m
        for k in range(m):
            angle[k] = math.atan2(ys[k] - cy, xs[k] - cx)
        # counter-clockwise order (insertion sort: a face has few vertices)
        for k in range(1, m):
            a, x, y = angle[k], xs[k], ys[k]
            j = k - 1
            while j >= 0 and angle[j] > a:
                angle[j + 1] = angle[j]
                xs[j + 1] = xs[j]
                ys[j + 1] = ys[j]
                j -= 1
            angle[j + 1] = a
            xs[j + 1] = x
            ys[j + 1] = y
        # the fan covers every vertex (exact geometry); edges shorter than MERGE_LENGTH
        # (repeated vertices of degenerate tessellations) are not counted
        a_sum = 0.0
        s_sum = 0.0
        edges = 0
        for k in range(m):
            ax, ay = xs[k], ys[k]
            bx, by = xs[(k + 1) % m], ys[(k + 1) % m]
            piece_area, piece_solid = _fan_piece(ax, ay, bx, by, h, rho, R)
            a_sum += piece_area
            s_sum += piece_solid
            # an edge counts when part of it lies inside the sphere
            ex = bx - ax
            ey = by - ay
            ll = ex * ex + ey * ey
            if ll <= MERGE_LENGTH * MERGE_LENGTH:
                continue
            t = min(1.0, max(0.0, -(ax * ex + ay * ey) / ll))
            if math.hypot(ax + t * ex, ay + t * ey) < rho:
                edges += 1
        area[f] = max(a_sum, 0.0)
        solid[f] = max(s_sum, 0.0)
        n_edges[f] = edges


@njit(cache=True, nogil=True)
def cell_kernel(first, area, solid, n_edges, distance, other_species, R, threshold, relative, n_species, values):
    """Per-atom features from the faces of each cell (faces of atom i: ``first[i]:first[i + 1]``).

    Columns: cn, cn_eff, volume, exposed, area mean/std/min/max,
    distance mean/std/min/max, INDEX_BINS Voronoi-index counts, then the
    area fraction of each neighbour element.
    """
    for i in range(first.shape[0] - 1):
        a = first[i]
        b = first[i + 1]
        largest = 0.0
        hA = 0.0
        omega = 0.0
        for f in range(a, b):
            largest = max(largest, area[f])
            hA += 0.5 * distance[f] * area[f]
            omega += solid[f]
        open_angle = 4.0 * math.pi - omega
        if open_angle < OPEN_TOLERANCE:  # a closed cell (rounding of the face angles)
            open_angle = 0.0
        values[i, 2] = (hA + R * R * R * open_angle) / 3.0
        values[i, 3] = open_angle / (4.0 * math.pi)
        bound = threshold * largest if relative else threshold
        bound = max(bound, ZERO_AREA * largest)
        count = 0
        s1 = 0.0
        s2 = 0.0
        amin = np.inf
        amax = 0.0
        d1 = 0.0
        dmin = np.inf
        dmax = 0.0
        for f in range(a, b):
            x = area[f]
            if not x > bound:
                continue
            count += 1
            s1 += x
            s2 += x * x
            amin = min(amin, x)
            amax = max(amax, x)
            d = distance[f]
            d1 += d
            dmin = min(dmin, d)
            dmax = max(dmax, d)
            e = n_edges[f]
            bin_ = 0 if e <= 3 else (INDEX_BINS - 1 if e >= 10 else e - 3)
            values[i, 12 + bin_] += 1.0
            if other_species[f] >= 0:
                values[i, 12 + INDEX_BINS + other_species[f]] += x
        if count == 0:
            continue
        values[i, 0] = count
        values[i, 1] = s1 * s1 / s2
        mean = s1 / count
        values[i, 4] = mean
        var = 0.0
        dmean = d1 / count
        dvar = 0.0
        for f in range(a, b):
            if area[f] > bound:
                var += (area[f] - mean) ** 2
                dvar += (distance[f] - dmean) ** 2
        values[i, 5] = math.sqrt(var / count)
        values[i, 6] = amin
        values[i, 7] = amax
        values[i, 8] = dmean
        values[i, 9] = math.sqrt(dvar / count)
        values[i, 10] = dmin
        values[i, 11] = dmax
        for k in range(n_species):
            values[i, 12 + INDEX_BINS + k] /= s1
