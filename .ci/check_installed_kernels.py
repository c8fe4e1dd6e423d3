"""CI: the installed package loads its numba kernels from the cache built into the wheel.

Run from outside the source tree (so that ``import skdesc`` is the installed
copy), with NUMBA_CACHE_DIR unset.  Runs every estimator once, as
``skdesc compile`` does, then lists the numba functions of skdesc that had to
be compiled in this process (cache misses); any is a failure.
"""

import os
import sys
import time

from numba.core.dispatcher import Dispatcher

if os.environ.get("NUMBA_CACHE_DIR"):
    sys.exit("unset NUMBA_CACHE_DIR: the check is about the cache inside the installed package")
import skdesc  # noqa: E402
from skdesc._warmup import compile_kernels  # noqa: E402

if "site-packages" not in skdesc.__file__:
    sys.exit(f"run this outside the source tree: skdesc was imported from {skdesc.__file__}")
start = time.perf_counter()
compile_kernels()
took = time.perf_counter() - start
# each kernel once, under the module that defines it (modules also import each other's kernels)
missed = set()
for name, module in list(sys.modules.items()):
    if not name.startswith("skdesc"):
        continue
    for value in vars(module).values():
        if isinstance(value, Dispatcher) and sum(value.stats.cache_misses.values()):
            missed.add(f"{value.py_func.__module__}.{value.py_func.__qualname__}")
print(f"every estimator's first run in a fresh process: {took:.1f} s; kernels compiled now: {len(missed)}")
if missed:
    sys.exit("not loaded from the wheel's cache: " + ", ".join(sorted(missed)))
