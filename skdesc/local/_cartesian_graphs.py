"""Full contractions of symmetric traceless tensors, as multigraphs, and their term tables.

A full contraction of tensors T_1..T_k (orders l_1..l_k) is a loopless
multigraph: one vertex per tensor, of degree l_v, and one edge per pair of
contracted indices.  For symmetric tensors the value depends only on the
graph, a self-loop (a trace) vanishes for traceless tensors, and a
disconnected graph is a product of smaller invariants.  So the invariants of
up to four tensors are the connected loopless multigraphs of up to four
vertices.

An invariant is stored as ``(orders, edges)``: ``orders`` the tensor order of
each slot, ``edges`` a tuple of ``((u, v), multiplicity)`` with ``u < v``.

Symmetric tensors are stored by their independent components: order l has
one component per sorted index tuple (1, 3, 6, 10, 15 for l = 0..4), and the
components of orders 0..L are concatenated (offset ``COMPONENT_OFFSET[l]``).
Expanding a contraction over the 3**n_edges values of its edge indices gives
a polynomial in these components; :func:`term_table` merges equal monomials.
"""

import itertools
import string

import numpy as np

__all__ = [
    "COMPONENT_OFFSET",
    "OPTIMAL",
    "ALL",
    "enumerate_invariants",
    "automorphisms",
    "channel_assignments",
    "component_table",
    "einsum_signature",
    "term_table",
    "traceless_table",
]

#: Offset of order l in the concatenated symmetric components (orders 0..4).
COMPONENT_OFFSET = (0, 1, 4, 10, 20, 35)


def _graph(orders, *edges):
    return tuple(orders), tuple(sorted(((min(u, v), max(u, v)), m) for (u, v), m in edges))


# The 13 contractions of moment tensors of orders 0..3 that Allen, Shinkle,
# Bujack & Lubbers (arXiv:2503.23515, 2025) identify as a functionally
# independent set (one tensor of each order: 1 + 3 + 5 + 7 components minus 3
# rotations = 13), in their order.  Slots: tensor orders; edges: contractions.
_OPTIMAL_3 = (
    _graph((0,)),  # M0
    _graph((1, 1), ((0, 1), 1)),  # M1.M1
    _graph((2, 2), ((0, 1), 2)),  # M2:M2
    _graph((3, 3), ((0, 1), 3)),  # M3 full contraction M3
    _graph((1, 2, 1), ((0, 1), 1), ((1, 2), 1)),  # M1.M2.M1
    _graph((2, 2, 2), ((0, 1), 1), ((1, 2), 1), ((0, 2), 1)),  # tr(M2 M2 M2)
    _graph((2, 3, 3), ((0, 1), 1), ((0, 2), 1), ((1, 2), 2)),  # M2 M3 M3
    _graph((1, 1, 1, 3), ((0, 3), 1), ((1, 3), 1), ((2, 3), 1)),  # M3 . M1 M1 M1
    _graph((1, 2, 2, 1), ((0, 1), 1), ((1, 2), 1), ((2, 3), 1)),  # M1.M2.M2.M1
    _graph((1, 3, 3, 1), ((0, 1), 1), ((1, 2), 2), ((2, 3), 1)),  # M1.M3:M3.M1
    _graph((2, 2, 3, 3), ((0, 1), 1), ((0, 2), 1), ((1, 3), 1), ((2, 3), 2)),  # 4-cycle M2 M2 M3 M3
    _graph((2, 3, 3, 2), ((0, 1), 2), ((1, 2), 1), ((2, 3), 2)),  # M2:M3.M3:M2
    _graph((3, 3, 3, 3), ((0, 1), 2), ((0, 2), 1), ((1, 3), 1), ((2, 3), 2)),  # 4-cycle of M3
)

