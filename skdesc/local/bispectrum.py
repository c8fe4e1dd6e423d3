"""SOAP bispectrum (nu = 3) and four-density invariants (nu = 4) from the SOAP density coefficients."""

import numbers
from functools import lru_cache
from math import comb

import numpy as np

from .._config import check_memory
from .._param_validation import Interval, Options
from .._validation import check_shape
from .._wigner import real_coupling
from ._kernels import soap as soap_kernel
from ._kernels.bispectrum import bispectrum_derivatives_kernel, bispectrum_kernel
from ._kernels.spherical import real_harmonics_norm
from .base import LocalDescriptor, NeighborRequest
from .soap import _PADDING

__all__ = ["SOAPBispectrum"]

_COMPRESSIONS = ("full", "element_agnostic")


class _Tables:
    """Work-vector layout and the couples and dot products that make the features.

    Singles of degree l are stored ``[mu][k]`` (channel k fastest).  Couples
    come in blocks: the block (l1, k1, l2, L) holds the products of (l1, k1)
    with (l2, k2) for every k2 from ``k1`` (l1 = l2) or 0 to K - 1, stored
    ``[mu][k2]``, so that both the block's sums and the nu = 3 features of a
    couple with consecutive channels k3 run over contiguous memory.
    """

    def __init__(self, n_channels, l_max):
        self.n_channels = n_channels
        self.single_offset = np.zeros(l_max + 2, dtype=np.int64)
        for l in range(l_max + 1):
            self.single_offset[l + 1] = self.single_offset[l] + n_channels * (2 * l + 1)
        self.n_work = int(self.single_offset[-1])
        self.blocks = {}  # (l1, k1, l2, L) -> block index
        self.block_rows = []  # (single a, first single b, offset out, count, 2L + 1, table)
        self.tables = {}  # (l1, l2, L) -> table index
        self.runs = []  # (couple, couple stride, first single, 2L + 1, count, first feature)
        self.dots = []  # (couple, stride, couple, stride, 2L + 1, feature)
        self.n_features = 0

    def single(self, l, k):
        """Offset of (l, k, mu = 0); entry mu is at ``+ mu * n_channels``."""
        return int(self.single_offset[l]) + k

    def couple(self, l1, k1, l2, k2, L):
        """(offset, stride) of the coupled product (c_{l1 k1} (x) c_{l2 k2})_L."""
        k_first = k1 if l1 == l2 else 0
        key = (l1, k1, l2, L)
        if key not in self.blocks:
            table = self.tables.setdefault((l1, l2, L), len(self.tables))
            count = self.n_channels - k_first
            self.blocks[key] = len(self.block_rows)
            self.block_rows.append((self.single(l1, k1), self.single(l2, k_first), self.n_work, count, 2 * L + 1, table))
            self.n_work += (2 * L + 1) * count
        _, _, out, count, _, _ = self.block_rows[self.blocks[key]]
        return out + (k2 - k_first), count

    def run(self, couple, L, k_first, count):
        """Features ``sum_mu couple[mu] c_{L, k, mu}`` for k = k_first .. k_first + count - 1."""
        self.runs.append((*couple, self.single(L, k_first), 2 * L + 1, count, self.n_features))
        self.n_features += count

    def dot(self, a, b, L):
        self.dots.append((*a, *b, 2 * L + 1, self.n_features))
        self.n_features += 1

    def arrays(self):
        """Contiguous int64 / float64 arrays for the kernel."""
        rows = np.array(self.block_rows, dtype=np.int64).reshape(-1, 6)
        runs = np.array(self.runs, dtype=np.int64).reshape(-1, 6)
        dots = np.array(self.dots, dtype=np.int64).reshape(-1, 6)
        order = sorted(self.tables, key=self.tables.get)
        entries = [np.nonzero(real_coupling(*key)) for key in order]
        weights = [real_coupling(*key)[e] for key, e in zip(order, entries)]
        table_start = np.zeros(len(order) + 1, dtype=np.int64)
        table_start[1:] = np.cumsum([w.size for w in weights])

        def cat(parts, dtype, scale=1):
            return np.ascontiguousarray(scale * (np.concatenate(parts) if parts else np.zeros(0)), dtype=dtype)

        def col(array, j):
            return np.ascontiguousarray(array[:, j])

        K = self.n_channels
        return dict(
            single_offset=self.single_offset,
            n_work=int(self.n_work),
            block_a=col(rows, 0),
            block_b=col(rows, 1),
            block_out=col(rows, 2),
            block_count=col(rows, 3),
            block_len=col(rows, 4),
            block_table=col(rows, 5),
            table_start=table_start,
            # both factors are singles, entry mu at mu * K past (l, k)
            entry_i=cat([e[0] for e in entries], np.int64, K),
            entry_j=cat([e[1] for e in entries], np.int64, K),
            entry_k=cat([e[2] for e in entries], np.int64),
            entry_w=cat(weights, np.float64),
            run_a=col(runs, 0),
            run_stride=col(runs, 1),
            run_b=col(runs, 2),
            run_len=col(runs, 3),
            run_count=col(runs, 4),
            run_first=col(runs, 5),
            dot_a=col(dots, 0),
            dot_a_stride=col(dots, 1),
            dot_b=col(dots, 2),
            dot_b_stride=col(dots, 3),
            dot_len=col(dots, 4),
            dot_feature=col(dots, 5),
        )


