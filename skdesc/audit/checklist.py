"""The eight-point quality checklist of a descriptor pipeline, run on the user's own data.

Pelz, Materials Genomics, Unit 6, §F, slide 49: "before any tier-3
descriptor enters a regression or classification model" check

1. periodic images (a cell and its supercell give every atom the same descriptor),
2. the parser round trip (read -> write -> read; element counts, density, shortest distances),
3. cutoff sensitivity (cross-validated error against the cutoff, and the lecture's reading of the curve),
4. invariances (rotations, translations, permutations),
5. pooling against the mechanism (mean, sum, histogram and species pooling; intensive or extensive target),
6. polymorph aliasing (same-composition structures whose SOAP-kernel similarity is high but whose targets differ),
7. long-range physics (an error that falls neither with the cutoff nor with the body order),
8. the composition-only baseline.

:func:`checklist` runs all eight and returns a :class:`ChecklistReport`: one
:class:`CheckResult` per check (``pass`` / ``warn`` / ``fail``, the number
behind it, a sentence, a table and a plot), a plain-text summary and a
self-contained HTML report (:meth:`ChecklistReport.to_html`).
"""

import io
import math
import time
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..structures import to_frames
from ._common import figure

__all__ = ["CheckResult", "ChecklistReport", "checklist"]

STATUSES = ("pass", "warn", "fail")

# (key, title, the lecture's question)
CHECKS = (
    ("periodic_images", "Periodic images", "Do a cell and its supercell give every atom the same descriptor?"),
    ("parser_round_trip", "Parser round trip", "Does read -> write -> read give the same structures, with sane "
     "element counts, densities and distances?"),
    ("cutoff_sensitivity", "Cutoff sensitivity", "Is the cutoff chemistry-justified and the error flat around it?"),
    ("invariances", "Invariances", "Do rotations, translations and permutations leave the descriptor unchanged?"),
    ("pooling", "Pooling vs mechanism", "Does the pooling match the target (intensive or extensive, mean, sum, "
     "histogram or species)?"),
    ("polymorph_aliasing", "Polymorph aliasing", "Are there same-composition structures the descriptor sees as "
     "nearly identical while their targets differ?"),
    ("long_range", "Long-range physics", "Does the error fall with the cutoff or the body order, or does the "
     "target depend on physics beyond the cutoff?"),
    ("composition_baseline", "Composition baseline", "Does the structural descriptor beat a composition-only "
     "model?"),
)
_CUTOFF_PARAMETERS = ("r_cut", "rad_cutoff", "cutoff")


