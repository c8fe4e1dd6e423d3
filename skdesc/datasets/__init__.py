"""Small data sets bundled with skdesc."""

from importlib.resources import as_file, files

import numpy as np

__all__ = ["DEMO_CITATION", "load_demo"]

DEMO_CITATION = (
    "X.-G. Li, C. Chen, H. Zheng, Y. Zuo and S. P. Ong, \"Complex strengthening mechanisms "
    "in the NbMoTaW multi-principal element alloy\", npj Comput. Mater. 6, 70 (2020), "
    "doi:10.1038/s41524-020-0339-0; data as copied in GitHub xinming365/ECNet (MIT licence)."
)


def load_demo():
    """Load the NbMoTaW demo data: 300 periodic alloy structures with DFT energies.

    A deterministic subset of the NbMoTaW data of Li et al. (2020): 29
    structures of each element and each binary (2-54 atoms) and 10 quaternary
    NbMoTaW structures (128 atoms).  See ``DEMO_CITATION`` and
    ``skdesc/datasets/data/README.md``.

    Returns
    -------
    structures : list of ase.Atoms
        The structures; ``info`` holds the source's ``group``, ``file_group``
        and ``split`` labels.
    energy_per_atom : ndarray of shape (n_structures,)
        Total PBE energy divided by the number of atoms, in eV/atom.

    Examples
    --------
    >>> from skdesc.datasets import load_demo
    >>> structures, y = load_demo()
    >>> len(structures), y.shape
    (300, (300,))
    """
    import ase.io

    with as_file(files(__name__) / "data" / "nbmotaw_demo.extxyz.gz") as path:
        structures = ase.io.read(path, index=":", format="extxyz")
    energy_per_atom = np.array([atoms.get_potential_energy() / len(atoms) for atoms in structures])
    return structures, energy_per_atom
