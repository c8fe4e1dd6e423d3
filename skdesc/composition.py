"""Composition-only features: the baseline every structural descriptor has to beat.

:class:`ElementFractions` is the fraction vector of a structure's elements,
:class:`ElementProperty` the Magpie statistics of element properties over it
(the first rung of the descriptor ladder: formula in, vector out).
"""

import csv
from functools import lru_cache
from importlib.resources import files

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._param_validation import Options, Predicate, validate_params
from ._validation import FittedParamsMixin
from .atomic import AtomicFeatures
from .elements import SPECIES_CONSTRAINT, resolve_species
from .structures import as_structure_list, atomic_numbers, atomic_symbol

__all__ = ["ElementFractions", "ElementProperty", "MAGPIE_PROPERTIES", "element_property_table"]

#: The 22 element properties of the Magpie preset of matminer's ``ElementProperty``, in its order.
MAGPIE_PROPERTIES = (
    "Number",
    "MendeleevNumber",
    "AtomicWeight",
    "MeltingT",
    "Column",
    "Row",
    "CovalentRadius",
    "Electronegativity",
    "NsValence",
    "NpValence",
    "NdValence",
    "NfValence",
    "NValence",
    "NsUnfilled",
    "NpUnfilled",
    "NdUnfilled",
    "NfUnfilled",
    "NUnfilled",
    "GSvolume_pa",
    "GSbandgap",
    "GSmagmom",
    "SpaceGroupNumber",
)

#: The statistics of :class:`ElementProperty`, in matminer's Magpie order.
ELEMENT_STATISTICS = ("minimum", "maximum", "range", "mean", "avg_dev", "mode")


@lru_cache(maxsize=1)
def _load_table():
    text = (files("skdesc.datasets") / "data" / "element_properties.csv").read_text()
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
    header, body = rows[0], rows[1:]
    names = tuple(header[2:])
    values = np.full((119, len(names)), np.nan)
    for row in body:
        values[int(row[0])] = [float(cell) if cell else np.nan for cell in row[2:]]
    values.setflags(write=False)
    return names, values


def element_property_table():
    """The bundled Magpie element-property table.

    Data of Ward, Agrawal, Choudhary and Wolverton, "A general-purpose machine
    learning framework for predicting properties of inorganic materials",
    npj Comput. Mater. 2, 16028 (2016), doi:10.1038/npjcompumats.2016.28, as
    distributed with matminer (``skdesc/datasets/data/README.md`` lists the
    properties and their units).

    Returns
    -------
    names : tuple of str
        The property names (the columns), e.g. ``"MeltingT"``.
    values : ndarray of shape (119, n_properties), float64, read-only
        Row ``Z`` holds element ``Z`` (row 0 is unused); NaN where the source
        has no value.
    """
    return _load_table()


def _is_name_list(value):
    return (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and all(isinstance(v, str) for v in value)
        and len(set(value)) == len(value)
    )


def _numbers_and_offsets(X):
    """Atomic numbers and structure offsets of structures or of ``AtomicFeatures``."""
    if isinstance(X, AtomicFeatures):
        if X.n_structures == 0:
            raise ValueError("no structures given: pass at least one structure")
        empty = np.flatnonzero(np.diff(X.offsets) == 0)
        if empty.size:
            raise ValueError(f"structure {int(empty[0])} has no atoms: every structure needs at least one atom")
        return X.numbers, X.offsets
    return atomic_numbers(as_structure_list(X))


