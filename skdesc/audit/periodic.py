"""Periodic-image audit: a cell and its supercell describe every atom identically."""

import itertools

import numpy as np

from ..structures import Frame, to_frames
from ._common import check_tolerance, deviation_figure, deviation_rows, finish_table, per_atom

__all__ = ["periodic_image_audit"]


def supercell(frame, repeat):
    """Repeat a periodic ``Frame``; atom ``copy * n_atoms + a`` is an image of atom ``a``."""
    repeat = np.asarray(repeat)
    shifts = np.array(list(itertools.product(*(range(r) for r in repeat))), dtype=np.float64)
    positions = (frame.positions[None, :, :] + (shifts @ frame.cell)[:, None, :]).reshape(-1, 3)
    return Frame(
        positions,
        np.tile(frame.numbers, len(shifts)),
        frame.cell * repeat[:, None],
        frame.pbc.copy(),
    )


def periodic_image_audit(descriptor, structure, repeat=(2, 2, 2), rtol=1e-8, atol=1e-10, plot=False):
    """Compare the per-atom descriptors of a cell with those of its supercell.

    Every atom of the ``repeat`` supercell is a periodic image of an atom of
    the cell and must get the same descriptor; a neighbour list that misses
    images across the cell boundary (or any dependence on absolute
    coordinates) breaks this.  Pelz, Materials Genomics, Unit 6, slide 43.

    Parameters
    ----------
    descriptor : LocalDescriptor
        Unfitted or fitted; a clone is fitted on the cell and supercell.
    structure : structure
        One periodic structure (``ase.Atoms``, pymatgen ``Structure``, ...).
    repeat : tuple of 3 int, default=(2, 2, 2)
        Repetitions along the three lattice vectors (1 along non-periodic axes).
    rtol, atol : float, default=1e-8, 1e-10
        A feature block passes if its largest deviation is at most
        ``atol + rtol * scale``, with ``scale`` its largest magnitude in the cell.
    plot : bool, default=False
        Also return a bar chart of the deviations.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by feature ``block``: ``n_features``, ``max_abs_deviation``,
        ``max_rel_deviation`` (over all atoms and images) and ``passed``;
        ``table.attrs["passed"]`` is True if every block passed.
    figure : matplotlib.figure.Figure
        Only with ``plot=True``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from skdesc import ChebyshevLAED
    >>> from skdesc.audit import periodic_image_audit
    >>> table = periodic_image_audit(ChebyshevLAED(rad_order=4, ang_order=2), bulk("Nb", cubic=True))
    >>> table.attrs["passed"]
    True
    """
    rtol, atol = check_tolerance(rtol, "rtol"), check_tolerance(atol, "atol")
    frames = to_frames(structure)
    if len(frames) != 1:
        raise ValueError(f"periodic_image_audit takes one structure, got {len(frames)}")
    frame = frames[0]
    repeat = np.asarray(repeat)
    if repeat.shape != (3,) or not np.issubdtype(repeat.dtype, np.integer) or np.any(repeat < 1):
        raise ValueError(f"repeat must be three positive integers, got {repeat.tolist()}")
    if np.any((repeat > 1) & ~frame.pbc):
        raise ValueError(f"repeat must be 1 along non-periodic axes (pbc={frame.pbc.tolist()}), got {repeat.tolist()}")
    if np.all(repeat == 1):
        raise ValueError("repeat=(1, 1, 1) compares the cell with itself; repeat along a periodic axis")
    big = supercell(frame, repeat)
    atomic, names = per_atom(descriptor, [frame, big])
    cell = atomic.structure(0)
    images = atomic.structure(1)
    cell = cell.toarray() if hasattr(cell, "toarray") else cell
    images = images.toarray() if hasattr(images, "toarray") else images
    n_copies = int(np.prod(repeat))
    reference = np.tile(cell, (n_copies, 1))
    rows = deviation_rows(reference, images, names, rtol, atol)
    table = finish_table(rows, "block")
    table.attrs["repeat"] = tuple(int(r) for r in repeat)
    if plot:
        return table, deviation_figure(table, f"periodic images {tuple(repeat.tolist())}")
    return table
