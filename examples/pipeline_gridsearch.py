"""Grid search over descriptor, pooling and model hyper-parameters in one scikit-learn Pipeline.

The per-atom descriptor is computed once per descriptor setting and cached
by joblib.Memory, so the grid over pooling and regularisation does not
recompute it for every fold.  Uses the bundled NbMoTaW demo data.

Usage::

    python examples/pipeline_gridsearch.py [--max-structures 300] [--n-jobs 1]
"""

import argparse
import tempfile
import warnings

import pandas as pd
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, MomentGSD
from skdesc.datasets import load_demo


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-structures", type=int, default=300)
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel grid points (processes)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*have weight 0.*")

    structures, y = load_demo()
    structures, y = structures[: args.max_structures], y[: args.max_structures]
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
        grid = {
            "laed__rad_cutoff": [5.0, 6.0],
            "gsd__n_out": [1, 2],
            "gsd__n_in": [0, 2],
            "gsd__weighting": ["both"],
            "krr__alpha": [1e-4, 1e-2],
            "krr__gamma": [1e-3, 1e-2],
        }
        search = GridSearchCV(
            pipeline,
            grid,
            cv=KFold(5, shuffle=True, random_state=0),
            scoring="neg_mean_absolute_error",
            n_jobs=args.n_jobs,
        )
        search.fit(structures, y)

    results = pd.DataFrame(search.cv_results_)
    results["MAE meV/atom"] = -1000 * results["mean_test_score"]
    columns = [f"param_{name}" for name in grid if len(grid[name]) > 1] + ["MAE meV/atom"]
    print(results.sort_values("MAE meV/atom")[columns].head(8).to_string(index=False))
    print(f"\nbest: {search.best_params_}\nMAE {-1000 * search.best_score_:.1f} meV/atom (5-fold CV)")


if __name__ == "__main__":
    main()
