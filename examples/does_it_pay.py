"""Does higher body order pay?  Energy models on the power spectrum, bispectrum, pruned bispectrum and Cartesian invariants.

Protocol (every number printed by one run, seeded):

* Data: random subsets (``--n-structures``, default 600) of TiO2 (Artrith &
  Urban 2016; total energies, eV), NbMoTaW (Li et al. 2020; total energies, eV)
  and QM9 (Ramakrishnan et al. 2014; ``U0_atomization_eV``, eV per molecule).
  TiO2 and NbMoTaW keep structures whose energy per atom, after a per-element
  linear fit, lies within 10 median absolute deviations of the median (TiO2
  holds far-from-equilibrium structures).
* Target: energy per atom ``E / N``.  Every model first fits the composition
  baseline (``ElementFractions`` + ``LinearRegression`` without intercept, i.e.
  one energy per element) on the training fold, then the descriptor model fits
  the residual.  MAE per atom (meV/atom) for TiO2 and NbMoTaW, per molecule
  (meV/molecule: the per-atom error times N) for QM9.
* Descriptors (r_cut 5 Å, SOAP sigma 0.5 Å, element-resolved): SOAP power
  spectrum (nu = 2, n_max 6, l_max 4); SOAPBispectrum (nu = 3, "full", the
  largest of n_max, l_max in (3, 3), (2, 3), (2, 2) with at most 2,500
  components); the bispectrum pruned by ``FunctionalIndependenceSelector``
  (``n_environments`` real environments of the subset, tolerance 1e-6) and,
  as a control, as many bispectrum components drawn at random;
  CartesianInvariants (the 13 optimal invariants, n_radial 4).  Pooling: the
  mean over the atoms of a structure (``MeanPooling``) for all of them.
* Models: ``RidgeCV`` (alphas 1e-4..1e6) and ``KernelRidge`` (RBF; alpha in
  {1e-8, 1e-6, 1e-4, 1e-2}, gamma in {0.001, 0.01, 0.1, 1} / n_features by inner
  3-fold CV),
  both on standardised features; outer shuffled 5-fold CV (seed 0).
* Cost: wall time of ``transform`` (one thread) over the subset, per atomic
  environment (µs/env), measured in the same run.
* Information imbalance (Glielmo et al. 2022): ``Delta(A -> B)`` between the
  standardised pooled descriptors and towards the baseline residual energy,
  ``skdesc.information.information_imbalance`` (k = 1, normalised: ~0 = A
  predicts B's neighbourhoods, ~1 = no information).

Prints the tables (copied into ``docs/does_it_pay.md``) and, without
``--quick``, writes ``docs/results/does_it_pay.png``.

Usage::

    PYTHONPATH=. python examples/does_it_pay.py            # ~20 min on the shared 2-core machine
    PYTHONPATH=. python examples/does_it_pay.py --quick    # a few structures, 3 folds, a tiny grid: seconds
"""

import argparse
import gzip
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import SOAP, CartesianInvariants, ElementFractions, FunctionalIndependenceSelector, SOAPBispectrum
from skdesc.information import information_imbalance
from skdesc.pooling import MeanPooling

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
R_CUT = 5.0
DERIVATIVE_BUDGET = 300e6  # bytes of AtomicDerivatives the pruning step may hold


def read(path):
    import ase.io

    with gzip.open(path, "rt") as handle:
        return ase.io.read(io.StringIO(handle.read()), index=":", format="extxyz")


def load(name, path, n_structures, rng):
    """Structures, energy per atom (eV/atom) and a label of the MAE unit."""
    structures = read(path)
    structures = [structures[i] for i in np.sort(rng.choice(len(structures), min(n_structures, len(structures)), replace=False))]
    n_atoms = np.array([len(a) for a in structures], dtype=float)
    if name == "QM9":
        energy = np.array([a.info["U0_atomization_eV"] for a in structures])
    else:
        energy = np.array([a.get_potential_energy() for a in structures])
    per_atom = energy / n_atoms
    if name != "QM9":
        fractions = ElementFractions().fit_transform(structures)
        residual = per_atom - fractions @ np.linalg.lstsq(fractions, per_atom, rcond=None)[0]
        median = np.median(residual)
        keep = np.abs(residual - median) <= 10 * np.median(np.abs(residual - median))
        structures = [a for a, k in zip(structures, keep) if k]
        per_atom, n_atoms = per_atom[keep], n_atoms[keep]
    return structures, per_atom, n_atoms


def bispectrum_for(species):
    for n_max, l_max in ((3, 3), (2, 3), (2, 2)):
        descriptor = SOAPBispectrum(species=species, r_cut=R_CUT, n_max=n_max, l_max=l_max, n_jobs=1)
        if descriptor.fit([_single(z) for z in species]).n_features_out_ <= 2500:
            return descriptor
    return descriptor


def _single(z):
    from ase import Atoms

    return Atoms(numbers=[z], positions=[[0.0, 0.0, 0.0]])