@dataclass
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    key : str
        Identifier (``"periodic_images"``, ...).
    title : str
    question : str
        What the check asks (the lecture's checklist item).
    status : {"pass", "warn", "fail"}
    value : float
        The number behind the status (see ``value_label``).
    value_label : str
        What ``value`` is, with its unit.
    summary : str
        One or two sentences: what was measured and what it means.
    details : pandas.DataFrame or None
        The table behind the number.
    figure : matplotlib.figure.Figure or None
        A plot of it.
    """

    key: str
    title: str
    question: str
    status: str
    value: float
    value_label: str
    summary: str
    details: pd.DataFrame | None = None
    figure: object = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


@dataclass
class ChecklistReport:
    """The eight checks, the setup they ran on, and renderings as text and HTML.

    Attributes
    ----------
    checks : list of CheckResult
        In the lecture's order.
    context : dict
        Data set and pipeline: structures, atoms, elements, target, descriptor, pooling, model, CV, run time.
    """

    checks: list
    context: dict = field(default_factory=dict)

    @property
    def counts(self):
        """Number of checks per status, as a dict."""
        return {status: sum(c.status == status for c in self.checks) for status in STATUSES}

    def __getitem__(self, key):
        for check in self.checks:
            if check.key == key:
                return check
        raise KeyError(f"no check {key!r}; the checks are {[c.key for c in self.checks]}")

    def to_frame(self):
        """One row per check: title, status, value, value_label, summary."""
        return pd.DataFrame(
            [{"check": c.key, "title": c.title, "status": c.status, "value": c.value, "value_label": c.value_label,
              "summary": c.summary} for c in self.checks]
        ).set_index("check")

    def summary(self):
        """Plain-text summary for a terminal: one line per check, then the counts."""
        lines = [f"Descriptor quality checklist: {self.context.get('dataset', '')}".rstrip(),
                 f"pipeline: {self.context.get('pipeline', '')}", ""]
        for number, check in enumerate(self.checks, 1):
            lines.append(f"{number}. [{check.status.upper():4s}] {check.title}: {check.value_label} = "
                         f"{_format_number(check.value)}")
            lines.append(f"   {check.summary}")
        counts = self.counts
        lines.append("")
        lines.append(f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed "
                     f"({self.context.get('seconds', float('nan')):.0f} s)")
        return "\n".join(lines)

    def __str__(self):
        return self.summary()

    def to_html(self, path=None):
        """The report as one self-contained HTML page (plots embedded as PNG), written to ``path`` if given.

        Returns
        -------
        str
            The HTML text.
        """
        from ._html import render_report

        text = render_report(self)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text


def _format_number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"


# ---------------------------------------------------------------- helpers
def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _cutoff_parameter(descriptor):
    params = descriptor.get_params(deep=False)
    for name in _CUTOFF_PARAMETERS:
        if name in params and isinstance(params[name], Real):
            return name
    return None


def _to_ase(frame):
    import ase

    cell = np.where(np.isfinite(frame.cell), frame.cell, 0.0)
    return ase.Atoms(numbers=frame.numbers, positions=frame.positions, cell=cell, pbc=frame.pbc)


def _cv_mae(X, y, steps, splitter, n_jobs):
    pipeline = make_pipeline(*[clone(step) for step in steps])
    errors = -cross_val_score(pipeline, X, y, cv=splitter, scoring="neg_mean_absolute_error", n_jobs=n_jobs)
    return float(errors.mean()), float(errors.std())


def _default_model():
    return RidgeCV(alphas=np.logspace(-8, 3, 12))


def _audit_sample(frames, count, periodic_only):
    """Indices of up to ``count`` of the smallest structures (periodic ones if asked), at most 64 atoms if possible."""
    order = sorted(range(len(frames)), key=lambda i: (len(frames[i].numbers), i))
    if periodic_only:
        order = [i for i in order if frames[i].pbc.any()]
    small = [i for i in order if len(frames[i].numbers) <= 64] or order[:1]
    return small[:count]


def _composition_key(frame):
    numbers, counts = np.unique(frame.numbers, return_counts=True)
    divisor = np.gcd.reduce(counts)
    return tuple(zip(numbers.tolist(), (counts // divisor).tolist()))


def _target_kind(target, y, n_atoms):
    """'intensive' or 'extensive', and the evidence: correlation of y with the number of atoms."""
    if target not in ("auto", "intensive", "extensive"):
        raise ValueError(f"target must be 'auto', 'intensive' or 'extensive', got {target!r}")
    spread = np.std(n_atoms)
    corr = float(np.corrcoef(y, n_atoms)[0, 1]) if spread > 0 and np.std(y) > 0 else 0.0
    if target != "auto":
        return target, corr
    return ("extensive" if abs(corr) > 0.8 else "intensive"), corr


# ------------------------------------------------------------------ checks
def _periodic_check(descriptor, frames, count):
    from .periodic import periodic_image_audit

    rows = []
    for index in _audit_sample(frames, count, periodic_only=True):
        frame = frames[index]
        repeat = tuple(2 if p else 1 for p in frame.pbc)
        table = periodic_image_audit(descriptor, frame, repeat=repeat)
        rows.append({"structure": index, "n_atoms": len(frame.numbers), "repeat": "x".join(map(str, repeat)),
                     "max_rel_deviation": float(table["max_rel_deviation"].max()),
                     "passed": bool(table.attrs["passed"])})
    if not rows:
        return dict(status="warn", value=float("nan"), summary="No periodic structure in the data: periodic "
                    "images were not tested (they cannot matter here).", details=None, figure=None)
    details = pd.DataFrame(rows).set_index("structure")
    worst = float(details["max_rel_deviation"].max())
    ok = bool(details["passed"].all())
    fig, ax = figure((5.5, 2.8))
    ax.bar([str(i) for i in details.index], np.maximum(details["max_rel_deviation"], 1e-17),
           color=["tab:green" if p else "tab:red" for p in details["passed"]])
    ax.set_yscale("log")
    ax.set_xlabel("structure (index in the input)")
    ax.set_ylabel("max relative deviation")
    ax.set_title("cell vs supercell, every atom")
    fig.tight_layout()
    summary = (f"{len(rows)} periodic cells against their supercells: largest relative deviation "
               f"{worst:.1e}; " + ("image handling is right." if ok else
                                   "atoms lose neighbours across the cell boundary: the image handling is wrong, "
                                   "not the descriptor."))
    return dict(status="pass" if ok else "fail", value=worst, summary=summary, details=details, figure=fig)


def _round_trip_check(frames, max_structures):
    import ase.io
    from ase.data import atomic_masses
    from ase.formula import Formula

    rows = []
    sample = range(len(frames)) if len(frames) <= max_structures else np.linspace(
        0, len(frames) - 1, max_structures).astype(int)
    for index in sample:
        original = _to_ase(frames[index])
        first = io.StringIO()
        ase.io.write(first, original, format="extxyz")
        read1 = ase.io.read(io.StringIO(first.getvalue()), format="extxyz")
        second = io.StringIO()
        ase.io.write(second, read1, format="extxyz")
        read2 = ase.io.read(io.StringIO(second.getvalue()), format="extxyz")
        counts = dict(zip(*np.unique(read1.numbers, return_counts=True)))
        formula = Formula(read1.get_chemical_formula()).count()
        from ase.data import atomic_numbers

        formula_counts = {atomic_numbers[s]: n for s, n in formula.items()}
        positions_drift = float(np.abs(read1.positions - original.positions).max())
        stable = (np.array_equal(read1.numbers, read2.numbers) and np.array_equal(read1.positions, read2.positions)
                  and np.array_equal(read1.cell.array, read2.cell.array) and np.array_equal(read1.pbc, read2.pbc))
        same_atoms = np.array_equal(read1.numbers, original.numbers) and np.array_equal(read1.pbc, original.pbc)
        density = float("nan")
        if original.pbc.all():
            volume = abs(np.linalg.det(original.cell.array))
            if volume > 0:
                density = float(atomic_masses[original.numbers].sum() / volume * 1.66053906660)  # g/cm^3
        n = len(original)
        if n > 1:
            from ..neighbors import neighbor_list

            nl = neighbor_list(original.positions, original.cell.array, original.pbc, 3.0)
            shortest = float(nl.distances.min()) if nl.distances.size else float("inf")
        else:
            shortest = float("inf")
        rows.append({"structure": int(index), "n_atoms": n, "formula": original.get_chemical_formula(),
                     "position_drift_A": positions_drift, "idempotent": bool(stable),
                     "counts_match_formula": {int(k): int(v) for k, v in counts.items()} == formula_counts,
                     "same_atoms": bool(same_atoms), "density_g_cm3": density, "shortest_distance_A": shortest})
    details = pd.DataFrame(rows).set_index("structure")
    densities = details["density_g_cm3"].dropna()
    median = float(densities.median()) if len(densities) else float("nan")
    outlier = pd.Series(False, index=details.index)
    if len(densities):
        implausible = (densities < 0.1) | (densities > 30.0)
        far = (densities > 5 * median) | (densities < median / 5)  # a slab with vacuum may halve it
        outlier.loc[densities.index] = implausible | far
    details["density_outlier"] = outlier
    broken = ~(details["idempotent"] & details["counts_match_formula"] & details["same_atoms"]) | (
        details["position_drift_A"] > 1e-5)
    short = details["shortest_distance_A"] < 0.5
    n_bad = int(broken.sum())
    n_flag = int((outlier | short).sum())
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 2.8))
    left, right = fig.subplots(1, 2)
    if len(densities):
        left.hist(densities, bins=30, color="tab:blue")
        left.set_xlabel("mass density (g/cm³)")
    else:
        left.text(0.5, 0.5, "no fully periodic cells", ha="center", va="center", transform=left.transAxes)
    left.set_ylabel("structures")
    finite = details["shortest_distance_A"][np.isfinite(details["shortest_distance_A"])]
    right.hist(finite, bins=30, color="tab:purple")
    right.axvline(0.5, color="tab:red", linestyle="--", linewidth=1)
    right.set_xlabel("shortest interatomic distance (Å)")
    fig.tight_layout()
    drift = float(details["position_drift_A"].max())
    parts = [f"{len(details)} structures written to extended XYZ and read back twice: largest position change "
             f"{drift:.1e} Å, second read identical to the first in {int(details['idempotent'].sum())}, element "
             f"counts equal to the formula in {int(details['counts_match_formula'].sum())}."]
    if len(densities):
        parts.append(f"Densities {densities.min():.2f}-{densities.max():.2f} g/cm³ (median {median:.2f}).")
    if n_flag:
        parts.append(f"{n_flag} structures with an implausible density or atoms closer than 0.5 Å: look at them "
                     "(fractional read as Cartesian coordinates, or a wrong cell, give such values).")
    status = "fail" if n_bad else ("warn" if n_flag else "pass")
    return dict(status=status, value=float(n_bad + n_flag), summary=" ".join(parts), details=details, figure=fig)


def _reading_of_curve(values, mae, default):
    """The lecture's reading of a cutoff scan (slide 45): flat, a sharp drop, falling, rising or chaotic."""
    mae = np.asarray(mae)
    spread = float((mae.max() - mae.min()) / mae.min()) if mae.min() > 0 else float("inf")
    steps = np.diff(mae)
    if spread <= 0.15:
        return "pass", spread, (f"flat: the error changes by {100 * spread:.0f} % over {values[0]:g}-{values[-1]:g} "
                                "Å, so the cutoff is not a fragile choice.")
    total = mae.max() - mae.min()
    drops = -steps
    if drops.max() > 0.6 * total and np.all(np.abs(np.delete(steps, drops.argmax())) <= 0.25 * total):
        at = values[int(drops.argmax()) + 1]
        return "pass", spread, (f"a sharp drop at {at:g} Å, flat elsewhere: a chemistry-relevant length scale; "
                                f"use a cutoff of at least {at:g} Å (now {default:g} Å).")
    if np.all(steps <= 0):
        return "warn", spread, (f"the error keeps falling up to {values[-1]:g} Å ({100 * spread:.0f} % over the "
                                "range): information beyond the cutoff matters; try a larger cutoff or "
                                "long-range features.")
    if np.all(steps >= 0):
        return "warn", spread, (f"the error grows with the cutoff ({100 * spread:.0f} %): long-range clutter "
                                "pollutes the descriptor; locality is doing real work, prefer the smaller cutoff.")
    return ("fail" if spread > 0.5 else "warn"), spread, (
        f"non-monotonic swings of {100 * spread:.0f} %: the descriptor is brittle here (too little data, or "
        "the cutoff sits where neighbour shells overlap).")


def _cutoff_check(descriptor, frames, y, steps, splitter, n_jobs, values):
    from .cutoff import cutoff_scan

    param = _cutoff_parameter(descriptor)
    if param is None:
        return dict(status="warn", value=float("nan"), summary=f"{type(descriptor).__name__} has no cutoff "
                    f"parameter ({', '.join(_CUTOFF_PARAMETERS)}): not scanned.", details=None, figure=None), None
    default = float(descriptor.get_params()[param])
    if values is None:
        values = [default + d for d in (-1.0, -0.5, 0.0, 0.5, 1.0)]
    floor = 1.0
    params = descriptor.get_params(deep=False)
    if param == "rad_cutoff" and isinstance(params.get("ang_cutoff"), Real):
        floor = max(floor, float(params["ang_cutoff"]))
    values = sorted({round(float(v), 6) for v in values if v >= floor})
    if len(values) < 3:
        raise ValueError(f"the cutoff scan needs at least 3 values of {param} >= {floor:g} Å, got {values}")
    pooling, _, model = steps
    table = cutoff_scan(descriptor, frames, y, param=param, values=values, pooling=pooling, model=model,
                        cv=splitter, n_jobs=n_jobs)
    status, spread, reading = _reading_of_curve(table[param].to_numpy(), table["mae"].to_numpy(), default)
    fig, ax = figure((5.5, 3.0))
    ax.errorbar(table[param], table["mae"], yerr=table["mae_std"], marker="o", capsize=3)
    ax.axvline(default, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(f"{param} (Å)")
    ax.set_ylabel("cross-validated MAE")
    ax.set_title("cutoff scan (dotted: the descriptor's cutoff)")
    fig.tight_layout()
    summary = f"{param} from {values[0]:g} to {values[-1]:g} Å: {reading}"
    return dict(status=status, value=spread, summary=summary, details=table.set_index(param), figure=fig), table


def _invariance_check(descriptor, frames, count, random_state):
    from .invariance import invariance_audit

    sample = [frames[i] for i in _audit_sample(frames, count, periodic_only=False)]
    table = invariance_audit(descriptor, sample, n_rotations=2, random_state=random_state)
    worst = float(table["max_rel_deviation"].max())
    ok = bool(table.attrs["passed"])
    by_kind = table.groupby(level=0)["max_rel_deviation"].max()
    fig, ax = figure((5.5, 2.8))
    ax.bar(by_kind.index.astype(str), np.maximum(by_kind.to_numpy(), 1e-17),
           color="tab:green" if ok else "tab:red")
    ax.set_yscale("log")
    ax.set_ylabel("max relative deviation")
    ax.set_title("per-atom descriptor after each transformation")
    fig.tight_layout()
    summary = (f"{len(sample)} structures rotated (random R, twice), translated and permuted: largest relative "
               f"deviation {worst:.1e}" + ("." if ok else "; the descriptor is NOT invariant: do not use it."))
    return dict(status="pass" if ok else "fail", value=worst, summary=summary, details=table, figure=fig)


def _pooling_check(atomic, y, kind, correlation, main_pooling, model, splitter, n_jobs):
    from ..pooling import HistogramPooling, MeanPooling, SpeciesPooling, SumPooling

    candidates = {"mean": MeanPooling(), "sum": SumPooling(), "histogram": HistogramPooling(n_bins=8),
                  "species (mean per element)": SpeciesPooling()}
    rows = []
    for name, pooling in candidates.items():
        mae, std = _cv_mae(atomic, y, [pooling, StandardScaler(), model], splitter, n_jobs)
        rows.append({"pooling": name, "mae": mae, "mae_std": std})
    mae, std = _cv_mae(atomic, y, [main_pooling, StandardScaler(), model], splitter, n_jobs)
    main_name = f"yours: {type(main_pooling).__name__}"
    rows.append({"pooling": main_name, "mae": mae, "mae_std": std})
    details = pd.DataFrame(rows).set_index("pooling")
    best_name = details["mae"].idxmin()
    best = float(details["mae"].min())
    ratio = mae / best if best > 0 else 1.0
    main_is_mean = type(main_pooling).__name__ in ("MeanPooling",) or (
        type(main_pooling).__name__ == "MomentGSD")
    mismatch = kind == "extensive" and main_is_mean and details.loc["sum", "mae"] < mae
    status = "pass" if ratio <= 1.1 and not mismatch else "warn"
    fig, ax = figure((5.5, 3.0))
    colours = ["tab:orange" if name == main_name else "tab:blue" for name in details.index]
    ax.barh(details.index, details["mae"], xerr=details["mae_std"], color=colours)
    ax.invert_yaxis()
    ax.set_xlabel("cross-validated MAE")
    ax.set_title(f"pooling rules ({kind} target)")
    fig.tight_layout()
    evidence = f"correlation of the target with the number of atoms {correlation:+.2f}"
    advice = ""
    if mismatch:
        advice = " A mean over atoms cannot follow an extensive target: pool by sum, or predict the target per atom."
    elif ratio > 1.1:
        advice = f" {best_name} pooling does better by {100 * (ratio - 1):.0f} %: consider it."
    summary = (f"The target looks {kind} ({evidence}). Best pooling: {best_name} (MAE {best:.4g}); yours "
               f"{mae:.4g}.{advice}")
    return dict(status=status, value=ratio, summary=summary, details=details, figure=fig), mae


def _aliasing_check(frames, y, species, model_mae, similarity_threshold, n_jobs, max_pairs, random_state):
    from ..local import SOAP
    from ..models import structure_kernel

    groups = {}
    for index, frame in enumerate(frames):
        groups.setdefault(_composition_key(frame), []).append(index)
    groups = {key: members for key, members in groups.items() if len(members) > 1}
    if not groups:
        return dict(status="pass", value=0.0, summary="No two structures share a composition: polymorph aliasing "
                    "cannot occur in this data.", details=None, figure=None)
    soap = SOAP(species=species, r_cut=5.0, n_max=4, l_max=3, sigma=0.5, n_jobs=n_jobs)
    members = sorted({i for group in groups.values() for i in group})
    position = {index: k for k, index in enumerate(members)}
    atomic = soap.fit_transform([frames[i] for i in members])
    rng = np.random.default_rng(random_state)
    rows = []
    for key, group in groups.items():
        subset = atomic[[position[i] for i in group]]
        gram = structure_kernel(subset, zeta=2, normalize=True)
        norm = np.sqrt(np.diag(gram))
        similarity = gram / np.outer(norm, norm)
        first, second = np.triu_indices(len(group), 1)
        if first.size > max_pairs:
            keep = rng.choice(first.size, max_pairs, replace=False)
            first, second = first[keep], second[keep]
        label = "".join(f"{_symbol(z)}{'' if c == 1 else c}" for z, c in key)
        for a, b in zip(first, second):
            rows.append({"composition": label, "structure_a": group[a], "structure_b": group[b],
                         "similarity": float(similarity[a, b]), "target_difference": float(abs(y[group[a]] - y[group[b]]))})
    details = pd.DataFrame(rows)
    differ = max(2.0 * model_mae, 1e-12)
    aliased = (details["similarity"] >= similarity_threshold) & (details["target_difference"] > differ)
    details["aliased"] = aliased
    details = details.sort_values(["aliased", "similarity"], ascending=False).reset_index(drop=True)
    n_aliased = int(aliased.sum())
    fraction = n_aliased / len(details)
    fig, ax = figure((5.5, 3.2))
    distance = np.maximum(1.0 - details["similarity"].to_numpy(), 1e-16)
    ax.scatter(distance, details["target_difference"], s=6, c=np.where(details["aliased"], "tab:red", "tab:blue"))
    ax.set_xscale("log")
    ax.axvline(1.0 - similarity_threshold, color="grey", linestyle="--", linewidth=1)
    ax.axhline(differ, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("1 - SOAP-kernel similarity")
    ax.set_ylabel("|target difference|")
    ax.set_title("same-composition pairs (red: aliased)")
    fig.tight_layout()
    summary = (f"{len(details)} pairs of same-composition structures in {len(groups)} compositions; {n_aliased} "
               f"have a SOAP-kernel similarity >= {similarity_threshold} while their targets differ by more than "
               f"twice the model's error ({differ:.3g}).")
    if n_aliased:
        top = details[details["aliased"]].head(3)
        summary += " Worst: " + "; ".join(f"{r.structure_a} and {r.structure_b} ({r.composition})"
                                          for r in top.itertuples()) + (
            ". Mitigate with histogram pooling, global features (cell, dimensionality) or a framework-aware model.")
    status = "pass" if n_aliased == 0 else ("warn" if fraction <= 0.05 else "fail")
    return dict(status=status, value=float(n_aliased), summary=summary, details=details.head(50), figure=fig)


def _symbol(z):
    from ase.data import chemical_symbols

    return chemical_symbols[z]


def _long_range_check(frames, y, species, cutoff_table, param, model_mae, baseline_mae, pooling, model, splitter,
                      n_jobs):
    from ..local import SOAP

    rows = []
    cutoff_gain = float("nan")
    if cutoff_table is not None:
        first, last = float(cutoff_table["mae"].iloc[0]), float(cutoff_table["mae"].iloc[-1])
        cutoff_gain = 1.0 - min(cutoff_table["mae"].iloc[1:].min(), last) / first
        rows.append({"comparison": f"{param} {cutoff_table[param].iloc[0]:g} -> {cutoff_table[param].iloc[-1]:g} Å",
                     "mae_before": first, "mae_after": float(cutoff_table["mae"].iloc[1:].min()),
                     "gain": cutoff_gain})
    maes = {}
    for order, l_max in (("2-body (SOAP l_max=0)", 0), ("3-body (SOAP l_max=3)", 3)):
        atomic = SOAP(species=species, r_cut=5.0, n_max=4, l_max=l_max, sigma=0.5, n_jobs=n_jobs).fit_transform(frames)
        maes[order] = _cv_mae(atomic, y, [pooling, StandardScaler(), model], splitter, n_jobs)[0]
    two, three = maes.values()
    body_gain = 1.0 - three / two if two > 0 else 0.0
    rows.append({"comparison": "body order 2 -> 3 (SOAP, r_cut 5 Å)", "mae_before": two, "mae_after": three,
                 "gain": body_gain})
    details = pd.DataFrame(rows).set_index("comparison")
    gain = float(np.nanmax(details["gain"].to_numpy()))
    captured = baseline_mae > 0 and model_mae < 0.3 * baseline_mae
    status = "pass" if gain >= 0.05 or captured else "warn"
    fig, ax = figure((5.5, 2.8))
    ax.barh(details.index, 100 * details["gain"], color=["tab:green" if g >= 0.05 else "tab:orange"
                                                          for g in details["gain"]])
    ax.axvline(5, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("error reduction (%)")
    ax.set_title("does more range or body order help?")
    fig.tight_layout()
    if status == "pass":
        summary = (f"The error falls by {100 * gain:.0f} % with a longer cutoff or a higher body order"
                   + (", and the model is far below the composition baseline" if captured else "")
                   + ": local structure carries the target.")
    else:
        ratio = model_mae / baseline_mae if baseline_mae > 0 else float("nan")
        summary = (f"The error falls by at most {100 * gain:.0f} % with a longer cutoff or a higher body order, at "
                   f"{100 * ratio:.0f} % of the composition-only error: either the target depends on physics "
                   "beyond the cutoff (band dispersion, magnetic order, electrostatics, connectivity), or the "
                   "model, not the descriptor, limits the error (a more flexible model tells which). If the "
                   "former, augment with global features or use a model that sees beyond the cutoff, and widen "
                   "the error bars.")
    return dict(status=status, value=gain, summary=summary, details=details, figure=fig)


def _baseline_check(frames, y, model_mae, model, splitter, n_jobs, baseline_features):
    dummy = float(np.mean([np.abs(y[test] - y[train].mean()).mean() for train, test in splitter.split(y)]))
    rows = [{"model": "mean of the training targets", "mae": dummy}]
    baseline = float("inf")
    for name, transformer in baseline_features:
        mae = _cv_mae(frames, y, [transformer, StandardScaler(), model], splitter, n_jobs)[0]
        rows.append({"model": f"composition: {name}", "mae": mae})
        baseline = min(baseline, mae)
    rows.append({"model": "your descriptor pipeline", "mae": model_mae})
    details = pd.DataFrame(rows).set_index("model")
    ratio = model_mae / baseline if baseline > 0 else float("inf")
    status = "pass" if ratio < 0.9 else ("warn" if ratio < 1.0 else "fail")
    fig, ax = figure((5.5, 2.6))
    ax.barh(details.index, details["mae"], color=["grey"] + ["tab:blue"] * len(baseline_features) + ["tab:orange"])
    ax.invert_yaxis()
    ax.set_xlabel("cross-validated MAE")
    ax.set_title("composition-only baseline")
    fig.tight_layout()
    verdict = ("beats it clearly" if ratio < 0.9 else "barely beats it" if ratio < 1.0 else
               "does NOT beat it: the structural descriptor adds nothing the composition does not already give")
    summary = (f"Composition-only MAE {baseline:.4g} (mean predictor {dummy:.4g}); the descriptor pipeline's "
               f"{model_mae:.4g} is {100 * ratio:.0f} % of it and {verdict}.")
    return dict(status=status, value=ratio, summary=summary, details=details, figure=fig), baseline


def _baseline_transformers(species):
    from ..composition import ElementFractions

    transformers = [("element fractions", ElementFractions(species=species))]
    try:
        from ..composition import ElementProperty
    except ImportError:
        return transformers
    transformers.append(("Magpie element-property statistics", ElementProperty()))
    return transformers


# -------------------------------------------------------------------- main
def checklist(
    structures,
    y,
    descriptor=None,
    *,
    pooling=None,
    model=None,
    target="auto",
    cutoff_values=None,
    cv=5,
    random_state=0,
    n_jobs=None,
    n_audit_structures=3,
    max_round_trip=200,
    similarity_threshold=0.999,
    max_pairs_per_composition=5000,
    dataset_name=None,
):
    """Run the eight checks of the lecture's quality checklist on a data set and a descriptor pipeline.

    The pipeline is ``descriptor -> pooling -> StandardScaler -> model``,
    scored by the mean absolute error of shuffled K-fold cross-validation.
    Pelz, Materials Genomics, Unit 6, §F, slide 49 ("these eight checks
    matter more than the choice between ACSF and SOAP").

    Parameters
    ----------
    structures : list of structures
        ``ase.Atoms``, pymatgen structures or :class:`skdesc.Frame` (at least ``2 cv``).
    y : array-like of shape (n_structures,)
        The target, e.g. energy per atom (intensive) or total energy (extensive).
    descriptor : LocalDescriptor, default=None
        ``None`` is ``ChebyshevLAED(rad_cutoff=6, rad_order=10, ang_cutoff=3, ang_order=4)``.
    pooling : transformer, default=None
        Per-atom to per-structure step; ``None`` is ``MeanPooling()`` for an
        intensive and ``SumPooling()`` for an extensive target.
    model : regressor, default=None
        ``None`` is ``RidgeCV(alphas=logspace(-8, 3, 12))``.
    target : {"auto", "intensive", "extensive"}, default="auto"
        ``"auto"``: extensive if the target's correlation with the number of
        atoms exceeds 0.8 in magnitude.
    cutoff_values : sequence of float, default=None
        Cutoffs of the scan, in Å; ``None`` is the descriptor's cutoff
        ``-1, -0.5, 0, +0.5, +1`` Å.
    cv : int, default=5
        Folds (shuffled, seeded by ``random_state``).
    random_state : int, default=0
        Seeds the folds, the random rotations and pair sampling.
    n_jobs : int, default=None
        Threads of the descriptors and parallel folds.
    n_audit_structures : int, default=3
        Structures (the smallest) of the periodic-image and invariance audits.
    max_round_trip : int, default=200
        Structures (evenly spaced) of the parser round trip.
    similarity_threshold : float, default=0.999
        Normalised SOAP-kernel similarity (zeta = 2, averaged over atom pairs)
        from which two same-composition structures count as aliased if their
        targets differ by more than twice the model's MAE.
    max_pairs_per_composition : int, default=5000
        Pairs sampled per composition for the aliasing check.
    dataset_name : str, default=None
        Shown in the report's title.

    Returns
    -------
    ChecklistReport

    Examples
    --------
    >>> from skdesc.audit import checklist
    >>> from skdesc.datasets import load_demo
    >>> structures, y = load_demo()
    >>> report = checklist(structures[::3], y[::3])   # doctest: +SKIP
    >>> print(report.summary())                       # doctest: +SKIP
    """
    from ..local import ChebyshevLAED
    from ..local.base import LocalDescriptor
    from ..pooling import MeanPooling, SumPooling

    start = time.perf_counter()
    cv = _check_positive_int(cv, "cv", 2)
    n_audit_structures = _check_positive_int(n_audit_structures, "n_audit_structures")
    max_round_trip = _check_positive_int(max_round_trip, "max_round_trip")
    max_pairs_per_composition = _check_positive_int(max_pairs_per_composition, "max_pairs_per_composition")
    if not isinstance(similarity_threshold, Real) or not 0 < similarity_threshold < 1:
        raise ValueError(f"similarity_threshold must be a number in (0, 1), got {similarity_threshold!r}")
    frames = to_frames(structures)
    if len(frames) < 2 * cv:
        raise ValueError(f"the checklist needs at least 2 cv = {2 * cv} structures for {cv}-fold cross-validation, "
                         f"got {len(frames)}")
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (len(frames),):
        raise ValueError(f"y must have one value per structure: shape ({len(frames)},), got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"y has {int((~np.isfinite(y)).sum())} NaN or infinite values; drop those structures")
    descriptor = (ChebyshevLAED(rad_cutoff=6.0, rad_order=10, ang_cutoff=3.0, ang_order=4)
                  if descriptor is None else descriptor)
    if not isinstance(descriptor, LocalDescriptor):
        raise TypeError(f"descriptor must be a skdesc local descriptor (e.g. ChebyshevLAED, SOAP), got "
                        f"{type(descriptor).__name__}")
    if n_jobs is not None and "n_jobs" in descriptor.get_params(deep=False):
        descriptor = clone(descriptor).set_params(n_jobs=n_jobs)
    n_atoms = np.array([len(f.numbers) for f in frames])
    kind, correlation = _target_kind(target, y, n_atoms)
    pooling = (SumPooling() if kind == "extensive" else MeanPooling()) if pooling is None else pooling
    model = _default_model() if model is None else model
    splitter = KFold(cv, shuffle=True, random_state=random_state)
    species = sorted({int(z) for f in frames for z in np.unique(f.numbers)})
    results = {}

    results["parser_round_trip"] = _round_trip_check(frames, max_round_trip)
    results["periodic_images"] = _periodic_check(descriptor, frames, n_audit_structures)
    results["invariances"] = _invariance_check(descriptor, frames, n_audit_structures, random_state)
    atomic = clone(descriptor).fit_transform(frames)
    model_mae, _ = _cv_mae(atomic, y, [pooling, StandardScaler(), model], splitter, None)
    results["composition_baseline"], baseline_mae = _baseline_check(
        frames, y, model_mae, model, splitter, None, _baseline_transformers(species))
    results["pooling"], _ = _pooling_check(atomic, y, kind, correlation, pooling, model, splitter, None)
    results["cutoff_sensitivity"], cutoff_table = _cutoff_check(
        descriptor, frames, y, [pooling, StandardScaler(), model], splitter, None, cutoff_values)
    results["polymorph_aliasing"] = _aliasing_check(frames, y, species, model_mae, float(similarity_threshold),
                                                    n_jobs, max_pairs_per_composition, random_state)
    results["long_range"] = _long_range_check(frames, y, species, cutoff_table, _cutoff_parameter(descriptor),
                                              model_mae, baseline_mae, pooling, model, splitter, n_jobs)
    checks = []
    for key, title, question in CHECKS:
        outcome = results[key]
        checks.append(CheckResult(key=key, title=title, question=question, value_label=_VALUE_LABELS[key],
                                  **outcome))
    elements = ", ".join(_symbol(z) for z in species)
    context = {
        "dataset": dataset_name or f"{len(frames)} structures",
        "n_structures": len(frames),
        "n_atoms": int(n_atoms.sum()),
        "atoms_per_structure": f"{n_atoms.min()}-{n_atoms.max()}",
        "elements": elements,
        "periodic": int(sum(f.pbc.any() for f in frames)),
        "target": f"{kind} (correlation with the number of atoms {correlation:+.2f}); mean {y.mean():.4g}, "
                  f"std {y.std():.4g}",
        "pipeline": f"{_short(descriptor)} -> {_short(pooling)} -> StandardScaler -> {_short(model)}",
        "cross-validation": f"{cv}-fold, shuffled (random_state={random_state}); MAE {model_mae:.4g}",
        "seconds": time.perf_counter() - start,
    }
    return ChecklistReport(checks=checks, context=context)


_VALUE_LABELS = {
    "periodic_images": "max relative deviation",
    "parser_round_trip": "structures with problems",
    "cutoff_sensitivity": "relative MAE spread over the scan",
    "invariances": "max relative deviation",
    "pooling": "your MAE / best pooling's MAE",
    "polymorph_aliasing": "aliased same-composition pairs",
    "long_range": "largest error reduction (fraction)",
    "composition_baseline": "your MAE / composition-only MAE",
}


def _short(estimator):
    """One-line repr, arrays shortened to their range (RidgeCV's alphas would fill a line)."""
    import re

    text = " ".join(repr(estimator).split())

    def shorten(match):
        numbers = [float(v) for v in re.findall(r"[-+0-9.e]+", match.group(1))]
        if not numbers:
            return match.group(0)
        return f"[{min(numbers):g} ... {max(numbers):g}, {len(numbers)} values]"

    return re.sub(r"array\(\[([^\]]*)\]\)", shorten, text)