@lru_cache(maxsize=None)
def _independent_couplings(l1, l2, l3, l4, same):
    """Intermediate degrees L of ((x1 x2)_L (x3 x4)_L) that are linearly independent, lowest L first.

    ``same`` = (x1 == x2, x2 == x3, x3 == x4) for the sorted items.  For four
    distinct items every L of both triangles gives an independent invariant;
    repeated items make some of them vanish (x1 = x2, l1 + l2 + L odd) or
    depend linearly on the others (recoupling).  Which ones depends only on
    the degrees and the pattern of repeats, so it is decided once per pattern
    by evaluating the candidates on random coefficient vectors (a fixed seed)
    and keeping, in order of L, each one not in the span of those kept.
    """
    candidates = [
        L
        for L in range(max(l2 - l1, l4 - l3), min(l1 + l2, l3 + l4) + 1)
        if not ((l1 + l2 + L) % 2 and (same[0] or same[2]))
    ]
    if len(candidates) <= 1 and not any(same):
        return tuple(candidates)
    rng = np.random.default_rng(12345)
    n_samples = 2 * len(candidates) + 8
    vectors = []
    for position, l in enumerate((l1, l2, l3, l4)):
        if position and same[position - 1]:
            vectors.append(vectors[-1])
        else:
            vectors.append(rng.standard_normal((n_samples, 2 * l + 1)))
    columns = []
    for L in candidates:
        left = np.einsum("ijk,si,sj->sk", real_coupling(l1, l2, L), vectors[0], vectors[1])
        right = np.einsum("ijk,si,sj->sk", real_coupling(l3, l4, L), vectors[2], vectors[3])
        column = np.einsum("sk,sk->s", left, right)
        columns.append(column / max(np.linalg.norm(column), 1e-300))
    kept, basis = [], np.zeros((n_samples, 0))
    for L, column in zip(candidates, columns):
        residual = column - basis @ (basis.T @ column)
        norm = np.linalg.norm(residual)
        if norm > 1e-8:
            kept.append(L)
            basis = np.column_stack([basis, residual / norm])
    return tuple(kept)


def _multichoose(n, k):
    return comb(n + k - 1, k)


def _estimate_features(n_channels, l3, l4):
    """Upper bound of the number of features (the guard before the tables are built)."""
    total = 0
    for l1 in range(l3 + 1):
        for l2 in range(l1, l3 + 1):
            for l in range(l2, min(l1 + l2, l3) + 1):
                if (l1 + l2 + l) % 2 == 0:
                    counts = np.unique([l1, l2, l], return_counts=True)[1]
                    total += int(np.prod([_multichoose(n_channels, int(c)) for c in counts]))
    if l4 is not None:
        for l1 in range(l4 + 1):
            for l2 in range(l1, l4 + 1):
                for l3 in range(l2, l4 + 1):
                    for l_4 in range(l3, l4 + 1):
                        if (l1 + l2 + l3 + l_4) % 2:
                            continue
                        n_l = max(0, min(l1 + l2, l3 + l_4) - max(l2 - l1, l_4 - l3) + 1)
                        counts = np.unique([l1, l2, l3, l_4], return_counts=True)[1]
                        total += n_l * int(np.prod([_multichoose(n_channels, int(c)) for c in counts]))
    return total


