"""Rotation invariants of Cartesian moment tensors of the neighbour density."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np

from .._param_validation import Interval, Options
from .._validation import check_shape
from ..elements import ELEMENT_WEIGHTS_CONSTRAINT, resolve_element_weights
from ..structures import atomic_symbol
from ._cartesian_graphs import (
    ALL,
    COMPONENT_OFFSET,
    OPTIMAL,
    channel_assignments,
    einsum_signature,
    term_table,
    traceless_table,
)
from ._kernels.cartesian import cartesian_kernel
from .base import LocalDescriptor, NeighborRequest

__all__ = ["CartesianInvariants"]


@lru_cache(maxsize=None)
def _terms(graph):
    return term_table(graph)


class CartesianInvariants(LocalDescriptor):
    """Full contractions of the symmetric traceless moment tensors of the neighbour density.

    For atom i, each density channel c = (block b, radial function n) has the
    moment tensors of orders l = 0..``max_order``

    ``M^(l)_c = sum_j w_b(Z_j) R_n(r_ij) T_l(u_ij)``,

    with ``u_ij`` the unit vector to neighbour j, ``T_l(u)`` the symmetric
    traceless part of the l-fold outer product ``u (x) ... (x) u`` (for
    l = 2: ``u u^T - I / 3``), and the radial functions

    ``R_n(r) = j0(n pi r / r_cut) f_c(r)``, n = 1..``n_radial``,

    where ``j0(x) = sin(x) / x`` (the spherical Bessel function of order 0,
    the ``l = 0`` eigenfunctions of a sphere of radius ``r_cut``) and
    ``f_c(r) = (cos(pi r / r_cut) + 1) / 2``; both are dimensionless, so the
    invariants are too.  The features are full contractions of these tensors
    (every index summed with another), which are invariant under rotations
    and reflections of the environment, e.g. ``M0``, ``M1_i M1_i``,
    ``M2_ij M2_ij``, ``M1_i M2_ij M1_j``, ``M2_ij M2_jk M2_ki``.  A
    contraction of k tensors is a (k + 1)-body function of the environment;
    the contractions used here have at most four tensors (five-body terms).

    Parameters
    ----------
    species : list of str or int, default=None
        Element order.  ``None`` learns the sorted atomic numbers in ``fit``.
    r_cut : float, default=5.0
        Cutoff radius in Å.
    n_radial : int, default=4
        Radial functions per density block.
    max_order : {3, 4}, default=3
        Highest tensor order.
    invariants : {"optimal", "all"}, default="optimal"
        Which contractions.  ``"optimal"``: for ``max_order=3`` the 13
        contractions that Allen, Shinkle, Bujack & Lubbers (2025) identify as
        a functionally independent set for one tensor of each order 0..3
        (1 + 3 + 5 + 7 components less 3 rotation angles: 13 independent
        functions); for ``max_order=4`` nine contractions involving M4 follow
        (22 = 1 + 3 + 5 + 7 + 9 - 3), chosen by the same criterion (greedy
        Jacobian rank w.r.t. the tensor components).  ``"all"``: every
        connected full contraction of at most four tensors that is nonzero
        and not a linear combination of the others with the same tensor
        orders: 20 for ``max_order=3``, 48 for ``max_order=4``.
    mix_channels : bool, default=False
        ``False``: each invariant takes all its tensors from one channel (as
        the HIP-HOP-NN layers of the paper do, per feature channel):
        ``n_invariants x n_channels`` features.  ``True``: the tensors of one
        invariant may come from different channels; every assignment is kept
        once per symmetry of the contraction (``M1_a . M1_b`` for a <= b,
        ...), so the count grows as ``n_channels**4 / |symmetry|`` for the
        four-tensor terms: use with few channels.
    per_element : bool, default=True
        ``True``: one density block per element of ``species`` (the
        neighbours of that element, weight 1), ``n_species * n_radial``
        channels.  ``False``: one unweighted block of all neighbours and, with
        two or more elements, one block weighted by ``element_weights``
        (``2 * n_radial`` channels, independent of the number of elements).
    element_weights : dict or sequence, default=None
        Element weights of the weighted block (``per_element=False`` only): a
        mapping from symbol or atomic number to weight, or one weight per
        element of ``species``.  ``None`` gives the "typespin" weights of
        :class:`ChebyshevLAED` (-1, 1; -1, 0, 1; -2, -1, 1, 2; ...).
    min_distance : float, default=0.1
        Atoms closer than this (Å, periodic images included) raise
        ``ValueError`` as overlapping atoms.
    handle_unknown : {"error", "ignore"}, default="error"
        What ``transform`` does with elements that ``fit`` did not see.
    n_jobs : int, default=None
        Number of threads over batches of structures (``None`` = 1, ``-1`` =
        all cores).  Results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    species_ : tuple of int
        Element order (atomic numbers).
    block_weights_ : ndarray of shape (n_species, n_blocks)
        Weight of a neighbour of each element in each density block.
    invariants_ : list of str
        The contractions, as einsum subscripts over the tensors' indices.
    n_features_out_ : int
        Number of features per atom.

    Notes
    -----
    Feature names read ``cart[M1 M2 M1: i,ij,j | n=1, n=1, n=2]``: the
    tensor orders, the contraction (einsum subscripts) and the channel of
    each tensor (``Ti:n=1`` for the Ti block with ``per_element``, ``w:n=1``
    for the weighted block).  Position derivatives are analytic.

    References
    ----------
    A. E. A. Allen, E. Shinkle, R. Bujack, N. Lubbers, Optimal invariant bases
    for atomistic machine learning, arXiv:2503.23515 (2025).

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import CartesianInvariants
    >>> desc = CartesianInvariants(r_cut=4.0, n_radial=2, per_element=False)
    >>> desc.fit_transform([molecule("H2O")]).values.shape
    (3, 52)
    """

    _parameter_constraints = {
        "r_cut": [Interval(Real, 0, None, closed="neither")],
        "n_radial": [Interval(Integral, 1, None, closed="left")],
        "max_order": [Options(Integral, (3, 4))],
        "invariants": [Options(str, ("optimal", "all"))],
        "mix_channels": ["boolean"],
        "per_element": ["boolean"],
        "element_weights": ELEMENT_WEIGHTS_CONSTRAINT,
    }

    _supports_gradients = True
    _citations = ("allen2025",)  # keys of skdesc._bibliography.CITATIONS
    _cli_name = "cartesian"

    def __init__(
        self,
        species=None,
        r_cut=5.0,
        n_radial=4,
        max_order=3,
        invariants="optimal",
        mix_channels=False,
        per_element=True,
        element_weights=None,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.r_cut = r_cut
        self.n_radial = n_radial
        self.max_order = max_order
        self.invariants = invariants
        self.mix_channels = mix_channels
        self.per_element = per_element
        self.element_weights = element_weights
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        if self.per_element and self.element_weights is not None:
            raise ValueError(
                "element_weights applies to the weighted density block of per_element=False; "
                "set per_element=False or leave element_weights=None"
            )

    # ------------------------------------------------------------- setup
    def _setup(self):
        n_species = len(self.species_)
        if self.per_element:
            self.block_weights_ = np.eye(n_species)
            blocks = [f"{atomic_symbol(z)}:" for z in self.species_]
        elif n_species > 1:
            weights = resolve_element_weights(self.element_weights, self.species_)
            self.block_weights_ = np.column_stack([np.ones(n_species), weights])
            blocks = ["", "w:"]
        else:
            self.block_weights_ = np.ones((1, 1))
            blocks = [""]
        n_radial = int(self.n_radial)
        channel_names = [f"{block}n={n + 1}" for block in blocks for n in range(n_radial)]
        graphs = (OPTIMAL if self.invariants == "optimal" else ALL)[int(self.max_order)]
        self._graphs = graphs
        self.invariants_ = [einsum_signature(g) for g in graphs]

        feature_graph = []
        feature_channel = []
        names = []
        for gi, graph in enumerate(graphs):
            orders = graph[0]
            label = " ".join(f"M{o}" for o in orders) + ": " + (einsum_signature(graph) or "-")
            for chans in channel_assignments(graph, len(channel_names), bool(self.mix_channels)):
                feature_graph.append(gi)
                feature_channel.append(list(chans) + [0] * (4 - len(chans)))
                names.append(f"cart[{label} | {', '.join(channel_names[c] for c in chans)}]")
        self._feature_graph = np.asarray(feature_graph, dtype=np.int64)
        self._feature_channel = np.asarray(feature_channel, dtype=np.int64).reshape(-1, 4)

        coefs, comps, starts = [], [], [0]
        slot_order = np.full((len(graphs), 4), -1, dtype=np.int64)
        for gi, graph in enumerate(graphs):
            coef, comp = _terms(graph)
            coefs.append(coef)
            comps.append(comp)
            starts.append(starts[-1] + len(coef))
            slot_order[gi, : len(graph[0])] = graph[0]
        self._term_coef = np.concatenate(coefs)
        self._term_comp = np.ascontiguousarray(np.concatenate(comps))
        self._term_start = np.asarray(starts, dtype=np.int64)
        self._slot_order = slot_order
        self._n_slots = np.asarray([len(g[0]) for g in graphs], dtype=np.int64)
        self._traceless = traceless_table(int(self.max_order))
        self._graph_feature_start = np.searchsorted(self._feature_graph, np.arange(len(graphs) + 1)).astype(np.int64)
        self._comp_offset = np.asarray(COMPONENT_OFFSET[: int(self.max_order) + 2], dtype=np.int64)
        return names

    def _neighbor_request(self):
        return NeighborRequest(cutoff=float(self.r_cut), cutoff_name="r_cut")

    # ----------------------------------------------------------- compute
    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        n_species = len(self.species_)
        n_graphs = len(self._graphs)
        n_comp = COMPONENT_OFFSET[int(self.max_order) + 1]
        n_features = self.n_features_out_
        block_weights = np.ascontiguousarray(self.block_weights_, dtype=np.float64)
        n_channels = block_weights.shape[1] * int(self.n_radial)
        # the kernel indexes these tables by each other's entries: check them all
        check_shape(block_weights, (n_species, None), "block_weights_")
        parent, last, trace_start, trace_coef, trace_index = self._traceless
        check_shape(parent, (n_comp,), "monomial parents")
        check_shape(last, (n_comp,), "monomial last indices")
        check_shape(trace_start, (n_comp + 1,), "traceless table starts")
        check_shape(trace_coef, (int(trace_start[-1]),), "traceless table coefficients")
        check_shape(trace_index, (int(trace_start[-1]),), "traceless table indices")
        check_shape(self._comp_offset, (int(self.max_order) + 2,), "component offsets")
        check_shape(self._slot_order, (n_graphs, 4), "slot orders")
        check_shape(self._n_slots, (n_graphs,), "slot counts")
        check_shape(self._term_start, (n_graphs + 1,), "term starts")
        n_terms = int(self._term_start[-1])
        check_shape(self._term_coef, (n_terms,), "term coefficients")
        check_shape(self._term_comp, (n_terms, 4), "term components")
        check_shape(self._feature_graph, (n_features,), "feature graphs")
        check_shape(self._graph_feature_start, (n_graphs + 1,), "features per graph")
        if np.any(np.diff(self._feature_graph) < 0) or self._graph_feature_start[-1] != n_features:
            raise ValueError("internal check failed: features must be ordered by contraction")
        check_shape(self._feature_channel, (n_features, 4), "feature channels")
        if self._feature_channel.size and int(self._feature_channel.max()) >= n_channels:
            raise ValueError("internal check failed: a feature uses a channel beyond n_channels")
        check_shape(values, (len(batch.species_index), n_features), "CartesianInvariants output")
        gradients = pairs is not None
        if gradients:
            check_shape(dvalues, (pairs.atom.shape[0], 3, n_features), "CartesianInvariants derivatives")
        empty = np.zeros(0, dtype=np.int64)
        cartesian_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            batch.species_index,
            block_weights,
            float(self.r_cut),
            int(self.n_radial),
            parent,
            last,
            trace_start,
            trace_coef,
            trace_index,
            self._comp_offset,
            self._slot_order,
            self._n_slots,
            self._term_start,
            self._term_coef,
            self._term_comp,
            self._graph_feature_start,
            self._feature_channel,
            values,
            gradients,
            pairs.of_entry if gradients else empty,
            pairs.own if gradients else empty,
            dvalues if gradients else np.zeros((0, 3, 0)),
        )
