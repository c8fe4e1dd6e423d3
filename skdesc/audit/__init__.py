"""Quality audits of descriptors (lecture 004, section F).

* :func:`periodic_image_audit`: a cell and its supercell must give every atom
  the same descriptor (catches neighbour lists that miss periodic images);
* :func:`invariance_audit`: rotations, translations and permutations of the
  atoms must not change the per-atom descriptors;
* :func:`cutoff_scan`: cross-validated error against the cutoff radius.

Each returns a pandas DataFrame, and with ``plot=True`` also a matplotlib
Figure (created without pyplot).
"""

from .cutoff import cutoff_scan
from .invariance import invariance_audit
from .periodic import periodic_image_audit

__all__ = ["cutoff_scan", "invariance_audit", "periodic_image_audit"]