class SOAPBispectrum(LocalDescriptor):
    """SOAP bispectrum (body order 4) and optionally the nu = 4 invariants (body order 5).

    The neighbour density is expanded exactly as in :class:`~skdesc.SOAP`
    (unnormalised Gaussians of width ``sigma``, dscribe's GTO radial basis
    ``g_n`` up to ``r_cut``, skdesc's real spherical harmonics; the
    coefficients ``c_{k l m}`` of channel k = (element, n) are SOAP's), and
    the coefficients are coupled into rotation- and reflection-invariant
    products of three (nu = 3) or four (nu = 4) of them.

    **nu = 3** (Bartok, Kondor & Csanyi 2013): for coefficient items
    x_i = (l_i, k_i),

    ``B_{x1 x2 x3} = sum_{m1 m2 m3} <l1 m1 l2 m2 | l3 m3> c_{x1 m1} c_{x2 m2} conj(c_{x3 m3})``

    in the complex basis, computed in the real basis with the real coupling
    tensor (the Clebsch-Gordan coefficients transformed by the unitary
    complex-to-real matrix, :func:`skdesc._wigner.real_coupling`); values are
    real.  Kept: triangle ``|l1 - l2| <= l3 <= l1 + l2`` and
    ``l1 + l2 + l3`` even.  Odd ``l1 + l2 + l3`` gives pseudoscalars, which
    change sign under reflection; they are left out, so every feature is
    invariant under all rotations, reflections, permutations of like atoms
    and translations.  For even ``l1 + l2 + l3`` the bispectrum equals
    ``sqrt(2 l3 + 1) (-1)^(l1 - l2)`` times the fully symmetric 3j
    contraction, so permuting the three items changes it at most by that
    factor: only sorted triples ``x1 <= x2 <= x3`` (by (l, k)) are stored.

    **nu = 4** (ACE-style coupling, Drautz 2019): for sorted items
    ``x1 <= x2 <= x3 <= x4`` and every intermediate L allowed by both
    triangles,

    ``Q_{x1 x2 L x3 x4} = sum_M (c_x1 (x) c_x2)_{LM} conj((c_x3 (x) c_x4)_{LM})``,

    ``(a (x) b)_{LM} = sum <l1 m1 l2 m2 | L M> a_{m1} b_{m2}``, kept for
    ``l1 + l2 + l3 + l4`` even (reflection invariance; ``l1 + l2 + L`` may be
    odd, then both couplings are pseudo-tensors and their contraction is a
    true scalar).  One pairing with all L spans every invariant of four
    items, so the other two pairings are not stored.  With repeated items
    some L give invariants that vanish identically (``x1 = x2`` or
    ``x3 = x4`` with ``l1 + l2 + L`` odd) or depend linearly on lower L
    (recoupling relations); both are dropped, decided once per pattern of
    degrees and repeats by evaluation on random coefficients, so the
    features are linearly independent functions of the coefficients.

    With ``nu=4`` the output is the nu = 3 block followed by the nu = 4 block.
    Values are not rescaled (no dscribe prefactor): they are in units of c^3
    resp. c^4.

    **Compression** (Darby, Kermode & Csanyi 2022): ``"full"`` keeps every
    element channel (their nu2); ``"element_agnostic"`` couples the
    coefficients of the total density (all elements summed with unit
    weight: their mu2, equivalently the element-summed mu = 1 channel).
    Their mixed compressions (nu1mu1, nu1nu1hat, ...) are defined for the
    two factors of the power spectrum, one keeping its element index and
    the other contracted; with three or four factors there is no canonical
    choice of which factors to contract, and their random lossless
    projections rest on the rank of the per-l Gram matrix of the power
    spectrum, which has no counterpart for triple products.  So only these
    two are offered.

    The number of features grows as (n_species n_max (l_max + 1))^3 / 6
    (nu = 3) and to the fourth power (nu = 4); use ``element_agnostic``,
    small ``n_max`` and ``l_max_nu4`` for nu = 4.  ``fit`` refuses tables
    larger than ``max_memory``.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order (``None``: sorted atomic numbers seen in ``fit``).
    r_cut : float, default=5.0
        Cutoff radius in Å (as SOAP: Gaussians are included up to
        ``r_cut + sigma * sqrt(-2 ln 1e-3)``).
    n_max : int, default=4
        Number of radial functions.
    l_max : int, default=4
        Highest degree of the density expansion (at most 20).
    sigma : float, default=0.5
        Gaussian width in Å.
    nu : {3, 4}, default=3
        Highest correlation order (body order nu + 1).
    l_max_nu3 : int or None, default=None
        Highest degree l_i of the coefficients coupled in the nu = 3 block
        (``None``: ``l_max``); at most ``l_max``.
    l_max_nu4 : int or None, default=None
        Same for the nu = 4 block (ignored with ``nu=3``).
    compression : {"full", "element_agnostic"}, default="full"
        See above.
    center_weight : float, default=1.0
        Weight of the central atom's own Gaussian (dscribe's ``w0``).
    min_distance, handle_unknown, n_jobs, verbose
        See :class:`~skdesc.ChebyshevLAED`.

    Attributes
    ----------
    species_ : tuple of int
    n_features_out_ : int
    feature_names_out_ : ndarray of str
        ``bispectrum[nu3|a|b|c]`` and ``bispectrum[nu4|a|b|L=..|c|d]``, items
        named ``Z=..,n=..,l=..`` (``n=..,l=..`` when element-agnostic).
        Order: nu = 3 by (l1, l2, l3), then k1, k2, k3; nu = 4 by the sorted
        items (l first, then k = element position * n_max + n), then L.

    Notes
    -----
    ``transform_with_derivatives`` gives analytic position derivatives (the
    derivative of the tabulated radial functions, as ``SOAP``); their size is
    (centre, atom) pairs x 3 x n_features, so keep the feature count small.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import SOAPBispectrum
    >>> b = SOAPBispectrum(r_cut=4.0, n_max=2, l_max=2, compression="element_agnostic")
    >>> b.fit_transform([molecule("H2O")]).values.shape
    (3, 26)
    """

    _parameter_constraints = {
        "r_cut": [Interval(numbers.Real, 1, None, closed="neither")],
        "n_max": [Interval(numbers.Integral, 1, None, closed="left")],
        "l_max": [Interval(numbers.Integral, 0, 20, closed="both")],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "nu": [Options(numbers.Integral, (3, 4))],
        "l_max_nu3": [None, Interval(numbers.Integral, 0, 20, closed="both")],
        "l_max_nu4": [None, Interval(numbers.Integral, 0, 20, closed="both")],
        "compression": [Options(str, _COMPRESSIONS)],
        "center_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    _supports_gradients = True
    _citations = ("bartok2013",)  # keys of skdesc._bibliography.CITATIONS
    _cli_name = "bispectrum"

    def _citation_keys(self):
        keys = self._citations + (("drautz2019",) if self.nu == 4 else ())
        return keys + (("darby2022",) if self.compression != "full" else ())

    def __init__(
        self,
        species=None,
        r_cut=5.0,
        n_max=4,
        l_max=4,
        sigma=0.5,
        nu=3,
        l_max_nu3=None,
        l_max_nu4=None,
        compression="full",
        center_weight=1.0,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.r_cut = r_cut
        self.n_max = n_max
        self.l_max = l_max
        self.sigma = sigma
        self.nu = nu
        self.l_max_nu3 = l_max_nu3
        self.l_max_nu4 = l_max_nu4
        self.compression = compression
        self.center_weight = center_weight
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def _check_params(self):
        for name in ("l_max_nu3", "l_max_nu4"):
            value = getattr(self, name)
            if value is not None and value > self.l_max:
                raise ValueError(
                    f"{name}={value} must not exceed l_max={self.l_max} (the degree of the density "
                    f"expansion); lower {name} or raise l_max"
                )

    def _limits(self):
        l3 = int(self.l_max if self.l_max_nu3 is None else self.l_max_nu3)
        l4 = None
        if int(self.nu) == 4:
            l4 = int(self.l_max if self.l_max_nu4 is None else self.l_max_nu4)
        return l3, l4

    def _setup(self):
        agnostic = self.compression == "element_agnostic"
        n_max, l_max = int(self.n_max), int(self.l_max)
        groups = 1 if agnostic else len(self.species_)
        n_channels = groups * n_max
        l3, l4 = self._limits()
        estimate = _estimate_features(n_channels, l3, l4)
        check_memory(
            estimate * 120.0,
            f"{type(self).__name__}: the feature tables (about {estimate:.3g} features for {n_channels} "
            f"channels{'' if l4 is None else f', l_max_nu4={l4}'})",
            "use compression='element_agnostic', lower n_max, l_max_nu3 or l_max_nu4",
        )
        r_max = self._cutoff()
        sigma = float(self.sigma)
        intervals = max(8.0, np.ceil(r_max / (0.5 * sigma)))
        check_memory(
            intervals * (l_max + 1) * n_max * 52 * 8.0,
            f"{type(self).__name__}: the radial table for sigma={self.sigma} Å",
            "raise sigma (Gaussian widths of 0.1-1 Å are usual) or lower r_cut, n_max or l_max",
        )
        alpha, beta = soap_kernel.gto_basis(float(self.r_cut), n_max, l_max)
        self._radial = soap_kernel.radial_table(alpha, beta, np.full(l_max + 1, n_max), sigma, r_max)
        self._norm = real_harmonics_norm(l_max)

        def item(l, k):
            if agnostic:
                return f"n={k},l={l}"
            return f"Z={self.species_[k // n_max]},n={k % n_max},l={l}"

        tables = _Tables(n_channels, l_max)
        names = []
        K = n_channels
        # nu = 3: sorted (l, k) triples, the couple of the first two with L = l3
        for l1 in range(l3 + 1):
            for l2 in range(l1, l3 + 1):
                for l in range(l2, min(l1 + l2, l3) + 1):
                    if (l1 + l2 + l) % 2:
                        continue
                    for k1 in range(K):
                        for k2 in range(k1 if l1 == l2 else 0, K):
                            k_first = k2 if l2 == l else 0
                            tables.run(tables.couple(l1, k1, l2, k2, l), l, k_first, K - k_first)
                            for k3 in range(k_first, K):
                                names.append(f"bispectrum[nu3|{item(l1, k1)}|{item(l2, k2)}|{item(l, k3)}]")
        if l4 is not None:
            items = [(l, k) for l in range(l4 + 1) for k in range(K)]
            n_items = len(items)
            for i1 in range(n_items):
                for i2 in range(i1, n_items):
                    (la, ka), (lb, kb) = items[i1], items[i2]
                    for i3 in range(i2, n_items):
                        for i4 in range(i3, n_items):
                            (lc, kc), (ld, kd) = items[i3], items[i4]
                            if (la + lb + lc + ld) % 2:
                                continue
                            same = (i1 == i2, i2 == i3, i3 == i4)
                            for L in _independent_couplings(la, lb, lc, ld, same):
                                left = tables.couple(la, ka, lb, kb, L)
                                right = tables.couple(lc, kc, ld, kd, L)
                                tables.dot(left, right, L)
                                names.append(
                                    f"bispectrum[nu4|{item(la, ka)}|{item(lb, kb)}|L={L}|{item(lc, kc)}|{item(ld, kd)}]"
                                )
        self._tables = tables.arrays()
        return names

    # -------------------------------------------------------------- compute
    def _cutoff(self):
        return float(self.r_cut) + float(self.sigma) * _PADDING

    def _neighbor_request(self):
        return NeighborRequest(
            cutoff=self._cutoff(),
            cutoff_name="r_cut (the list reaches r_cut + 3.72 sigma)",
            half_below=self._block_limit(),
        )

    def _block_limit(self):
        """Centres whose coefficients the kernels hold at once (a few MiB); smaller structures get half lists."""
        n_lm = (int(self.l_max) + 1) ** 2
        n_channels = int(self.n_max) * (1 if self.compression == "element_agnostic" else len(self.species_))
        return int(soap_kernel.half_list_limit(n_lm, n_channels, 0))

    def _channels(self, batch):
        if self.compression == "element_agnostic":
            return np.zeros_like(batch.species_index), 1
        return np.ascontiguousarray(batch.species_index, dtype=np.int64), len(self.species_)

    def _check_kernel_inputs(self, batch, neighbors, channel, n_groups, values):
        """Shapes and table bounds the numba kernel trusts (ValueError if not)."""
        t = self._tables
        n_atoms, n_features = len(batch.species_index), self.n_features_out_
        L, N = int(self.l_max), int(self.n_max)
        name = type(self).__name__
        check_shape(values, (n_atoms, n_features), f"{name} output")
        check_shape(neighbors.first, (n_atoms + 1,), f"{name} neighbour offsets")
        n_entries = neighbors.index.shape[0]
        check_shape(neighbors.vectors, (n_entries, 3), f"{name} neighbour vectors")
        check_shape(neighbors.distances, (n_entries,), f"{name} neighbour distances")
        check_shape(neighbors.shifts, (n_entries, 3), f"{name} neighbour shifts")
        n_structures = batch.offsets.shape[0] - 1
        check_shape(neighbors.half, (n_structures,), f"{name} half-list flags")
        if batch.offsets[0] != 0 or batch.offsets[-1] != n_atoms or np.any(np.diff(batch.offsets) < 0):
            raise ValueError(f"internal shape check failed: {name} structure offsets")
        check_shape(channel, (n_atoms,), f"{name} density channels")
        check_shape(self._radial[0], (None, 8, (L + 1) * N), f"{name} radial table")
        check_shape(self._norm, (L + 1, L + 1), f"{name} harmonics norm")
        check_shape(t["single_offset"], (L + 2,), f"{name} single offsets")
        n_blocks = t["block_a"].shape[0]
        for key in ("block_a", "block_b", "block_out", "block_count", "block_len", "block_table"):
            check_shape(t[key], (n_blocks,), f"{name} {key}")
        n_tables = t["table_start"].shape[0] - 1
        check_shape(t["table_start"], (n_tables + 1,), f"{name} table_start")
        n_coupling = int(t["table_start"][-1])
        for key in ("entry_i", "entry_j", "entry_k", "entry_w"):
            check_shape(t[key], (n_coupling,), f"{name} {key}")
        n_runs, n_dots = t["run_a"].shape[0], t["dot_a"].shape[0]
        for key in ("run_a", "run_stride", "run_b", "run_len", "run_count", "run_first"):
            check_shape(t[key], (n_runs,), f"{name} {key}")
        for key in ("dot_a", "dot_a_stride", "dot_b", "dot_b_stride", "dot_len", "dot_feature"):
            check_shape(t[key], (n_dots,), f"{name} {key}")
        n_work, n_single = t["n_work"], int(t["single_offset"][-1])
        K = n_groups * N
        bad = n_single != K * (L + 1) ** 2 or int(t["run_count"].sum()) + n_dots != n_features
        if n_blocks and not bad:
            starts, stops = t["table_start"][:-1], t["table_start"][1:]
            table = t["block_table"]
            bad = bool(np.any(stops <= starts)) or int(table.min()) < 0 or int(table.max()) >= n_tables
            if not bad:
                widest = [np.maximum.reduceat(t[key], starts) for key in ("entry_i", "entry_j", "entry_k")]
                bad = (
                    (t["block_a"] + widest[0][table]).max() >= n_single
                    or (t["block_b"] + widest[1][table] + t["block_count"]).max() > n_single
                    or np.any(widest[2][table] >= t["block_len"])
                    or (t["block_out"] + t["block_len"] * t["block_count"]).max() > n_work
                    or min(t["block_a"].min(), t["block_b"].min(), t["block_out"].min(), t["block_count"].min()) < 0
                )
        if n_runs and not bad:
            bad = (
                (t["run_a"] + (t["run_len"] - 1) * t["run_stride"]).max() >= n_work
                or (t["run_b"] + (t["run_len"] - 1) * K + t["run_count"]).max() > n_single
                or (t["run_first"] + t["run_count"]).max() > n_features
                or min(t["run_a"].min(), t["run_b"].min(), t["run_first"].min(), t["run_stride"].min()) < 0
            )
        if n_dots and not bad:
            bad = (
                (t["dot_a"] + (t["dot_len"] - 1) * t["dot_a_stride"]).max() >= n_work
                or (t["dot_b"] + (t["dot_len"] - 1) * t["dot_b_stride"]).max() >= n_work
                or t["dot_feature"].max() >= n_features
                or min(t["dot_a"].min(), t["dot_b"].min(), t["dot_feature"].min()) < 0
                or min(t["dot_a_stride"].min(), t["dot_b_stride"].min()) < 0
            )
        bad = bad or bool(n_atoms and not (0 <= channel.min() and channel.max() < n_groups))
        bad = bad or bool(n_entries and not (0 <= neighbors.index.min() and neighbors.index.max() < n_atoms))
        if bad:
            raise ValueError(f"internal shape check failed: {name} tables do not match the fitted parameters")

    def _kernel_tables(self):
        t = self._tables
        return tuple(
            t[key]
            for key in (
                "single_offset", "n_work", "block_a", "block_b", "block_out", "block_count", "block_len",
                "block_table", "table_start", "entry_i", "entry_j", "entry_k", "entry_w", "run_a", "run_stride",
                "run_b", "run_len", "run_count", "run_first", "dot_a", "dot_a_stride", "dot_b", "dot_b_stride",
                "dot_len", "dot_feature",
            )
        )

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        channel, n_groups = self._channels(batch)
        self._check_kernel_inputs(batch, neighbors, channel, n_groups, values)
        if pairs is not None:
            self._compute_derivatives(batch, neighbors, channel, values, pairs, dvalues)
            return
        bispectrum_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            neighbors.shifts,
            neighbors.half,
            batch.offsets,
            self._block_limit(),
            channel,
            np.ones(len(channel)),
            float(self.center_weight),
            int(self.n_max),
            int(self.l_max),
            self._norm,
            *self._radial,
            *self._kernel_tables(),
            values,
        )

    def _compute_derivatives(self, batch, neighbors, channel, values, pairs, dvalues):
        name = type(self).__name__
        n_atoms, n_pairs = len(batch.species_index), pairs.atom.shape[0]
        if neighbors.half.any():
            raise ValueError(f"internal check failed: {name} derivatives need full neighbour lists")
        check_shape(pairs.first, (n_atoms + 1,), f"{name} derivative pair offsets")
        check_shape(pairs.of_entry, (neighbors.index.shape[0],), f"{name} pair of each entry")
        check_shape(pairs.own, (n_atoms,), f"{name} own pairs")
        check_shape(dvalues, (n_pairs, 3, self.n_features_out_), f"{name} derivatives")
        if n_atoms and (pairs.first[0] != 0 or pairs.first[-1] != n_pairs or np.any(np.diff(pairs.first) < 1)):
            raise ValueError(f"internal shape check failed: {name} derivative pair offsets")
        centre = np.repeat(np.arange(n_atoms), np.diff(neighbors.first))
        for pair_index, owner in ((pairs.of_entry, centre), (pairs.own, np.arange(n_atoms))):
            if pair_index.size and not (
                np.all(pair_index >= pairs.first[owner]) and np.all(pair_index < pairs.first[owner + 1])
            ):
                raise ValueError(f"internal shape check failed: {name} derivative pairs outside their centre")
        bispectrum_derivatives_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            neighbors.shifts,
            neighbors.half,
            batch.offsets,
            self._block_limit(),
            channel,
            np.ones(len(channel)),
            float(self.center_weight),
            int(self.n_max),
            int(self.l_max),
            self._norm,
            *self._radial,
            *self._kernel_tables(),
            pairs.first,
            pairs.of_entry,
            pairs.own,
            values,
            dvalues,
        )
