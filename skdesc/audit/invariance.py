"""Invariance audit: rotations, translations and permutations leave per-atom descriptors unchanged."""

import numpy as np
from scipy.spatial.transform import Rotation
from sklearn.utils import check_random_state

from ..structures import Frame, to_frames
from ._common import check_tolerance, deviation_figure, deviation_rows, finish_table, per_atom

__all__ = ["invariance_audit"]

_KINDS = ("rotation", "translation", "permutation", "combined")


def _transformed(frame, kind, rng):
    """A transformed copy of ``frame`` and the permutation of its atoms."""
    n = len(frame)
    rotation = np.eye(3)
    shift = np.zeros(3)
    order = np.arange(n)
    if kind in ("rotation", "combined"):
        rotation = Rotation.random(random_state=rng).as_matrix()
    if kind in ("translation", "combined"):
        shift = rng.uniform(-5.0, 5.0, size=3)
    if kind in ("permutation", "combined"):
        order = rng.permutation(n)
    positions = frame.positions[order] @ rotation.T + shift
    return Frame(positions, frame.numbers[order].copy(), frame.cell @ rotation.T, frame.pbc.copy()), order


def invariance_audit(descriptor, structures, n_rotations=3, random_state=None, rtol=1e-8, atol=1e-10, plot=False):
    """Check that per-atom descriptors are invariant under rigid motions and relabelling.

    Each structure is rotated (uniformly random rotations, applied to the
    positions and the cell), translated (up to 5 Å along each axis), has its
    atoms permuted, and all three at once, ``n_rotations`` times each.  The
    descriptor of atom ``order[i]`` of the original must equal that of atom
    ``i`` of the transformed copy.  Pelz, Materials Genomics, Unit 6, slide 49, check 4.

    Parameters
    ----------
    descriptor : LocalDescriptor
    structures : structure or list of structures
    n_rotations : int, default=3
        Random trials per transformation and structure.
    random_state : int, RandomState or None, default=None
    rtol, atol : float, default=1e-8, 1e-10
        Pass criterion per feature block: ``max_abs <= atol + rtol * scale``.
    plot : bool, default=False
        Also return a bar chart of the deviations.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (``transformation``, ``block``): ``n_features``,
        ``max_abs_deviation``, ``max_rel_deviation`` (worst over structures,
        atoms and trials) and ``passed``; ``table.attrs["passed"]`` is True
        if every row passed.
    figure : matplotlib.figure.Figure
        Only with ``plot=True``.
    """
    rtol, atol = check_tolerance(rtol, "rtol"), check_tolerance(atol, "atol")
    if isinstance(n_rotations, bool) or not isinstance(n_rotations, (int, np.integer)) or n_rotations < 1:
        raise ValueError(f"n_rotations must be a positive integer, got {n_rotations!r}")
    rng = check_random_state(random_state)
    frames = to_frames(structures)
    copies, orders, sources, kinds = [], [], [], []
    for kind in _KINDS:
        for _ in range(n_rotations):
            for index, frame in enumerate(frames):
                copy, order = _transformed(frame, kind, rng)
                copies.append(copy)
                orders.append(order)
                sources.append(index)
                kinds.append(kind)
    # one fit and one transform for the originals and all copies
    atomic, names = per_atom(descriptor, list(frames) + copies)
    values = atomic.values.toarray() if hasattr(atomic.values, "toarray") else atomic.values
    offsets = atomic.offsets
    n = len(frames)
    rows = []
    for kind in _KINDS:
        picks = [k for k, label in enumerate(kinds) if label == kind]
        reference = np.concatenate([values[offsets[sources[k]] : offsets[sources[k] + 1]][orders[k]] for k in picks])
        moved = np.concatenate([values[offsets[n + k] : offsets[n + k + 1]] for k in picks])
        rows += deviation_rows(reference, moved, names, rtol, atol, transformation=kind)
    table = finish_table(rows, ["transformation", "block"])
    if plot:
        return table, deviation_figure(table, "invariance")
    return table
