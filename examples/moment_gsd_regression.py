"""Energy regression with every moment GSD: are the descriptors well scaled out of the box?

For each data set, the Chebyshev descriptor of Artrith, Urban & Ceder (2017) with the
settings of Gharakhanyan et al. (2023) (6 Å / order 19 radial, 3 Å / order 5 angular) is
computed once; every member of ``gsd_space(5)`` (97 descriptors) is then pooled with
``MomentGSD`` and scored by the mean absolute error of the energy per atom in a shuffled
5-fold cross-validation with two ordinary scikit-learn models:

* linear: ``StandardScaler()`` + ``RidgeCV()`` (scikit-learn's default alphas);
* kernel: ``StandardScaler()`` + ``KernelRidge(kernel="rbf", gamma=1 / n_features)``
  with ``alpha`` chosen by an inner 3-fold grid search (run on a subset of the space).

A composition-only baseline (element fractions + ``RidgeCV``) is reported with them.
``--moments`` compares the default signed-root moments with the raw central moments.

Usage::

    python examples/moment_gsd_regression.py [--sets demo tio2 nbmotaw] [--n-structures 1000]
        [--moments root central] [--output docs/results]

Data: the bundled demo data, and ``../shared/data`` next to the repository for TiO2
(Artrith & Urban, Comput. Mater. Sci. 114, 135 (2016)) and NbMoTaW (Li et al., npj
Comput. Mater. 6, 70 (2020)); sets whose file is absent are skipped.  The target is the
energy per atom minus a per-element linear baseline (see ``load``); TiO2 drops its
far-from-equilibrium structures (up to +22 eV/atom) by a robust window.
"""

import argparse
import gzip
import io
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, MomentGSD, gsd_space
from skdesc.datasets import load_demo

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {"tio2": "tio2_artrith2016.extxyz.gz", "nbmotaw": "nbmotaw_li2020_partial.extxyz.gz"}
KERNEL_GSDS = ["Sigma100", "Sigma101", "Sigma110", "Sigma122", "Sigma222", "Sigma242", "Sigma332", "Sigma554", "Sigma555"]
CV = KFold(5, shuffle=True, random_state=0)


def load(name, n_structures, seed=0):
    """Structures and target of one data set, or None if its file is absent.

    The target is the energy per atom (eV/atom) minus a per-element linear baseline
    (least squares in the element fractions over the set), the usual reference-energy
    correction: the raw energies per atom of TiO2 are about -850 eV/atom and vary by
    1000 eV per unit of O fraction, so any ridge shrinkage of that slope would dominate
    the error.  TiO2 also drops the structures whose residual lies more than 10 median
    absolute deviations above the median.
    """
    if name == "demo":
        structures, y = load_demo()
    else:
        path = DATA / FILES[name]
        if not path.exists():
            return None
        import ase.io

        # decompressed in memory first: ASE's own gzip reading is slow on large files
        with gzip.open(path, "rt") as handle:
            structures = ase.io.read(io.StringIO(handle.read()), index=":", format="extxyz")
        y = np.array([atoms.get_potential_energy() / len(atoms) for atoms in structures])
    if name == "tio2":
        residual = _residual(structures, y)
        median = np.median(residual)
        keep = residual <= median + 10 * np.median(np.abs(residual - median))
        structures, y = [s for s, k in zip(structures, keep) if k], y[keep]
    y = _residual(structures, y)
    if n_structures and len(structures) > n_structures:
        pick = np.sort(np.random.default_rng(seed).choice(len(structures), n_structures, replace=False))
        structures, y = [structures[i] for i in pick], y[pick]
    return structures, y


def _residual(structures, y):
    fractions = element_fractions(structures)
    coef, *_ = np.linalg.lstsq(fractions, y, rcond=None)
    return y - fractions @ coef


def element_fractions(structures):
    species = sorted({int(z) for atoms in structures for z in atoms.numbers})
    return np.array([[np.mean(atoms.numbers == z) for z in species] for atoms in structures])


def mae(model, X, y):
    """Cross-validated mean absolute error in meV/atom."""
    predicted = cross_val_predict(model, X, y, cv=CV)
    return 1000 * float(np.mean(np.abs(predicted - y)))


def linear_model():
    return make_pipeline(StandardScaler(), RidgeCV())


