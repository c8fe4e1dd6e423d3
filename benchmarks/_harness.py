"""What every benchmark script shares: options, timing, data, tables, JSON.

A script builds its parser with :func:`parser`, which adds the common options

* ``--quick``: shrink every size so that the script runs in seconds once the
  numba kernels are compiled (what the test suite runs, to keep the scripts
  working); the script itself decides the small sizes;
* ``--json PATH``: also write every table and check printed to ``PATH``;
* ``--data-dir DIR``: folder of the shared data sets (default
  ``../shared/data`` next to the repository),

then opens a :class:`Report`, which prints the machine load, collects the
tables (printed as markdown as they come) and the target checks, and writes
the JSON at the end.  :func:`best_times` is the one timing loop; data sets
are read with :func:`read_extxyz_gz`, which raises :class:`Skip` (printed as
a clean "skipped" line by the report) when a file or an optional reference
library is missing.
"""

import argparse
import gc
import gzip
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("SKDESC_SHARED", ROOT.parent / "shared")) / "data"

# glibc keeps freed memory in the process with these (read at start-up, hence the re-exec):
# a fresh output array otherwise costs a page fault per 4 KiB page, which in a virtual
# machine that hands freed pages back to the host costs 10-30x more than usual
POOLED_MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 * 2**30), "MALLOC_ARENA_MAX": "1"}


class Skip(Exception):
    """A measurement that cannot run here (missing data set or reference library)."""


# ----------------------------------------------------------------- options
def parser(doc):
    """An ``argparse`` parser described by the first line of ``doc``, with the common options."""
    result = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    result.add_argument("--quick", action="store_true",
                        help="small sizes: the whole script runs in seconds after numba compilation")
    result.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write the tables and checks to this JSON file")
    result.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder of the shared data sets")
    return result


def quick(args, **sizes):
    """In quick mode, cap each named option of ``args`` at the given value."""
    if args.quick:
        for name, cap in sizes.items():
            value = getattr(args, name)
            if isinstance(value, list):
                setattr(args, name, value[: max(1, cap)] if isinstance(cap, int) else cap)
            else:
                setattr(args, name, min(value, cap))
    return args


def reexec_with_pooled_malloc(script, argv):
    """Re-execute ``script`` with :data:`POOLED_MALLOC` set, unless it already is (does not return)."""
    if any(os.environ.get(k) != v for k, v in POOLED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable, os.path.abspath(script), *argv], {**os.environ, **POOLED_MALLOC})


def system_malloc_env():
    """The environment without :data:`POOLED_MALLOC`, for child processes that measure memory."""
    return {k: v for k, v in os.environ.items() if k not in POOLED_MALLOC}


# ----------------------------------------------------------------- timing
def best_times(funcs, repeat, collect=False):
    """Shortest wall time of each function over ``repeat`` rounds, in seconds.

    The functions run in turn within each round, so all of them see the same
    conditions when other processes share the machine.  With ``collect``, the
    garbage collector runs before each call and the result is dropped before
    the next one.

    Returns
    -------
    ndarray of shape (len(funcs),)
    """
    times = np.full((max(1, repeat), len(funcs)), np.inf)
    for r in range(times.shape[0]):
        for k, func in enumerate(funcs):
            if collect:
                gc.collect()
            start = time.perf_counter()
            result = func()
            times[r, k] = time.perf_counter() - start
            del result
    return times.min(axis=0)


