"""Throughput of ChebyshevLAED and MomentGSD, with dscribe's ACSF as reference.

Measures, on the first ``--n-structures`` TiO2 structures of Artrith & Urban
(2016) from the shared data folder (``../shared/data`` next to the
repository):

* atomic environments per second of ``ChebyshevLAED`` (rad_order 19,
  rad_cutoff 6 Å, ang_order 5, ang_cutoff 3 Å) with one and two threads, and
  of dscribe's ``ACSF`` (r_cut 6 Å, 8 G2 and 8 G4 functions, one process);
* the time of ``MomentGSD.from_sigma("555").transform`` on 10,000 synthetic
  structures of 50 atoms (3 elements, 48 random features per atom).

ACSF evaluates its angular terms within its single 6 Å cutoff, so a
ChebyshevLAED row with ``ang_cutoff=6`` is shown too for equal ranges.

Both descriptors start from ``ase.Atoms`` and are warmed up first, so numba
compilation is not timed.  Each time is the best of ``--repeat`` runs, the
one- and two-thread runs taken in turn; other processes on the machine lower
the two-thread speed-up, so the load average is printed.

Usage::

    python benchmarks/bench_laed.py [--n-structures 1000] [--repeat 3] [--quick] [--json PATH]

``--quick``: 20 structures, one round, 200 synthetic structures for MomentGSD.
Without dscribe the ACSF row and the ratios to it are skipped.
"""


import numpy as np

import _harness as h
from skdesc import AtomicFeatures, ChebyshevLAED, MomentGSD

TIO2 = "tio2_artrith2016.extxyz.gz"

CHEBYSHEV = dict(rad_cutoff=6.0, rad_order=19, ang_cutoff=3.0, ang_order=5)
ACSF_CUTOFF = 6.0
G2 = [(eta, 0.0) for eta in (0.003, 0.01, 0.03, 0.1, 0.3)] + [(1.0, rs) for rs in (2.0, 3.0, 4.0)]
G4 = [(eta, zeta, lam) for eta in (0.005, 0.05) for zeta in (1.0, 4.0) for lam in (-1.0, 1.0)]

TARGET_VS_ACSF = 10.0
TARGET_THREADS = 1.7
TARGET_GSD_SECONDS = 2.0


def bench_local(structures, repeat, report):
    """Environments per second of ChebyshevLAED (1 and 2 threads) and ACSF (None if dscribe is missing)."""
    species = sorted({s for atoms in structures for s in atoms.get_chemical_symbols()})
    try:
        acsf = h.optional("dscribe.descriptors").ACSF(
            species=species, r_cut=ACSF_CUTOFF, g2_params=G2, g4_params=G4, periodic=True)
    except h.Skip as reason:
        report.skip("dscribe ACSF row", reason)
        acsf = None
    cheb = {
        "n_jobs=1": ChebyshevLAED(**CHEBYSHEV, n_jobs=1),
        "n_jobs=2": ChebyshevLAED(**CHEBYSHEV, n_jobs=2),
        "n_jobs=1, ang_cutoff=6": ChebyshevLAED(**{**CHEBYSHEV, "ang_cutoff": 6.0}, n_jobs=1),
    }
    for laed in cheb.values():
        laed.fit(structures)

    # warm up: numba compilation and first-call overheads are not timed
    for laed in cheb.values():
        laed.transform(structures[:20])
    if acsf is not None:
        acsf.create(structures[:20], n_jobs=1)

    n_env = sum(len(atoms) for atoms in structures)
    seconds = h.best_times([lambda laed=laed: laed.transform(structures) for laed in cheb.values()], repeat)
    rows = [
        (f"ChebyshevLAED {name}", laed.n_features_out_, t, n_env / t)
        for (name, laed), t in zip(cheb.items(), seconds)
    ]
    if acsf is not None:
        t = h.best_time(lambda: acsf.create(structures, n_jobs=1), repeat)
        rows.append(("dscribe ACSF n_jobs=1", acsf.get_number_of_features(), t, n_env / t))
    return rows, acsf is not None


def bench_gsd(repeat, n_structures=10_000, n_atoms=50, n_features=48, elements=(8, 22, 38)):
    """Seconds of a Sigma555 transform of synthetic per-atom features, 1 and 2 threads."""
    rng = np.random.default_rng(0)
    atomic = AtomicFeatures(
        rng.normal(size=(n_structures * n_atoms, n_features)),
        np.arange(0, n_structures * n_atoms + 1, n_atoms),
        rng.choice(elements, size=n_structures * n_atoms),
    )
    gsds = [
        MomentGSD.from_sigma("555", element_weights=(-1.0, 1.0, 2.0), n_jobs=n_jobs).fit(atomic)
        for n_jobs in (1, 2)
    ]
    for gsd in gsds:
        gsd.transform(atomic[:10])  # warm up
    seconds = h.best_times([lambda gsd=gsd: gsd.transform(atomic) for gsd in gsds], repeat)
    return [(gsd.n_jobs, gsd.n_features_out_, t) for gsd, t in zip(gsds, seconds)]


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-structures", type=int, default=1000, help="TiO2 structures to use (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; the best counts")
    parser.add_argument("--gsd-structures", type=int, default=10_000, help="synthetic structures of the GSD timing")
    args = h.quick(parser.parse_args(argv), n_structures=20, repeat=1, gsd_structures=200)

    report = h.Report("bench_laed", args, f"ChebyshevLAED and MomentGSD throughput; best of {args.repeat}")
    rows, with_acsf = [], False
    try:
        structures = h.read_extxyz_gz(args.data_dir / TIO2, args.n_structures)
    except h.Skip as reason:
        report.skip("ChebyshevLAED / ACSF rows", reason)
    else:
        n_env = sum(len(atoms) for atoms in structures)
        report.note(f"TiO2 (Artrith & Urban 2016): {len(structures)} structures, {n_env} environments")
        rows, with_acsf = bench_local(structures, args.repeat, report)
    report.table("local descriptors", ["descriptor", "features", "time (s)", "env/s"], rows)

    gsd_rows = bench_gsd(args.repeat, n_structures=args.gsd_structures)
    report.table(f"MomentGSD Sigma555: {args.gsd_structures:,} structures x 50 atoms, 48 features, 3 elements",
                 ["n_jobs", "features", "time (s)"], gsd_rows)

    if rows:
        threads = rows[1][3] / rows[0][3]
        if with_acsf:
            vs_acsf = rows[0][3] / rows[-1][3]
            equal_range = rows[2][3] / rows[-1][3]
            report.check("ChebyshevLAED / ACSF throughput, 1 thread", f"{vs_acsf:.1f}x", ">= 10x",
                         vs_acsf >= TARGET_VS_ACSF)
            report.check("  the same with ang_cutoff=6 Å", f"{equal_range:.1f}x", "", None)
        report.check("ChebyshevLAED 2 threads / 1 thread", f"{threads:.2f}x", ">= 1.7x", threads >= TARGET_THREADS)
    gsd_seconds = gsd_rows[0][2]
    report.check("MomentGSD Sigma555 transform, 1 thread", f"{gsd_seconds:.2f} s", "< 2 s",
                 gsd_seconds < TARGET_GSD_SECONDS)
    report.print_checks()
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
