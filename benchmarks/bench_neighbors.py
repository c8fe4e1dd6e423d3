"""Neighbour lists: skdesc's numba cell list against vesin, pairs per second on one thread.

Workloads (random positions, seeded):

* ``cells64``: ``--n-cells`` periodic cubic cells of 64 atoms at 0.06 atoms/Å³
  (side 10.2 Å), cutoff 5 Å: the small-cell regime of a DFT data set;
* ``box20k``: one periodic cube of 20,000 atoms at 0.05 atoms/Å³ (side 73.7 Å), cutoff 6 Å;
* ``slab``: a 2,000-atom slab, periodic along x and y only (30 Å of atoms
  along z, no periodicity), cutoff 5 Å: mixed periodicity.

Both libraries return full lists (each pair in both directions) with the
pair indices, the periodic shifts, the distance vectors and the distances;
the pair sets are checked to be identical.  For ``cells64`` skdesc is timed
twice: one ``neighbor_list`` call per cell (as vesin), and the batched stage
the descriptors use (``batch_neighbor_lists``: all cells in one numba call).
Target: skdesc at least as fast as vesin (ratio >= 1) on every workload.

Usage::

    python benchmarks/bench_neighbors.py [--n-cells 200] [--repeat 3] [--quick]
"""

import sys

import numpy as np

import _harness as h

TARGET_RATIO = 1.0


def workloads(n_cells, box_atoms, slab_atoms):
    rng = np.random.default_rng(0)
    side = (64 / 0.06) ** (1 / 3)
    cells = [(rng.random((64, 3)) * side, np.eye(3) * side, np.ones(3, bool)) for _ in range(n_cells)]
    box_side = (box_atoms / 0.05) ** (1 / 3)
    box = [(rng.random((box_atoms, 3)) * box_side, np.eye(3) * box_side, np.ones(3, bool))]
    area_side = (slab_atoms / (0.05 * 30.0)) ** 0.5
    slab_positions = rng.random((slab_atoms, 3)) * np.array([area_side, area_side, 30.0])
    slab = [(slab_positions, np.diag([area_side, area_side, 0.0]), np.array([True, True, False]))]
    return {"cells64": (cells, 5.0), "box20k": (box, 6.0), "slab": (slab, 5.0)}


def _pair_set(i, j, shifts):
    return np.unique(np.column_stack([i, j, shifts]).astype(np.int64), axis=0)


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-cells", type=int, default=200, help="64-atom cells (default 200)")
    parser.add_argument("--box-atoms", type=int, default=20_000, help="atoms of the big box (default 20000)")
    parser.add_argument("--slab-atoms", type=int, default=2_000, help="atoms of the slab (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best counts (default 3)")
    args = parser.parse_args(argv)
    h.quick(args, n_cells=5, box_atoms=2_000, slab_atoms=300, repeat=1)
    from skdesc import neighbor_list
    from skdesc.neighbors import batch_neighbor_lists

    report = h.Report("bench_neighbors", args, f"Neighbour lists, one thread, best of {args.repeat}")
    try:
        vesin = h.optional("vesin")
    except h.Skip as reason:
        report.skip("vesin rows and the ratios", f"{reason} (pip install vesin)")
        vesin = None
    rows = []
    for name, (systems, cutoff) in workloads(args.n_cells, args.box_atoms, args.slab_atoms).items():
        n_atoms = sum(len(p) for p, _, _ in systems)

        def ours():
            return [neighbor_list(p, c, b, cutoff) for p, c, b in systems]

        lists = ours()
        n_pairs = sum(len(nl.index) for nl in lists)
        t_ours = h.best_time(ours, args.repeat)
        timings = [("skdesc neighbor_list", t_ours)]
        if name == "cells64":
            positions = np.concatenate([p for p, _, _ in systems])
            offsets = np.concatenate([[0], np.cumsum([len(p) for p, _, _ in systems])])
            cells = np.stack([c for _, c, _ in systems])
            pbc = np.stack([b for _, _, b in systems])

            def batched():
                return batch_neighbor_lists(positions, offsets, cells, pbc, cutoff, 0.0)

            batched()
            timings.append(("skdesc batch_neighbor_lists (the descriptors' stage)", h.best_time(batched, args.repeat)))
        t_vesin = None
        identical = ""
        if vesin is not None:
            calculator = vesin.NeighborList(cutoff=cutoff, full_list=True)

            def theirs():
                return [calculator.compute(p, c, b, quantities="ijSDd") for p, c, b in systems]

            results = theirs()
            t_vesin = h.best_time(theirs, args.repeat)
            same = all(
                np.array_equal(
                    _pair_set(np.repeat(np.arange(len(p)), np.diff(nl.first)), nl.index, nl.shifts),
                    _pair_set(i, j, s),
                )
                for (p, _, _), nl, (i, j, s, _, _) in zip(systems, lists, results)
            )
            identical = "yes" if same else "NO"
            timings.append(("vesin " + vesin.__version__, t_vesin))
        for label, seconds in timings:
            ratio = "" if t_vesin is None else t_vesin / seconds
            rows.append((name, label, n_atoms, n_pairs, n_pairs / seconds / 1e6, ratio,
                         identical if label.startswith("vesin") else ""))
        if t_vesin is not None:
            best = min(seconds for label, seconds in timings if label.startswith("skdesc"))
            report.check(f"{name}: vesin time / skdesc time", round(t_vesin / best, 2), f">= {TARGET_RATIO}",
                         t_vesin / best >= TARGET_RATIO, "x")
            report.check(f"{name}: identical pairs (i, j, shift)", identical, "yes", identical == "yes")
    report.table("pairs per second (full lists with shifts, vectors and distances)",
                 ["workload", "method", "atoms", "pairs", "Mpairs/s", "speed-up vs vesin", "same pairs"], rows)
    report.print_checks()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
