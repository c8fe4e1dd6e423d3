"""Build step of skdesc: the wheel carries its numba kernels compiled.

Everything about the project is in ``pyproject.toml``; this file only
extends setuptools' ``build_py``.  After the sources are copied into the build
tree, it runs :func:`skdesc._warmup.compile_kernels` on that copy (what
``skdesc compile`` does), so numba writes its cache into the package's
``__pycache__`` folders and the installed package loads its kernels instead
of compiling them on first use (10-60 s per descriptor otherwise).

numba keys that cache on the content of each source file, its own version,
Python's bytecode and the CPU, so it is used where the wheel was built for
this machine (``pip install .``), and numba compiles as before wherever one
of those differs.  The build never fails because of this step: if compiling
fails, a warning says so and the wheel is built without the cache.
``SKDESC_PRECOMPILE=0`` skips it (a faster install, kernels compiled on first
use); editable installs always skip it.
"""

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

_COMPILE = (
    "import os; from skdesc._warmup import compile_kernels; "
    "compile_kernels(n_jobs=max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') "
    "else os.cpu_count() or 1)))"
)


class BuildPyWithKernels(build_py):
    """``build_py``, then compile the numba kernels of the copied package into its ``__pycache__``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False) or os.environ.get("SKDESC_PRECOMPILE", "1") == "0":
            return
        env = dict(os.environ)
        env.pop("NUMBA_CACHE_DIR", None)  # the cache must land beside the copied sources
        # in front of pip's own entries: its isolated build environment (numba and the
        # other build requirements) is reached through PYTHONPATH too
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.abspath(self.build_lib), env.get("PYTHONPATH")]))
        print("skdesc: compiling the numba kernels into the wheel (about a minute; SKDESC_PRECOMPILE=0 skips)",
              flush=True)
        try:
            subprocess.run([sys.executable, "-c", _COMPILE], env=env, cwd=self.build_lib, check=True, timeout=3600)
        except (OSError, subprocess.SubprocessError) as error:
            print(f"skdesc: WARNING: the kernels were not compiled ({error}); they compile on first use",
                  file=sys.stderr, flush=True)


setup(cmdclass={"build_py": BuildPyWithKernels})
