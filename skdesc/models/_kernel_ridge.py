"""Kernel ridge regression of total energies with the structure kernel (Darby, Kermode & Csányi 2022, §IV.5)."""

from numbers import Real

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin

from .._param_validation import Interval, Options, validate_params
from .._validation import FittedParamsMixin, check_atomic_features
from ..elements import SPECIES_CONSTRAINT, resolve_species
from ..structures import atomic_symbol
from ._structure_kernel import (
    DEFAULT_BLOCK_ATOMS,
    KERNEL_CONSTRAINTS,
    gram_from_values,
    normalized_rows,
)

__all__ = ["StructureKernelRidge"]

_NOISE_SCALING = ("n_atoms", "sqrt_n_atoms", "none")


class StructureKernelRidge(FittedParamsMixin, RegressorMixin, BaseEstimator):
    """Kernel ridge regression of total energies on per-atom descriptors (Darby et al. 2022, §IV.5).

    The model for structure j with ``n_jα`` atoms of element α is

        E_j = sum_α n_jα μ_α + sum_t β_t k(A_t, A_j),
        k(A, B) = sum_{i in A} sum_{m in B} (x_i . x_m)^zeta,

    (:func:`skdesc.models.structure_kernel`), with t running over the
    training structures.  The chemical potentials ``μ_α`` come from an
    ordinary least-squares fit of the training energies on the element counts
    (``baseline=True``); the kernel part is fitted to the residuals with

        β = (K + Σ²)^(-1) (E - N μ),    Σ = diag(σ s(n_t)),

    the minimiser of ``|Σ^(-1) (E - Ê)|^2 + β^T K β``, the paper's loss.  With
    the paper's ``s(n) = n`` (``noise_scaling="n_atoms"``) the data term is the
    squared error per atom divided by σ², so σ is an energy error per atom.
    (The paper prints the solution as ``(K + Σ)^(-1) E``; that is the same
    expression when Σ denotes the noise covariance.  We follow the loss, in
    which Σ is a standard deviation, as in the Gaussian-process view the
    paper cites.)

    Parameters
    ----------
    zeta : int, default=2
        Exponent of the atom-pair kernel; 1 is ridge regression on summed
        descriptors, the paper uses 2, 4, 8, 16.
    sigma : float, default=1e-3
        Noise level σ > 0 in the units of y per atom (eV/atom for energies in
        eV with the default scaling).  The regularisation strength: tune it by
        cross-validation (the paper uses k-fold CV, k = 10-20).
    baseline : bool, default=True
        Fit and add back the per-element chemical potentials ``μ_α``.
    normalize : bool, default=True
        Unit-normalise every atom's vector before the kernel.
    noise_scaling : {"n_atoms", "sqrt_n_atoms", "none"}, default="n_atoms"
        ``s(n)`` in the noise ``σ s(n_t)`` of structure t: the paper's ``n``
        (per-atom errors of equal size), ``sqrt(n)`` (independent per-atom
        errors adding up in the total) or 1 (plain kernel ridge, alpha = σ²).
    species : list of str or int, default=None
        Element order of ``chemical_potentials_``; ``None`` takes the order of
        the input ``AtomicFeatures`` (extended by elements found in training).
    block_atoms : int, default=2048
        Atoms per block of the atom-pair matrix (memory ~ 8 block_atoms^2 bytes).
    method : {"auto", "pairs", "features"}, default="auto"
        How the Gram matrix is computed; see :func:`skdesc.models.structure_kernel`.

    Attributes
    ----------
    species_ : tuple of int
    chemical_potentials_ : ndarray of shape (n_species,)
        ``μ_α`` in units of y per atom (zeros without ``baseline``).  If the
        training compositions do not determine them (e.g. every structure has
        the same composition ratio), the minimum-norm solution is used.
    dual_coef_ : ndarray of shape (n_train_structures,)
        β.
    n_features_in_ : int
        Per-atom descriptor length.

    Notes
    -----
    ``y`` is the extensive target (total energy of each structure), matching
    the extensive kernel; divide predictions by the atom counts for energies
    per atom.  Fitting costs one Gram matrix (computed block by block with
    BLAS) and one Cholesky solve; ``GridSearchCV`` over ``zeta`` and
    ``sigma`` works directly on ``AtomicFeatures``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import ChebyshevLAED
    >>> from skdesc.models import StructureKernelRidge
    >>> cells = [bulk("Cu", "fcc", a=a).repeat((1, 1, n)) for a in (3.5, 3.6, 3.7) for n in (1, 2)]
    >>> atomic = ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2).fit_transform(cells)
    >>> y = [-3.5 * len(c) for c in cells]
    >>> StructureKernelRidge(zeta=2, sigma=1e-3).fit(atomic, y).predict(atomic[:2]).round(6)
    array([-3.5, -7. ])
    """

    _parameter_constraints = {
        **KERNEL_CONSTRAINTS,
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "baseline": ["boolean"],
        "noise_scaling": [Options(str, _NOISE_SCALING)],
        "species": SPECIES_CONSTRAINT,
    }

    def __init__(
        self,
        zeta=2,
        sigma=1e-3,
        baseline=True,
        normalize=True,
        noise_scaling="n_atoms",
        species=None,
        block_atoms=DEFAULT_BLOCK_ATOMS,
        method="auto",
    ):
        self.zeta = zeta
        self.sigma = sigma
        self.baseline = baseline
        self.normalize = normalize
        self.noise_scaling = noise_scaling
        self.species = species
        self.block_atoms = block_atoms
        self.method = method

    def _counts(self, atomic, where):
        lookup = np.full(max(119, int(atomic.numbers.max(initial=0)) + 1), -1, dtype=np.int64)
        lookup[list(self.species_)] = np.arange(len(self.species_))
        element = lookup[atomic.numbers]
        if np.any(element < 0):
            unknown = sorted({atomic_symbol(z) for z in atomic.numbers[element < 0]})
            raise ValueError(
                f"{where} contains elements {unknown} without a fitted chemical potential "
                f"(species_={[atomic_symbol(z) for z in self.species_]}); refit with them in the training data"
            )
        n = atomic.n_structures
        counts = np.bincount(atomic.structure_index * len(self.species_) + element, minlength=n * len(self.species_))
        return counts.reshape(n, len(self.species_)).astype(np.float64)

    def fit(self, X, y):
        """Fit the chemical potentials and the kernel coefficients.

        Parameters
        ----------
        X : AtomicFeatures
            Per-atom descriptors of the training structures.
        y : array-like of shape (n_structures,)
            Total energies (or another extensive target).

        Returns
        -------
        self
        """
        self._forget_fit_params()
        validate_params(self)
        zeta, block_atoms = int(self.zeta), int(self.block_atoms)
        atomic = check_atomic_features(X, estimator=self, ensure_nonempty=False)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (atomic.n_structures,):
            raise ValueError(f"y must have one value per structure ({atomic.n_structures}), got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        n_atoms = atomic.n_atoms_per_structure.astype(np.float64)
        if np.any(n_atoms == 0):
            raise ValueError(f"structure {int(np.flatnonzero(n_atoms == 0)[0])} has no atoms")
        if self.species is None:
            self.species_ = tuple(atomic.species)
            if not set(np.unique(atomic.numbers).tolist()) <= set(self.species_):
                self.species_ = resolve_species(None, atomic.numbers)
        else:
            self.species_ = resolve_species(self.species, atomic.numbers)
        counts = self._counts(atomic, "the training data")
        if self.baseline:
            self.chemical_potentials_ = np.linalg.lstsq(counts, y, rcond=None)[0]
        else:
            self.chemical_potentials_ = np.zeros(len(self.species_))
        residual = y - counts @ self.chemical_potentials_

        self.n_features_in_ = atomic.n_features
        self.values_fit_ = normalized_rows(atomic.values) if self.normalize else atomic.values
        self.offsets_fit_ = atomic.offsets
        K = gram_from_values(
            self.values_fit_, self.offsets_fit_, self.values_fit_, self.offsets_fit_, zeta, block_atoms, True, self.method
        )
        scale = {"n_atoms": n_atoms, "sqrt_n_atoms": np.sqrt(n_atoms), "none": np.ones_like(n_atoms)}[self.noise_scaling]
        K[np.diag_indices_from(K)] += (self.sigma * scale) ** 2
        self.dual_coef_ = scipy.linalg.solve(K, residual, assume_a="pos")
        self._record_fit_params()
        return self

    def predict(self, X):
        """Predict the target of each structure.

        Parameters
        ----------
        X : AtomicFeatures

        Returns
        -------
        ndarray of shape (n_structures,)
        """
        self._check_fitted("dual_coef_")
        zeta, block_atoms = int(self.zeta), int(self.block_atoms)
        atomic = check_atomic_features(X, estimator=self, reset=False, ensure_nonempty=False)
        prediction = self._counts(atomic, "X") @ self.chemical_potentials_
        values = normalized_rows(atomic.values) if self.normalize else atomic.values
        K = gram_from_values(values, atomic.offsets, self.values_fit_, self.offsets_fit_, zeta, block_atoms, False, self.method)
        return prediction + K @ self.dual_coef_

    def predict_baseline(self, X):
        """The chemical-potential part ``sum_α n_α μ_α`` alone, shape (n_structures,)."""
        self._check_fitted("dual_coef_")
        atomic = check_atomic_features(X, estimator=self, ensure_nonempty=False, ensure_finite=False)
        return self._counts(atomic, "X") @ self.chemical_potentials_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
