"""Compile the numba kernels before their first use (``skdesc compile``).

numba compiles a kernel the first time it runs and keeps the machine code in
its on-disk cache (``cache=True``): next to the package sources, or under
``NUMBA_CACHE_DIR`` when that is set or the sources are read-only.  The first
call of a local descriptor without that cache therefore spends 10-60 s
compiling (``benchmarks/bench_compile.py``), and every later process loads
the cache in a fraction of a second.  :func:`compile_kernels` pays that cost
up front: it runs every local descriptor (values and, where they exist,
derivatives), the distribution functions and the moment GSD once on two tiny
structures, a periodic rock-salt cell and a molecule, which reaches every
kernel signature that real inputs use.  ``pip install .`` already does this
while it builds the wheel (``setup.py``), so it is needed where that cache
cannot be used: with ``NUMBA_CACHE_DIR`` set, after ``SKDESC_PRECOMPILE=0``,
or on another CPU than the one the wheel was built on.  Run it once there,
for example in the build step of a container image, or before a batch of
short cluster jobs that would each compile on their own.
"""

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

__all__ = ["compile_kernels", "kernel_cache_location"]

# compiled first, in the calling process: every other target reuses its neighbour stage
_FIRST = "CoordinationNumber"
# normalised by the number density by default: the molecule has no volume
_NEEDS_CELL = {"RadialDistributionFunction", "PartialRadialDistributionFunction", "AngularDistributionFunction"}


def _targets():
    """Name -> estimator class of everything whose kernels are compiled."""
    from .distributions import AngularDistributionFunction, PartialRadialDistributionFunction, RadialDistributionFunction
    from .local import all_descriptors
    from .pooling import MomentGSD

    targets = dict(all_descriptors())
    for cls in (RadialDistributionFunction, PartialRadialDistributionFunction, AngularDistributionFunction, MomentGSD):
        targets[cls.__name__] = cls
    return targets


def _structures():
    """A periodic rock-salt NaCl cell (8 atoms) and an ethanol molecule (not periodic)."""
    from ase.build import bulk, molecule

    return [bulk("NaCl", "rocksalt", a=5.64, cubic=True), molecule("CH3CH2OH")]


def _groups(names):
    """``names`` in groups that share kernels (one module), each to be compiled in one process.

    Two processes compiling the same kernel at once would both pay for it.
    """
    targets = _targets()
    groups = {}
    for name in names:
        # the moment GSD runs on ChebyshevLAED's output
        module = targets["ChebyshevLAED" if name == "MomentGSD" else name].__module__
        groups.setdefault(module, []).append(name)
    return sorted(groups.values(), key=len, reverse=True)


def _compile_group(names, derivatives):
    return [_compile_one(name, derivatives) for name in names]


def _compile_one(name, derivatives):
    """Run ``name`` once on the tiny structures; returns its wall time in seconds (imports not counted)."""
    structures = _structures()
    estimator = _targets()[name]()
    start = time.perf_counter()
    if name == "MomentGSD":
        from .local import ChebyshevLAED

        estimator.fit_transform(ChebyshevLAED().fit_transform(structures))
        return time.perf_counter() - start
    if name in _NEEDS_CELL:
        structures = structures[:1]
    estimator.fit(structures).transform(structures)
    if derivatives and hasattr(estimator, "transform_with_derivatives"):
        try:
            estimator.transform_with_derivatives(structures)
        except NotImplementedError:
            pass  # a descriptor without derivatives
    if estimator.get_params().get("dtype") == "float64":
        # float32 output (SOAP's dtype="float32") is a second specialisation of the value kernel
        estimator.set_params(dtype="float32").fit(structures).transform(structures)
    return time.perf_counter() - start


def kernel_cache_location():
    """Where numba keeps skdesc's compiled kernels: ``NUMBA_CACHE_DIR``, else beside the sources."""
    from numba.core.config import CACHE_DIR

    if CACHE_DIR:
        return os.path.abspath(CACHE_DIR)
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "**", "__pycache__")


def compile_kernels(names=None, derivatives=True, n_jobs=1, report=None):
    """Compile and cache the numba kernels of skdesc's estimators.

    Parameters
    ----------
    names : list of str, default=None
        Estimators to compile (class names: ``"SOAP"``, ``"ChebyshevLAED"``,
        ``"MomentGSD"``, ...); ``None`` compiles all of them.
    derivatives : bool, default=True
        Also compile the derivative kernels of the descriptors that have them.
    n_jobs : int, default=1
        Processes compiling in parallel (numba compiles in one thread per
        process); the first estimator, which compiles the neighbour stage
        they all share, runs alone before them, and estimators that share
        kernels run in the same process.
    report : callable, default=None
        Called as ``report(name, seconds)`` after each estimator.

    Returns
    -------
    dict of str to float
        Wall time of each estimator's first run, in seconds (shared kernels are
        counted where they were first compiled).

    Raises
    ------
    ValueError
        For an unknown name or ``n_jobs < 1``.
    """
    available = _targets()
    names = list(available) if names is None else list(names)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(f"unknown estimator(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    report = report or (lambda name, seconds: None)
    if _FIRST in names:
        names = [_FIRST] + [name for name in names if name != _FIRST]
    # the first one in this process: it compiles the neighbour stage, which the others then load
    seconds = {}
    for name in names if n_jobs == 1 else names[:1]:
        seconds[name] = _compile_one(name, derivatives)
        report(name, seconds[name])
    rest = names[1:]
    if n_jobs > 1 and rest:
        groups = _groups(rest)
        # spawn: a fresh interpreter per worker (no forked numba or thread state)
        with ProcessPoolExecutor(max_workers=min(n_jobs, len(groups)), mp_context=get_context("spawn")) as pool:
            for group, took in zip(groups, pool.map(_compile_group, groups, [derivatives] * len(groups))):
                for name, group_seconds in zip(group, took):
                    seconds[name] = group_seconds
                    report(name, group_seconds)
    return seconds