def kernel_model(n_features):
    """RBF kernel ridge on standardised features, gamma = 1 / n_features, alpha tuned.

    Kernel ridge has no intercept: the target is standardised too, so that far from the
    training data the prediction falls back to the training mean, not to 0 eV/atom.
    """
    inner = KFold(3, shuffle=True, random_state=1)
    model = make_pipeline(StandardScaler(), KernelRidge(kernel="rbf", gamma=1.0 / n_features))
    search = GridSearchCV(model, {"kernelridge__alpha": np.logspace(-6, 0, 7)}, cv=inner, scoring="neg_mean_absolute_error")
    return TransformedTargetRegressor(regressor=search, transformer=StandardScaler())


def evaluate(name, structures, y, kinds, kernel_labels, labels=None, n_jobs=2):
    start = time.perf_counter()
    atomic = ChebyshevLAED(rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5, n_jobs=n_jobs).fit_transform(
        structures
    )
    rows = [
        {"set": name, "moments": "-", "descriptor": "composition", "dimension": len(set(atomic.numbers)),
         "linear": mae(make_pipeline(StandardScaler(), RidgeCV()), element_fractions(structures), y), "kernel": np.nan}
    ]  # fmt: skip
    for kind in kinds:
        for label, gsd in gsd_space(5, moments=kind).items():
            if labels and label not in labels:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zero default weight of an odd element count
                try:
                    X = gsd.fit_transform(atomic)
                except ValueError as error:  # raw moments beyond the float64 range
                    rows.append({"set": name, "moments": kind, "descriptor": label, "linear": np.nan, "error": str(error)})
                    continue
                row = {"set": name, "moments": kind, "descriptor": label, "dimension": X.shape[1],
                       "linear": mae(linear_model(), X, y), "kernel": np.nan}  # fmt: skip
                if label in kernel_labels:
                    row["kernel"] = mae(kernel_model(X.shape[1]), X, y)
            rows.append(row)
    print(f"{name}: {len(y)} structures, {time.perf_counter() - start:.0f} s")
    return pd.DataFrame(rows)


def summary(table):
    """Per set and moment kind: the acceptance numbers of the normalisation."""
    lines = []
    for (name, kind), part in table[table.moments != "-"].groupby(["set", "moments"], sort=False):
        by = part.set_index("descriptor")
        base = by.loc["Sigma100", "linear"]
        finite = np.isfinite(by["linear"]).sum()
        worst = by["linear"].max()
        beat = {label: by.loc[label, "linear"] < base for label in ("Sigma242", "Sigma332", "Sigma555")}
        lines.append(
            f"{name:8s} {kind:8s} finite {finite}/{len(by)}  Sigma100 {base:8.1f}  worst {worst:10.4g} "
            f"({by['linear'].idxmax()})  worst/Sigma100 {worst / base:8.3g}  "
            f"beat Sigma100: {', '.join(k for k, v in beat.items() if v) or 'none'}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["demo", "tio2", "nbmotaw"], choices=["demo", *FILES])
    parser.add_argument("--n-structures", type=int, default=1000)
    parser.add_argument("--moments", nargs="+", default=["root", "central"])
    parser.add_argument("--kernel", nargs="*", default=KERNEL_GSDS, help="GSDs also scored with kernel ridge")
    parser.add_argument("--gsds", nargs="*", default=None, help="only these GSDs (default: all 97)")
    parser.add_argument("--output", type=Path, default=None, help="folder for moment_gsd_regression_<set>.csv")
    args = parser.parse_args(argv)
    tables = []
    for name in args.sets:
        data = load(name, args.n_structures)
        if data is None:
            print(f"{name}: data file absent in {DATA}, skipped")
            continue
        tables.append(evaluate(name, *data, args.moments, set(args.kernel), args.gsds))
        if args.output is not None:
            args.output.mkdir(parents=True, exist_ok=True)
            tables[-1].to_csv(args.output / f"moment_gsd_regression_{name}.csv", index=False)
    if not tables:
        return
    table = pd.concat(tables, ignore_index=True)
    print(summary(table))
    shown = table[table.descriptor.isin(["composition", *KERNEL_GSDS])]
    print(shown.pivot_table(index="descriptor", columns=["set", "moments"], values=["linear", "kernel"]).round(1))


if __name__ == "__main__":
    main()
