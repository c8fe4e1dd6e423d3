"""Global configuration: resource limits, and tuning knobs of how work is split.

Before a local descriptor allocates its neighbour lists, per-centre angle
scratch, SOAP radial table or output, it estimates their size from cheap
quantities (atoms, cell volume, cutoff) and raises a ``ValueError`` that
states the estimate and what to change when a limit would be exceeded.  The
limits are set in the style of :func:`sklearn.set_config`: globally with
:func:`set_config`, temporarily with :func:`config_context`, and read with
:func:`get_config`.  Like scikit-learn's, the configuration is thread-local;
skdesc's parallel batches run with the configuration of the calling thread.

The tuning knobs (``atoms_per_batch``, ``structures_per_batch``,
``rank_block_rows``, ``rank_symmetric_bytes``, ``screen_ranks``) change how a
computation is split into pieces, never its result: the tests use them to
exercise several batches or blocks on small inputs.
"""

import numbers
import threading
from contextlib import contextmanager

__all__ = ["get_config", "set_config", "config_context"]

_DEFAULTS = {
    # neighbour-list entries (pairs, both directions) of one structure: about
    # 64 bytes each, so 2e7 is ~1.3 GB and a few seconds; a 300 000-atom metal
    # at a 6 Å cutoff has ~1.7e7
    "max_pairs": 20_000_000,
    # neighbour pairs (j < k) at the centres of one structure for angular
    # terms: ~1e9 is 10-60 s of work; 100 000 atoms with 130 neighbours each
    # (an 8 Å angular cutoff in a dense metal) have ~8.5e8
    "max_triplets": 1_000_000_000,
    # bytes of any single working array (one structure's neighbour list, one
    # centre's angle scratch, the SOAP radial table, the output)
    "max_memory": 4 * 2**30,
    # atoms per batch of a local descriptor's transform: large enough to amortise
    # Python overhead, small enough to balance load and keep a batch's
    # neighbour lists in cache
    "atoms_per_batch": 4096,
    # structures per batch of MomentGSD.transform
    "structures_per_batch": 2048,
    # rows per block of the float32-screened first-neighbour ranks
    "rank_block_rows": 512,
    # the symmetric scheme of the screened ranks holds up to N^2 / 4 float32
    # tiles per space; above this many bytes (for both spaces, N > ~16,000)
    # every block computes its full rows instead
    "rank_symmetric_bytes": 2**29,
    # first-neighbour ranks screened in float32 (False: the float64 path always)
    "screen_ranks": True,
}

# what each key accepts: (check, description for the error message)
_KINDS = {
    "max_pairs": "limit",
    "max_triplets": "limit",
    "max_memory": "limit",
    "atoms_per_batch": "count",
    "structures_per_batch": "count",
    "rank_block_rows": "count",
    "rank_symmetric_bytes": "size",
    "screen_ranks": "bool",
}

_global_config = dict(_DEFAULTS)
_local = threading.local()


def _thread_config():
    if not hasattr(_local, "config"):
        _local.config = dict(_global_config)
    return _local.config


def get_config():
    """Current values of the configuration (a copy).

    Returns
    -------
    dict
        ``max_pairs``, ``max_triplets``, ``max_memory``, ``atoms_per_batch``,
        ``structures_per_batch``, ``rank_block_rows``,
        ``rank_symmetric_bytes`` and ``screen_ranks``; see :func:`set_config`.
    """
    return dict(_thread_config())


def _check_value(value, name):
    if value is None:
        return
    kind = _KINDS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False (or None to keep it), got {value!r}")
    elif kind == "count":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer (or None to keep it), got {value!r}")
    elif kind == "size":
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
            raise ValueError(f"{name} must be a number of bytes >= 0 (or None to keep it), got {value!r}")
    elif isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number (or None to keep it), got {value!r}")


