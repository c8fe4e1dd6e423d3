"""Higher body order: cost of the SOAP bispectrum and the nu = 4 invariants against the power spectrum.

Workload: the bcc alloy cells of ``bench_soap.py`` (rattled 4x4x4 bcc
supercells, 128 atoms, a = 3.2 Å, random W/Ta/Nb/V/Mo), SOAP basis
N = n_max = 6, L = l_max = 4, r_cut 5 Å, sigma 0.5 Å, one thread.  Rows:

* skdesc ``SOAP`` (power spectrum, nu = 2, all element pairs): the reference
  time;
* skdesc ``SOAPBispectrum`` nu = 3, ``compression="element_agnostic"`` (one
  total density) and ``"full"`` (every element channel), and nu = 4
  element-agnostic with ``l_max_nu4=2``;
* featomic's ``clebsch_gordan.DensityCorrelations`` (two Clebsch-Gordan
  products of its spherical expansion, the invariant block kept) on the same
  cells with every atom relabelled to one element, i.e. the element-agnostic
  bispectrum, at featomic's radius 6.86 Å (= skdesc's reach r_cut + 3.72
  sigma).  featomic keeps every (n1, n2, n3) and couplings skdesc drops as
  redundant, so its feature count is larger; the comparison is time per
  environment for the same body order and basis.

Target: the element-agnostic bispectrum at no more than 3x the power
spectrum's time (the full bispectrum has about 80x the features of the
power spectrum and costs accordingly: its time per feature is reported).

Usage::

    python benchmarks/bench_bispectrum.py [--n-cells 12] [--repeat 3] [--no-featomic] [--quick]
"""

import sys
import time

import numpy as np

import _harness as h
from bench_soap import bcc_cells, species_of

HYPERS = dict(r_cut=5.0, n_max=6, l_max=4, sigma=0.5)
REACH = HYPERS["r_cut"] + 3.717 * HYPERS["sigma"]  # skdesc's neighbour reach, 6.86 Å
TARGET_RATIO = 3.0


def skdesc_time(estimator, cells, repeat):
    """Best single-threaded transform time and feature count (fit and compile outside the timing)."""
    estimator.fit(cells[:1]).transform(cells[:1])
    seconds = h.best_time(lambda: estimator.transform(cells), repeat)
    return seconds, estimator.n_features_out_


def featomic_time(cells, repeat):
    """featomic's element-agnostic bispectrum: spherical expansion + two CG products (invariant block)."""
    import featomic
    import metatensor
    from featomic.clebsch_gordan import DensityCorrelations

    one_element = []
    for atoms in cells:
        copy = atoms.copy()
        copy.numbers[:] = 74
        one_element.append(copy)
    expansion = featomic.SphericalExpansion(
        cutoff={"radius": REACH, "smoothing": {"type": "ShiftedCosine", "width": 0.5}},
        density={"type": "Gaussian", "width": HYPERS["sigma"]},
        basis={"type": "TensorProduct", "max_angular": HYPERS["l_max"],
               "radial": {"type": "Gto", "max_radial": HYPERS["n_max"] - 1}},
    )
    correlations = DensityCorrelations(n_correlations=2, max_angular=HYPERS["l_max"])
    invariant = metatensor.Labels(["o3_lambda", "o3_sigma"], np.array([[0, 1]]))

    def run():
        density = expansion.compute(one_element, gradients=[]).keys_to_properties("neighbor_type")
        return correlations.compute(density, angular_cutoff=HYPERS["l_max"], selected_keys=invariant)

    tensor = run()
    n_features = sum(block.values.shape[-1] for block in tensor.blocks())
    return h.best_time(run, repeat), n_features


def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-cells", type=int, default=12, help="bcc supercells of 128 atoms (default 12)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best counts (default 3)")
    parser.add_argument("--no-featomic", action="store_true", help="skip featomic")
    parser.add_argument("--no-full", action="store_true", help="skip the full (every element channel) bispectrum")
    args = parser.parse_args(argv)
    h.quick(args, n_cells=1, repeat=1)
    from skdesc import SOAP, SOAPBispectrum

    report = h.Report("bench_bispectrum", args, f"Bispectrum benchmark: bcc alloy, N = {HYPERS['n_max']}, "
                      f"L = {HYPERS['l_max']}, r_cut {HYPERS['r_cut']} Å, sigma {HYPERS['sigma']} Å, one thread; "
                      f"best of {args.repeat}")
    cells = bcc_cells(args.n_cells)
    n_env = sum(len(atoms) for atoms in cells)
    species = species_of(cells)
    print(f"{len(cells)} cells, {n_env:,} environments, species {species}\n")
    common = dict(species=species, n_jobs=1, **HYPERS)
    methods = [
        ("skdesc SOAP (power spectrum, nu = 2)", lambda: SOAP(**common)),
        ("skdesc SOAPBispectrum nu = 3, element_agnostic", lambda: SOAPBispectrum(compression="element_agnostic", **common)),
        ("skdesc SOAPBispectrum nu = 4 (l_max_nu4 = 2), element_agnostic",
         lambda: SOAPBispectrum(nu=4, l_max_nu4=2, compression="element_agnostic", **common)),
    ]
    if not args.no_full and not args.quick:
        methods.append(("skdesc SOAPBispectrum nu = 3, full", lambda: SOAPBispectrum(compression="full", **common)))
    results = []
    for label, make in methods:
        seconds, n_features = skdesc_time(make(), cells, args.repeat)
        results.append((label, n_features, seconds))
    if not args.no_featomic:
        try:
            h.optional("featomic")
            seconds, n_features = featomic_time(cells, args.repeat)
            results.append(("featomic DensityCorrelations nu = 3, one element", n_features, seconds))
        except h.Skip as reason:
            report.skip("featomic row", f"{reason} (pip install featomic)")
    reference = results[0][2]
    rows = [
        (label, n_features, 1e6 * seconds / n_env, 1e9 * seconds / (n_env * n_features), seconds / reference)
        for label, n_features, seconds in results
    ]
    report.table("time per environment", ["method", "features", "µs/env", "ns per feature and env",
                                          "time / power spectrum"], rows)
    ratio = results[1][2] / reference
    report.check("bispectrum (element_agnostic) / power spectrum", round(ratio, 2), f"<= {TARGET_RATIO}",
                 ratio <= TARGET_RATIO, "x")
    featomic = [r for r in results if r[0].startswith("featomic")]
    if featomic:
        report.check("featomic / skdesc, element-agnostic bispectrum", round(featomic[0][2] / results[1][2], 1),
                     "", None, "x")
    report.print_checks()
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
