"""matminer adapter: any skdesc structure descriptor as a matminer featurizer.

matminer featurizes one entry at a time (``featurize(structure)``), while
skdesc estimators are fastest on many structures at once.  The adapter keeps
matminer's per-structure contract and overrides the list and DataFrame paths
(``featurize_many``, ``featurize_dataframe``) so that all structures go through
the wrapped estimator in one ``transform`` call.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from matminer.featurizers.base import BaseFeaturizer
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from ._param_validation import Predicate, validate_params
from .atomic import AtomicFeatures

__all__ = ["SkdescFeaturizer", "CITATIONS"]

#: BibTeX entries of the methods behind skdesc's estimators (references as in
#: the papers collected for skdesc).
CITATIONS = {
    "artrith2017": (
        "@article{artrith2017,\n"
        "  author = {Artrith, Nongnuch and Urban, Alexander and Ceder, Gerbrand},\n"
        "  title = {Efficient and accurate machine-learning interpolation of atomic energies "
        "in compositions with many species},\n"
        "  journal = {Physical Review B},\n  volume = {96},\n  number = {1},\n"
        "  pages = {014112},\n  year = {2017}\n}"
    ),
    "artrith2016": (
        "@article{artrith2016,\n"
        "  author = {Artrith, Nongnuch and Urban, Alexander},\n"
        "  title = {An implementation of artificial neural-network potentials for atomistic "
        "materials simulations: Performance for {TiO2}},\n"
        "  journal = {Computational Materials Science},\n  volume = {114},\n"
        "  pages = {135--150},\n  year = {2016}\n}"
    ),
    "bartok2013": (
        "@article{bartok2013,\n"
        "  author = {Bart{\\'o}k, Albert P. and Kondor, Risi and Cs{\\'a}nyi, G{\\'a}bor},\n"
        "  title = {On representing chemical environments},\n"
        "  journal = {Physical Review B},\n  volume = {87},\n  pages = {184115},\n  year = {2013}\n}"
    ),
    "himanen2020": (
        "@article{himanen2020,\n"
        "  author = {Himanen, Lauri and others},\n"
        "  title = {{DScribe}: Library of descriptors for machine learning in materials science},\n"
        "  journal = {Computer Physics Communications},\n  volume = {247},\n"
        "  pages = {106949},\n  year = {2020},\n  doi = {10.1016/j.cpc.2019.106949}\n}"
    ),
    "behler2011": (
        "@article{behler2011,\n"
        "  author = {Behler, J{\\\"o}rg},\n"
        "  title = {Atom-centered symmetry functions for constructing high-dimensional neural "
        "network potentials},\n"
        "  journal = {The Journal of Chemical Physics},\n  volume = {134},\n  number = {7},\n"
        "  pages = {074106},\n  year = {2011}\n}"
    ),
    "darby2022": (
        "@article{darby2022,\n"
        "  author = {Darby, James P. and Kermode, James R. and Cs{\\'a}nyi, G{\\'a}bor},\n"
        "  title = {Compressing local atomic neighbourhood descriptors},\n"
        "  journal = {npj Computational Materials},\n  volume = {8},\n  number = {1},\n"
        "  pages = {166},\n  year = {2022}\n}"
    ),
    "drautz2019": (
        "@article{drautz2019,\n"
        "  author = {Drautz, Ralf},\n"
        "  title = {Atomic cluster expansion for accurate and transferable interatomic potentials},\n"
        "  journal = {Physical Review B},\n  volume = {99},\n  number = {1},\n"
        "  pages = {014104},\n  year = {2019},\n  doi = {10.1103/PhysRevB.99.014104}\n}"
    ),
    "gharakhanyan2023": (
        "@misc{gharakhanyan2023,\n"
        "  author = {Gharakhanyan, Vahe and Aalto, Max S. and Alsoulah, Aminah and "
        "Artrith, Nongnuch and Urban, Alexander},\n"
        "  title = {Constructing and compressing global moment descriptors from local "
        "atomic environments},\n"
        "  note = {preprint},\n  year = {2023}\n}"
    ),
    "glielmo2022": (
        "@article{glielmo2022,\n"
        "  author = {Glielmo, Aldo and Zeni, Claudio and Cheng, Bingqing and "
        "Cs{\\'a}nyi, G{\\'a}bor and Laio, Alessandro},\n"
        "  title = {Ranking the information content of distance measures},\n"
        "  journal = {PNAS Nexus},\n  volume = {1},\n  number = {2},\n"
        "  pages = {pgac039},\n  year = {2022}\n}"
    ),
}


class _PerAtomOutput(TypeError):
    """The wrapped estimator returned per-atom values (a setup error, never ignored)."""


def _steps(estimator):
    """All estimators nested in ``estimator`` (pipelines and feature unions unrolled)."""
    if isinstance(estimator, Pipeline):
        return [s for _, step in estimator.steps if step not in (None, "passthrough") for s in _steps(step)]
    if isinstance(estimator, FeatureUnion):
        return [s for _, part in estimator.transformer_list if part not in (None, "drop") for s in _steps(part)]
    return [estimator]


def _citation_keys(estimator):
    from .information import InformationImbalanceSelector
    from .local import ACSF, ChebyshevLAED, CompressedSOAP, SOAPBispectrum
    from .pooling import MomentGSD

    keys = []
    for step in _steps(estimator):
        if isinstance(step, ChebyshevLAED):
            keys += ["artrith2017", "artrith2016"]
        elif isinstance(step, CompressedSOAP):  # SOAP included, with compression "nu2"
            keys += ["bartok2013", "himanen2020"]
            if step.compression not in ("nu2", "off"):
                keys.append("darby2022")
        elif isinstance(step, SOAPBispectrum):
            keys.append("bartok2013")
            if step.nu == 4:
                keys.append("drautz2019")
            if step.compression != "full":
                keys.append("darby2022")
        elif isinstance(step, ACSF):
            keys += ["behler2011", "himanen2020"]
            if step.compression not in ("nu2", "off"):
                keys.append("darby2022")
        elif isinstance(step, MomentGSD):
            keys.append("gharakhanyan2023")
        elif isinstance(step, InformationImbalanceSelector):
            keys.append("glielmo2022")
    return list(dict.fromkeys(keys))


def _entries_as_list(entries):
    """matminer entries (list, Series, DataFrame, object array, 1-tuples) to a list of structures."""
    if isinstance(entries, pd.DataFrame):
        if entries.shape[1] != 1:
            raise ValueError(f"SkdescFeaturizer takes one structure column, got {entries.shape[1]} columns")
        entries = entries.iloc[:, 0]
    if isinstance(entries, pd.Series):
        return list(entries.values)
    if isinstance(entries, np.ndarray) and entries.ndim == 2:
        if entries.shape[1] != 1:
            raise ValueError(f"SkdescFeaturizer takes one structure column, got {entries.shape[1]} columns")
        return list(entries[:, 0])
    if not isinstance(entries, (list, tuple, np.ndarray)):
        raise TypeError(f"entries must be a list-like of structures, got {type(entries).__name__}")
    # matminer passes multi-argument featurizers tuples of arguments; unwrap 1-tuples
    return [e[0] if isinstance(e, (tuple, list)) and len(e) == 1 else e for e in entries]


class SkdescFeaturizer(BaseFeaturizer):
    """A skdesc structure descriptor as a matminer featurizer.

    Wraps an estimator that maps structures to one vector per structure,
    typically a pipeline of a local descriptor and a pooling rule, e.g.
    ``make_pipeline(ChebyshevLAED(), MomentGSD(n_out=1, n_in=1))``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Takes a list of structures (``ase.Atoms``, pymatgen ``Structure``...)
        in ``transform`` and returns a 2-D array.  It may be fitted already;
        otherwise call :meth:`fit` (which fits a clone) before featurizing.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator`` (set by :meth:`fit`).

    Notes
    -----
    ``featurize_many`` and ``featurize_dataframe`` transform all entries in
    one call of the wrapped estimator, whose own ``n_jobs`` then sets the
    parallelism (matminer's process pool is not used).  Inside
    ``MultipleFeaturizer`` the batched path is taken with
    ``iterate_over_entries=False``; the default iterates entry by entry
    through :meth:`featurize`.  Composition featurizers such as Magpie's
    ``ElementProperty`` join on the same structure column through
    ``StructureComposition(ElementProperty.from_preset("magpie"))``.  With ``ignore_errors=True`` a failing batch
    falls back to entry-by-entry featurization so that only the bad entries
    get NaN.  matminer's ``pbar`` is ignored: use the wrapped estimator's
    ``verbose``.  ``transform`` (scikit-learn's API) returns a 2-D array,
    raises on errors instead of matminer's NaN rows, and follows
    ``set_output``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skdesc import ChebyshevLAED, MomentGSD
    >>> from skdesc.datasets import load_demo
    >>> from skdesc.matminer import SkdescFeaturizer
    >>> structures, _ = load_demo()
    >>> laed = ChebyshevLAED(rad_order=4, ang_order=2)
    >>> featurizer = SkdescFeaturizer(make_pipeline(laed, MomentGSD(n_out=1, n_in=1)))
    >>> featurizer = featurizer.fit(structures[:20])
    >>> len(featurizer.featurize(structures[0])) == len(featurizer.feature_labels())
    True
    """

    _parameter_constraints = {
        "estimator": [
            Predicate(
                lambda e: hasattr(e, "fit") and hasattr(e, "transform"),
                "an estimator with fit and transform, e.g. make_pipeline(ChebyshevLAED(), MomentGSD())",
            )
        ]
    }

    def __init__(self, estimator):
        self.estimator = estimator

    # ----------------------------------------------------------- fitting
    def fit(self, X, y=None, **fit_kwargs):
        """Fit a clone of the wrapped estimator on a list of structures.

        Parameters
        ----------
        X : list, pandas Series or DataFrame column of structures
        y : array-like, optional
            Passed on to the estimator (for supervised steps).

        Returns
        -------
        self
        """
        validate_params(self)
        self.estimator_ = clone(self.estimator).fit(_entries_as_list(X), y, **fit_kwargs)
        return self

    def _fitted(self):
        if hasattr(self, "estimator_"):
            return self.estimator_
        try:
            check_is_fitted(self.estimator)
        except NotFittedError:
            raise NotFittedError(
                f"the wrapped {type(self.estimator).__name__} is not fitted: call "
                "SkdescFeaturizer.fit(structures) first, or wrap an estimator that is already fitted"
            ) from None
        return self.estimator

    def _transform(self, structures):
        values = self._fitted().transform(structures)
        if isinstance(values, AtomicFeatures):
            raise _PerAtomOutput(
                "the wrapped estimator returns per-atom descriptors (AtomicFeatures); matminer needs "
                "one vector per structure: add a pooling step, e.g. "
                "make_pipeline(ChebyshevLAED(), MomentGSD())"
            )
        if sp.issparse(values):
            values = values.toarray()
        return np.asarray(values, dtype=np.float64)

    # ---------------------------------------------------- matminer API
    def featurize(self, structure):
        """Descriptor of one structure, as a list of floats."""
        return self._transform([structure])[0].tolist()

    def feature_labels(self):
        """Names from the fitted estimator's ``get_feature_names_out``."""
        return [str(name) for name in self._fitted().get_feature_names_out()]

    def citations(self):
        """BibTeX entries of the methods used by the wrapped estimator."""
        return [CITATIONS[key] for key in _citation_keys(self.estimator)]

    def implementors(self):
        """Authors of the implementation."""
        return ["skdesc developers"]

    def transform(self, X):
        """Descriptors of many structures as a 2-D array (scikit-learn's API).

        Unlike matminer's default ``transform``, errors are raised, not
        turned into NaN rows.  ``set_output(transform="pandas")`` gives a
        DataFrame with :meth:`feature_labels` as columns.

        Parameters
        ----------
        X : list, pandas Series or DataFrame column of structures

        Returns
        -------
        ndarray of shape (n_structures, n_features)
        """
        return self._transform(_entries_as_list(X))

    def get_feature_names_out(self, input_features=None):
        """Feature names (the same as :meth:`feature_labels`), ndarray of str."""
        return np.asarray(self.feature_labels(), dtype=object)

    def featurize_many(self, entries, ignore_errors=False, return_errors=False, pbar=True):
        """Featurize many structures in one call of the wrapped estimator.

        Parameters
        ----------
        entries : list, tuple, ndarray, pandas Series or DataFrame
            Structures (or 1-tuples of structures, as matminer passes them).
        ignore_errors : bool, default=False
            On an error, featurize entry by entry and give NaN rows for the
            entries that fail.
        return_errors : bool, default=False
            Append a column with the error text (NaN where none); requires
            ``ignore_errors=True``.
        pbar : bool, default=True
            Ignored (set ``verbose`` on the wrapped estimator).

        Returns
        -------
        list of lists
            One feature list per entry.
        """
        if return_errors and not ignore_errors:
            raise ValueError("return_errors=True requires ignore_errors=True")
        structures = _entries_as_list(entries)
        if not structures:
            return []
        try:
            rows = self._transform(structures).tolist()
        except (NotFittedError, _PerAtomOutput):
            raise
        except Exception:
            if not ignore_errors:
                raise
            return [
                self.featurize_wrapper((s,), return_errors=return_errors, ignore_errors=True) for s in structures
            ]
        if return_errors:
            rows = [row + [float("nan")] for row in rows]
        return rows
