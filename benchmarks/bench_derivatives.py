"""Cost of SOAP position derivatives: skdesc values vs values + derivatives vs dscribe.

Settings: r_cut 5 Å, sigma 0.5 Å, ``--n-max`` / ``--l-max`` (default 6 / 4),
single thread, best of ``--repeat`` rounds after a warm-up (numba compilation
and first calls are not timed).

* ``qm9``: the first ``--n-qm9`` QM9 molecules (5 elements, not periodic):
  skdesc ``SOAP.transform`` (values), ``SOAP.transform_with_derivatives``
  (values + derivatives) and dscribe's ``SOAP.derivatives(method="analytical",
  attach=True)`` (values + derivatives; its analytical route exists for
  non-periodic systems only).  The largest deviation between the two
  libraries' derivatives is printed.
* ``nbmotaw``: the first ``--n-nbmotaw`` periodic NbMoTaW structures (skdesc
  only; dscribe's derivatives of periodic systems are numerical).

The derivative output is ``3 (n_neighbour_atoms + 1)`` times larger than the
values (one (3, d) block per centre and neighbour atom), so its cost relative
to the values grows with the number of neighbours; the table shows the
average number of (centre, atom) pairs per centre next to the ratio.

Like ``bench_soap.py``, the script re-executes itself with glibc told to keep
freed memory (``MALLOC_MMAP_MAX_=0``, a 64 GiB trim threshold, one arena), so
that the large derivative arrays of both libraries reuse memory instead of
paying a page fault per 4 KiB page on every call; ``--system-malloc`` keeps
the default allocator.

Run: ``PYTHONPATH=. python benchmarks/bench_derivatives.py [--quick] [--json PATH]``;
``--quick``: 10 molecules, one NbMoTaW structure, one round.  Without dscribe
its columns are n/a; a missing data set skips its row.
"""

import sys

import numpy as np

import _harness as h
from skdesc import SOAP

QM9 = "qm9_subset10k_seed0.extxyz.gz"
NBMOTAW = "nbmotaw_li2020_partial.extxyz.gz"
COLUMNS = ["data", "environments", "pairs / centre", "features", "values (s)", "values + derivatives (s)", "ratio",
           "dscribe derivatives (s)", "skdesc speed-up", "max rel. deviation"]


def bench_qm9(args, settings):
    molecules = h.read_extxyz_gz(args.data_dir / QM9, args.n_qm9)
    species = sorted({int(z) for m in molecules for z in m.numbers})
    ours = SOAP(species=species, **settings).fit(molecules)
    ours.transform(molecules[:2]), ours.transform_with_derivatives(molecules[:2])
    t_values = h.best_time(lambda: ours.transform(molecules), args.repeat)
    t_both = h.best_time(lambda: ours.transform_with_derivatives(molecules), args.repeat)
    _, derivatives = ours.transform_with_derivatives(molecules)
    row = ["qm9", sum(len(m) for m in molecules), derivatives.n_pairs / derivatives.n_atoms,
           ours.n_features_out_, t_values, t_both, t_both / t_values]
    try:
        DscribeSOAP = h.optional("dscribe.descriptors").SOAP
    except h.Skip as reason:
        print(f"skipped: dscribe columns: {reason}")
        return row + [np.nan, np.nan, np.nan]
    reference = DscribeSOAP(species=species, periodic=False, **settings)
    reference.derivatives(molecules[:2], method="analytical", attach=True, n_jobs=1)
    t_ref = h.best_time(
        lambda: reference.derivatives(molecules, method="analytical", attach=True, n_jobs=1), args.repeat
    )
    deviation = 0.0
    for s, molecule in enumerate(molecules[:10]):
        expected, _ = reference.derivatives(molecule, method="analytical", attach=True)
        deviation = max(deviation, np.abs(derivatives.to_dense(s) - expected).max() / np.abs(expected).max())
    return row + [t_ref, t_ref / t_both, deviation]


def bench_nbmotaw(args, settings):
    cells = h.read_extxyz_gz(args.data_dir / NBMOTAW, args.n_nbmotaw)
    ours = SOAP(**settings).fit(cells)
    ours.transform(cells[:1]), ours.transform_with_derivatives(cells[:1])
    t_values = h.best_time(lambda: ours.transform(cells), args.repeat)
    t_both = h.best_time(lambda: ours.transform_with_derivatives(cells), args.repeat)
    _, derivatives = ours.transform_with_derivatives(cells)
    return ["nbmotaw", sum(len(c) for c in cells), derivatives.n_pairs / derivatives.n_atoms,
            ours.n_features_out_, t_values, t_both, t_both / t_values, "n/a", "n/a", "n/a"]


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-qm9", type=int, default=100)
    parser.add_argument("--n-nbmotaw", type=int, default=4)
    parser.add_argument("--n-max", type=int, default=6)
    parser.add_argument("--l-max", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--system-malloc", action="store_true", help="keep glibc's default allocator")
    args = h.quick(parser.parse_args(argv), n_qm9=10, n_nbmotaw=1, repeat=1)
    settings = dict(r_cut=5.0, n_max=args.n_max, l_max=args.l_max, sigma=0.5)
    report = h.Report("bench_derivatives", args,
                      f"SOAP nu2, r_cut 5 Å, n_max {args.n_max}, l_max {args.l_max}, sigma 0.5 Å, 1 thread")
    rows = []
    for name, bench in (("qm9", bench_qm9), ("nbmotaw", bench_nbmotaw)):
        try:
            rows.append(bench(args, settings))
        except h.Skip as reason:
            report.skip(f"{name} row", reason)
    report.table("values and position derivatives", COLUMNS,
                 [[f"{v:.3g}" if isinstance(v, float) else v for v in row] for row in rows])
    return report.finish()


if __name__ == "__main__":
    if "--system-malloc" not in sys.argv and not {"-h", "--help"} & set(sys.argv):
        h.reexec_with_pooled_malloc(__file__, sys.argv[1:])
    raise SystemExit(main())
