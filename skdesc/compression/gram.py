"""Old path of the Gram-matrix recovery, kept importable: the code now lives in :mod:`skdesc.local` (``_projection``)."""

from ..local._projection import gram_from_projection

__all__ = ["gram_from_projection"]
