"""SOAP power spectrum and its compressions (Darby, Kermode & Csanyi 2022)."""

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._config import check_memory
from ..atomic import AtomicFeatures
from .._param_validation import Interval, Options, Predicate
from ..elements import ELEMENT_WEIGHTS_CONSTRAINT, resolve_element_weights
from ._kernels import soap as kernel
from ._kernels.soap_derivatives import soap_derivatives_kernel
from ._kernels.spherical import real_harmonics_norm
from .._validation import check_shape
from .base import LocalDescriptor, NeighborRequest

__all__ = ["SOAP", "CompressedSOAP", "COMPRESSIONS"]

# Gaussians are included up to r_cut + sigma * sqrt(-2 ln 1e-3), as dscribe does.
_PADDING = np.sqrt(-2.0 * np.log(1e-3))

#: Compression modes; keys are skdesc's names, values their meaning.
COMPRESSIONS = {
    "nu2": "full power spectrum p^{ab}_{nn'l}",
    "crossover": "same-element blocks p^{aa}_{nn'l} only (dscribe's 'crossover')",
    "mu2": "element-agnostic: power spectrum of the (weighted) total density",
    "nu1mu1": "p^a_{nn'l} = sum_m c^a_{nlm} C_{n'lm}, C = sum_b w_b c^b",
    "nu1mu1*": "as nu1mu1, but the total density uses 2l+1 radial functions",
    "nu1nu1hat": "p^{ab}_{nl} = sum_m c^a_{nlm} sum_n' c^b_{n'lm} (GAP's nu_R, nu_S = 1, 2)",
    "nu1nu1hat_crossover": "same-element blocks p^{aa}_{nl} of nu1nu1hat only",
    "nu1mu1hat": "p^a_{nl} = sum_m c^a_{nlm} sum_{n'b} w_b c^b_{n'lm}",
    "embedding": "full spectrum of d_J element-embedded densities",
    "random": "W^T P_l: 2l+1 random combinations of the rows of each Gram matrix (lossless)",
    "random_symmetric": "first 2l+1 rows (upper triangle) of Q^T P_l Q (lossless)",
}
_ALIASES = {"off": "nu2", "mu1nu1": "nu1mu1", "mu1nu1*": "nu1mu1*", "nu1mu1star": "nu1mu1*"}
_NORMALIZATIONS = ("dscribe", "l2", "kernel")


#: Output dtypes of ``transform`` (the ``dtype`` parameter).
_OUTPUT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_DTYPE_DESCRIPTION = "'float32' or 'float64' (or numpy.float32, numpy.float64)"


def _output_dtype(value):
    """The numpy dtype named by a ``dtype`` parameter: float32 or float64 (ValueError otherwise)."""
    if isinstance(value, (str, type, np.dtype)):
        try:
            dtype = np.dtype(value)
        except TypeError:
            dtype = None
        if dtype in _OUTPUT_DTYPES:
            return dtype
    raise ValueError(f"dtype must be {_DTYPE_DESCRIPTION}, got {value!r}")


def _canonical(compression):
    name = _ALIASES.get(compression, compression)
    if not isinstance(name, str) or name not in COMPRESSIONS:
        raise ValueError(
            f"unknown compression {compression!r}; choose one of {sorted(COMPRESSIONS)} "
            f"(dscribe aliases: {sorted(_ALIASES)})"
        )
    return name


@dataclass
class _Layout:
    """Which products of which channels make up the output, in order."""

    l: np.ndarray  # (F,) angular channel of each feature
    a: np.ndarray  # (F,) left channel
    b: np.ndarray  # (F,) right channel
    symmetric_pair: np.ndarray  # (F,) True where the mirrored product is not stored
    names: list
    map_a: np.ndarray | None = None  # (L+1, S N, n_a)
    map_b: np.ndarray | None = None  # (L+1, S N, n_b)
    b_kind: int = kernel.B_SAME_AS_A
    use_star: bool = False
    single_density: bool = False  # merge all elements into one weighted density