def pooled(descriptor, structures, chunk=50):
    """Mean-pooled features and the transform time per environment (µs)."""
    parts, seconds = [], 0.0
    pooling = MeanPooling()
    for start in range(0, len(structures), chunk):
        batch = structures[start: start + chunk]
        tic = time.perf_counter()
        features = descriptor.transform(batch)
        seconds += time.perf_counter() - tic
        parts.append(pooling.fit_transform(features))
    n_env = sum(len(a) for a in structures)
    return np.vstack(parts), 1e6 * seconds / n_env


def prune(descriptor, structures, n_environments, rng):
    """FunctionalIndependenceSelector on real environments of structures small enough for the derivative budget."""
    d = descriptor.n_features_out_
    chosen, used = [], 0.0
    for i in rng.permutation(len(structures)):
        cost = len(structures[i]) ** 2 * 3 * d * 8  # at most every atom is a derivative pair of every centre
        if used + cost <= DERIVATIVE_BUDGET:
            chosen.append(structures[i])
            used += cost
        if sum(len(a) for a in chosen) >= 4 * n_environments:
            break
    selector = FunctionalIndependenceSelector(descriptor, n_environments=n_environments, random_state=0)
    tic = time.perf_counter()
    selector.fit(chosen)
    return selector, time.perf_counter() - tic, len(chosen)


def cross_validate(X, fractions, y, model, n_splits=5):
    """Out-of-fold predictions of y: composition baseline (train fold) + model of the residual."""
    prediction = np.empty_like(y)
    for train, test in KFold(n_splits, shuffle=True, random_state=0).split(X):
        baseline = LinearRegression(fit_intercept=False).fit(fractions[train], y[train])
        residual = y[train] - baseline.predict(fractions[train])
        prediction[test] = baseline.predict(fractions[test])
        if model is not None:
            fitted = clone(model).fit(X[train], residual)
            prediction[test] += fitted.predict(X[test])
    return prediction


def models(n_features, quick=False):
    alphas, gammas, inner = ([1e-4, 1e-2], [1.0], 2) if quick else ([1e-8, 1e-6, 1e-4, 1e-2], [0.001, 0.01, 0.1, 1.0], 3)
    kernel = GridSearchCV(
        make_pipeline(StandardScaler(), KernelRidge(kernel="rbf")),
        {"kernelridge__alpha": alphas, "kernelridge__gamma": list(np.array(gammas) / n_features)},
        cv=KFold(inner, shuffle=True, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    linear = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-4, 6, 11)))
    return {"linear": linear, "kernel": kernel}


def standardised(X):
    spread = X.std(axis=0)
    keep = spread > 1e-12 * max(spread.max(), 1e-300)
    return (X[:, keep] - X[:, keep].mean(axis=0)) / spread[keep]


def run_dataset(name, path, args, rng):
    structures, y, n_atoms = load(name, path, args.n_structures, rng)
    species = sorted({int(z) for a in structures for z in a.numbers})
    fractions = ElementFractions(species=species).fit_transform(structures)
    scale = n_atoms if name == "QM9" else np.ones_like(y)  # per molecule for QM9, per atom otherwise
    unit = "meV/molecule" if name == "QM9" else "meV/atom"
    n_env = int(n_atoms.sum())

    bispectrum = bispectrum_for(species).fit(structures)
    descriptors = {
        "power spectrum (nu=2)": SOAP(species=species, r_cut=R_CUT, n_max=6, l_max=4, n_jobs=1).fit(structures),
        "bispectrum (nu=3)": bispectrum,
        "pruned bispectrum": None,
        "random subset of bispectrum": None,
        "Cartesian (optimal 13)": CartesianInvariants(species=species, r_cut=R_CUT, n_radial=4, n_jobs=1).fit(structures),
    }
    selector, prune_seconds, n_prune = prune(bispectrum, structures, args.n_environments, rng)

    features, cost, basis = {}, {}, {}
    for label, descriptor in descriptors.items():
        if label == "random subset of bispectrum":
            # control: as many bispectrum components as the selector kept, drawn at random (seeded)
            subset = np.sort(np.random.default_rng(1).choice(bispectrum.n_features_out_, int(selector.support_.sum()),
                                                             replace=False))
            features[label] = features["bispectrum (nu=3)"][:, subset]
            cost[label] = cost["bispectrum (nu=3)"]
            basis[label] = f"{subset.size} of {bispectrum.n_features_out_} (control)"
            continue
        if descriptor is None:
            features[label] = features["bispectrum (nu=3)"][:, selector.support_]
            cost[label] = cost["bispectrum (nu=3)"]  # computed as the full bispectrum, then sliced
            basis[label] = (f"{int(selector.support_.sum())} of {bispectrum.n_features_out_} kept "
                            f"({args.n_environments} env. of {n_prune} structures, {prune_seconds:.0f} s)")
            continue
        features[label], cost[label] = pooled(descriptor, structures)
        params = descriptor.get_params()
        keys = ("n_max", "l_max") if "n_max" in params else ("n_radial",)
        basis[label] = ", ".join(f"{k}={params[k]}" for k in keys)

    rows = []
    baseline = cross_validate(np.zeros((len(y), 1)), fractions, y, None, n_splits=3 if args.quick else 5)
    mae_baseline = 1000 * np.mean(np.abs(baseline - y) * scale)
    rows.append((name, "composition (ElementFractions + linear)", "", len(species), mae_baseline, mae_baseline, 0.0))
    for label, X in features.items():
        maes = {}
        for kind, model in models(X.shape[1], args.quick).items():
            prediction = cross_validate(X, fractions, y, model, n_splits=3 if args.quick else 5)
            maes[kind] = 1000 * np.mean(np.abs(prediction - y) * scale)
        rows.append((name, label, basis[label], X.shape[1], maes["linear"], maes["kernel"], cost[label]))
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)

    # information imbalance between the pooled descriptors, and towards the residual energy
    residual = y - LinearRegression(fit_intercept=False).fit(fractions, y).predict(fractions)
    spaces = {label: standardised(X) for label, X in features.items()}
    spaces["energy residual"] = residual[:, None]
    labels = list(spaces)
    imbalance = np.full((len(labels), len(labels)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tied distances (duplicated structures) are averaged
        for a in range(len(labels) - 1):
            for b in range(a + 1, len(labels)):
                imbalance[a, b], imbalance[b, a] = information_imbalance(spaces[labels[a]], spaces[labels[b]])
    return dict(name=name, rows=rows, unit=unit, n=len(y), n_env=n_env, labels=labels, imbalance=imbalance)


def tables(results):
    lines = [
        "| data | descriptor | basis | features | MAE linear | MAE kernel | cost (µs/env) |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for name, label, basis, d, linear, kernel, cost in result["rows"]:
            cost_text = "" if label.startswith("composition") else f"{cost:.0f}"
            lines.append(f"| {name} ({result['n']} structures, {result['unit']}) | {label} | {basis} | {d} | "
                         f"{linear:.1f} | {kernel:.1f} | {cost_text} |")
    for result in results:
        labels = result["labels"]
        lines += ["", f"Information imbalance Delta(row -> column), {result['name']}:", "",
                  "| from \\ to | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
        for a, label in enumerate(labels):
            cells = ["" if a == b else f"{result['imbalance'][a, b]:.2f}" for b in range(len(labels))]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def plot(results, path):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return False
    figure = Figure(figsize=(12, 3.8), layout="constrained")
    axes = figure.subplots(1, len(results))
    axes = np.atleast_1d(axes)
    styles = {"power spectrum (nu=2)": ("o", "C0"), "bispectrum (nu=3)": ("s", "C1"),
              "pruned bispectrum": ("D", "C2"), "random subset of bispectrum": ("v", "C4"),
              "Cartesian (optimal 13)": ("^", "C3")}
    for ax, result in zip(axes, results):
        baseline = result["rows"][0][4]
        ax.axhline(baseline, color="grey", linestyle=":", label="composition baseline")
        for _, label, _, _, linear, kernel, cost in result["rows"][1:]:
            marker, color = styles[label]
            ax.plot([cost, cost], [linear, kernel], color=color, alpha=0.4, zorder=1)
            ax.scatter([cost], [kernel], marker=marker, color=color, label=label, zorder=2)
            ax.scatter([cost], [linear], marker=marker, facecolors="none", edgecolors=color, zorder=2)
        ax.set_xlim(left=0)
        ax.set_yscale("log")
        ax.set_xlabel("cost (µs per environment)")
        ax.set_ylabel(f"5-fold CV MAE ({result['unit']})")
        ax.set_title(f"{result['name']} ({result['n']} structures)")
    axes[0].legend(fontsize=7, title="filled: kernel, open: linear", title_fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few structures per data set, no files written")
    parser.add_argument("--n-structures", type=int, default=None, help="structures per data set (default 600, quick 30)")
    parser.add_argument("--n-environments", type=int, default=None,
                        help="environments of the pruning step (default 100, quick 10)")
    parser.add_argument("--data", default=str(DATA), help="folder of the extxyz.gz files")
    args = parser.parse_args(argv)
    args.n_structures = args.n_structures or (30 if args.quick else 600)
    args.n_environments = args.n_environments or (10 if args.quick else 100)
    rng = np.random.default_rng(0)
    results = []
    for name, file in (("TiO2", "tio2_artrith2016.extxyz.gz"), ("NbMoTaW", "nbmotaw_li2020_partial.extxyz.gz"),
                       ("QM9", "qm9_subset10k_seed0.extxyz.gz")):
        path = Path(args.data) / file
        if not path.exists():
            print(f"skipping {name}: {path} not found", file=sys.stderr)
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        results.append(run_dataset(name, path, args, rng))
    lines = tables(results)
    print("\n".join(lines))
    if not args.quick and results:
        plot(results, ROOT / "docs" / "results" / "does_it_pay.png")
    return results, lines


if __name__ == "__main__":
    main()
