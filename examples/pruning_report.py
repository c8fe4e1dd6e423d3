"""Pruning report: how many descriptor components are functionally independent.

For each body order (SOAP power spectrum nu = 2, bispectrum nu = 3, nu = 3 + 4,
Cartesian tensor invariants) and several basis sizes, count the components that
:class:`skdesc.FunctionalIndependenceSelector` keeps on environments of fixed
size, and compare with the upper bound 3N - 3.

Environments
    A cluster of N + 1 atoms: a centre and its N nearest atoms (periodic images
    unwrapped, so an image counts as a separate atom), cut out of a structure
    and treated as a molecule.  Only the centre's Jacobian enters the rank test
    (``fit_derivatives(..., centers=...)``): a (3 (N + 1)) x d matrix, whose rank
    is at most 3 (N + 1) - 6 = 3N - 3 (three translations and three rotations of
    the cluster leave every invariant unchanged).  N neighbours are therefore
    the N atoms the descriptor sees; r_cut = 5 Å keeps all of them inside the
    cutoff (the N-th neighbour is at most ~3.6 Å away here).

    * TiO2 (Artrith & Urban 2016) and NbMoTaW (Li et al. 2020): centres drawn
      at random (seeded) from random structures of the data sets.
    * random: N atoms of one element uniformly in a ball of radius 3.5 Å around
      the centre, all pairwise distances above 1.2 Å (rejection sampling).

Counts
    ``kept``: components the selector keeps over all sampled environments at
    once (a component survives if it adds rank in at least one environment,
    default tolerance 1e-6 on the sine of the angle to the span of the kept
    gradients); ``rank``: the largest rank of one environment's Jacobian (the
    selector's test applied to that environment alone).  ``rank`` can reach the
    bound 3N - 3; ``kept`` can exceed it because different environments may
    need different components, but for a basis that is complete for these
    environments it stays close to it.

Usage::

    PYTHONPATH=. python examples/pruning_report.py            # the table of docs/pruning.md (~10 min)
    PYTHONPATH=. python examples/pruning_report.py --quick    # seconds, small bases, few environments
"""

import argparse
import gzip
import io
import sys
import time
from pathlib import Path

import numpy as np
from ase import Atoms

from skdesc import SOAP, CartesianInvariants, FunctionalIndependenceSelector, SOAPBispectrum
from skdesc.selection import independent_components

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
R_CUT = 5.0


def read(path):
    import ase.io

    with gzip.open(path, "rt") as handle:
        return ase.io.read(io.StringIO(handle.read()), index=":", format="extxyz")


def nearest_cluster(atoms, center, n_neighbors):
    """The centre and its ``n_neighbors`` nearest atoms (images unwrapped) as a molecule, centre first."""
    from ase.neighborlist import neighbor_list

    radius = 3.0
    while True:
        i, j, shift = neighbor_list("ijS", atoms, radius)
        mine = i == center
        if mine.sum() >= n_neighbors + 1 or radius > 12:
            break
        radius += 1.0
    vectors = atoms.positions[j[mine]] + shift[mine] @ atoms.cell.array - atoms.positions[center]
    distances = np.linalg.norm(vectors, axis=1)
    order = np.argsort(distances, kind="stable")[:n_neighbors]
    if order.size < n_neighbors or distances[order[-1]] > R_CUT - 1.0:
        return None
    # a tie at the N-th distance makes the cut arbitrary (a shell half in, half out): skip such centres
    if mine.sum() > n_neighbors and np.sort(distances)[n_neighbors] - distances[order[-1]] < 1e-3:
        return None
    return Atoms(numbers=np.r_[atoms.numbers[center], atoms.numbers[j[mine]][order]],
                 positions=np.vstack([np.zeros(3), vectors[order]]))


def data_clusters(structures, n_neighbors, n_environments, rng):
    clusters = []
    for _ in range(50 * n_environments):
        atoms = structures[rng.integers(len(structures))]
        cluster = nearest_cluster(atoms, int(rng.integers(len(atoms))), n_neighbors)
        if cluster is not None:
            clusters.append(cluster)
        if len(clusters) == n_environments:
            return clusters
    raise RuntimeError(f"found only {len(clusters)} environments with {n_neighbors} neighbours")


def random_clusters(n_neighbors, n_environments, rng, symbol="Si", radius=3.5, min_distance=1.2):
    clusters = []
    while len(clusters) < n_environments:
        points = [np.zeros(3)]
        for _ in range(10000):
            p = rng.uniform(-radius, radius, 3)
            if np.linalg.norm(p) <= radius and min(np.linalg.norm(p - q) for q in points) > min_distance:
                points.append(p)
                if len(points) == n_neighbors + 1:
                    break
        if len(points) == n_neighbors + 1:
            clusters.append(Atoms(f"{symbol}{n_neighbors + 1}", positions=np.array(points)))
    return clusters