def embedding_matrix(embedding, species):
    """Element embedding matrix of shape (n_species, d_J).

    ``"dJ2"``: columns 1 and 1, 2, 3, ... in order of atomic number;
    ``"dJ3"``: 1, group and period; or a user array of shape (n_species, d_J).
    """
    accepted = f"'dJ2', 'dJ3' or a finite array of shape (n_species={len(species)}, d_J) with d_J >= 1"
    if isinstance(embedding, str):
        if embedding == "dJ2":
            rank = np.argsort(np.argsort(species)) + 1.0
            return np.column_stack([np.ones(len(species)), rank])
        if embedding == "dJ3":
            from pymatgen.core.periodic_table import Element

            rows = [(1.0, float(Element.from_Z(z).group), float(Element.from_Z(z).row)) for z in species]
            return np.array(rows)
        raise ValueError(f"embedding must be {accepted}, got {embedding!r}")
    if isinstance(embedding, (numbers.Number, bytes)):
        raise TypeError(f"embedding must be {accepted}, got {embedding!r}")
    try:
        matrix = np.asarray(embedding, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"embedding must be {accepted}, got {embedding!r}") from None
    if matrix.ndim != 2 or matrix.shape[0] != len(species) or matrix.shape[1] == 0:
        raise ValueError(f"embedding must be {accepted}, got an array of shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("embedding must contain finite numbers only")
    return matrix


def _pair_table(n_groups, n_max, l_max, group_names, same_only=False):
    """nu2-style layout over 'groups' (elements or embedding channels).

    dscribe's order: group pairs g <= g', then l, then (n, n'); n <= n' within
    equal groups, the full N x N block otherwise.
    """
    ls, a, b, sym, names = [], [], [], [], []
    for g1 in range(n_groups):
        for g2 in range(g1, n_groups):
            if same_only and g1 != g2:
                continue
            for l in range(l_max + 1):
                for n1 in range(n_max):
                    for n2 in range(n1 if g1 == g2 else 0, n_max):
                        ls.append(l)
                        a.append(g1 * n_max + n1)
                        b.append(g2 * n_max + n2)
                        sym.append(not (g1 == g2 and n1 == n2))
                        names.append(f"{group_names[g1]},{group_names[g2]},l={l},n={n1},n'={n2}")
    return ls, a, b, sym, names


def _layout(mode, species, n_max, l_max, weights, embedding, projections):
    S, N, L = len(species), n_max, l_max
    sym = [f"Z={z}" for z in species]
    eye = np.eye(N)

    def per_l(matrix):
        return np.ascontiguousarray(np.broadcast_to(matrix, (L + 1,) + matrix.shape))

    if mode in ("nu2", "crossover"):
        names = [f"Z1={z}" for z in species]
        ls, a, b, s, nm = _pair_table(S, N, L, names, same_only=(mode == "crossover"))
        nm = [n.replace(",Z1=", ",Z2=", 1) for n in nm]
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm)
    if mode == "embedding":
        E = embedding_matrix(embedding, species)
        d_j = E.shape[1]
        ls, a, b, s, nm = _pair_table(d_j, N, L, [f"J{j}" for j in range(d_j)])
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm, map_a=per_l(np.kron(E, eye)))
    total = np.kron(weights[:, None], eye)  # (S N, N): C_n = sum_b w_b c^b_n
    if mode == "mu2":
        # the kernel expands one total density directly (elements merged, weighted)
        ls, a, b, s, nm = _pair_table(1, N, L, ["total"])
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm, single_density=True)
    ls, a, b, s, nm = [], [], [], [], []
    if mode == "random":
        for l in range(L + 1):
            for i in range(2 * l + 1):
                for e in range(S):
                    for n in range(N):
                        ls.append(l), a.append(i), b.append(e * N + n), s.append(False)
                        nm.append(f"W{i},{sym[e]},l={l},n={n}")
        width = 2 * L + 1
        W = np.zeros((L + 1, S * N, width))
        for l in range(L + 1):
            W[l, :, : 2 * l + 1] = projections[l]
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm, map_a=W, b_kind=kernel.B_RAW)
    if mode == "random_symmetric":
        for l in range(L + 1):
            for i in range(2 * l + 1):
                for j in range(i, S * N):
                    ls.append(l), a.append(i), b.append(j), s.append(i != j)
                    nm.append(f"Q{i},Q{j},l={l}")
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm, map_a=np.ascontiguousarray(projections))
    radial_sums = per_l(np.kron(np.eye(S), np.ones((N, 1))))  # (S N, S): sum_n' c^b_n'
    if mode == "nu1nu1hat":
        # every element pair (a, b), ordered as nu2's blocks: pair, then l, then n
        for e in range(S):
            for f in range(S):
                for l in range(L + 1):
                    for n in range(N):
                        ls.append(l), a.append(e * N + n), b.append(f), s.append(False)
                        nm.append(f"Z1={species[e]},Z2={species[f]},l={l},n={n}")
        return _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm, map_b=radial_sums, b_kind=kernel.B_MAPPED)
    for e in range(S):
        for l in range(L + 1):
            if mode == "nu1mu1":
                pairs = [(n, m, f"n={n},n'={m}") for n in range(N) for m in range(N)]
            elif mode == "nu1mu1*":
                pairs = [(n, k, f"n={n},k={k}") for n in range(N) for k in range(2 * l + 1)]
            elif mode == "nu1nu1hat_crossover":
                pairs = [(n, e, f"n={n}") for n in range(N)]
            else:  # nu1mu1hat
                pairs = [(n, 0, f"n={n}") for n in range(N)]
            for n, right, label in pairs:
                ls.append(l), a.append(e * N + n), b.append(right), s.append(False)
                nm.append(f"{sym[e]},l={l},{label}")
    layout = _Layout(np.array(ls), np.array(a), np.array(b), np.array(s), nm)
    if mode == "nu1mu1":
        layout.map_b, layout.b_kind = per_l(total), kernel.B_MAPPED
    elif mode == "nu1mu1*":
        layout.b_kind, layout.use_star = kernel.B_STAR, True
    elif mode == "nu1nu1hat_crossover":
        layout.map_b, layout.b_kind = radial_sums, kernel.B_MAPPED
    else:
        layout.map_b, layout.b_kind = per_l(np.kron(weights[:, None], np.ones((N, 1)))), kernel.B_MAPPED
    return layout


