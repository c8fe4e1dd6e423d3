"""Peak memory of a local descriptor's ``transform`` against the size of its output.

Builds ``--n-structures`` small periodic structures (bcc cells of two atoms of
Nb/Mo, randomly strained and displaced; kept as ``skdesc.Frame`` objects so
that the input itself is small), then measures, in a fresh process for each
size and mode, the resident memory (RSS, sampled every 5 ms by a background
thread) while ``ChebyshevLAED(rad_order=19, ang_order=5)`` transforms them:

* ``output MB``: the returned ``AtomicFeatures`` (values, n_atoms x 40 float64,
  plus offsets and atomic numbers);
* ``peak extra MB``: peak RSS during the call minus RSS before it;
* ``ratio``: peak extra / output.

Two modes per size:

* ``lazy``: ``transform(structures)``.  Only the atomic numbers of the whole
  input are read up front; each batch of at most 4,096 atoms copies and
  validates its own structures, so the ratio tends to 1 plus a bounded chunk.
* ``eager``: ``transform(to_frames(structures))``, a full copy of the input
  first, which is what ``transform`` did before it converted lazily (about
  0.85 kB per small structure on top of the output).

Usage::

    python benchmarks/bench_memory.py [--sizes 10000 30000 100000] [--n-jobs 1] [--modes lazy eager]
                                      [--quick] [--json PATH]

About a minute for 100,000 structures per mode; ``--quick`` measures 2,000
structures only (what the test suite runs).  The child processes use glibc's
default allocator, whatever the parent's.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import _harness as h

COLUMNS = ["mode", "structures", "atoms", "output MB", "peak extra MB", "ratio", "excess MB", "s"]


def _rss_mb():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakSampler(threading.Thread):
    """Highest RSS seen while running (Linux /proc)."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = _rss_mb()
        self._done = threading.Event()

    def run(self):
        while not self._done.is_set():
            self.peak = max(self.peak, _rss_mb())
            time.sleep(self.interval)

    def stop(self):
        self._done.set()
        self.join()
        self.peak = max(self.peak, _rss_mb())


def make_structures(n, seed=0):
    import numpy as np

    from skdesc import Frame

    rng = np.random.default_rng(seed)
    base = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])
    structures = []
    for _ in range(n):
        a = 3.2 + 0.1 * rng.random()
        cell = a * (np.eye(3) + 0.02 * rng.normal(size=(3, 3)))
        positions = base @ cell + 0.05 * rng.normal(size=(2, 3))
        numbers = rng.choice([41, 42], 2)
        structures.append(Frame(positions, numbers.astype(np.int64), cell, np.ones(3, dtype=bool)))
    return structures


def measure(n, n_jobs, mode):
    import gc

    from skdesc import ChebyshevLAED, to_frames

    laed = ChebyshevLAED(rad_order=19, ang_order=5, n_jobs=n_jobs)
    laed.fit(make_structures(4)).transform(make_structures(4))  # compile / load the numba kernels
    structures = make_structures(n)
    gc.collect()
    before = _rss_mb()
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    out = laed.transform(structures if mode == "lazy" else to_frames(structures))
    seconds = time.perf_counter() - start
    sampler.stop()
    output = (out.values.nbytes + out.offsets.nbytes + out.numbers.nbytes) / 2**20
    extra = sampler.peak - before
    row = [mode, n, out.n_atoms, round(output, 1), round(extra, 1), round(extra / output, 2),
           round(extra - output, 1), round(seconds, 1)]
    print(json.dumps(row))


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=["lazy", "eager"], default=["lazy", "eager"])
    parser.add_argument("--single", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.single:
        measure(args.single, args.n_jobs, args.modes[0])
        return 0
    if args.quick:
        args.sizes = [min(args.sizes[0], 2000)]
    report = h.Report("bench_memory", args, "Peak memory of ChebyshevLAED.transform against its output")
    rows = []
    for n in args.sizes:  # a fresh process per size and mode, so that peaks do not carry over
        for mode in args.modes:
            command = [sys.executable, os.path.abspath(__file__), "--single", str(n), "--n-jobs", str(args.n_jobs),
                       "--modes", mode]
            out = subprocess.run(command, check=True, capture_output=True, text=True, env=h.system_malloc_env())
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"[{mode} {n} done]", flush=True)
    report.table(f"ChebyshevLAED(rad_order=19, ang_order=5), n_jobs={args.n_jobs}, 40 features per atom",
                 COLUMNS, rows)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