class ElementFractions(TransformerMixin, BaseEstimator):
    """Fraction of the atoms of each element in every structure.

    ``x[s, k] = N_k(s) / N(s)``: the number of atoms of element ``k`` in
    structure ``s`` over its number of atoms.  Positions are ignored, so a
    model on these features is the composition-only baseline that a
    structural descriptor has to beat; report it every time (Pelz,
    *Materials Genomics, Unit 6: Local Atomic Environments & Universal
    MLIPs*, FAU Erlangen-Nürnberg, slides 7 and 49).

    Parameters
    ----------
    species : list of str or int, default=None
        Element order of the columns (symbols such as ``"Nb"`` or atomic
        numbers).  ``None`` learns the elements of the training structures in
        ``fit``, sorted by atomic number.

    Attributes
    ----------
    species_ : tuple of int
        Element order of the columns (atomic numbers).
    n_features_out_ : int
        Number of elements, ``len(species_)``.

    See Also
    --------
    skdesc.pooling.SpeciesPooling : per-element pooling of local descriptors,
        with ``composition="fraction"`` the same fractions appended.

    Notes
    -----
    Input is a structure or a list of structures (``ase.Atoms``, pymatgen
    ``Structure``/``IStructure``/``Molecule``, mixed), or the
    :class:`~skdesc.AtomicFeatures` of a local descriptor (its atomic numbers
    and structure offsets are used), so the baseline can be cross-validated
    on the same per-atom features as the structural models.  An element that
    is not in ``species_`` raises a ``ValueError`` at ``transform``: a
    fraction of an unseen element cannot be dropped silently, since the other
    fractions would then no longer describe the structure.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc.composition import ElementFractions
    >>> cell = bulk("Nb", "bcc", a=3.3, cubic=True)
    >>> cell.symbols[0] = "Mo"
    >>> ElementFractions().fit_transform([cell, bulk("Mo", "bcc", a=3.1, cubic=True)])
    array([[0.5, 0.5],
           [0. , 1. ]])
    """

    _parameter_constraints = {"species": SPECIES_CONSTRAINT}

    def __init__(self, species=None):
        self.species = species

    def fit(self, X, y=None):
        """Learn the element order (unless ``species`` fixes it).

        Parameters
        ----------
        X : structure, list of structures or AtomicFeatures
        y : ignored

        Returns
        -------
        self
        """
        validate_params(self)
        numbers, _ = _numbers_and_offsets(X)
        self.species_ = resolve_species(self.species, numbers)
        self._check_known(numbers, "the training structures")
        self.n_features_out_ = len(self.species_)
        return self

    def _check_known(self, numbers, where):
        unknown = np.setdiff1d(numbers, np.asarray(self.species_, dtype=np.int64))
        if unknown.size:
            raise ValueError(
                f"{where} contain element(s) {[atomic_symbol(z) for z in unknown]} that are not in "
                f"species_={[atomic_symbol(z) for z in self.species_]}; add them to `species` "
                "(or fit on structures that contain them)"
            )

    def transform(self, X):
        """Element fractions of every structure.

        Parameters
        ----------
        X : structure, list of structures or AtomicFeatures

        Returns
        -------
        fractions : ndarray of shape (n_structures, n_features_out_), float64
            Each row sums to 1 (dimensionless).

        Raises
        ------
        ValueError
            If a structure contains an element that is not in ``species_``.
        """
        check_is_fitted(self, "species_")
        numbers, offsets = _numbers_and_offsets(X)
        self._check_known(numbers, "the structures")
        lookup = np.full(119, -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        n_structures = offsets.size - 1
        structure = np.repeat(np.arange(n_structures), np.diff(offsets))
        n_species = len(self.species_)
        counts = np.bincount(structure * n_species + lookup[numbers], minlength=n_structures * n_species)
        counts = counts.reshape(n_structures, n_species).astype(np.float64)
        return counts / np.diff(offsets)[:, None]

    def get_feature_names_out(self, input_features=None):
        """Column names ``frac_<symbol>``, ndarray of str."""
        check_is_fitted(self, "species_")
        return np.asarray([f"frac_{atomic_symbol(z)}" for z in self.species_], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class ElementProperty(FittedParamsMixin, TransformerMixin, BaseEstimator):
    """Magpie statistics of element properties over the composition of each structure.

    For each property ``p`` of the bundled element table and each structure
    with element fractions ``f_k = N_k / N`` (atoms of element ``k`` over all
    atoms), the values ``p_k`` of its elements give (Ward et al. 2016, as in
    matminer's ``ElementProperty.from_preset("magpie")``):

    * ``mean = sum_k f_k p_k`` (fraction-weighted);
    * ``avg_dev = sum_k f_k |p_k - mean|`` (fraction-weighted mean absolute
      deviation);
    * ``minimum = min_k p_k`` and ``maximum = max_k p_k`` (over the elements
      present, unweighted), ``range = maximum - minimum``;
    * ``mode``: the value of the most abundant element (largest ``N_k``); of
      several equally abundant elements, the smallest value.

    Positions are ignored: polymorphs get the same row.  Each statistic has
    the unit of its property (dimensionless for counts such as
    ``NValence``; ``MeltingT`` in K, ``CovalentRadius`` in pm,
    ``GSvolume_pa`` in Å³/atom, ``GSbandgap`` in eV, ``GSmagmom`` in Bohr
    magnetons per atom; see ``skdesc/datasets/data/README.md``).

    Parameters
    ----------
    properties : list of str, default=None
        Columns of the element table (:func:`element_property_table`) to use;
        ``None``: the 22 properties of matminer's Magpie preset
        (:data:`MAGPIE_PROPERTIES`).
    stats : list of str, default=None
        Statistics to compute, from ``"minimum"``, ``"maximum"``,
        ``"range"``, ``"mean"``, ``"avg_dev"``, ``"mode"``; ``None``: all
        six, in this order (matminer's).
    missing : {"error", "mean"}, default="error"
        An element without a value of a property: ``"error"`` raises a
        ``ValueError`` naming element and property; ``"mean"`` uses the mean
        of that property over all elements of the table that have it
        (matminer's ``impute_nan=True``).  Elements 113-118 have no values at
        all.

    Attributes
    ----------
    properties_ : tuple of str
        The properties used.
    stats_ : tuple of str
        The statistics computed.
    table_ : ndarray of shape (119, len(properties_)), float64
        The property values by atomic number (imputed with ``missing="mean"``;
        NaN where missing otherwise).
    feature_names_out_ : ndarray of str
        ``"<stat> <property>"``, property-major: ``"minimum Number"``,
        ``"maximum Number"``, ..., as matminer's labels without their
        ``"MagpieData "`` prefix.
    n_features_out_ : int
        ``len(properties_) * len(stats_)`` (132 by default).

    See Also
    --------
    ElementFractions : the fraction vector itself.

    Notes
    -----
    Input is a structure or a list of structures (``ase.Atoms``, pymatgen
    ``Structure``/``IStructure``/``Molecule``, :class:`~skdesc.Frame`, mixed)
    or the :class:`~skdesc.AtomicFeatures` of a local descriptor, as for
    :class:`ElementFractions`.  Nothing is learned from the training data:
    ``fit`` checks the parameters and selects the table columns.  The mode
    compares integer atom counts exactly (matminer compares the amounts of a
    composition with ``numpy.isclose``; the two agree below 10⁵ atoms).

    References
    ----------
    L. Ward, A. Agrawal, A. Choudhary and C. Wolverton, "A general-purpose
    machine learning framework for predicting properties of inorganic
    materials", npj Comput. Mater. 2, 16028 (2016),
    doi:10.1038/npjcompumats.2016.28 (the element data and the statistics).

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import ElementProperty
    >>> rocksalt = bulk("NaCl", "rocksalt", a=5.64)
    >>> magpie = ElementProperty(properties=["Number", "Electronegativity"], stats=["mean", "range"])
    >>> magpie.fit_transform([rocksalt]).round(3)
    array([[14.   ,  6.   ,  2.045,  2.23 ]])
    >>> list(magpie.get_feature_names_out())
    ['mean Number', 'range Number', 'mean Electronegativity', 'range Electronegativity']
    """

    _parameter_constraints = {
        "properties": [None, Predicate(_is_name_list, "a non-empty list of distinct property names")],
        "stats": [None, Predicate(_is_name_list, "a non-empty list of distinct statistic names")],
        "missing": [Options(str, ("error", "mean"))],
    }
    _citations = ("ward2016",)

    def __init__(self, properties=None, stats=None, missing="error"):
        self.properties = properties
        self.stats = stats
        self.missing = missing

    def fit(self, X, y=None):
        """Check the parameters and select the property columns (nothing is learned from ``X``).

        Parameters
        ----------
        X : structure, list of structures or AtomicFeatures
            Checked like the input of ``transform``.
        y : ignored

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        names, values = element_property_table()
        properties = MAGPIE_PROPERTIES if self.properties is None else tuple(self.properties)
        unknown = [p for p in properties if p not in names]
        if unknown:
            raise ValueError(
                f"properties {unknown} are not in the element table; properties must be chosen from {list(names)}"
            )
        stats = ELEMENT_STATISTICS if self.stats is None else tuple(self.stats)
        wrong = [s for s in stats if s not in ELEMENT_STATISTICS]
        if wrong:
            raise ValueError(f"stats {wrong} are unknown; stats must be chosen from {list(ELEMENT_STATISTICS)}")
        table = values[:, [names.index(p) for p in properties]].copy()
        if self.missing == "mean":
            means = np.nanmean(table[1:], axis=0)
            table[1:] = np.where(np.isnan(table[1:]), means, table[1:])
        self.properties_ = properties
        self.stats_ = stats
        self.table_ = table
        self.feature_names_out_ = np.asarray([f"{s} {p}" for p in properties for s in stats], dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        _numbers_and_offsets(X)
        self._record_fit_params()
        return self

    def transform(self, X):
        """Element-property statistics of every structure.

        Parameters
        ----------
        X : structure, list of structures or AtomicFeatures

        Returns
        -------
        features : ndarray of shape (n_structures, n_features_out_), float64
            Columns as ``get_feature_names_out()``, in the units of each property.

        Raises
        ------
        ValueError
            With ``missing="error"``, if an element of a structure has no value
            of one of the properties.
        """
        self._check_fitted("table_")
        numbers, offsets = _numbers_and_offsets(X)
        n_structures = offsets.size - 1
        structure = np.repeat(np.arange(n_structures), np.diff(offsets))
        # one entry per (structure, element) present, sorted by structure then Z
        keys, counts = np.unique(structure * 119 + numbers, return_counts=True)
        owner, z = np.divmod(keys, 119)
        values = self.table_[z]  # (n_entries, n_properties)
        bad = np.isnan(values)
        if bad.any():
            entry, column = np.argwhere(bad)[0]
            raise ValueError(
                f"structure {int(owner[entry])}: element {atomic_symbol(int(z[entry]))} has no value of "
                f"{self.properties_[column]} in the element table; drop that property from `properties` "
                "or set missing='mean' to use the mean over the elements"
            )
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        fraction = counts / np.diff(offsets)[owner]
        result = {}
        mean = np.add.reduceat(fraction[:, None] * values, starts, axis=0)
        result["mean"] = mean
        result["avg_dev"] = np.add.reduceat(fraction[:, None] * np.abs(values - mean[owner]), starts, axis=0)
        result["minimum"] = np.minimum.reduceat(values, starts, axis=0)
        result["maximum"] = np.maximum.reduceat(values, starts, axis=0)
        result["range"] = result["maximum"] - result["minimum"]
        top = np.maximum.reduceat(counts, starts)
        candidates = np.where((counts == top[owner])[:, None], values, np.inf)
        result["mode"] = np.minimum.reduceat(candidates, starts, axis=0)
        out = np.stack([result[s] for s in self.stats_], axis=2)  # (n_structures, n_properties, n_stats)
        return out.reshape(n_structures, self.n_features_out_)

    def get_feature_names_out(self, input_features=None):
        """Column names ``"<stat> <property>"``, ndarray of str."""
        self._check_fitted("table_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags
