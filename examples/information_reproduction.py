"""Reproduce the information-imbalance findings of Darby et al. (2022) and Gharakhanyan et al. (2023) on real data.

1. TiO2 (Artrith & Urban 2016): the paper-003 Chebyshev LAED (6 Å / order 19
   radial, 3 Å / order 5 angular), all 97 moment GSDs, the rank information
   imbalance between every ordered pair (Tables B.1-B.3, Fig. 1a/1b for
   Sigma555 and Sigma554), and energy models: gradient-boosted trees with
   four numbers of estimators and a linear model, 9:1 splits over five seeds
   (Figs. C.1 and E.1).
2. NbMoTaW (Li et al. 2020): information imbalance between every SOAP
   compression and the full power spectrum (Darby et al. 2022, Figs. 5-6), plus
   distance-distance and rank-rank correlations.

Writes CSV tables and PNG figures to ``--output`` and prints a summary.

Usage::

    python examples/information_reproduction.py [--n-structures 6000] [--output docs/results]

Data: ``../shared/data`` next to the repository (see its README for sources
and licences).  Energies: a per-element linear baseline is fitted and
structures whose residual energy per atom lies more than 10 median absolute
deviations above the median are dropped (7,601 of 7,815 remain; the aenet
group's own filter needs free-atom energies the file does not carry).
"""

import argparse
import gzip
import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, CompressedSOAP, ElementFractions, MomentGSD
from skdesc.information import GSDSpaceAnalysis, distance_correlation, information_imbalance, rank_correlation
from skdesc.information.plots import plot_imbalance_plane

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ENERGY_GSDS = [
    "Sigma100", "Sigma101", "Sigma102", "Sigma010", "Sigma050", "Sigma110", "Sigma122", "Sigma132",
    "Sigma222", "Sigma232", "Sigma242", "Sigma332", "Sigma432", "Sigma554", "Sigma555",
]  # fmt: skip
TREE_SIZES = (50, 100, 200, 400)
SOAP_MODES = ["mu2", "crossover", "nu1mu1", "nu1mu1*", "nu1nu1hat", "nu1mu1hat", "embedding", "random"]


def read(name, index=":"):
    import ase.io

    with gzip.open(DATA / name, "rt") as handle:
        return ase.io.read(io.StringIO(handle.read()), index=index, format="extxyz")


def tio2_energies(structures):
    """Residual energy per atom after a per-element linear baseline; robust outlier mask."""
    energies = np.array([atoms.get_potential_energy() for atoms in structures])
    counts = np.array([[np.sum(atoms.numbers == z) for z in (8, 22)] for atoms in structures], dtype=float)
    mu, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    residual = (energies - counts @ mu) / counts.sum(axis=1)
    median = np.median(residual)
    mad = np.median(np.abs(residual - median))
    keep = residual <= median + 10 * mad
    mu, *_ = np.linalg.lstsq(counts[keep], energies[keep], rcond=None)
    return (energies - counts @ mu) / counts.sum(axis=1), keep


def energy_models(atomic, y, labels, seeds=5):
    rows = []
    # the composition-only baseline first: the GSDs have to beat it
    for label in ["composition"] + list(labels):
        if label == "composition":
            X = ElementFractions().fit_transform(atomic)
        else:
            # the paper's tables: raw central moments, standardised per feature by the model
            X = MomentGSD.from_sigma(label[-3:], moments="central", n_jobs=2).fit_transform(atomic)
        for seed in range(seeds):
            train, test = train_test_split(np.arange(len(y)), test_size=0.1, random_state=seed)
            models = {f"gbt{n}": HistGradientBoostingRegressor(max_iter=n, random_state=seed) for n in TREE_SIZES}
            models["linear"] = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-6, 3, 10)))
            for name, model in models.items():
                model.fit(X[train], y[train])
                pred = model.predict(X[test])
                rows.append(
                    {
                        "descriptor": label,
                        "model": name,
                        "seed": seed,
                        "mae_meV": 1000 * mean_absolute_error(y[test], pred),
                        "rmse_meV": 1000 * np.sqrt(mean_squared_error(y[test], pred)),
                    }
                )
        print(f"  energy models done for {label}", flush=True)
    return pd.DataFrame(rows)


def tio2_part(args, out):
    structures = read("tio2_artrith2016.extxyz.gz")
    y, keep = tio2_energies(structures)
    kept = np.flatnonzero(keep)
    print(f"TiO2: {keep.sum()} of {len(structures)} structures kept by the robust energy window")
    rng = np.random.default_rng(0)
    chosen = np.sort(rng.choice(kept, size=min(args.n_structures, kept.size), replace=False))
    laed = ChebyshevLAED(rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5, n_jobs=2)
    atomic = laed.fit_transform([structures[i] for i in chosen])
    y = y[chosen]

    start = time.perf_counter()
    analysis = GSDSpaceAnalysis(verbose=1).fit(atomic)
    print(f"GSD space: {len(analysis.imbalance_)} descriptors, {time.perf_counter() - start:.0f} s, "
          f"{analysis.n_ties_} tie cases, best_ (tolerance {analysis.tolerance}) = {analysis.best_}")
    analysis.imbalance_.to_csv(out / "tio2_imbalance_raw.csv")
    summary = analysis.summary()
    summary.to_csv(out / "tio2_table_B1_srim.csv")
    summary.sort_values("to_others").to_csv(out / "tio2_table_B2_informative.csv")
    summary.sort_values("from_others").to_csv(out / "tio2_table_B3_inferable.csv")
    analysis.pairs(15, most_similar=True).to_csv(out / "tio2_table_B4_similar_pairs.csv")
    analysis.pairs(15, most_similar=False).to_csv(out / "tio2_table_B5_dissimilar_pairs.csv")
    for reference in ("Sigma555", "Sigma554"):
        analysis.min_srim_by_complexity(reference).to_csv(out / f"tio2_min_srim_{reference}.csv")
        analysis.plot_correlation(reference, path=out / f"tio2_fig1a_{reference}.png")
        analysis.plot_min_srim(reference, path=out / f"tio2_fig1b_{reference}.png")
    print("\nTable B.1 (top 10 and bottom 5 by mean SRIM, raw ranks):")
    print(summary.head(10).round(3).to_string())
    print(summary.tail(5).round(3).to_string())
    print("\nMinimum SRIM to Sigma555 by complexity:")
    print(analysis.min_srim_by_complexity("Sigma555").round(3).to_string())

    if args.skip_energy:
        return analysis, None
    labels = [label for label in analysis.imbalance_.index] if args.all_gsds else ENERGY_GSDS
    errors = energy_models(atomic, y, labels)
    errors.to_csv(out / "tio2_energy_errors.csv", index=False)
    table = errors.groupby(["descriptor", "model"])[["mae_meV", "rmse_meV"]].mean().unstack("model")
    table.to_csv(out / "tio2_energy_table.csv")
    print("\nEnergy per atom, test MAE (meV/atom), mean of 5 seeds:")
    print(table["mae_meV"].round(1).to_string())
    plot_energy(errors, out / "tio2_figC1_E1_energy.png")
    return analysis, errors


def plot_energy(errors, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4))
    axes = fig.subplots(1, 2)
    summary = errors.groupby(["descriptor", "model"])[["mae_meV", "rmse_meV"]].mean().reset_index()
    for ax, metric in zip(axes, ("mae_meV", "rmse_meV")):
        for model, part in summary.groupby("model"):
            ax.plot(part["descriptor"].str.replace("Sigma", "Σ"), part[metric], "o-", ms=3, label=model)
        ax.set_ylabel(metric.replace("_meV", " (meV/atom)").upper())
        ax.tick_params(axis="x", rotation=90, labelsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)


def nbmotaw_part(args, out):
    structures = read("nbmotaw_li2020_partial.extxyz.gz")
    rng = np.random.default_rng(1)
    chosen = rng.permutation(len(structures))
    picked, atoms_total = [], 0
    for index in chosen:
        picked.append(structures[index])
        atoms_total += len(structures[index])
        if atoms_total >= args.n_environments:
            break
    params = dict(r_cut=5.0, n_max=8, l_max=6, sigma=0.5, n_jobs=2, species=["Nb", "Mo", "Ta", "W"])
    full = CompressedSOAP(compression="nu2", normalize="kernel", **params).fit_transform(picked).values
    rows = []
    plane = {}
    for mode in SOAP_MODES:
        values = CompressedSOAP(compression=mode, normalize="kernel", random_state=0, **params)
        values = values.fit_transform(picked).values
        forward, backward = information_imbalance(full, values)
        plane[mode] = (forward, backward)
        rows.append(
            {
                "compression": mode,
                "length": values.shape[1],
                "delta_full_to_x": forward,
                "delta_x_to_full": backward,
                "distance_corr": distance_correlation(full, values, random_state=0),
                "rank_corr": rank_correlation(full, values, random_state=0),
            }
        )
    table = pd.DataFrame(rows)
    table.to_csv(out / "nbmotaw_soap_compressions.csv", index=False)
    plot_imbalance_plane(plane, path=out / "nbmotaw_fig5_imbalance_plane.png", reference="ν=2")
    print(f"\nNbMoTaW: {full.shape[0]} environments from {len(picked)} structures, nu2 length {full.shape[1]}")
    print(table.round(4).to_string(index=False))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-structures", type=int, default=6000)
    parser.add_argument("--n-environments", type=int, default=3000)
    parser.add_argument("--all-gsds", action="store_true", help="energy models for all 97 GSDs (slow)")
    parser.add_argument("--output", type=Path, default=Path("docs/results"))
    parser.add_argument("--skip-tio2", action="store_true")
    parser.add_argument("--skip-nbmotaw", action="store_true")
    parser.add_argument("--skip-energy", action="store_true", help="no energy models (the slow part)")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"shared data not found at {DATA}; nothing to do")
        return 0
    args.output.mkdir(parents=True, exist_ok=True)
    if not args.skip_tio2:
        tio2_part(args, args.output)
    if not args.skip_nbmotaw:
        nbmotaw_part(args, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
