"""Input handling shared by the pooling rules of ``simple``, ``histogram`` and ``species``."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._param_validation import validate_params
from .._validation import FittedParamsMixin, check_atomic_features
from ..structures import atomic_symbol

__all__ = ["AtomPooling"]


class AtomPooling(FittedParamsMixin, TransformerMixin, BaseEstimator):
    """Base class: ``AtomicFeatures`` (or a 2-D array) in, one row per structure out.

    Subclasses declare ``_parameter_constraints`` and implement
    ``_fit_atoms(atomic)`` (learn state from the training atoms),
    ``_pool(values, offsets, numbers)`` (one row per segment, zeros for empty
    segments) and ``_output_names(input_features)``.
    """

    def _to_atomic(self, X, reset):
        """Return ``X`` as AtomicFeatures; a 2-D array is one atom per structure."""
        return check_atomic_features(X, estimator=self, reset=reset, accept_array=True, accept_sparse="csr")

    @staticmethod
    def _check_nonempty(atomic):
        empty = np.flatnonzero(atomic.n_atoms_per_structure == 0)
        if empty.size:
            raise ValueError(f"structure {int(empty[0])} has no atoms")

    def _input_names(self, input_features):
        self._check_fitted("n_features_in_")
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{c}" for c in range(self.n_features_in_)]
        input_features = [str(f) for f in input_features]
        if len(input_features) != self.n_features_in_:
            raise ValueError(f"input_features must have {self.n_features_in_} names, got {len(input_features)}")
        return input_features

    def fit(self, X, y=None):
        """Learn the input dimension (and any binning or element order).

        Parameters
        ----------
        X : AtomicFeatures or {array-like, sparse matrix} of shape (n_structures, d)
            Per-atom descriptors; a plain 2-D array is read as one atom per
            structure.
        y : ignored

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        atomic = self._to_atomic(X, reset=True)
        self._fit_atoms(atomic)
        self._record_fit_params()
        return self

    def transform(self, X):
        """Pool the atoms of each structure into one row.

        Parameters
        ----------
        X : AtomicFeatures or {array-like, sparse matrix} of shape (n_structures, d)

        Returns
        -------
        ndarray of shape (n_structures, n_features_out_)
        """
        self._check_fitted("n_features_out_")
        atomic = self._to_atomic(X, reset=False)
        self._check_nonempty(atomic)
        return self._pool(atomic.values, atomic.offsets, atomic.numbers)

    def get_feature_names_out(self, input_features=None):
        """Output names built from the per-atom feature names, ndarray of str."""
        return np.asarray(self._output_names(self._input_names(input_features)), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = False
        return tags


def element_label(z):
    """Readable element label for names (``X`` for the placeholder element 0)."""
    return atomic_symbol(int(z))
