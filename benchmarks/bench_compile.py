"""Cold-start cost of the local descriptors: numba compilation on first use, and cache loading.

For each local descriptor, two fresh Python processes share an EMPTY
temporary ``NUMBA_CACHE_DIR``:

* cold: ``import skdesc`` (timed), the descriptor built with small parameters,
  then the first ``fit_transform`` of a periodic rocksalt NaCl 2x2x2 cubic
  supercell (64 atoms, a = 5.64 Å) and the first ``transform_with_derivatives``
  (descriptors that have derivatives), each timed: numba compiles every
  kernel they reach and writes it to the cache;
* warm: the same in a second process, which loads the kernels from the cache.

``--installed`` measures what a user of ``pip install .`` sees instead: one
fresh process per descriptor that imports the installed package (run from a
temporary folder, ``NUMBA_CACHE_DIR`` unset), so the kernels come from the
cache that ``setup.py`` compiled into the wheel.

Target: cold ``fit_transform`` under 5 s (``--installed``: the first
``fit_transform`` of the installed package).  ``--breakdown`` also prints, for
each cold process, the numba functions compiled and their compile times
(from numba's ``numba:compile`` events): inclusive (with the functions they
compiled in turn) and self (without them); inclusive times of nested
functions overlap, self times add up to the total.

The processes run one after the other; other load on the machine lengthens
compile times, so the load average is printed.  ``--quick`` does one
descriptor (CoordinationNumber) with the caller's numba cache (``NUMBA_CACHE_DIR``
if set, else numba's default next to the sources): it checks that the script
works, without the minutes of compiling into an empty cache (its "cold"
column is then only cold on a first run).

Usage::

    python benchmarks/bench_compile.py [--descriptors SOAP ACSF] [--breakdown] [--top 15] [--quick]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import _harness as h

TARGET_COLD_SECONDS = 5.0

# small parameters: what is compiled does not depend on the sizes
DESCRIPTORS = {
    "ChebyshevLAED": ("ChebyshevLAED", dict(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)),
    "SOAP": ("SOAP", dict(r_cut=4.0, n_max=3, l_max=2, sigma=0.5)),
    "CompressedSOAP(mu2)": ("CompressedSOAP", dict(r_cut=4.0, n_max=3, l_max=2, sigma=0.5, compression="mu2")),
    "ACSF": ("ACSF", dict(r_cut=4.0, g2_params=[(0.1, 0.0)], g4_params=[(0.01, 1.0, 1.0)])),
    "CoordinationNumber": ("CoordinationNumber", dict(cutoff=3.0)),
    "BondLengthStatistics": ("BondLengthStatistics", dict(cutoff=3.0)),
    "BondAngleStatistics": ("BondAngleStatistics", dict(cutoff=3.5)),
    "SOAPBispectrum": ("SOAPBispectrum", dict(r_cut=4.0, n_max=2, l_max=2, sigma=0.5)),
    "CartesianInvariants": ("CartesianInvariants", dict(r_cut=4.0, n_radial=2)),
}


# ------------------------------------------------------------------ child
class _CompileListener:
    """Inclusive and self compile times of every numba function compiled (numba:compile events)."""

    def __init__(self):
        from numba.core import event

        class Listener(event.Listener):
            def on_start(inner, ev):
                self._stack.append([ev.data["dispatcher"], ev.data["args"], time.perf_counter(), 0.0])

            def on_end(inner, ev):
                dispatcher, args, start, children = self._stack.pop()
                inclusive = time.perf_counter() - start
                if self._stack:
                    self._stack[-1][3] += inclusive
                name = getattr(dispatcher, "py_func", dispatcher)
                name = f"{getattr(name, '__module__', '?')}.{getattr(name, '__qualname__', name)}"
                self.records.append({"function": name, "args": str(tuple(args))[:200],
                                     "inclusive": inclusive, "self": inclusive - children,
                                     "depth": len(self._stack)})

        self._stack = []
        self.records = []
        self.listener = Listener()
        event.register("numba:compile", self.listener)


def child(label, breakdown):
    """One process: import skdesc, first fit_transform and transform_with_derivatives; a JSON line."""
    listener = _CompileListener() if breakdown else None
    start = time.perf_counter()
    import skdesc

    import_seconds = time.perf_counter() - start
    import ase.build

    atoms = ase.build.bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat(2)
    class_name, params = DESCRIPTORS[label]
    estimator = getattr(skdesc, class_name)(**params)
    start, cpu = time.perf_counter(), time.process_time()
    estimator.fit_transform([atoms])
    transform_seconds = time.perf_counter() - start
    transform_cpu = time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    try:
        estimator.transform_with_derivatives([atoms])
        derivative_seconds = time.perf_counter() - start
        derivative_cpu = time.process_time() - cpu
    except NotImplementedError:
        derivative_seconds = derivative_cpu = None
    # CPU time: numba compiles in one thread, so on a loaded machine it is the
    # compile work itself while the wall time also counts the waiting
    result = {"import": import_seconds, "package": os.path.dirname(skdesc.__file__), "transform": transform_seconds, "derivatives": derivative_seconds,
              "transform_cpu": transform_cpu, "derivatives_cpu": derivative_cpu,
              "n_features": int(estimator.n_features_out_)}
    if listener is not None:
        result["compiled"] = listener.records
    print(json.dumps(result))


def run_child(label, cache_dir, breakdown, installed=False):
    """Run :func:`child` in a fresh process with ``cache_dir`` as numba's cache (None: the caller's).

    ``installed``: import the installed package, not the source tree, with no ``NUMBA_CACHE_DIR``.
    """
    env = {**os.environ, "PYTHONPATH": str(h.ROOT)}
    if installed:
        env.pop("PYTHONPATH")
        env.pop("NUMBA_CACHE_DIR", None)
    elif cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    command = [sys.executable, os.path.abspath(__file__), "--child", label]
    if breakdown:
        command.append("--breakdown")
    with tempfile.TemporaryDirectory(prefix="skdesc-cwd-") as elsewhere:
        proc = subprocess.run(command, capture_output=True, text=True, env=env,
                              cwd=elsewhere if installed else h.ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{label} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------- main
def print_breakdown(report, label, records, top):
    total = sum(r["self"] for r in records)
    rows = sorted(records, key=lambda r: -r["inclusive"])[:top]
    report.table(
        f"{label}: {len(records)} numba compilations, {total:.1f} s in all (self times add up to it); "
        f"the {len(rows)} longest by inclusive time",
        ["function", "argument types", "inclusive s", "self s", "nesting depth"],
        [(r["function"], r["args"] if len(r["args"]) <= 80 else r["args"][:77] + "...",
          r["inclusive"], r["self"], r["depth"]) for r in rows],
    )


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--descriptors", nargs="+", choices=list(DESCRIPTORS), default=list(DESCRIPTORS))
    parser.add_argument("--breakdown", action="store_true", help="print the numba functions compiled and their times")
    parser.add_argument("--top", type=int, default=15, help="functions per descriptor in the breakdown (default 15)")
    parser.add_argument("--installed", action="store_true",
                        help="time the installed package (pip install .) with its built-in kernel cache")
    parser.add_argument("--child", default=None, help=argparse_suppress())
    args = parser.parse_args(argv)
    if args.child is not None:
        child(args.child, args.breakdown)
        return 0
    if args.installed:
        return bench_installed(args)
    if args.quick and args.descriptors == list(DESCRIPTORS):
        args.descriptors = ["CoordinationNumber"]

    report = h.Report("bench_compile", args, "Cold start: numba compilation on first use (empty NUMBA_CACHE_DIR), "
                      "then a second process loading the cache; NaCl rocksalt 2x2x2 (64 atoms, periodic)")
    rows, breakdowns = [], []
    if args.quick:
        report.note("quick mode: the caller's numba cache is used, not an empty one")
    for label in args.descriptors:
        with tempfile.TemporaryDirectory(prefix="skdesc-numba-") as cache_dir:
            cache_dir = None if args.quick else cache_dir
            try:
                cold = run_child(label, cache_dir, args.breakdown)
                warm = run_child(label, cache_dir, False)
            except RuntimeError as error:
                report.skip(label, error)
                continue
        cold_total = cold["transform"]
        rows.append((label, cold["n_features"], cold["import"], cold_total, cold["transform_cpu"],
                     cold["derivatives"], cold["derivatives_cpu"], warm["import"], warm["transform"],
                     warm["derivatives"], f"< {TARGET_COLD_SECONDS:g} s", cold_total < TARGET_COLD_SECONDS))
        report.check(f"{label} cold fit_transform", cold_total, f"< {TARGET_COLD_SECONDS:g} s",
                     cold_total < TARGET_COLD_SECONDS, " s")
        if args.breakdown:
            breakdowns.append((label, cold["compiled"]))
        print(f"[{label} done; {h.machine()}]", flush=True)
    print()
    report.table(
        "first calls in a fresh process (seconds)",
        ["descriptor", "features", "import (cold)", "cold transform", "cold transform CPU", "cold derivatives",
         "cold derivatives CPU", "import (warm)", "warm transform", "warm derivatives", "target (cold transform)",
         "met?"],
        rows,
        footnote="transform: the first fit_transform; derivatives: the first transform_with_derivatives after it "
                 "(n/a: no derivatives); warm: a second process with the same numba cache",
    )
    for label, records in breakdowns:
        print_breakdown(report, label, records, args.top)
    return report.finish()


def bench_installed(args):
    """First calls of the installed package, one fresh process per descriptor."""
    report = h.Report("bench_compile", args, "First calls of the installed package (pip install .), kernels from "
                      "the cache built into the wheel; NaCl rocksalt 2x2x2 (64 atoms, periodic)")
    rows = []
    for label in args.descriptors:
        try:
            first = run_child(label, None, args.breakdown, installed=True)
        except RuntimeError as error:
            report.skip(label, error)
            continue
        met = first["transform"] < TARGET_COLD_SECONDS
        rows.append((label, first["import"], first["transform"], first["derivatives"],
                     len(first.get("compiled", [])) if args.breakdown else "-", f"< {TARGET_COLD_SECONDS:g} s", met))
        report.check(f"{label} first fit_transform (installed)", first["transform"], f"< {TARGET_COLD_SECONDS:g} s",
                     met, " s")
    report.note(f"package: {first['package']}" if rows else "no descriptor ran")
    report.table(
        "first calls in a fresh process of the installed package (seconds)",
        ["descriptor", "import", "first fit_transform", "first derivatives", "numba compilations", "target", "met?"],
        rows,
        footnote="numba compilations: counted with --breakdown (0: every kernel came from the installed cache)",
    )
    return report.finish()


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    raise SystemExit(main())
