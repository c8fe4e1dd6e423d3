"""Moment descriptors in an ordinary scikit-learn pipeline, without hand tricks.

With the default ``MomentGSD`` (signed-root moments), ``StandardScaler`` + ``RidgeCV`` and a
shuffled 5-fold cross-validation on the bundled demo data (NbMoTaW, Li et al. 2020), every
GSD of ``gsd_space(5)`` gives a finite error of the size of the simplest one; the raw central
moments of the paper do not (their n-th powers extrapolate to 1e9-1e28 meV/atom).
"""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, ElementFractions, MomentGSD, gsd_space
from skdesc.datasets import load_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo():
    structures, energy = load_demo()
    # the Chebyshev settings of Gharakhanyan et al. (2023)
    atomic = ChebyshevLAED(rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5, n_jobs=2).fit_transform(structures)
    return structures, atomic, energy


def _mae(X, y):
    """Shuffled 5-fold cross-validated MAE (meV/atom) of StandardScaler + RidgeCV."""
    predicted = cross_val_predict(make_pipeline(StandardScaler(), RidgeCV()), X, y, cv=KFold(5, shuffle=True, random_state=0))
    return 1000 * float(np.mean(np.abs(predicted - y)))


@pytest.fixture(scope="module")
def errors(demo):
    _, atomic, energy = demo
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, gsd in gsd_space(5).items():
            result[label] = _mae(gsd.fit_transform(atomic), energy)
    return result


def test_every_gsd_has_a_finite_error_of_the_size_of_sigma100(errors):
    assert len(errors) == 97
    assert all(np.isfinite(value) for value in errors.values())
    base = errors["Sigma100"]
    ratios = {label: value / base for label, value in errors.items()}
    # the unweighted and both-weighted GSDs (k = 0, 2) and the concatenations
    unweighted = {label: r for label, r in ratios.items() if label[-1] in "0245" and not label.startswith("Sigma0")}
    assert max(unweighted.values()) < 2.0, sorted(unweighted.items(), key=lambda t: -t[1])[:5]
    # every GSD, including the element-weighted (k = 1) ones and the stacked element descriptors
    assert max(ratios.values()) < 3.0, sorted(ratios.items(), key=lambda t: -t[1])[:5]


def test_richer_gsds_beat_sigma100_and_the_composition_baseline(demo, errors):
    structures, _, energy = demo
    baseline = _mae(ElementFractions().fit_transform(structures), energy)
    assert errors["Sigma242"] < errors["Sigma100"] < baseline
    assert errors["Sigma555"] < errors["Sigma100"]
    assert min(errors.values()) < 0.8 * errors["Sigma100"]


def test_raw_central_moments_are_what_the_normalisation_fixes(demo, errors):
    _, atomic, energy = demo
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        central = _mae(MomentGSD.from_sigma("555", moments="central").fit_transform(atomic), energy)
    assert central > 100 * errors["Sigma555"]