class CompressedSOAP(LocalDescriptor):
    """SOAP power spectrum with the generalised compressions of Darby et al. (2022).

    The neighbour density of each element is a sum of unnormalised Gaussians
    (width ``sigma``) expanded on dscribe's GTO radial basis and real spherical
    harmonics, ``c^a_{nlm}``.  The full power spectrum is
    ``p^{ab}_{nn'l} = pi sqrt(8 / (2l + 1)) sum_m c^a_{nlm} c^b_{n'lm}`` (dscribe's
    normalisation and feature order, values equal to dscribe's to 1e-8); every
    compression is computed directly from the coefficients, never by reducing
    the full spectrum.

    =========================  ==============================  =====================================
    ``compression``            definition (per l)              length
    =========================  ==============================  =====================================
    ``"nu2"`` ("off")          p^{ab}_{nn'}                    N S (N S + 1) (L + 1) / 2
    ``"crossover"``            p^{aa}_{nn'}                    S N (N + 1) (L + 1) / 2
    ``"mu2"``                  spectrum of C = sum_b w_b c^b   N (N + 1) (L + 1) / 2
    ``"nu1mu1"``               sum_m c^a_n C_n'  ("mu1nu1")    N^2 S (L + 1)
    ``"nu1mu1*"``              sum_m c^a_n C*_k, k < 2l + 1    N S (L + 1)^2
    ``"nu1nu1hat"``            sum_m c^a_n sum_n' c^b_n'       N S^2 (L + 1)
    ``"nu1nu1hat_crossover"``  sum_m c^a_n sum_n' c^a_n'       N S (L + 1)
    ``"nu1mu1hat"``            sum_m c^a_n sum_n'b w_b c^b_n'  N S (L + 1)
    ``"embedding"``            nu2 over d_J embedded channels  N d_J (N d_J + 1) (L + 1) / 2
    ``"random"``               W_l^T P_l (lossless)            N S (L + 1)^2
    ``"random_symmetric"``     rows < 2l+1 of Q^T P_l Q        N S (L + 1)^2 - L (L + 1)(4L + 5) / 6
    =========================  ==============================  =====================================

    C* is the total density expanded on 2l + 1 GTO radial functions of the same
    construction.  ``nu1nu1hat`` (nu, nu-hat = 1, 1) pairs each element's
    density with the radially summed density of every element b, as Darby et
    al.'s Table 1 formula (b free) and their length rule (proportional to
    S^(nu + nu-hat)) prescribe; it is GAP's (nu_R, nu_S) = (1, 2).
    ``nu1nu1hat_crossover`` keeps only its same-element blocks a = b.

    Parameters
    ----------
    species : list of str or int, default=None
        Element order (``None``: sorted atomic numbers seen in ``fit``).
    r_cut : float, default=5.0
        Cutoff radius in Å; as in dscribe, Gaussians are included up to
        ``r_cut + sigma * sqrt(-2 ln 1e-3)`` and the basis spans all space.
    n_max : int, default=8
        Number of radial functions N.
    l_max : int, default=6
        Highest spherical-harmonic degree L (at most 20).
    sigma : float, default=0.5
        Gaussian width in Å.
    compression : str, default="nu2"
        One of the modes above (dscribe's ``"off"``, ``"mu1nu1"``,
        ``"crossover"``, ``"mu2"`` are accepted).
    element_weights : dict or sequence, default=None
        Weights w_b of the elements in the total density (``mu2``,
        ``nu1mu1``, ``nu1mu1*``, ``nu1mu1hat``); ``None`` means 1 for all
        (dscribe's ``species_weighting`` default).
    embedding : {"dJ2", "dJ3"} or array of shape (n_species, d_J), default="dJ2"
        Element embedding for ``compression="embedding"``: ``dJ2`` uses the
        weights 1 and 1, 2, 3, ... by atomic number, ``dJ3`` 1, group and
        period.
    random_state : int, RandomState or None, default=None
        Seed of the random matrices of ``random`` / ``random_symmetric``
        (drawn once in ``fit``).
    sparse : bool, default=False
        Return per-atom values as a ``scipy.sparse.csr_matrix`` in
        ``AtomicFeatures.values``; zero blocks (elements absent from an
        environment) are not stored.
    normalize : {"dscribe", "l2", "kernel"}, default="dscribe"
        ``dscribe``: the values above; ``kernel``: products whose mirror image
        is not stored are multiplied by sqrt(2), so the dot product of two
        vectors is the SOAP kernel sum_l sum_{ab nn'} p p'; ``l2``: ``kernel``
        scaling, then each atom's vector has unit length.  A vector that is
        exactly zero (no density at all: ``center_weight=0`` and no neighbour
        within the cutoff, or element weights that cancel) has no direction;
        ``l2`` leaves it, and its derivatives, zero instead of 0/0.
    center_weight : float, default=1.0
        Weight of the central atom's own Gaussian (dscribe's ``w0``).
    dtype : {"float64", "float32"} or numpy.float64, numpy.float32, default="float64"
        dtype of the per-atom values (``AtomicFeatures.values``, dense or
        sparse).  float32 halves the output's memory (the speed gain is small:
        the kernel's work is the same); values are computed in float64 and rounded once, so they
        equal the float64 output cast to float32 (relative difference about
        6e-8).  Derivatives (``transform_with_derivatives``) stay float64.
    min_distance, handle_unknown, n_jobs, verbose
        See :class:`~skdesc.ChebyshevLAED`.

    Attributes
    ----------
    species_ : tuple of int
    compression_ : str
        Canonical compression name.
    dtype_ : numpy.dtype
        dtype of the per-atom values, float32 or float64.
    element_weights_ : ndarray of shape (n_species,)
    projections_ : list of ndarray or ndarray
        ``random``: W_l of shape (N S, 2l + 1) for each l; ``random_symmetric``:
        Q_l of shape (N S, N S) stacked per l.
    n_features_out_ : int
    """

    _cli_name = "soap"

    _parameter_constraints = {
        # the first GTO of dscribe's basis decays at 1 Å
        "r_cut": [Interval(numbers.Real, 1, None, closed="neither")],
        "n_max": [Interval(numbers.Integral, 1, None, closed="left")],
        "l_max": [Interval(numbers.Integral, 0, 20, closed="both")],
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "compression": [Options(str, tuple(COMPRESSIONS) + tuple(_ALIASES))],
        "element_weights": ELEMENT_WEIGHTS_CONSTRAINT,
        "embedding": [Options(str, ("dJ2", "dJ3")), "array-like"],
        "random_state": ["random_state"],
        "sparse": ["boolean"],
        "normalize": [Options(str, _NORMALIZATIONS)],
        "center_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "dtype": [Predicate(lambda value: _output_dtype(value) is not None, _DTYPE_DESCRIPTION)],
    }

    def __init__(
        self,
        species=None,
        r_cut=5.0,
        n_max=8,
        l_max=6,
        sigma=0.5,
        compression="nu2",
        element_weights=None,
        embedding="dJ2",
        random_state=None,
        sparse=False,
        normalize="dscribe",
        center_weight=1.0,
        dtype="float64",
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
        self.compression = compression
        self.element_weights = element_weights
        self.embedding = embedding
        self.random_state = random_state
        self.sparse = sparse
        self.normalize = normalize
        self.center_weight = center_weight
        self.dtype = dtype
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    _supports_gradients = True
    _fills_output = True  # soap_kernel writes every feature of every row
    _citations = ("bartok2013", "himanen2020")  # keys of skdesc._bibliography.CITATIONS

    def _citation_keys(self):
        return self._citations + (("darby2022",) if self.compression not in ("nu2", "off") else ())

    def _setup(self):
        self._prepare_layout()
        return [f"soap[{self.compression_}|{name}]" for name in self._layout_.names]

    def _sparse_output(self):
        return bool(self.sparse)

    def _output_dtype(self):
        return self.dtype_

    def _prepare_layout(self):
        self.compression_ = _canonical(self.compression)
        self.dtype_ = _output_dtype(self.dtype)
        species = self.species_
        if self.element_weights is None:
            self.element_weights_ = np.ones(len(species))
        else:
            self.element_weights_ = resolve_element_weights(self.element_weights, species)
        rng = check_random_state(self.random_state)
        width = len(species) * self.n_max
        if self.compression_ == "random":
            self.projections_ = [rng.standard_normal((width, 2 * l + 1)) for l in range(self.l_max + 1)]
        elif self.compression_ == "random_symmetric":
            self.projections_ = np.stack([rng.standard_normal((width, width)) for _ in range(self.l_max + 1)])
        r_max = self._cutoff()
        sigma = float(self.sigma)
        self._check_radial_table(r_max, sigma)
        alpha, beta = kernel.gto_basis(float(self.r_cut), int(self.n_max), int(self.l_max))
        counts = np.full(self.l_max + 1, int(self.n_max))
        # both kernels (values and derivatives) use these tables
        self._radial = kernel.radial_table(alpha, beta, counts, sigma, r_max)
        if self.compression_ == "nu1mu1*":
            star_alpha, star_beta = kernel.star_basis(float(self.r_cut), int(self.l_max))
            star_counts = 2 * np.arange(self.l_max + 1) + 1
            self._star_radial = kernel.radial_table(star_alpha, star_beta, star_counts, sigma, r_max)
        else:
            self._star_radial = (np.zeros((1, 1, self.l_max + 1)), 1.0)
        self._layout_ = _layout(
            self.compression_,
            species,
            int(self.n_max),
            int(self.l_max),
            self.element_weights_,
            self.embedding,
            getattr(self, "projections_", None),
        )
        layout = self._layout_
        pref = np.pi * np.sqrt(8.0 / (2.0 * layout.l + 1.0))
        if self.normalize in ("kernel", "l2"):
            pref = np.where(layout.symmetric_pair, pref * np.sqrt(2.0), pref)
        self._pref = np.ascontiguousarray(pref)
        # the kernel takes the channel maps transposed, (L+1, n_out, n_in)
        self._maps_t = tuple(
            np.zeros((1, 1, 1)) if m is None else np.ascontiguousarray(np.transpose(m, (0, 2, 1)))
            for m in (layout.map_a, layout.map_b)
        )
        self._table = tuple(np.ascontiguousarray(x, dtype=np.int64) for x in (layout.l, layout.a, layout.b))
        self._norm = real_harmonics_norm(int(self.l_max))

    def _check_radial_table(self, r_max, sigma):
        """Refuse a radial table larger than ``max_memory`` (a tiny sigma needs ~r_max / sigma intervals)."""
        n_func = (self.l_max + 1) * self.n_max
        if _canonical(self.compression) == "nu1mu1*":
            n_func = max(n_func, (self.l_max + 1) * (2 * self.l_max + 1))
        # kernel.radial_table starts with r_max / (sigma / 2) intervals and holds about
        # 52 float64 values per interval and function while fitting them (8 nodes x 4
        # arrays, 5 probes x 4 arrays)
        intervals = max(8.0, np.ceil(r_max / (0.5 * sigma)))
        check_memory(
            intervals * n_func * 52 * 8.0,
            f"{type(self).__name__}: the radial table for sigma={self.sigma} Å ({intervals:.3g} intervals "
            f"of sigma / 2 up to {r_max:.3g} Å, {n_func} radial functions)",
            "raise sigma (Gaussian widths of 0.1-1 Å are usual) or lower r_cut, n_max or l_max",
        )

    def recover_power_spectrum(self, X):
        """Rebuild the full ``nu2`` power spectrum from a lossless compression.

        Needs ``compression="random"`` or ``"random_symmetric"`` and ``normalize``
        ``"dscribe"`` or ``"kernel"``.  Uses the eigen-decomposition route of
        Darby et al. (2022), Sec. II.3, discarding zero eigenvalues when an
        environment's Gram matrix has rank below 2l + 1.

        Parameters
        ----------
        X : AtomicFeatures or ndarray of shape (n_atoms, n_features_out_)
            Compressed per-atom values produced by this estimator.

        Returns
        -------
        ndarray of shape (n_atoms, n_nu2_features)
            The full spectrum in dscribe's layout and this estimator's normalisation
            (``SOAP`` with the same parameters gives the same values).
        """
        self._check_fitted("species_")
        if self.compression_ not in ("random", "random_symmetric"):
            raise ValueError(f"compression {self.compression_!r} is not lossless; use 'random' or 'random_symmetric'")
        if self.normalize == "l2":
            raise ValueError("normalize='l2' discards each vector's scale; recover from 'dscribe' or 'kernel' output")
        values = X.values if isinstance(X, AtomicFeatures) else X
        values = values.toarray() if sp.issparse(values) else np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.n_features_out_:
            raise ValueError(f"X must have {self.n_features_out_} columns, got shape {values.shape}")
        return _recover_rows(values, self)

    # --------------------------------------------------------------- compute
    def _cutoff(self):
        # dscribe keeps neighbours up to r_cut + 3.72 sigma (no smooth cutoff)
        return float(self.r_cut) + float(self.sigma) * _PADDING

    def _neighbor_request(self):
        # full lists: the kernel expands each centre from all of its neighbours at once
        return NeighborRequest(cutoff=self._cutoff(), cutoff_name="r_cut (the list reaches r_cut + 3.72 sigma)")

    def _density_channels(self, batch):
        """Each atom's density channel and Gaussian amplitude, and the number of channels.

        Single-density modes (mu2) expand one total density with the element
        weights as amplitudes; the others one density per element.
        """
        weights = np.ascontiguousarray(self.element_weights_, dtype=np.float64)
        if self._layout_.single_density:
            return np.zeros_like(batch.species_index), np.ascontiguousarray(weights[batch.species_index]), 1
        return batch.species_index, np.ones(len(batch.species_index)), len(self.species_)

    def _check_kernel_inputs(self, batch, channel, atom_weight, n_channels, values):
        """Shapes the numba kernels trust, checked against the fitted layout (ValueError if not)."""
        n_atoms, n_features = len(batch.species_index), self.n_features_out_
        L, N = int(self.l_max), int(self.n_max)
        check_shape(values, (n_atoms, n_features), "SOAP output")
        if values.dtype not in _OUTPUT_DTYPES or not values.flags.c_contiguous:
            raise ValueError(
                f"internal check failed: SOAP output must be C-contiguous float32 or float64, got {values.dtype}"
            )
        for name, array in zip(("table_l", "table_a", "table_b"), self._table):
            check_shape(array, (n_features,), f"SOAP feature {name}")
        check_shape(self._pref, (n_features,), "SOAP feature prefactors")
        check_shape(self._radial[0], (None, None, (L + 1) * N), "SOAP radial table")
        check_shape(self._norm, (L + 1, L + 1), "SOAP harmonics norm")
        check_shape(self.element_weights_, (len(self.species_),), "element_weights_")
        check_shape(channel, (n_atoms,), "SOAP density channels")
        check_shape(atom_weight, (n_atoms,), "SOAP atom weights")
        if n_features and not (0 <= self._table[0].min() and self._table[0].max() <= L):
            raise ValueError("internal shape check failed: SOAP feature table has l outside 0..l_max")
        if n_atoms and not (0 <= channel.min() and channel.max() < n_channels):
            raise ValueError("internal shape check failed: SOAP density channel outside the fitted elements")
        for name, used, array, column in (
            ("map_a", self._layout_.map_a is not None, self._maps_t[0], self._table[1]),
            ("map_b", self._layout_.map_b is not None, self._maps_t[1], self._table[2]),
        ):
            if used:
                check_shape(array, (L + 1, None, n_channels * N), f"SOAP channel {name}")
                if n_features and column.max() >= array.shape[1]:
                    raise ValueError(f"internal shape check failed: SOAP feature table exceeds {name}")

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        layout = self._layout_
        weights = np.ascontiguousarray(self.element_weights_, dtype=np.float64)
        channel, atom_weight, n_channels = self._density_channels(batch)
        self._check_kernel_inputs(batch, channel, atom_weight, n_channels, values)
        output = values
        if values.dtype != np.float64 and (pairs is not None or self.normalize == "l2"):
            # the l2 scaling and the derivatives' chain rule work on the float64 values
            # (one batch of them): the output is rounded once, at the end
            values = np.empty(values.shape)
        if neighbors.half.any():
            raise ValueError("internal check failed: the SOAP kernel needs full neighbour lists")
        # a float32 output makes numba compile a float32 specialisation of the kernel:
        # it computes in float64 and rounds each value as it stores it
        kernel.soap_kernel(
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            channel,
            batch.offsets,
            n_channels,
            int(self.l_max),
            self._norm,
            *self._radial,
            *self._star_radial,
            layout.use_star,
            weights,
            atom_weight,
            float(self.center_weight),
            self._maps_t[0],
            layout.map_a is not None,
            self._maps_t[1],
            layout.b_kind,
            *self._table,
            self._pref,
            values,
        )
        raw = values.copy() if pairs is not None and self.normalize == "l2" else values
        if self.normalize == "l2":
            # an all-zero row (no density, e.g. center_weight=0 and no neighbours)
            # has no direction: it stays zero instead of 0/0
            norm = np.linalg.norm(values, axis=1, keepdims=True)
            norm[norm == 0.0] = 1.0
            values /= norm
        if pairs is not None:
            self._compute_derivatives(batch, neighbors, raw, pairs, dvalues)
        if output is not values:
            output[...] = values

    def _compute_derivatives(self, batch, neighbors, raw, pairs, dvalues):
        """Position derivatives of one batch into ``dvalues`` (``raw``: the values before l2 normalisation)."""
        layout = self._layout_
        empty = np.zeros((1, 1, 1))
        weights = np.ascontiguousarray(self.element_weights_, dtype=np.float64)
        channel, atom_weight, n_channels = self._density_channels(batch)
        check_shape(dvalues, (pairs.atom.shape[0], 3, self.n_features_out_), "SOAP derivatives")
        check_shape(pairs.of_entry, (neighbors.index.shape[0],), "SOAP derivative pair layout")
        check_shape(pairs.own, (len(batch.species_index),), "SOAP derivative pair layout")
        # the kernel's own values (before l2) feed the chain rule below; they equal raw to 1e-14
        own_values = np.zeros_like(raw)
        soap_derivatives_kernel(
            neighbors.first, neighbors.index, neighbors.vectors, neighbors.distances,
            pairs.first, pairs.atom, pairs.of_entry, pairs.own,
            channel, n_channels, int(self.l_max), self._norm,
            *self._radial, *self._star_radial,
            layout.use_star, weights, atom_weight, float(self.center_weight),
            layout.map_a if layout.map_a is not None else empty, layout.map_a is not None,
            layout.map_b if layout.map_b is not None else empty, layout.b_kind,
            np.ascontiguousarray(layout.l, dtype=np.int64),
            np.ascontiguousarray(layout.a, dtype=np.int64),
            np.ascontiguousarray(layout.b, dtype=np.int64),
            self._pref, own_values, dvalues,
        )
        if self.normalize == "l2":
            # d(x / |x|) = (dx - x_hat (x_hat . dx)) / |x|, per centre
            # (zero rows, left zero by the value kernel, get zero derivatives)
            center = np.repeat(np.arange(len(pairs.first) - 1), np.diff(pairs.first))
            norm = np.linalg.norm(raw, axis=1)
            inverse = np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0.0)
            unit = raw * inverse[:, None]
            along = np.einsum("pcf,pf->pc", dvalues, unit[center])
            dvalues -= along[:, :, None] * unit[center][:, None, :]
            dvalues *= inverse[center][:, None, None]


