"""Grid search over descriptor, pooling and model hyper-parameters in one scikit-learn Pipeline.

The per-atom descriptor is computed once per descriptor setting and cached
by joblib.Memory, so the grid over pooling and regularisation does not
recompute it for every fold.  Uses the bundled NbMoTaW demo data (a random
subset: the file is sorted by composition) and shuffled folds, and prints the
composition-only baseline (element fractions, same kernel ridge search) first.
The RBF ``gamma`` is searched relative to each pooling's dimension
(``[0.001, 0.01, 0.1, 1] / n_features``), so every grid point gets a sensible kernel
width.

Usage::

    python examples/pipeline_gridsearch.py [--max-structures 300] [--n-jobs 1]
"""

import argparse
import tempfile
import warnings

import numpy as np
import pandas as pd
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, ElementFractions, MomentGSD
from skdesc.datasets import load_demo


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-structures", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel grid points (processes)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*have weight 0.*")

    structures, y = load_demo()
    keep = np.sort(np.random.default_rng(0).permutation(len(structures))[: args.max_structures])
    structures, y = [structures[i] for i in keep], y[keep]
    cv = KFold(5, shuffle=True, random_state=0)
    gamma_scales = np.array([0.001, 0.01, 0.1, 1.0])

    n_species = ElementFractions().fit(structures).n_features_out_
    baseline = GridSearchCV(
        Pipeline([("fractions", ElementFractions()), ("scale", StandardScaler()), ("krr", KernelRidge(kernel="rbf"))]),
        {"krr__alpha": [1e-6, 1e-4, 1e-2], "krr__gamma": gamma_scales / n_species},
        cv=cv,
        scoring="neg_mean_absolute_error",
    ).fit(structures, y)
    print(f"composition baseline (element fractions): MAE {-1000 * baseline.best_score_:.1f} meV/atom (5-fold CV)\n")

    # one sub-grid per pooling, with gamma relative to its dimension
    probe = ChebyshevLAED(rad_order=10, ang_order=4).fit_transform(structures[:2])
    grid = []
    for n_out in (1, 2):
        for n_in in (0, 2):
            n_features = MomentGSD(n_out=n_out, n_in=n_in, weighting="both").fit(probe).n_features_out_
            grid.append(
                {
                    "laed__rad_cutoff": [5.0, 6.0],
                    "gsd__n_out": [n_out],
                    "gsd__n_in": [n_in],
                    "gsd__weighting": ["both"],
                    "krr__alpha": [1e-4, 1e-2],
                    "krr__gamma": gamma_scales / n_features,
                }
            )
    with tempfile.TemporaryDirectory() as cache:
        pipeline = Pipeline(
            [
                ("laed", ChebyshevLAED(rad_order=10, ang_order=4)),
                ("gsd", MomentGSD()),
                ("scale", StandardScaler()),
                ("krr", KernelRidge(kernel="rbf")),
            ],
            memory=cache,
        )
        search = GridSearchCV(
            pipeline,
            grid,
            cv=cv,
            scoring="neg_mean_absolute_error",
            n_jobs=args.n_jobs,
        )
        search.fit(structures, y)

    results = pd.DataFrame(search.cv_results_)
    results["MAE meV/atom"] = -1000 * results["mean_test_score"]
    columns = [f"param_{name}" for name in ("laed__rad_cutoff", "gsd__n_out", "gsd__n_in", "krr__alpha", "krr__gamma")]
    columns.append("MAE meV/atom")
    print(results.sort_values("MAE meV/atom")[columns].head(8).to_string(index=False))
    print(f"\nbest: {search.best_params_}\nMAE {-1000 * search.best_score_:.1f} meV/atom (5-fold CV)")


if __name__ == "__main__":
    main()