def set_config(
    max_pairs=None,
    max_triplets=None,
    max_memory=None,
    *,
    atoms_per_batch=None,
    structures_per_batch=None,
    rank_block_rows=None,
    rank_symmetric_bytes=None,
    screen_ranks=None,
):
    """Set the resource limits and tuning knobs of skdesc's computations.

    The limits apply to estimates made before allocating, per structure for
    pairs and triplets; an estimate above a limit raises ``ValueError``
    naming the estimate and what to change.  ``float("inf")`` disables a
    limit.  Arguments left at ``None`` keep their current value.

    Parameters
    ----------
    max_pairs : float, default=None
        Largest estimated number of neighbour-list entries (pairs counted in
        both directions, plus periodic images generated) of one structure.
        Default 2e7 (about 1.3 GB and a few seconds).
    max_triplets : float, default=None
        Largest estimated number of neighbour pairs ``j < k`` summed over the
        centres of one structure, for angular terms (Chebyshev angular, ACSF
        G4/G5, bond angles).  Default 1e9.
    max_memory : float, default=None
        Largest estimated size, in bytes, of any single working array: a
        structure's neighbour list, a centre's angle scratch, the SOAP radial
        table, a batch's derivative array, the output.  Default 4 GiB.
    atoms_per_batch : int, default=None
        Largest number of atoms per batch of a local descriptor's
        ``transform`` (fewer when needed for four batches per worker; a
        structure is never split).  Default 4096.
    structures_per_batch : int, default=None
        Structures per batch of ``MomentGSD.transform``.  Default 2048.
    rank_block_rows : int, default=None
        Rows per block of the float32-screened first-neighbour ranks of the
        information imbalance.  Default 512.
    rank_symmetric_bytes : float, default=None
        Bytes of float32 Gram tiles (both spaces) up to which the screened
        ranks compute each tile once and mirror it; above, every block
        computes its full rows.  Default 2**29 (N up to about 16,000).
    screen_ranks : bool, default=None
        Whether first-neighbour ranks (``k=1``) are screened in float32
        before the exact float64 distances are taken; ``False`` takes the
        plain float64 path.  The results are the same.  Default True.

    The tuning knobs change how the work is split, not the results.

    See Also
    --------
    config_context : set the limits temporarily.
    get_config : read them.
    """
    values = {
        "max_pairs": max_pairs,
        "max_triplets": max_triplets,
        "max_memory": max_memory,
        "atoms_per_batch": atoms_per_batch,
        "structures_per_batch": structures_per_batch,
        "rank_block_rows": rank_block_rows,
        "rank_symmetric_bytes": rank_symmetric_bytes,
        "screen_ranks": screen_ranks,
    }
    for name, value in values.items():
        _check_value(value, name)
    config = _thread_config()
    for name, value in values.items():
        if value is not None:
            config[name] = value


@contextmanager
def config_context(**changes):
    """Context manager for a temporary configuration (arguments as :func:`set_config`).

    Examples
    --------
    >>> import skdesc
    >>> with skdesc.config_context(max_pairs=1e9):
    ...     skdesc.get_config()["max_pairs"]
    1000000000.0
    """
    unknown = sorted(set(changes) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unknown configuration {unknown}; valid are {sorted(_DEFAULTS)}")
    old = get_config()
    set_config(**changes)
    try:
        yield
    finally:
        _thread_config().clear()
        _thread_config().update(old)


def _run_with_config(config, func, args):
    """``func(*args)`` under ``config`` (how parallel batches inherit the caller's limits)."""
    local = _thread_config()
    old = dict(local)
    local.update(config)
    try:
        return func(*args)
    finally:
        local.clear()
        local.update(old)


def _human_bytes(n):
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} TB"


def check_memory(n_bytes, what, advice):
    """Raise ``ValueError`` if ``n_bytes`` exceeds ``max_memory``.

    Parameters
    ----------
    n_bytes : float
        The estimate, in bytes.
    what : str
        What would be allocated (completes "... would need about N bytes").
    advice : str
        What to change (completes "; ...").
    """
    limit = get_config()["max_memory"]
    if n_bytes > limit:
        raise ValueError(
            f"{what} would need about {_human_bytes(n_bytes)}, more than max_memory="
            f"{_human_bytes(limit)}; {advice}, or raise the limit with "
            f"skdesc.config_context(max_memory=...) if the machine has the memory"
        )


def check_count(count, name, what, advice):
    """Raise ``ValueError`` if the estimate ``count`` exceeds the limit ``name``."""
    limit = get_config()[name]
    if count > limit:
        raise ValueError(
            f"{what}: about {count:.3g} estimated, more than {name}={limit:.3g}; {advice}, "
            f"or raise the limit with skdesc.config_context({name}=...)"
        )
