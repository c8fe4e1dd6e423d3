"""Run every benchmark script, in turn (a fresh process each) or all in this process.

Each script runs with the options given here (``--quick``, ``--data-dir``)
and, with ``--json-dir DIR``, writes ``DIR/<script>.json``.  A summary table
of exit status and run time follows.  In turn is the default: each script
then sees its own clean process (its own allocator settings, no kernels
compiled by another script).  ``--in-process`` imports the scripts and calls
their ``main`` one after the other, which shares numba's compiled kernels
between them; this process is then re-executed with glibc told to keep freed
memory, as ``bench_soap.py`` and ``bench_derivatives.py`` do for themselves
(``--system-malloc`` keeps the default allocator; memory measurements always
run in child processes with the default one).

Usage::

    PYTHONPATH=. python benchmarks/run_all.py [--quick] [--in-process] [--only bench_soap bench_laed]
                                              [--json-dir results/]
"""

import argparse
import importlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import _harness as h

SCRIPTS = (
    "bench_laed", "bench_soap", "bench_bispectrum", "bench_derivatives", "bench_information", "bench_memory", "bench_compile",
)
HERE = Path(__file__).resolve().parent


def script_argv(name, args):
    argv = ["--quick"] if args.quick else []
    argv += ["--data-dir", str(args.data_dir)]
    if args.json_dir is not None:
        argv += ["--json", str(args.json_dir / f"{name}.json")]
    if args.system_malloc and name in ("bench_soap", "bench_derivatives"):
        argv.append("--system-malloc")
    return argv


def run_in_turn(name, argv):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(h.ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return subprocess.run([sys.executable, str(HERE / f"{name}.py"), *argv], env=env).returncode


def run_in_process(name, argv):
    try:
        return importlib.import_module(name).main(argv) or 0
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except Exception:
        traceback.print_exc()
        return 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every script in quick mode (seconds each)")
    parser.add_argument("--in-process", action="store_true", help="all scripts in this process")
    parser.add_argument("--only", nargs="+", choices=SCRIPTS, default=list(SCRIPTS), help="scripts to run")
    parser.add_argument("--json-dir", type=Path, default=None, help="write <script>.json files here")
    parser.add_argument("--data-dir", type=Path, default=h.DATA_DIR, help="folder of the shared data sets")
    parser.add_argument("--system-malloc", action="store_true", help="keep glibc's default allocator")
    args = parser.parse_args(argv)

    results = []
    for name in args.only:
        print(f"\n{'=' * 20} {name}{' --quick' if args.quick else ''} {'=' * 20}", flush=True)
        start = time.perf_counter()
        run = run_in_process if args.in_process else run_in_turn
        status = run(name, script_argv(name, args))
        results.append((name, status, time.perf_counter() - start))
    print()
    print("\n".join(h.markdown_table(["script", "exit status", "run time (s)"], results)))
    return 0 if all(status == 0 for _, status, _ in results) else 1


if __name__ == "__main__":
    if "--in-process" in sys.argv and "--system-malloc" not in sys.argv and not {"-h", "--help"} & set(sys.argv):
        h.reexec_with_pooled_malloc(__file__, sys.argv[1:])
    sys.path.insert(0, str(h.ROOT))
    raise SystemExit(main())