class ThreadProbe:
    """What a second core delivers on this machine now: a compute-only loop on one and two threads.

    ``one()`` runs ``work`` iterations of a numba loop (no memory traffic:
    eight independent multiply-add chains in registers) on one thread;
    ``two()`` runs the same total work split over two threads.  Their time
    ratio is the parallel speed-up the hardware gives at best; on a virtual
    machine whose second vCPU is shared with other tenants it moves between
    about 1.0 and 2.0 within minutes.  Time them among the measured functions
    (:func:`best_times`) so that they see the same conditions.
    """

    def __init__(self, seconds=0.1):
        import threading

        from numba import njit

        @njit(nogil=True, cache=False)
        def spin(n):
            a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 1.0
            for _ in range(n):
                a0 = a0 * 0.9999999 + 1e-7
                a1 = a1 * 0.9999998 + 1e-7
                a2 = a2 * 0.9999997 + 1e-7
                a3 = a3 * 0.9999996 + 1e-7
                a4 = a4 * 0.9999995 + 1e-7
                a5 = a5 * 0.9999994 + 1e-7
                a6 = a6 * 0.9999993 + 1e-7
                a7 = a7 * 0.9999992 + 1e-7
            return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7

        self._threading = threading
        self._spin = spin
        spin(10)
        start = time.perf_counter()
        spin(1_000_000)
        per_iteration = max(time.perf_counter() - start, 1e-9) / 1_000_000
        self.work = 2 * max(1, int(seconds / per_iteration) // 2)

    def one(self):
        return self._spin(self.work)

    def two(self):
        threads = [self._threading.Thread(target=self._spin, args=(self.work // 2,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def best_time(func, repeat, collect=False):
    """:func:`best_times` of one function, in seconds."""
    return float(best_times([func], repeat, collect)[0])


def machine():
    """Cores and the 1-minute load average, one line."""
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"


def busy_seconds():
    """CPU seconds used by the whole machine and by this process so far (Linux)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
    own = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def versions(names=("skdesc", "dscribe", "featomic", "numba", "numpy", "ase")):
    """Installed versions of ``names`` and the git commit of this checkout, one line."""
    import importlib.metadata as md

    parts = []
    for name in names:
        try:
            if name == "skdesc":  # run from the checkout, usually not installed
                import skdesc

                parts.append(f"skdesc {skdesc.__version__} ({Path(skdesc.__file__).parent})")
            else:
                parts.append(f"{name} {md.version(name)}")
        except (md.PackageNotFoundError, ImportError):
            parts.append(f"{name} missing")
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        if head:
            parts.append(f"git {head}{' (modified files)' if dirty else ''}")
    except OSError:
        pass
    return ", ".join(parts)


# ------------------------------------------------------------------- data
def read_extxyz_gz(path, count=None):
    """First ``count`` frames (all if None) of a gzipped extended XYZ file, as ``ase.Atoms``.

    The file is decompressed into memory first: ASE's extxyz reader seeks
    backwards, which is very slow on a gzip stream.

    Raises
    ------
    Skip
        If the file does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise Skip(f"data set not found: {path} (see --data-dir)")
    import ase.io

    with gzip.open(path, "rt") as handle:
        text = handle.read()
    index = ":" if count is None else f":{count}"
    return ase.io.read(io.StringIO(text), index=index, format="extxyz")


def optional(module):
    """Import an optional reference library, or raise :class:`Skip` naming it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise Skip(f"{module} is not available ({error})") from None


# ----------------------------------------------------------------- report
def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "NO"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            return "n/a"
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def markdown_table(columns, rows):
    """Lines of a markdown table; floats get 3 decimals (3 significant digits when tiny or huge)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return lines


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


class Report:
    """Collects and prints the tables and target checks of one benchmark run.

    Parameters
    ----------
    name : str
        The benchmark (``"bench_laed"``...), recorded in the JSON.
    args : argparse.Namespace
        Parsed options (from :func:`parser`); recorded in the JSON.
    title : str
        First line printed, followed by the machine load and the versions.
    """

    def __init__(self, name, args, title):
        self.name = name
        self.args = args
        self.start = time.perf_counter()
        self.tables = []
        self.checks = []
        self.skipped = []
        self.notes = []
        mode = " [quick mode: small sizes, numbers not representative]" if args.quick else ""
        print(f"{title}{mode}\n{machine()}; {versions()}\n", flush=True)

    def note(self, text):
        """Print a line and keep it for the JSON."""
        self.notes.append(text)
        print(text, flush=True)

    def skip(self, what, reason):
        """Print a clean "skipped" line (``reason`` is usually a :class:`Skip`)."""
        self.skipped.append({"what": what, "reason": str(reason)})
        print(f"skipped: {what}: {reason}", flush=True)

    def table(self, title, columns, rows, footnote=None):
        """Print a markdown table (also when ``rows`` is empty) and keep it for the JSON."""
        rows = [list(row) for row in rows]
        self.tables.append({"title": title, "columns": list(columns), "rows": rows})
        print(f"{title}\n" if title else "", end="")
        print("\n".join(markdown_table(columns, rows)))
        if footnote:
            print(footnote)
        print(flush=True)

    def check(self, name, measured, target, ok, unit=""):
        """Record a target check: ``measured`` (number or text) against ``target`` (text); ``ok`` None: no target."""
        ok = None if ok is None else bool(ok)
        self.checks.append({"check": name, "measured": measured, "unit": unit, "target": target, "met": ok})

    def print_checks(self):
        """Print the target checks as a table."""
        rows = [(c["check"], f"{_cell(c['measured'])}{c['unit']}", c["target"],
                 "" if c["met"] is None else ("ok" if c["met"] else "MISSED")) for c in self.checks]
        self.table("targets", ["check", "measured", "target", "status"], rows)

    def finish(self):
        """Print the run time, write the JSON if asked; returns the exit status 0."""
        seconds = time.perf_counter() - self.start
        missed = [c for c in self.checks if c["met"] is False]
        targets = sum(c["met"] is not None for c in self.checks)
        print(f"{self.name}: {len(missed)} of {targets} targets missed; run time {seconds:.1f} s", flush=True)
        if self.args.json is not None:
            payload = {
                "benchmark": self.name,
                "quick": bool(self.args.quick),
                "machine": machine(),
                "versions": versions(),
                "options": {k: _plain(v) for k, v in vars(self.args).items() if k != "json"},
                "seconds": seconds,
                "tables": self.tables,
                "checks": self.checks,
                "skipped": self.skipped,
                "notes": self.notes,
            }
            self.args.json.parent.mkdir(parents=True, exist_ok=True)
            self.args.json.write_text(json.dumps(payload, indent=1, default=_plain) + "\n")
        return 0