def descriptor_grid(species, quick):
    """(body order label, basis label, descriptor) rows; bispectra element-agnostic beyond ~8000 components."""
    many = len(species) > 2
    soap = [(2, 2), (4, 3), (6, 4), (8, 6)]
    nu3 = [(2, 2), (3, 3), (4, 4)]
    nu4 = [(2, 2, 2), (3, 3, 2)]
    cart = [1, 2, 3, 4]
    if quick:
        soap, nu3, nu4, cart = soap[:2], nu3[:1], nu4[:1], cart[:2]
    rows = []
    for n, l in soap:
        rows.append(("nu=2 power spectrum", f"n_max={n}, l_max={l}", SOAP(species=species, r_cut=R_CUT, n_max=n, l_max=l)))
    for n, l in nu3:
        compression = "element_agnostic" if many and n >= 4 else "full"
        rows.append((f"nu=3 bispectrum ({compression})", f"n_max={n}, l_max={l}",
                     SOAPBispectrum(species=species, r_cut=R_CUT, n_max=n, l_max=l, compression=compression)))
    for n, l, l4 in nu4:
        compression = "element_agnostic" if many else "full"
        rows.append((f"nu=3+4 ({compression})", f"n_max={n}, l_max={l}, l_max_nu4={l4}",
                     SOAPBispectrum(species=species, r_cut=R_CUT, n_max=n, l_max=l, nu=4, l_max_nu4=l4,
                                    compression=compression)))
    for n in cart:
        rows.append(("Cartesian, optimal 13", f"n_radial={n}", CartesianInvariants(species=species, r_cut=R_CUT, n_radial=n)))
    rows.append(("Cartesian, all (order 4)", f"n_radial={cart[-1]}",
                 CartesianInvariants(species=species, r_cut=R_CUT, n_radial=cart[-1], invariants="all", max_order=4)))
    if len(species) > 1:  # couplings between the element blocks (tensors of different channels in one invariant)
        rows.append(("Cartesian, optimal 13, mix_channels", "n_radial=1",
                     CartesianInvariants(species=species, r_cut=R_CUT, n_radial=1, mix_channels=True)))
    return rows


def count(descriptor, clusters):
    """(n_features, kept over all environments, ranks of the environments, seconds)."""
    start = time.perf_counter()
    descriptor = descriptor.fit(clusters)
    _, derivatives = descriptor.transform_with_derivatives(clusters)
    centers = derivatives.offsets[:-1]  # atom 0 of every cluster
    selector = FunctionalIndependenceSelector().fit_derivatives(derivatives, centers=centers)
    ranks = []
    for c in centers:
        block = derivatives.values[derivatives.pair_offsets[c]: derivatives.pair_offsets[c + 1]]
        block = block.reshape(-1, derivatives.n_features)
        ranks.append(independent_components(block, np.zeros(block.shape[0], dtype=np.int64)).size)
    return derivatives.n_features, int(selector.support_.sum()), np.array(ranks), time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small bases and few environments (seconds)")
    parser.add_argument("--n-environments", type=int, default=None, help="environments per data set (default 40, quick 4)")
    parser.add_argument("--data", default=str(DATA), help="folder of the extxyz.gz files")
    args = parser.parse_args(argv)
    n_env = args.n_environments or (4 if args.quick else 40)
    rng = np.random.default_rng(0)

    sets = []  # (name, N, species, clusters)
    for name, file, n_neighbors in (("TiO2", "tio2_artrith2016.extxyz.gz", 8),
                                    ("NbMoTaW", "nbmotaw_li2020_partial.extxyz.gz", 8)):
        source = Path(args.data) / file
        if not source.exists():
            print(f"skipping {name}: {source} not found", file=sys.stderr)
            continue
        structures = read(source)
        if not args.quick:
            structures = [structures[i] for i in np.sort(rng.choice(len(structures), min(400, len(structures)), replace=False))]
        species = sorted({int(z) for atoms in structures for z in atoms.numbers})
        sets.append((name, n_neighbors, species, data_clusters(structures, n_neighbors, n_env, rng)))
    for n_neighbors in ((8,) if args.quick else (4, 8, 12)):
        sets.append(("random", n_neighbors, [14], random_clusters(n_neighbors, n_env, rng)))

    lines = [
        f"Environments: {n_env} per row, centre + N nearest atoms cut out as a cluster; r_cut {R_CUT} Å, "
        "SOAP sigma 0.5 Å; selector tolerance 1e-6.",
        "",
        "| environments | N | bound 3N-3 | body order | basis | components | rank per env. (min / median / max) | kept | time (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for name, n_neighbors, species, clusters in sets:
        grid = descriptor_grid(species, args.quick)
        if name == "random" and n_neighbors != 8:  # the other sizes: one basis per family, enough to see the bound
            grid = [row for row in grid if row[1] in ("n_max=8, l_max=6", "n_max=4, l_max=4", "n_max=3, l_max=3, l_max_nu4=2")
                    or row[0].startswith("Cartesian, all")]
        for family, basis, descriptor in grid:
            d, kept, ranks, seconds = count(descriptor, clusters)
            rank = f"{ranks.min()} / {int(np.median(ranks))} / {ranks.max()}"
            line = f"| {name} | {n_neighbors} | {3 * n_neighbors - 3} | {family} | {basis} | {d} | {rank} | {kept} | {seconds:.1f} |"
            lines.append(line)
            print(line, flush=True)
    return lines


if __name__ == "__main__":
    main()
