"""scikit-learn behaviour: clone, pipelines, grid search, caching, check_estimator."""

import warnings

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from sklearn.base import clone
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from skdesc import AtomicFeatures, ChebyshevLAED, MomentGSD


@pytest.fixture(scope="module")
def cuau():
    """Rattled Cu-Au supercells with EMT energies per atom (self-contained data)."""
    rng = np.random.default_rng(0)
    structures, energies = [], []
    for k in range(36):
        atoms = bulk("Cu", "fcc", a=3.7, cubic=True).repeat((1, 1, 1 + k % 3))
        atoms.numbers[rng.random(len(atoms)) < 0.4] = 79
        atoms.rattle(0.08, seed=k)
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy() / len(atoms))
        atoms.calc = None
        structures.append(atoms)
    return structures, np.array(energies)


def _laed(**params):
    return ChebyshevLAED(rad_cutoff=4.5, rad_order=6, ang_cutoff=3.0, ang_order=3, **params)


def test_clone_and_params():
    laed = _laed(species=["Cu", "Au"], element_weights={"Cu": 1, "Au": -1})
    copy = clone(laed)
    assert copy.get_params() == laed.get_params()
    weights = {"Cu": 1, "Au": -1}
    laed.set_params(element_weights=weights).fit([bulk("Cu"), bulk("Au")])
    assert laed.element_weights is weights and weights == {"Cu": 1, "Au": -1}  # stored verbatim, unmodified
    gsd = MomentGSD.from_sigma("555", element_weights=[1, 2])
    assert clone(gsd).get_params() == gsd.get_params()
    gsd.set_params(n_out=2)
    assert gsd.sigma_label == "Sigma255"


def test_pipeline_fits_and_predicts(cuau):
    structures, y = cuau
    model = make_pipeline(_laed(), MomentGSD(n_out=2, n_in=1), StandardScaler(), KernelRidge(alpha=1e-3))
    model.fit(structures[:30], y[:30])
    predictions = model.predict(structures[30:])
    assert predictions.shape == (6,) and np.all(np.isfinite(predictions))
    names = model[:2].get_feature_names_out()
    assert len(names) == model[1].n_features_out_ and names[0].startswith("Sigma210")


def test_grid_search_over_pooling_and_laed_parameters(cuau):
    structures, y = cuau
    pipe = make_pipeline(_laed(), MomentGSD(), StandardScaler(), Ridge(alpha=1e-2))
    grid = GridSearchCV(
        pipe,
        {"momentgsd__n_out": [1, 2], "momentgsd__n_in": [0, 1], "chebyshevlaed__rad_order": [4, 6]},
        cv=KFold(3),
        scoring="neg_mean_absolute_error",
    )
    grid.fit(structures, y)
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.predict(structures[:3]).shape == (3,)


class CountingLAED(ChebyshevLAED):
    """ChebyshevLAED that counts how often its training-side work runs."""

    fit_transform_calls = 0

    def fit_transform(self, X, y=None, **fit_params):
        type(self).fit_transform_calls += 1
        return super().fit_transform(X, y, **fit_params)


@pytest.mark.parametrize("use_memory", [True, False])
def test_pipeline_memory_skips_laed_when_only_pooling_changes(cuau, tmp_path, use_memory):
    structures, y = cuau
    CountingLAED.fit_transform_calls = 0
    pipe = Pipeline(
        [
            ("laed", CountingLAED(rad_cutoff=4.5, rad_order=6, ang_cutoff=3.0, ang_order=3)),
            ("momentgsd", MomentGSD()),
            ("ridge", Ridge()),
        ],
        memory=str(tmp_path) if use_memory else None,
    )
    grid = GridSearchCV(pipe, {"momentgsd__n_out": [1, 2], "momentgsd__n_in": [0, 1]}, cv=KFold(3))
    grid.fit(structures, y)
    # 4 parameter sets x 3 folds + the final refit
    expected = 3 + 1 if use_memory else 4 * 3 + 1
    assert CountingLAED.fit_transform_calls == expected


def test_cross_validation_directly_on_atomic_features(cuau):
    structures, y = cuau
    atomic = _laed().fit_transform(structures)
    scores = cross_val_score(make_pipeline(MomentGSD.from_sigma("222"), Ridge()), atomic, y, cv=KFold(4))
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(make_pipeline(MomentGSD(), Ridge()), {"momentgsd__n_in": [0, 2]}, cv=KFold(3))
    assert grid.fit(atomic, y).best_params_["momentgsd__n_in"] in (0, 2)


def test_momentgsd_passes_check_estimator():
    # A 2-D array is read as one atom per structure of one element; every
    # check of scikit-learn's suite applies and passes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(MomentGSD())
        check_estimator(MomentGSD(n_out=3, weighting="both", moments="standardized"))


def test_momentgsd_rejects_structures():
    with pytest.raises(TypeError, match="local descriptor"):
        MomentGSD().fit([bulk("Cu")])


def test_atomic_features_round_trip_through_laed(cuau):
    structures, _ = cuau
    atomic = _laed().fit_transform(structures)
    assert isinstance(atomic, AtomicFeatures) and len(atomic) == len(structures)
    assert atomic.species == (29, 79)
