"""Species-resolved pooling: any pooling rule applied to the atoms of each element."""

import numpy as np
from sklearn.base import clone

from .._param_validation import Options
from ..atomic import AtomicFeatures
from ..elements import SPECIES_CONSTRAINT, resolve_species
from ._base import AtomPooling, element_label
from .histogram import HistogramPooling
from .simple import _STATISTICS, StatisticPooling

__all__ = ["SpeciesPooling"]



class SpeciesPooling(AtomPooling):
    """Apply a pooling rule separately to the atoms of each element and concatenate.

    ``Phi^(Z) = pool({phi_i : Z_i = Z})`` for every element Z of a fixed
    element order (Pelz, Materials Genomics, Unit 6, slide 41): per-element roles survive (cation
    versus anion environments in oxides, site preference in alloys).  An
    element absent from a structure contributes a block of zeros.

    Parameters
    ----------
    rule : str or pooling estimator, default="mean"
        ``"mean"``, ``"sum"``, ``"max"``, ``"min"`` (a :class:`StatisticPooling`),
        ``"histogram"`` (a default :class:`HistogramPooling`), or an unfitted
        :class:`StatisticPooling` / :class:`HistogramPooling` (or one of the
        named subclasses) with its own parameters.  One copy is fitted per
        element, on the training atoms of that element (a histogram learns
        per-element bins); an element with no training atoms gets a copy
        fitted on all training atoms.
    species : list of str or int, default=None
        Element order of the blocks.  ``None`` takes the order carried by the
        input ``AtomicFeatures`` (the local descriptor's ``species_``), which
        covers elements absent from the training structures, extended by any
        other element found in the training atoms -- as :class:`MomentGSD`.
    composition : {None, "count", "fraction"}, default=None
        Append the number of atoms of each element (``"count"``) or its
        fraction of the structure's atoms (``"fraction"``).

    Attributes
    ----------
    species_ : tuple of int
        Element order (atomic numbers).
    rules_ : list of fitted pooling estimators
        One per element of ``species_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    n_features_out_ : int
        ``sum(rule.n_features_out_) (+ n_species with composition)``.

    Notes
    -----
    The atoms are sorted once by (element, structure), so each element's rows
    are one contiguous block with per-structure offsets (zero-length for
    absent elements) and the rule runs vectorised over all structures.  A
    plain 2-D array is read as one atom per structure of a single placeholder
    element ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdesc import AtomicFeatures
    >>> from skdesc.pooling import SpeciesPooling
    >>> af = AtomicFeatures(np.arange(5.0)[:, None], [0, 2, 5], [1, 8, 1, 1, 1])
    >>> SpeciesPooling("mean", composition="count").fit_transform(af)
    array([[0., 1., 1., 1.],
           [3., 0., 3., 0.]])
    """

    _parameter_constraints = {
        "rule": [Options(str, tuple(_STATISTICS) + ("histogram",)), StatisticPooling, HistogramPooling],
        "species": SPECIES_CONSTRAINT,
        "composition": [None, Options(str, ("count", "fraction"))],
    }

    def __init__(self, rule="mean", species=None, composition=None):
        self.rule = rule
        self.species = species
        self.composition = composition

    def _template(self):
        rule = self.rule
        if isinstance(rule, str):
            return HistogramPooling() if rule == "histogram" else StatisticPooling(rule)
        return clone(rule)

    def _element_index(self, numbers, where):
        lookup = np.full(max(119, int(numbers.max(initial=0)) + 1), -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        element = lookup[numbers]
        if np.any(element < 0):
            unknown = sorted({element_label(z) for z in numbers[element < 0]})
            raise ValueError(
                f"{where} contains elements {unknown} that are not in species_="
                f"{[element_label(z) for z in self.species_]}; add them to `species`"
            )
        return element

    def _split(self, atomic, element):
        """Rows sorted by (element, structure) and the per-element offsets."""
        n_species = len(self.species_)
        structure = atomic.structure_index
        order = np.lexsort((structure, element))
        values = atomic.values[order]
        counts = np.bincount(element * atomic.n_structures + structure, minlength=n_species * atomic.n_structures)
        counts = counts.reshape(n_species, atomic.n_structures)
        starts = np.concatenate([[0], np.cumsum(counts.sum(axis=1))])
        blocks = []
        for k in range(n_species):
            offsets = np.concatenate([[0], np.cumsum(counts[k])]).astype(np.int64)
            blocks.append((values[starts[k] : starts[k + 1]], offsets))
        return blocks, counts

    def _fit_atoms(self, atomic):
        template = self._template()
        if self.species is None:
            self.species_ = tuple(atomic.species)
            if not set(np.unique(atomic.numbers).tolist()) <= set(self.species_):
                self.species_ = resolve_species(None, atomic.numbers)
        else:
            self.species_ = resolve_species(self.species, atomic.numbers)
        element = self._element_index(atomic.numbers, "the training data")
        blocks, _ = self._split(atomic, element)
        self.rules_ = []
        for values, offsets in blocks:
            if offsets[-1] == 0:
                values, offsets = atomic.values, atomic.offsets
            part = AtomicFeatures(values, offsets, np.zeros(values.shape[0]), atomic.feature_names, species=(0,))
            self.rules_.append(clone(template).fit(part))
        extra = len(self.species_) if self.composition else 0
        self.n_features_out_ = sum(rule.n_features_out_ for rule in self.rules_) + extra
        return self

    def _pool(self, values, offsets, numbers):
        atomic = AtomicFeatures(values, offsets, numbers, species=self.species_)
        element = self._element_index(numbers, "X")
        blocks, counts = self._split(atomic, element)
        parts = [rule._pool(v, o) for rule, (v, o) in zip(self.rules_, blocks)]
        if self.composition == "count":
            parts.append(counts.T.astype(np.float64))
        elif self.composition == "fraction":
            parts.append(counts.T / np.diff(offsets)[:, None])
        return np.hstack(parts)

    def _output_names(self, input_features):
        names = []
        for z, rule in zip(self.species_, self.rules_):
            names += [f"{element_label(z)}:{name}" for name in rule.get_feature_names_out(input_features)]
        if self.composition:
            names += [f"{self.composition}[el={element_label(z)}]" for z in self.species_]
        return names
