"""Make the bundled NbMoTaW demo subset ``data/nbmotaw_demo.extxyz.gz``.

Selects about 300 structures from the NbMoTaW data of Li et al. (2020), as
copied in the shared data folder (``../shared/data`` next to the repository),
and writes them without forces or stresses so the file stays small.

Selection (deterministic, ``numpy.random.default_rng(0)``):

* ``N_QUATERNARY`` of the quaternary (NbMoTaW) structures; they have 128
  atoms, the only ones kept above ``MAX_ATOMS``;
* ``PER_GROUP`` structures with at most ``MAX_ATOMS`` atoms from each of the
  other composition groups (the four elements and six binaries; the source
  holds no ternaries), drawn without replacement.

Each structure keeps its positions, cell, periodicity, total DFT energy (eV,
stored as the ``energy`` of the extended XYZ comment line) and the ``group``,
``file_group`` and ``split`` labels of the source.

Usage::

    python skdesc/datasets/make_demo_subset.py [--source PATH] [--output PATH]

Reading the source (5,658 structures with forces) takes a few minutes.
"""

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT.parent / "shared" / "data" / "nbmotaw_li2020_partial.extxyz.gz"
OUTPUT = Path(__file__).resolve().parent / "data" / "nbmotaw_demo.extxyz.gz"

SEED = 0
MAX_ATOMS = 64
PER_GROUP = 29
N_QUATERNARY = 10
QUATERNARY_GROUP = "TaNbMoW"
KEPT_INFO = ("group", "file_group", "split")


def select(structures, seed=SEED):
    """Indices of the demo structures, sorted, chosen as the module docstring says."""
    rng = np.random.default_rng(seed)
    groups = np.array([atoms.info["group"] for atoms in structures])
    n_atoms = np.array([len(atoms) for atoms in structures])
    chosen = []
    for group in sorted(set(groups)):
        if group == QUATERNARY_GROUP:
            pool, size = np.flatnonzero(groups == group), N_QUATERNARY
        else:
            pool, size = np.flatnonzero((groups == group) & (n_atoms <= MAX_ATOMS)), PER_GROUP
        chosen.append(rng.choice(pool, size=min(size, pool.size), replace=False))
    return np.sort(np.concatenate(chosen))


def strip(atoms):
    """Copy of ``atoms`` with only positions, cell, energy and the kept labels."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    new = Atoms(numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    new.info.update({key: atoms.info[key] for key in KEPT_INFO if key in atoms.info})
    new.calc = SinglePointCalculator(new, energy=atoms.get_potential_energy())
    return new


def main(argv=None):
    import ase.io

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help="NbMoTaW extended XYZ file")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="subset to write (.extxyz.gz)")
    args = parser.parse_args(argv)

    structures = ase.io.read(args.source, index=":", format="extxyz")
    subset = [strip(structures[i]) for i in select(structures)]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    ase.io.write(args.output, subset, format="extxyz")

    print(f"wrote {len(subset)} structures to {args.output} ({args.output.stat().st_size / 1e3:.0f} kB)")
    for group, count in sorted(Counter(atoms.info["group"] for atoms in subset).items()):
        print(f"  {group:8s} {count}")


if __name__ == "__main__":
    main()