# Nine contractions that extend the set to orders 0..4 (1 + 3 + 5 + 7 + 9 - 3 =
# 22 independent functions): chosen greedily, by the rank their Jacobians add
# w.r.t. the tensor components at random points, from the connected graphs of
# at most four tensors that involve M4, fewest tensors first (the criterion of
# the paper above, applied to the order-4 extension; ``tests/test_cartesian.py``
# checks the rank 22 w.r.t. atomic positions).
_OPTIMAL_4_EXTRA = (
    ((4, 4), (((0, 1), 4),)),  # ijkl,ijkl
    ((1, 3, 4), (((0, 2), 1), ((1, 2), 3))),  # i,jkl,ijkl
    ((2, 2, 4), (((0, 2), 2), ((1, 2), 2))),  # ij,kl,ijkl
    ((2, 4, 4), (((0, 1), 1), ((0, 2), 1), ((1, 2), 3))),  # ij,iklm,jklm
    ((3, 3, 4), (((0, 1), 1), ((0, 2), 2), ((1, 2), 2))),  # ijk,ilm,jklm
    ((4, 4, 4), (((0, 1), 2), ((0, 2), 2), ((1, 2), 2))),  # ijkl,ijmn,klmn
    ((1, 1, 2, 4), (((0, 3), 1), ((1, 3), 1), ((2, 3), 2))),  # i,j,kl,ijkl
    ((1, 1, 4, 4), (((0, 3), 1), ((1, 2), 1), ((2, 3), 3))),  # i,j,jklm,iklm
    ((1, 2, 3, 4), (((0, 1), 1), ((1, 3), 1), ((2, 3), 3))),  # i,ij,klm,jklm
)

OPTIMAL = {3: _OPTIMAL_3, 4: _OPTIMAL_3 + _OPTIMAL_4_EXTRA}

