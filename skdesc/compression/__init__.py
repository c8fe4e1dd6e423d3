"""Compression utilities: lossless random projections of Gram matrices."""

from .gram import gram_from_projection

__all__ = ["gram_from_projection"]
