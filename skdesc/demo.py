"""Cross-validated energy regression with moment GSDs on the bundled NbMoTaW data."""

import time
import warnings

import numpy as np
from joblib import cpu_count
from scipy.linalg import LinAlgWarning
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from .datasets import load_demo
from .local import ChebyshevLAED
from .pooling import MomentGSD

__all__ = ["DEMO_DESCRIPTORS", "make_model", "run_demo"]

DEMO_DESCRIPTORS = ("Sigma100", "Sigma101", "Sigma242", "Sigma332", "Sigma555")

_ALPHAS = np.logspace(-8, -2, 4)
_GAMMA_SCALES = np.array([0.001, 0.01, 0.1])
_CLIP = 5.0


def _clip(X):
    return np.clip(X, -_CLIP, _CLIP)


def make_model(label, n_features):
    """Regression pipeline of the demo for one descriptor.

    ``MomentGSD.from_sigma(label)``, then ``StandardScaler``, clipping of the
    scaled features to [-5, 5], and an RBF ``KernelRidge`` whose ``alpha`` and
    ``gamma`` are chosen by an inner 5-fold ``GridSearchCV``.

    The clipping matters for the higher moments: a raw 5th moment spans many
    orders of magnitude across structures, so a test structure can lie
    thousands of training standard deviations away and dominate every kernel
    distance (or a linear model's prediction).

    Parameters
    ----------
    label : str
        Descriptor label understood by :meth:`MomentGSD.from_sigma`.
    n_features : int
        Dimension of the descriptor; the ``gamma`` grid is ``[0.001, 0.01, 0.1] /
        n_features`` (squared distances between scaled vectors grow with the
        dimension).

    Returns
    -------
    Pipeline
    """
    search = GridSearchCV(
        KernelRidge(kernel="rbf"),
        {"alpha": _ALPHAS, "gamma": _GAMMA_SCALES / n_features},
        cv=KFold(5, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    return make_pipeline(MomentGSD.from_sigma(label), StandardScaler(), FunctionTransformer(_clip), search)


def _resolve_n_jobs(n_jobs):
    cores = cpu_count()
    if n_jobs is None:
        return 1
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return max(1, min(int(n_jobs), cores))


def run_demo(n_jobs=-1, max_structures=None, verbose=True, descriptors=DEMO_DESCRIPTORS):
    """Compare moment GSDs by cross-validated energy-per-atom regression.

    Computes the Chebyshev descriptor (``rad_cutoff=6``, ``rad_order=19``,
    ``ang_cutoff=3``, ``ang_order=5``) of the demo structures once, then for
    each GSD runs a 5-fold cross-validation (``KFold(shuffle=True,
    random_state=0)``) of the pipeline built by :func:`make_model`.

    Parameters
    ----------
    n_jobs : int, default=-1
        Threads for the Chebyshev descriptor; ``-1`` uses all cores, larger
        values are capped at the number of cores.
    max_structures : int, default=None
        Use a random subset (seed 0) of this many structures (at least 10);
        ``None`` uses all 300.
    verbose : bool, default=True
        Show progress bars.
    descriptors : sequence of str, default=DEMO_DESCRIPTORS
        GSD labels to compare.

    Returns
    -------
    list of dict
        One dict per descriptor with keys ``descriptor``, ``dimension``,
        ``mae`` and ``rmse`` (meV/atom, mean over the folds), ``seconds`` (time
        of its cross-validation), ``n_structures`` and ``n_jobs``.
    """
    from tqdm.auto import tqdm

    structures, y = load_demo()
    if max_structures is not None:
        if max_structures < 10:
            raise ValueError(f"max_structures must be at least 10, got {max_structures}")
        if max_structures < len(structures):
            keep = np.sort(np.random.default_rng(0).permutation(len(structures))[:max_structures])
            structures, y = [structures[i] for i in keep], y[keep]
    n_jobs = _resolve_n_jobs(n_jobs)

    laed = ChebyshevLAED(
        rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5, n_jobs=n_jobs, verbose=int(verbose)
    )
    atomic = laed.fit_transform(structures)

    cv = KFold(5, shuffle=True, random_state=0)
    results = []
    # The kernel matrices are small: BLAS threads only add overhead here.
    with threadpool_limits(limits=1, user_api="blas"):
        for label in tqdm(descriptors, desc="MomentGSD", unit="GSD", disable=not verbose):
            n_features = MomentGSD.from_sigma(label).fit(atomic).n_features_out_
            start = time.perf_counter()
            with warnings.catch_warnings():
                # the smallest alphas of the grid may be ill-conditioned; the search drops them
                warnings.simplefilter("ignore", LinAlgWarning)
                scores = cross_validate(
                    make_model(label, n_features),
                    atomic,
                    y,
                    cv=cv,
                    scoring=("neg_mean_absolute_error", "neg_root_mean_squared_error"),
                )
            results.append(
                {
                    "descriptor": MomentGSD.from_sigma(label).sigma_label,
                    "dimension": n_features,
                    "mae": -1000 * scores["test_neg_mean_absolute_error"].mean(),
                    "rmse": -1000 * scores["test_neg_root_mean_squared_error"].mean(),
                    "seconds": time.perf_counter() - start,
                    "n_structures": len(structures),
                    "n_jobs": n_jobs,
                }
            )
    return results
