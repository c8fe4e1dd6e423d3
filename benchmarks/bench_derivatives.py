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

Run: ``PYTHONPATH=. python benchmarks/bench_derivatives.py``.
"""

import argparse
import gzip
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

POOLED_MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 * 2**30), "MALLOC_ARENA_MAX": "1"}

from skdesc import SOAP

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read(name, count):
    import ase.io

    with gzip.open(DATA / name, "rt") as handle:
        return ase.io.read(io.StringIO(handle.read()), index=f":{count}", format="extxyz")


def best_time(function, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-qm9", type=int, default=100)
    parser.add_argument("--n-nbmotaw", type=int, default=4)
    parser.add_argument("--n-max", type=int, default=6)
    parser.add_argument("--l-max", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--system-malloc", action="store_true", help="keep glibc's default allocator")
    args = parser.parse_args()
    if not args.system_malloc and any(os.environ.get(k) != v for k, v in POOLED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], {**os.environ, **POOLED_MALLOC})
    settings = dict(r_cut=5.0, n_max=args.n_max, l_max=args.l_max, sigma=0.5)
    print(f"SOAP nu2, r_cut 5 Å, n_max {args.n_max}, l_max {args.l_max}, sigma 0.5 Å, 1 thread\n")
    print("| data | environments | pairs / centre | features | values (s) | values + derivatives (s) "
          "| ratio | dscribe derivatives (s) | skdesc speed-up | max rel. deviation |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    molecules = read("qm9_subset10k_seed0.extxyz.gz", args.n_qm9)
    species = sorted({int(z) for m in molecules for z in m.numbers})
    ours = SOAP(species=species, **settings).fit(molecules)
    ours.transform(molecules[:2]), ours.transform_with_derivatives(molecules[:2])
    t_values = best_time(lambda: ours.transform(molecules), args.repeat)
    t_both = best_time(lambda: ours.transform_with_derivatives(molecules), args.repeat)
    _, derivatives = ours.transform_with_derivatives(molecules)
    row = ["qm9", sum(len(m) for m in molecules), derivatives.n_pairs / derivatives.n_atoms,
           ours.n_features_out_, t_values, t_both, t_both / t_values]
    try:
        from dscribe.descriptors import SOAP as DscribeSOAP

        reference = DscribeSOAP(species=species, periodic=False, **settings)
        reference.derivatives(molecules[:2], method="analytical", attach=True, n_jobs=1)
        t_ref = best_time(
            lambda: reference.derivatives(molecules, method="analytical", attach=True, n_jobs=1), args.repeat
        )
        deviation = 0.0
        for s, molecule in enumerate(molecules[:10]):
            expected, _ = reference.derivatives(molecule, method="analytical", attach=True)
            deviation = max(deviation, np.abs(derivatives.to_dense(s) - expected).max() / np.abs(expected).max())
        row += [t_ref, t_ref / t_both, deviation]
    except ImportError:
        row += [np.nan, np.nan, np.nan]
    print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |")

    cells = read("nbmotaw_li2020_partial.extxyz.gz", args.n_nbmotaw)
    ours = SOAP(**settings).fit(cells)
    ours.transform(cells[:1]), ours.transform_with_derivatives(cells[:1])
    t_values = best_time(lambda: ours.transform(cells), args.repeat)
    t_both = best_time(lambda: ours.transform_with_derivatives(cells), args.repeat)
    _, derivatives = ours.transform_with_derivatives(cells)
    row = ["nbmotaw", sum(len(c) for c in cells), derivatives.n_pairs / derivatives.n_atoms,
           ours.n_features_out_, t_values, t_both, t_both / t_values, "n/a", "n/a", "n/a"]
    print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