class SOAP(CompressedSOAP):
    """Full SOAP power spectrum (nu = 2), dscribe's conventions and feature order.

    ``SOAP(...)`` equals ``CompressedSOAP(..., compression="nu2")``; see
    :class:`CompressedSOAP` for the parameters and conventions.

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import SOAP
    >>> SOAP(r_cut=4.0, n_max=3, l_max=2).fit_transform([molecule("H2O")]).values.shape
    (3, 63)
    """

    compression = "nu2"
    element_weights = None
    embedding = "dJ2"
    random_state = None

    def __init__(
        self,
        species=None,
        r_cut=5.0,
        n_max=8,
        l_max=6,
        sigma=0.5,
        sparse=False,
        normalize="dscribe",
        center_weight=1.0,
        dtype="float64",
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
        self.sparse = sparse
        self.normalize = normalize
        self.center_weight = center_weight
        self.dtype = dtype
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose


def _recover_rows(compressed, estimator):
    """Full nu2 rows (dscribe layout) from W^T P_l or Q^T P_l Q rows."""
    from ._projection import gram_from_projection

    S, N, L = len(estimator.species_), int(estimator.n_max), int(estimator.l_max)
    width = S * N
    layout = estimator._layout_
    pref = estimator._pref
    full = _layout("nu2", estimator.species_, N, L, None, None, None)
    full_pref = np.pi * np.sqrt(8.0 / (2.0 * full.l + 1.0))
    if estimator.normalize == "kernel":
        full_pref = np.where(full.symmetric_pair, full_pref * np.sqrt(2.0), full_pref)
    out = np.empty((compressed.shape[0], len(full.l)))
    for l in range(L + 1):
        cols = np.flatnonzero(layout.l == l)
        targets = np.flatnonzero(full.l == l)
        scale = np.pi * np.sqrt(8.0 / (2 * l + 1))
        for row in range(compressed.shape[0]):
            values = compressed[row, cols] / pref[cols] * scale  # undo sqrt(2) factors
            if estimator.compression_ == "random":
                gram = gram_from_projection(values.reshape(2 * l + 1, width), estimator.projections_[l])
            else:
                Q = estimator.projections_[l]
                top = np.zeros((2 * l + 1, width))
                top[layout.a[cols], layout.b[cols]] = values
                lower = layout.b[cols] < 2 * l + 1
                top[layout.b[cols][lower], layout.a[cols][lower]] = values[lower]
                mixed = gram_from_projection(top, np.eye(width)[:, : 2 * l + 1])
                inverse = np.linalg.inv(Q)
                gram = inverse.T @ mixed @ inverse
            out[row, targets] = gram[full.a[targets], full.b[targets]] / scale * full_pref[targets]
    return out
