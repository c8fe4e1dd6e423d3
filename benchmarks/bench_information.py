"""Time and peak memory of the information-imbalance tools, against DADApy.

(a) One pair Delta(A -> B), Delta(B -> A) for N points, d = 480 features each,
    with skdesc's exact ranks and with DADApy's ``MetricComparisons`` at
    ``maxk = N - 1`` (its exact setting), on the same random data.
    Target: skdesc at least 10x faster.
(b) The full 97 x 96 GSD-space analysis (``GSDSpaceAnalysis``) on TiO2
    structures of Artrith & Urban (2016) from ../shared/data, with the
    paper's Chebyshev LAED (6 Å / order 19 radial, 3 Å / order 5 angular).
    Targets: under 3 minutes on 2 cores, under 4 GB peak memory.

Each measurement runs in a fresh child process so that its peak resident
memory (``ru_maxrss``) is its own; the baseline after imports and data
loading is subtracted and printed too.

Usage::

    python benchmarks/bench_information.py [--n-points 6000] [--n-structures 6000] [--skip-dadapy]
                                           [--quick] [--json PATH]

``--quick``: 300 points, 30 structures.  Without DADApy (it needs numpy < 2)
its row is skipped; without the TiO2 data set, part (b).
"""

import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import _harness as h

TIO2 = "tio2_artrith2016.extxyz.gz"


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _random_pair(n_points, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n_points, 480))
    B = np.column_stack([A[:, :120] + 0.3 * rng.normal(size=(n_points, 120)), rng.normal(size=(n_points, 360))])
    return A, B


def child_pair_skdesc(n_points):
    from skdesc.information import information_imbalance

    A, B = _random_pair(n_points)
    information_imbalance(A[:50], B[:50])  # compile outside the timing
    base = _peak_mb()
    start = time.perf_counter()
    result = information_imbalance(A, B)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base, "result": list(result)}


def child_pair_dadapy(n_points):
    import warnings

    import numpy as np
    from dadapy import MetricComparisons

    A, B = _random_pair(n_points)
    X = np.column_stack([A, B])
    base = _peak_mb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comparisons = MetricComparisons(coordinates=X, maxk=n_points - 1, verbose=False)
        result = comparisons.return_inf_imb_two_selected_coords(list(range(480)), list(range(480, 960)))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base, "result": list(result)}


def child_space(n_structures, path):
    from skdesc import ChebyshevLAED
    from skdesc.information import GSDSpaceAnalysis

    structures = h.read_extxyz_gz(path, n_structures)
    start = time.perf_counter()
    atomic = ChebyshevLAED(rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5, n_jobs=2).fit_transform(
        structures
    )
    laed_seconds = time.perf_counter() - start
    GSDSpaceAnalysis(max_order=2).fit(atomic[:20])  # compile outside the timing
    base = _peak_mb()
    start = time.perf_counter()
    analysis = GSDSpaceAnalysis().fit(atomic)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "laed_seconds": laed_seconds,
        "peak_mb": _peak_mb(),
        "base_mb": base,
        "n_structures": atomic.n_structures,
        "n_pairs": int(len(analysis.imbalance_) * (len(analysis.imbalance_) - 1)),
        "best": analysis.best_,
    }


def run_child(name, *arguments):
    # the child runs in benchmarks/, so put this checkout first on its path (a relative
    # PYTHONPATH would silently import an installed skdesc instead)
    root = str(Path(__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import json, skdesc, bench_information as b; "
        f"assert skdesc.__file__.startswith({root!r}), skdesc.__file__; print(json.dumps(b.{name}(*{arguments!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-points", type=int, default=6000)
    parser.add_argument("--n-structures", type=int, default=6000)
    parser.add_argument("--skip-dadapy", action="store_true")
    parser.add_argument("--skip-space", action="store_true")
    args = h.quick(parser.parse_args(argv), n_points=300, n_structures=30)
    report = h.Report("bench_information", args, "Information imbalance: time and peak memory (each in its own process)")

    rows = []
    ours = run_child("child_pair_skdesc", args.n_points)
    rows.append(("skdesc exact ranks", ours["seconds"], ours["peak_mb"] - ours["base_mb"], ours["peak_mb"],
                 str(ours["result"])))
    if not args.skip_dadapy and importlib.util.find_spec("dadapy") is None:
        report.skip("DADApy row", "dadapy is not installed (pip install '.[dadapy]'; it needs numpy < 2)")
    elif not args.skip_dadapy:
        theirs = run_child("child_pair_dadapy", args.n_points)
        rows.append(("DADApy maxk = N - 1", theirs["seconds"], theirs["peak_mb"] - theirs["base_mb"],
                     theirs["peak_mb"], str(theirs["result"])))
        ratio = theirs["seconds"] / ours["seconds"]
        difference = max(abs(x - y) for x, y in zip(ours["result"], theirs["result"]))
        report.check(f"DADApy / skdesc time (max |difference| {difference:.2e})", f"{ratio:.1f}x", ">= 10x",
                     ratio >= 10)
    report.table(f"(a) one imbalance pair, N = {args.n_points}, d = 480 + 480",
                 ["method", "time (s)", "peak above baseline (MB)", "peak (MB)", "Delta (A -> B, B -> A)"], rows)

    path = args.data_dir / TIO2
    if not args.skip_space and not path.exists():
        report.skip("(b) GSD space", f"data set not found: {path} (see --data-dir)")
    elif not args.skip_space:
        space = run_child("child_space", args.n_structures, str(path))
        peak_gb = space["peak_mb"] / 1024.0
        report.table(f"(b) GSD space, {args.n_structures} TiO2 structures, 97 x 96 ordered pairs",
                     ["ChebyshevLAED (s)", "analysis (s)", "pairs", "structures", "peak memory, whole process (GB)",
                      "best_"],
                     [(space["laed_seconds"], space["seconds"], space["n_pairs"], space["n_structures"], peak_gb,
                       str(space["best"]))])
        report.check("GSD-space analysis time", f"{space['seconds']:.1f} s", "< 180 s", space["seconds"] < 180)
        report.check("GSD-space peak memory", f"{peak_gb:.2f} GB", "< 4 GB", peak_gb < 4)
    report.print_checks()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
