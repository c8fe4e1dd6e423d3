"""Progress bars of the local descriptors: they end at 100 % and say once when numba compiles."""

import re

import numba
import numpy as np
import pytest

from skdesc import ChebyshevLAED
from skdesc.datasets import load_demo


@pytest.fixture(scope="module")
def structures():
    return load_demo()[0][:80]


def _last_counts(err):
    """(done, total) of the last state the bar printed."""
    return [tuple(map(int, m)) for m in re.findall(r"(\d+)/(\d+) \[", err)][-1]


def test_bar_reaches_the_number_of_batches(capsys, structures):
    descriptor = ChebyshevLAED(rad_order=3, ang_order=2, verbose=1)
    n_atoms = [len(atoms) for atoms in structures]
    n_batches = len(descriptor._batches(n_atoms, 1))
    assert n_batches >= 3  # the last batch is the one the old loop never counted
    descriptor.fit_transform(structures)
    err = capsys.readouterr().err
    assert _last_counts(err) == (n_batches, n_batches)
    assert "100%" in err


def test_quiet_by_default(capsys, structures):
    ChebyshevLAED(rad_order=3, ang_order=2).fit_transform(structures[:5])
    assert capsys.readouterr().err == ""


class _Compiling(ChebyshevLAED):
    """ChebyshevLAED whose batches also call a kernel that has never been compiled."""

    kernel = None

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        type(self).kernel(np.arange(3.0))
        super()._compute(batch, neighbors, values, pairs, dvalues)


def _fresh_kernel():
    inner = numba.njit(lambda x: x * 2.0)  # a kernel calling a kernel: nested compilations

    @numba.njit
    def outer(x):
        return inner(x).sum()

    return outer


def test_compilation_is_announced_once(capsys, structures):
    _Compiling.kernel = _fresh_kernel()
    descriptor = _Compiling(rad_order=3, ang_order=2, verbose=1, n_jobs=2)
    descriptor.fit_transform(structures)
    err = capsys.readouterr().err
    assert err.count("compiling numba kernels") == 1
    assert "first use only" in err and err.index("_Compiling: compiling") < err.rindex("100%")
    descriptor.fit_transform(structures)  # compiled now: nothing to say
    err = capsys.readouterr().err
    assert "compiling" not in err and _last_counts(err)[0] == _last_counts(err)[1]


def test_compilation_is_not_announced_without_verbose(capsys, structures):
    _Compiling.kernel = _fresh_kernel()
    _Compiling(rad_order=3, ang_order=2).fit_transform(structures[:5])
    assert capsys.readouterr().err == ""
    assert _Compiling.kernel.signatures  # it did compile
