"""Command-line interface: ``skdesc demo``."""

import argparse
import time

from . import __version__

__all__ = ["main"]


def _demo(args):
    from .datasets import DEMO_CITATION
    from .demo import run_demo

    start = time.perf_counter()
    results = run_demo(n_jobs=args.n_jobs, max_structures=args.max_structures, verbose=not args.quiet)
    elapsed = time.perf_counter() - start

    first = results[0]
    print(
        f"\nEnergy per atom of {first['n_structures']} NbMoTaW structures, 5-fold CV of\n"
        "ChebyshevLAED -> MomentGSD -> StandardScaler -> clip to +-5 -> KernelRidge(rbf, grid search)\n"
    )
    header = f"{'descriptor':<12}{'dimension':>10}{'MAE':>10}{'RMSE':>10}{'time':>8}"
    print(header)
    print(f"{'':<12}{'':>10}{'meV/atom':>10}{'meV/atom':>10}{'s':>8}")
    print("-" * len(header))
    for row in results:
        print(
            f"{row['descriptor']:<12}{row['dimension']:>10d}{row['mae']:>10.1f}"
            f"{row['rmse']:>10.1f}{row['seconds']:>8.1f}"
        )
    print(f"\nTotal time: {elapsed:.1f} s (n_jobs={first['n_jobs']})")
    print(f"Data: {DEMO_CITATION}")
    return 0


def main(argv=None):
    """Run the ``skdesc`` command.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        Exit code.
    """
    parser = argparse.ArgumentParser(prog="skdesc", description="Atomic-structure descriptors for scikit-learn.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="compare moment GSDs on the bundled NbMoTaW data",
        description="Cross-validated energy-per-atom regression with five moment GSDs "
        "(Sigma100 ... Sigma555) on 300 bundled NbMoTaW structures.",
    )
    demo.add_argument(
        "--n-jobs", type=int, default=-1, help="threads for the local descriptor (default: -1, all cores)"
    )
    demo.add_argument(
        "--max-structures", type=int, default=None, metavar="N", help="use a random subset of N >= 10 structures"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)

    args = parser.parse_args(argv)
    if args.command == "demo" and args.max_structures is not None and args.max_structures < 10:
        parser.error("--max-structures must be at least 10")
    return args.func(args)
