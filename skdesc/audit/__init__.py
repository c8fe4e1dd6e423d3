"""Quality audits of descriptors (Pelz, Materials Genomics, Unit 6, §F; Darby et al. 2022, Sec. II.8).

* :func:`periodic_image_audit`: a cell and its supercell must give every atom
  the same descriptor (catches neighbour lists that miss periodic images);
* :func:`invariance_audit`: rotations, translations and permutations of the
  atoms must not change the per-atom descriptors;
* :func:`cutoff_scan`: cross-validated error against the cutoff radius;
* :mod:`~skdesc.audit.sensitivity`: the sensitivity matrix J^T J of an
  environment and its zero modes;
* :func:`checklist`: all eight checks of the lecture's checklist (slide 49)
  on a data set, as a report with plots (text and self-contained HTML).

Each audit returns a pandas DataFrame, and with ``plot=True`` also a
matplotlib Figure (created without pyplot).
"""

from .checklist import CheckResult, ChecklistReport, checklist
from .cutoff import cutoff_scan
from .invariance import invariance_audit
from .periodic import periodic_image_audit
from .sensitivity import (
    count_zero_modes,
    environment_jacobian,
    plot_sensitivity_comparison,
    sensitivity_matrix,
    sensitivity_spectrum,
)

__all__ = [
    "CheckResult",
    "ChecklistReport",
    "checklist",
    "count_zero_modes",
    "cutoff_scan",
    "environment_jacobian",
    "invariance_audit",
    "periodic_image_audit",
    "plot_sensitivity_comparison",
    "sensitivity_matrix",
    "sensitivity_spectrum",
]