# Every connected contraction of at most four tensors of orders 1..4 (and M0) that is
# nonzero and not a linear combination of the others with the same orders (with
# distinct tensors in the slots): the output of ``enumerate_invariants(4)``, stored
# because the enumeration takes seconds.  Orders 0..3: the graphs without M4.
_ALL_4 = (
    ((0,), ()),  # M0
    ((1, 1), (((0, 1), 1),)),  # i,i
    ((2, 2), (((0, 1), 2),)),  # ij,ij
    ((3, 3), (((0, 1), 3),)),  # ijk,ijk
    ((4, 4), (((0, 1), 4),)),  # ijkl,ijkl
    ((1, 1, 2), (((0, 2), 1), ((1, 2), 1))),  # i,j,ij
    ((1, 2, 3), (((0, 2), 1), ((1, 2), 2))),  # i,jk,ijk
    ((1, 3, 4), (((0, 2), 1), ((1, 2), 3))),  # i,jkl,ijkl
    ((2, 2, 2), (((0, 1), 1), ((0, 2), 1), ((1, 2), 1))),  # ij,ik,jk
    ((2, 2, 4), (((0, 2), 2), ((1, 2), 2))),  # ij,kl,ijkl
    ((2, 3, 3), (((0, 1), 1), ((0, 2), 1), ((1, 2), 2))),  # ij,ikl,jkl
    ((2, 4, 4), (((0, 1), 1), ((0, 2), 1), ((1, 2), 3))),  # ij,iklm,jklm
    ((3, 3, 4), (((0, 1), 1), ((0, 2), 2), ((1, 2), 2))),  # ijk,ilm,jklm
    ((4, 4, 4), (((0, 1), 2), ((0, 2), 2), ((1, 2), 2))),  # ijkl,ijmn,klmn
    ((1, 1, 1, 3), (((0, 3), 1), ((1, 3), 1), ((2, 3), 1))),  # i,j,k,ijk
    ((1, 1, 2, 2), (((0, 3), 1), ((1, 2), 1), ((2, 3), 1))),  # i,j,jk,ik
    ((1, 1, 2, 4), (((0, 3), 1), ((1, 3), 1), ((2, 3), 2))),  # i,j,kl,ijkl
    ((1, 1, 3, 3), (((0, 3), 1), ((1, 2), 1), ((2, 3), 2))),  # i,j,jkl,ikl
    ((1, 1, 4, 4), (((0, 3), 1), ((1, 2), 1), ((2, 3), 3))),  # i,j,jklm,iklm
    ((1, 2, 2, 3), (((0, 2), 1), ((1, 3), 2), ((2, 3), 1))),  # i,jk,il,jkl
    ((1, 2, 2, 3), (((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 1))),  # i,jk,jl,ikl
    ((1, 2, 3, 4), (((0, 1), 1), ((1, 3), 1), ((2, 3), 3))),  # i,ij,klm,jklm
    ((1, 2, 3, 4), (((0, 2), 1), ((1, 3), 2), ((2, 3), 2))),  # i,jk,ilm,jklm
    ((1, 2, 3, 4), (((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 2))),  # i,jk,jlm,iklm
    ((1, 3, 3, 3), (((0, 3), 1), ((1, 2), 2), ((1, 3), 1), ((2, 3), 1))),  # i,jkl,jkm,ilm
    ((1, 3, 4, 4), (((0, 1), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 3))),  # i,ijk,jlmn,klmn
    ((1, 3, 4, 4), (((0, 3), 1), ((1, 2), 2), ((1, 3), 1), ((2, 3), 2))),  # i,jkl,jkmn,ilmn
    ((2, 2, 2, 2), (((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 1))),  # ij,kl,ik,jl
    ((2, 2, 2, 4), (((0, 3), 2), ((1, 2), 1), ((1, 3), 1), ((2, 3), 1))),  # ij,kl,km,ijlm
    ((2, 2, 3, 3), (((0, 1), 1), ((0, 3), 1), ((1, 2), 1), ((2, 3), 2))),  # ij,ik,klm,jlm
    ((2, 2, 3, 3), (((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 1))),  # ij,kl,ikm,jlm
    ((2, 2, 3, 3), (((0, 3), 2), ((1, 2), 2), ((2, 3), 1))),  # ij,kl,klm,ijm
    ((2, 2, 4, 4), (((0, 1), 1), ((0, 3), 1), ((1, 2), 1), ((2, 3), 3))),  # ij,ik,klmn,jlmn
    ((2, 2, 4, 4), (((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 2))),  # ij,kl,ikmn,jlmn
    ((2, 2, 4, 4), (((0, 3), 2), ((1, 2), 2), ((2, 3), 2))),  # ij,kl,klmn,ijmn
    ((2, 3, 3, 4), (((0, 1), 1), ((0, 2), 1), ((1, 3), 2), ((2, 3), 2))),  # ij,ikl,jmn,klmn
    ((2, 3, 3, 4), (((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 2), ((2, 3), 1))),  # ij,klm,ikn,jlmn
    ((2, 3, 3, 4), (((0, 2), 2), ((1, 3), 3), ((2, 3), 1))),  # ij,klm,ijn,klmn
    ((2, 4, 4, 4), (((0, 2), 1), ((0, 3), 1), ((1, 2), 2), ((1, 3), 2), ((2, 3), 1))),  # ij,klmn,iklo,jmno
    ((2, 4, 4, 4), (((0, 3), 2), ((1, 2), 3), ((1, 3), 1), ((2, 3), 1))),  # ij,klmn,klmo,ijno
    ((3, 3, 3, 3), (((0, 1), 1), ((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 1))),  # ijk,ilm,jln,kmn
    ((3, 3, 3, 3), (((0, 2), 1), ((0, 3), 2), ((1, 2), 2), ((1, 3), 1))),  # ijk,lmn,ilm,jkn
    ((3, 3, 4, 4), (((0, 1), 1), ((0, 2), 1), ((0, 3), 1), ((1, 2), 1), ((1, 3), 1), ((2, 3), 2))),  # ijk,ilm,jlno,kmno
    ((3, 3, 4, 4), (((0, 1), 1), ((0, 3), 2), ((1, 2), 2), ((2, 3), 2))),  # ijk,ilm,lmno,jkno
    ((3, 3, 4, 4), (((0, 1), 2), ((0, 3), 1), ((1, 2), 1), ((2, 3), 3))),  # ijk,ijl,lmno,kmno
    ((3, 3, 4, 4), (((0, 2), 1), ((0, 3), 2), ((1, 2), 2), ((1, 3), 1), ((2, 3), 1))),  # ijk,lmn,ilmo,jkno
    ((4, 4, 4, 4), (((0, 1), 1), ((0, 2), 1), ((0, 3), 2), ((1, 2), 2), ((1, 3), 1), ((2, 3), 1))),  # ijkl,imno,jmnp,klop
    ((4, 4, 4, 4), (((0, 2), 1), ((0, 3), 3), ((1, 2), 3), ((1, 3), 1))),  # ijkl,mnop,imno,jklp
)

ALL = {3: tuple(g for g in _ALL_4 if max(g[0]) <= 3), 4: _ALL_4}


def einsum_signature(graph):
    """The contraction as an einsum subscript string, e.g. ``"i,ij,j"`` (``""`` for M0)."""
    orders, edges = graph
    indices = [""] * len(orders)
    letters = iter(string.ascii_lowercase[8:] + string.ascii_lowercase[:8])
    for (u, v), m in edges:
        for _ in range(m):
            a = next(letters)
            indices[u] += a
            indices[v] += a
    return ",".join(indices)


def _matrix(graph):
    orders, edges = graph
    a = np.zeros((len(orders), len(orders)), dtype=np.int64)
    for (u, v), m in edges:
        a[u, v] = a[v, u] = m
    return a


def automorphisms(graph):
    """Slot permutations that map the contraction onto itself (list of tuples)."""
    orders, _ = graph
    a = _matrix(graph)
    k = len(orders)
    found = []
    for perm in itertools.permutations(range(k)):
        if all(orders[perm[v]] == orders[v] for v in range(k)) and np.array_equal(a[np.ix_(perm, perm)], a):
            found.append(perm)
    return found


def channel_assignments(graph, n_channels, mixed):
    """Channel of each slot for every distinct invariant of ``graph`` (list of tuples, sorted).

    Without ``mixed``, all slots take the same channel.  With it, every
    assignment is kept once per orbit of the graph's automorphisms (the
    lexicographically smallest representative).
    """
    k = len(graph[0])
    if not mixed:
        return [(c,) * k for c in range(n_channels)]
    perms = automorphisms(graph)
    kept = []
    for chans in itertools.product(range(n_channels), repeat=k):
        if all(tuple(chans[p[v]] for v in range(k)) >= chans for p in perms):
            kept.append(chans)
    return kept


def component_table(max_order):
    """Sorted index tuple of every symmetric component of orders 0..max_order.

    Returns
    -------
    ndarray of shape (COMPONENT_OFFSET[max_order + 1], 4), int64
        Cartesian indices (0, 1, 2) of each component, padded with -1.
    """
    rows = []
    for order in range(max_order + 1):
        for idx in itertools.combinations_with_replacement(range(3), order):
            rows.append(list(idx) + [-1] * (4 - order))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4)


def traceless_table(max_order):
    """Tables that build the traceless parts T_l(u) of a unit vector from its monomials.

    The monomial of component q (sorted indices a_1..a_l) is that of its
    parent (a_1..a_{l-1}) times u[a_l].  For a unit vector the traceless
    part is, for l <= 4,
    ``u^a - 1/(2l - 1) sum_{pairs p<q} d_{a_p a_q} u^{a without p, q}
    + 1/35 sum_{pairings} d d`` (the last term for l = 4 only).

    Returns
    -------
    parent, last : ndarray of shape (n_comp,), int64
    start : ndarray of shape (n_comp + 1,), int64
    coef : ndarray of float64
    index : ndarray of int64
        ``T[q] = sum(coef[k] * u^a[index[k]] for k in start[q]:start[q + 1])``.
    """
    rows = component_table(max_order)
    n_comp = rows.shape[0]
    parent = np.zeros(n_comp, dtype=np.int64)
    last = np.zeros(n_comp, dtype=np.int64)
    start = [0]
    coefs, indices = [], []
    for q, row in enumerate(rows):
        a = [int(x) for x in row if x >= 0]
        order = len(a)
        if order:
            parent[q] = _component_index(order - 1, a[:-1])
            last[q] = a[-1]
        terms = {q: 1.0}
        if order >= 2:
            for p1, p2 in itertools.combinations(range(order), 2):
                if a[p1] == a[p2]:
                    rest = [a[m] for m in range(order) if m not in (p1, p2)]
                    r = _component_index(order - 2, rest)
                    terms[r] = terms.get(r, 0.0) - 1.0 / (2 * order - 1)
        if order == 4:
            matched = sum(a[w] == a[x] and a[y] == a[z] for w, x, y, z in ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2)))
            if matched:
                terms[0] = terms.get(0, 0.0) + matched / 35.0
        for r in sorted(terms):
            coefs.append(terms[r])
            indices.append(r)
        start.append(len(coefs))
    return parent, last, np.asarray(start, dtype=np.int64), np.asarray(coefs), np.asarray(indices, dtype=np.int64)


def _component_index(order, idx):
    return COMPONENT_OFFSET[order] + list(itertools.combinations_with_replacement(range(3), order)).index(
        tuple(sorted(idx))
    )


def term_table(graph):
    """The contraction as a polynomial in the slots' symmetric components.

    Returns
    -------
    coef : ndarray of shape (n_terms,), float64
        Integer multiplicity of each monomial.
    comp : ndarray of shape (n_terms, 4), int64
        Component (global index, see ``COMPONENT_OFFSET``) of each slot; -1
        for unused slots.
    """
    orders, edges = graph
    k = len(orders)
    if k == 1:
        return np.ones(1), np.array([[0, -1, -1, -1]], dtype=np.int64)
    ends = [uv for uv, m in edges for _ in range(m)]
    lookup = {}
    counts = {}
    for values in itertools.product(range(3), repeat=len(ends)):
        slot_idx = [[] for _ in range(k)]
        for (u, v), a in zip(ends, values):
            slot_idx[u].append(a)
            slot_idx[v].append(a)
        key = []
        for v in range(k):
            t = (orders[v], tuple(sorted(slot_idx[v])))
            if t not in lookup:
                lookup[t] = _component_index(*t)
            key.append(lookup[t])
        key = tuple(key)
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts)
    coef = np.array([counts[key] for key in keys], dtype=np.float64)
    comp = np.full((len(keys), 4), -1, dtype=np.int64)
    comp[:, :k] = np.asarray(keys, dtype=np.int64)
    return coef, comp


# ------------------------------------------------------------ enumeration
def _canonical(orders, a):
    """Canonical (orders, edges) of a multigraph: the smallest relabelling, orders sorted."""
    k = len(orders)
    best = None
    for perm in itertools.permutations(range(k)):
        po = tuple(orders[p] for p in perm)
        if list(po) != sorted(po):
            continue
        b = a[np.ix_(perm, perm)]
        key = tuple(int(b[u, v]) for u in range(k) for v in range(u + 1, k))
        if best is None or key < best[1]:
            best = (po, key)
    po, key = best
    pairs = [(u, v) for u in range(k) for v in range(u + 1, k)]
    return po, tuple((uv, m) for uv, m in zip(pairs, key) if m)


def _connected(a):
    k = a.shape[0]
    seen = {0}
    stack = [0]
    while stack:
        u = stack.pop()
        for v in range(k):
            if a[u, v] and v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen) == k


def _connected_graphs(max_order, max_degree):
    graphs = [_graph((0,))]
    found = set()
    for k in range(2, max_degree + 1):
        pairs = [(u, v) for u in range(k) for v in range(u + 1, k)]
        for orders in itertools.combinations_with_replacement(range(1, max_order + 1), k):
            if sum(orders) % 2:
                continue
            for mult in itertools.product(range(max_order + 1), repeat=len(pairs)):
                a = np.zeros((k, k), dtype=np.int64)
                for (u, v), m in zip(pairs, mult):
                    a[u, v] = a[v, u] = m
                if tuple(a.sum(axis=1)) != orders or not _connected(a):
                    continue
                g = _canonical(orders, a)
                if g not in found:
                    found.add(g)
                    graphs.append(g)
    return graphs


def _evaluate(graph, tensors):
    """Value of the contraction for full Cartesian ``tensors`` (one per slot)."""
    return float(np.einsum(einsum_signature(graph) + "->", *tensors)) if len(graph[0]) > 1 else float(tensors[0])


def _random_traceless(rng, order):
    """A random symmetric traceless Cartesian tensor (projection of a random symmetric one)."""
    if order == 0:
        return np.asarray(rng.normal())
    # sum of traceless projections of random unit-vector powers: symmetric and traceless
    t = np.zeros((3,) * order)
    for _ in range(2 * order + 1):
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        t += rng.normal() * _traceless_power(u, order)
    return t


def _traceless_power(u, order):
    """Symmetric traceless part of u^{(x) order} for a unit vector u (full Cartesian tensor)."""
    d = np.eye(3)
    if order == 0:
        return np.asarray(1.0)
    if order == 1:
        return u.copy()
    if order == 2:
        return np.einsum("a,b->ab", u, u) - d / 3.0
    if order == 3:
        uuu = np.einsum("a,b,c->abc", u, u, u)
        s = np.einsum("a,bc->abc", u, d)
        return uuu - (s + s.transpose(1, 0, 2) + s.transpose(1, 2, 0)) / 5.0
    if order == 4:
        u4 = np.einsum("a,b,c,e->abce", u, u, u, u)
        uud = np.einsum("a,b,ce->abce", u, u, d)
        two = sum(uud.transpose(p) for p in _pair_splits())
        dd = np.einsum("ab,ce->abce", d, d)
        three = dd + dd.transpose(0, 2, 1, 3) + dd.transpose(0, 2, 3, 1)
        return u4 - two / 7.0 + three / 35.0
    raise ValueError(f"tensor order {order} is not supported (0-4)")


def _pair_splits():
    # the six placements of (u u delta) over four indices, as axis permutations of "abce"
    out = []
    for pair in itertools.combinations(range(4), 2):
        rest = [i for i in range(4) if i not in pair]
        order = list(pair) + rest  # axes of u, u, delta
        out.append(tuple(np.argsort(order)))
    return out


def enumerate_invariants(max_order, max_degree=4, n_samples=None, seed=0):
    """Every nonzero, linearly independent connected contraction of up to ``max_degree`` tensors.

    Graphs are tested with a different random traceless tensor in each slot
    (polarised), per multiset of orders: a graph whose values at random
    points vanish, or are a linear combination of the graphs kept before it,
    is dropped.

    Returns
    -------
    list of graphs, sorted by number of slots, then orders.
    """
    graphs = sorted(_connected_graphs(max_order, max_degree), key=lambda g: (len(g[0]), g[0], g[1]))
    rng = np.random.default_rng(seed)
    groups = {}
    for g in graphs:
        groups.setdefault(g[0], []).append(g)
    kept = []
    for orders, members in groups.items():
        perms = [p for p in itertools.permutations(range(len(orders))) if all(orders[q] == orders[v] for v, q in enumerate(p))]
        n_points = n_samples or 3 * len(members) * len(perms) + 5
        points = [[_random_traceless(rng, o) for o in orders] for _ in range(n_points)]
        basis = np.zeros((n_points, 0))
        for g in members:
            cols = np.array([[_evaluate(g, [pt[q] for q in p]) for p in perms] for pt in points])
            scale = np.abs(cols).max()
            if scale < 1e-12:
                continue
            trial = np.hstack([basis, cols / scale])
            rank = np.linalg.matrix_rank(trial, tol=1e-9 * np.sqrt(n_points))
            if rank > np.linalg.matrix_rank(basis, tol=1e-9 * np.sqrt(n_points)) if basis.shape[1] else rank > 0:
                basis = trial
                kept.append(g)
    return sorted(kept, key=lambda g: (len(g[0]), g[0], g[1]))
