"""Atom-centred symmetry functions (Behler 2011) as dscribe defines them, with compressions."""

import warnings
from numbers import Real

import numpy as np

from .._param_validation import Interval, Options
from ..elements import ELEMENT_WEIGHTS_CONSTRAINT, resolve_element_weights, warn_zero_weights
from ._kernels.acsf import MU2, NU1MU1, NU2, WEIGHTED, acsf_kernel, n_acsf_features
from .._validation import check_shape
from .base import LocalDescriptor, NeighborRequest

__all__ = ["ACSF"]

_COMPRESSIONS = {
    "nu2": NU2,
    "off": NU2,
    "nu1mu1": NU1MU1,
    "mu1nu1": NU1MU1,
    "mu2": MU2,
    "weighted": WEIGHTED,
}


def _param_array(value, name, n_columns, columns):
    """Validate a parameter table: None -> empty, else (n, n_columns) finite floats."""
    if value is None:
        shape = (0,) if n_columns == 1 else (0, n_columns)
        return np.zeros(shape, dtype=np.float64)
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers ({columns}), got {value!r}") from exc
    if array.size == 0:
        shape = (0,) if n_columns == 1 else (0, n_columns)
        return np.zeros(shape, dtype=np.float64)
    if n_columns == 1:
        if array.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array of {columns}, got shape {array.shape}")
    elif array.ndim != 2 or array.shape[1] != n_columns:
        raise ValueError(
            f"{name} must have shape (n, {n_columns}), one row ({columns}) per function, "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain finite numbers only")
    return np.ascontiguousarray(array)


def _fmt(x):
    text = format(float(x), ".10g")
    if text.lstrip("-").isdigit():
        text += ".0"
    return text


class ACSF(LocalDescriptor):
    """Atom-centred symmetry functions, element-resolved or compressed.

    Behler's symmetry functions (J. Chem. Phys. 134, 074106, 2011) with the
    exact conventions of dscribe 2.1 (reproduces ``dscribe.descriptors.ACSF``
    to 1e-10 for ``compression="nu2"``).  For atom i with neighbours j, k
    closer than ``r_cut`` (distances r in Å, periodic images included):

    * ``G1 = sum_j f_c(r_ij)`` (always computed);
    * ``G2 = sum_j exp(-eta (r_ij - R_s)^2) f_c(r_ij)``;
    * ``G3 = sum_j cos(kappa r_ij) f_c(r_ij)``;
    * ``G4 = 2^(1-zeta) sum_{j<k} (1 + lambda cos theta_ijk)^zeta
      exp(-eta (r_ij^2 + r_ik^2 + r_jk^2)) f_c(r_ij) f_c(r_ik) f_c(r_jk)``;
    * ``G5`` as G4 without ``r_jk^2`` and ``f_c(r_jk)``;

    with ``f_c(r) = (cos(pi r / r_cut) + 1) / 2``.  Each unordered neighbour
    pair is counted once, eta is not scaled by the cutoff and G4/G5 have no
    R_s.  ``n_rad = 1 + n_g2 + n_g3`` radial and ``n_ang = n_g4 + n_g5``
    angular functions are computed per block; ``compression`` chooses the
    blocks (Darby, Kermode & Csányi, npj Comput. Mater. 8, 166, 2022), with
    S elements in ``species_``:

    ``"nu2"`` (alias ``"off"``)
        dscribe's full layout.  Per neighbour element a (in ``species_``
        order) the radial block ``[G1, G2..., G3...]`` of neighbours of element
        a; then per unordered element pair {a, b} the angular block
        ``G^{ab} = [G4..., G5...]`` over neighbour pairs with one neighbour of
        each element, pairs in dscribe's triangular order
        ``(0,0), (0,1), (1,1), (0,2), (1,2), (2,2), ...``.
        Length ``n_rad S + n_ang S (S + 1) / 2``.
    ``"nu1mu1"`` (alias ``"mu1nu1"``)
        Radial blocks as in ``"nu2"``; one angular block per element a,
        ``G^a = sum_b G^{ab}`` summed over every element b of ``species_``
        (``G^{ab}`` the ``"nu2"`` block of the pair {a, b}).  A neighbour pair
        of elements a != b thus adds to blocks a and b, a pair of two a-atoms
        once to block a.  Length ``(n_rad + n_ang) S``.
    ``"mu2"``
        Element agnostic: one radial block over all neighbours and one
        angular block over all neighbour pairs (the sum of all ``"nu2"``
        blocks of each kind).  Length ``n_rad + n_ang``.
    ``"weighted"``
        wACSF: the ``"mu2"`` blocks followed, with two or more elements, by
        element-weighted copies: ``sum_j w_j g(r_ij)`` radially and
        ``sum_{j<k} w_j w_k g(...)`` angularly.  Layout ``[radial, angular,
        radial_weighted, angular_weighted]``; length ``2 (n_rad + n_ang)``
        (``n_rad + n_ang`` for one element).

    Every mode is computed directly, never by reducing the full descriptor.
    The element of the centre atom is not encoded (as in dscribe).

    Parameters
    ----------
    species : list of str or int, default=None
        Element order.  ``None`` learns the sorted atomic numbers in ``fit``,
        which is dscribe's order (it always sorts by atomic number), so the
        columns then match dscribe's one to one.
    r_cut : float, default=6.0
        Cutoff radius in Å, shared by all functions.
    g2_params : array-like of shape (n_g2, 2), default=None
        Rows ``(eta, R_s)``: eta in Å^-2 (>= 0), R_s in Å.
    g3_params : array-like of shape (n_g3,), default=None
        kappa values in Å^-1.
    g4_params : array-like of shape (n_g4, 3), default=None
        Rows ``(eta, zeta, lambda)``: eta in Å^-2 (>= 0), zeta > 0 and
        lambda (usually +1 or -1).  As in dscribe any lambda is accepted;
        ``|lambda| > 1`` warns (``1 + lambda cos theta`` then changes sign) and
        needs an integer zeta.
    g5_params : array-like of shape (n_g5, 3), default=None
        As ``g4_params``, for G5.
    compression : {"nu2", "nu1mu1", "mu2", "weighted"}, default="nu2"
        Element resolution of the output, see above.  ``"off"`` and
        ``"mu1nu1"`` are accepted aliases of ``"nu2"`` and ``"nu1mu1"``.
    element_weights : dict or sequence, default=None
        Element weights of ``compression="weighted"`` (ignored otherwise, but
        still validated): a mapping from symbol or atomic number to weight,
        or one weight per element of ``species``.  ``None`` gives aenet's
        "typespin" weights in the element order (-1, 1; -1, 0, 1; ...); with
        an odd number of elements the middle one then has weight 0 (a warning
        says so).
    min_distance : float, default=0.1
        Atoms closer than this (Å, periodic images included) raise
        ``ValueError`` as overlapping atoms.
    handle_unknown : {"error", "ignore"}, default="error"
        What ``transform`` does with elements that ``fit`` did not see:
        raise, or drop those atoms (as centres and as neighbours).
    n_jobs : int, default=None
        Number of threads over batches of structures (``None`` = 1, ``-1`` =
        all cores).  Results do not depend on it.
    verbose : int, default=0
        Show a progress bar if non-zero.

    Attributes
    ----------
    species_ : tuple of int
        Element order (atomic numbers).
    element_weights_ : ndarray of shape (n_species,)
        Weight of each element of ``species_`` (used by ``"weighted"``).
    n_features_out_ : int
        Number of features per atom.

    See Also
    --------
    ChebyshevLAED : Chebyshev expansion with element-weighted blocks (aenet).

    Examples
    --------
    >>> from ase.build import molecule
    >>> from skdesc import ACSF
    >>> acsf = ACSF(r_cut=5.0, g2_params=[[1.0, 0.0], [0.5, 1.5]],
    ...             g4_params=[[0.01, 1.0, 1.0], [0.01, 1.0, -1.0]])
    >>> acsf.fit_transform([molecule("H2O")]).values.shape
    (3, 12)
    >>> acsf.set_params(compression="nu1mu1").fit_transform([molecule("H2O")]).values.shape
    (3, 10)
    """

    _cli_name = "acsf"

    _parameter_constraints = {
        "r_cut": [Interval(Real, 0, None, closed="neither")],
        "g2_params": [None, "array-like"],
        "g3_params": [None, "array-like"],
        "g4_params": [None, "array-like"],
        "g5_params": [None, "array-like"],
        "compression": [Options(str, tuple(_COMPRESSIONS))],
        "element_weights": ELEMENT_WEIGHTS_CONSTRAINT,
    }

    def __init__(
        self,
        species=None,
        r_cut=6.0,
        g2_params=None,
        g3_params=None,
        g4_params=None,
        g5_params=None,
        compression="nu2",
        element_weights=None,
        min_distance=0.1,
        handle_unknown="error",
        n_jobs=None,
        verbose=0,
    ):
        self.species = species
        self.r_cut = r_cut
        self.g2_params = g2_params
        self.g3_params = g3_params
        self.g4_params = g4_params
        self.g5_params = g5_params
        self.compression = compression
        self.element_weights = element_weights
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------ validation
    def _check_params(self):
        self._mode = _COMPRESSIONS[self.compression]
        g2 = _param_array(self.g2_params, "g2_params", 2, "eta, R_s")
        g3 = _param_array(self.g3_params, "g3_params", 1, "kappa values")
        g4 = _param_array(self.g4_params, "g4_params", 3, "eta, zeta, lambda")
        g5 = _param_array(self.g5_params, "g5_params", 3, "eta, zeta, lambda")
        if np.any(g2[:, 0] < 0):
            raise ValueError("g2_params: eta (first column) must be >= 0")
        for name, table in (("g4_params", g4), ("g5_params", g5)):
            if np.any(table[:, 0] < 0):
                raise ValueError(f"{name}: eta (first column) must be >= 0")
            if np.any(table[:, 1] <= 0):
                raise ValueError(f"{name}: zeta (second column) must be > 0")
            steep = np.abs(table[:, 2]) > 1
            if np.any(steep & (table[:, 1] != np.round(table[:, 1]))):
                raise ValueError(
                    f"{name}: with |lambda| > 1 (third column) zeta (second column) must be an "
                    "integer: 1 + lambda cos(theta) can be negative, and a negative number to a "
                    "fractional power is undefined; use an integer zeta or -1 <= lambda <= 1"
                )
            if np.any(steep):
                warnings.warn(
                    f"{name}: |lambda| > 1 (third column) makes 1 + lambda cos(theta) change sign, "
                    "so the angular term is not Behler's non-negative function (dscribe computes it "
                    "all the same); the usual choices are lambda = +1 and -1",
                    UserWarning,
                    stacklevel=3,
                )
        self._g2, self._g3, self._g4, self._g5 = g2, g3, g4, g5

    _supports_gradients = True
    _citations = ("behler2011", "himanen2020")  # keys of skdesc._bibliography.CITATIONS

    def _citation_keys(self):
        return self._citations + (("darby2022",) if self.compression not in ("nu2", "off") else ())

    def _setup(self):
        self.element_weights_ = resolve_element_weights(self.element_weights, self.species_)
        if self._mode == WEIGHTED and self.element_weights is None and self._weighted_copy:
            warn_zero_weights(self.element_weights_, self.species_, "ACSF(compression='weighted')")
        return self._feature_names()

    @property
    def _weighted_copy(self):
        return self._mode == WEIGHTED and len(self.species_) > 1

    # ---------------------------------------------------------------- layout
    def _n_kernel_features(self):
        n_rad = 1 + len(self._g2) + len(self._g3)
        n_ang = len(self._g4) + len(self._g5)
        return int(n_acsf_features(n_rad, n_ang, len(self.species_), self._mode, self._weighted_copy))

    def _radial_names(self, tag):
        names = [f"acsf[G1{tag}]"]
        names += [f"acsf[G2{tag},eta={_fmt(e)},Rs={_fmt(r)}]" for e, r in self._g2]
        names += [f"acsf[G3{tag},kappa={_fmt(k)}]" for k in self._g3]
        return names

    def _angular_names(self, tag):
        names = []
        for kind, table in (("G4", self._g4), ("G5", self._g5)):
            names += [
                f"acsf[{kind}{tag},eta={_fmt(e)},zeta={_fmt(z)},lambda={_fmt(lam)}]" for e, z, lam in table
            ]
        return names

    def _feature_names(self):
        species = self.species_
        if self._mode == NU2:
            names = [n for z in species for n in self._radial_names(f",Z={z}")]
            for high in range(len(species)):
                for low in range(high + 1):
                    names += self._angular_names(f",Z1={species[low]},Z2={species[high]}")
            return names
        if self._mode == NU1MU1:
            names = [n for z in species for n in self._radial_names(f",Z={z}")]
            return names + [n for z in species for n in self._angular_names(f",Z1={z},Z2=any")]
        names = self._radial_names("") + self._angular_names("")
        if self._weighted_copy:
            names += self._radial_names(",weighted") + self._angular_names(",weighted")
        return names

    # ----------------------------------------------------------- computation
    def _neighbor_request(self):
        angular = float(self.r_cut) if len(self._g4) + len(self._g5) else None
        return NeighborRequest(cutoff=float(self.r_cut), cutoff_name="r_cut", angular=angular, angular_name="r_cut")

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        # the kernels index the weights by each atom's element and write the
        # layout's columns: check both before the call
        check_shape(self.element_weights_, (len(self.species_),), "element_weights_")
        check_shape(values, (len(batch.species_index), self._n_kernel_features()), "ACSF output")
        arguments = (
            neighbors.first,
            neighbors.index,
            neighbors.vectors,
            neighbors.distances,
            batch.species_index,
            float(self.r_cut),
            self._g2,
            self._g3,
            self._g4,
            self._g5,
            len(self.species_),
            self._mode,
            np.ascontiguousarray(self.element_weights_, dtype=np.float64),
            self._weighted_copy,
        )
        if pairs is None:
            no_pairs = np.zeros(0, dtype=np.int64)
            acsf_kernel(*arguments, values, False, no_pairs, no_pairs, np.zeros((0, 3, values.shape[1])))
            return
        check_shape(dvalues, (pairs.atom.shape[0], 3, values.shape[1]), "ACSF derivatives")
        check_shape(pairs.of_entry, (neighbors.index.shape[0],), "ACSF derivative pair layout")
        check_shape(pairs.own, (len(batch.species_index),), "ACSF derivative pair layout")
        acsf_kernel(*arguments, values, True, pairs.of_entry, pairs.own, dvalues)
