"""Composition-only features: the baseline every structural descriptor has to beat."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._param_validation import validate_params
from .atomic import AtomicFeatures
from .elements import SPECIES_CONSTRAINT, resolve_species
from .structures import as_structure_list, atomic_numbers, atomic_symbol

__all__ = ["ElementFractions"]


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
