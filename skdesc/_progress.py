"""Progress bars that end at 100 % and say when numba compiles kernels.

The first call of a numba kernel in a fresh environment compiles it (20-120 s
for the descriptor kernels), with the bar at 0 %.  numba broadcasts a
``"numba:compile"`` event only when it actually compiles (not when it loads
the kernel from its on-disk cache, nor when the kernel is already compiled in
this process), so listening to that event tells the user exactly when the wait
is compilation, without guessing from file names or flags.
"""

import sys

from numba.core import event

__all__ = ["progress"]


class _CompileNotice(event.Listener):
    """Writes one line above ``bar`` when numba starts its first compilation."""

    def __init__(self, desc, bar):
        self.desc = desc
        self.bar = bar
        self.said = False

    def on_start(self, ev):
        if self.said:  # nested compilations (kernels calling kernels) and later ones
            return
        self.said = True
        message = f"{self.desc}: compiling numba kernels (first use only; cached on disk afterwards)"
        self.bar.write(message, file=sys.stderr)

    def on_end(self, ev):
        pass


def progress(iterable, total, desc, unit):
    """Yield the items of ``iterable`` under a tqdm bar of ``total`` steps.

    The bar advances as each item arrives (before it is handed on), so it
    reaches ``total`` however the consumer stops iterating, and it is closed
    when the iteration ends or is abandoned.  While the bar is open, the first
    numba compilation (in any thread) writes one line
    ``"<desc>: compiling numba kernels (first use only; ...)"``.

    Parameters
    ----------
    iterable : iterable
        The work, evaluated lazily (e.g. a generator of batch results).
    total : int
        Number of items.
    desc, unit : str
        Bar label and unit.

    Yields
    ------
    object
        The items of ``iterable``.
    """
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit)
    listener = _CompileNotice(desc, bar)
    event.register("numba:compile", listener)
    try:
        for item in iterable:
            bar.update(1)
            yield item
    finally:
        event.unregister("numba:compile", listener)
        bar.close()
