"""Throughput and memory of CompressedSOAP, with dscribe and featomic as references.

All descriptors use r_cut 5 Å, n_max 8, l_max 6, sigma 0.5 Å on the same
``ase.Atoms`` inputs:

* ``bcc``: ``--n-cells`` periodic 4x4x4 bcc supercells (128 atoms,
  a = 3.2 Å) with random W/Ta/Nb/V/Mo occupation, rattled by 0.1 Å
  (``numpy.random.default_rng(0)``);
* ``nbmotaw``: the first ``--n-nbmotaw`` structures of Li et al. (2020)
  (``nbmotaw_li2020_partial.extxyz.gz``, periodic);
* ``qm9``: the first ``--n-qm9`` molecules of the QM9 10k subset
  (``qm9_subset10k_seed0.extxyz.gz``, not periodic).

It reports atomic environments per second, single-threaded, of every
``CompressedSOAP`` compression, of dscribe's ``SOAP`` (compression ``off``,
``mu1nu1``, ``mu2``, ``crossover``; ``create(..., n_jobs=1)``) and of
featomic's ``SoapPowerSpectrum`` (GTO basis, shifted-cosine cutoff of width
0.5 Å; a different basis and normalisation, so its values are not comparable,
only its speed), plus the two-thread speed-up of ``nu2``.  The skdesc rows
that have a dscribe counterpart also show the largest deviation from dscribe
on the first structures, to show the same quantity is computed.  ``nu2``,
``nu1mu1`` and ``mu2`` also run with float32 output (``dtype="float32"``,
computed in float64 and rounded once), against dscribe's ``dtype="float32"``
in the same rounds; their deviation is float32 rounding (about 1e-7).

dscribe includes neighbours up to r_cut + 3.72 sigma = 6.86 Å (no smooth
cutoff) and skdesc does the same; featomic stops at r_cut, so it sees about
(5 / 6.86)^3 = 0.39 times as many neighbours.  A second featomic row with a
6.86 Å radius has the same neighbour set as dscribe and skdesc.

Every descriptor is warmed up first (numba compilation and first-call
overheads are not timed); each time is the best of ``--repeat`` rounds in
which all methods run in turn.  featomic is timed with ``RAYON_NUM_THREADS=1``,
with ("dense") and without ("TensorMap") the conversion of its output to one
dense array like the others return.  Other processes on the machine lower
the two-thread speed-up (and, less, the single-thread rates), so the CPU
time they used during each data set is printed.  Other tenants of a virtual
machine do too, invisibly: so a compute-only numba loop is timed on one and
on two threads in the same rounds (``machine`` row), the speed-up a second
core gave at best while the data set ran.  Targets (issue 16): ``nu2``,
``nu1mu1`` and ``mu2`` at least 5x dscribe, two workers at least 1.8x one.

The peak memory of a single ``nu2`` transform of ``--memory-envs``
environments (bcc cells) is measured in a child process: the resident set
after building the inputs and warming up is the baseline, the kernel's
high-water mark (``VmHWM``, reset through ``/proc/self/clear_refs`` when
allowed, else ``ru_maxrss``) the peak; peak minus baseline is compared with
the size of the output array.

Memory reuse: a fresh output array costs a page fault per 4 KiB page, and in
a virtual machine that hands freed memory back to the host (free page
reporting) a page written again seconds after a free costs 4-10 us instead
of about 0.3 us -- for 5740 features, 50-100 us per environment, more than
the whole descriptor, and at random depending on what ran before.  So the
timings run with glibc told to keep freed memory in one arena
(``MALLOC_MMAP_MAX_=0``, ``MALLOC_TRIM_THRESHOLD_`` 64 GiB,
``MALLOC_ARENA_MAX=1``, without which the batches of worker threads still
come from fresh pages; the script re-executes itself with them), which
measures compute and memory bandwidth, the same for every library;
``--system-malloc`` times with the default allocator instead.  The memory
test always uses the default allocator.  The profile prints the page costs.

The profile (``--no-profile`` skips it) splits the single-threaded ``nu2``
transform of each data set (at most 12,800 environments) into input
conversion, neighbour lists, density expansion, power spectrum and the rest
by calling the numba kernel directly with the full and a one-feature table.
On the first data set it also prints the cost of writing fresh memory.

Usage::

    python benchmarks/bench_soap.py [--n-cells 100] [--n-nbmotaw 1000] [--n-qm9 3000]
                                    [--repeat 3] [--memory-envs 100000] [--quick] [--json PATH]

``--quick``: 2 cells, 10 NbMoTaW, 30 QM9, one round, a memory test of 1,000
environments with one thread, a profile of at most 500 environments.
Without dscribe (or featomic) their rows and the ratios to them are skipped.
"""

import os
import sys

# single-threaded references: featomic uses a rayon pool, numpy a BLAS pool
os.environ["RAYON_NUM_THREADS"] = "1"
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import _harness as h  # noqa: E402

# Keep freed memory in the process (glibc reads these at start-up, hence the re-exec):
# see "Memory reuse" in the module docstring.
if __name__ == "__main__" and not {"--system-malloc", "--memory-child", "-h", "--help"} & set(sys.argv):
    h.reexec_with_pooled_malloc(__file__, sys.argv[1:])

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import skdesc  # noqa: E402
from skdesc.local.soap import CompressedSOAP  # noqa: E402

NBMOTAW = "nbmotaw_li2020_partial.extxyz.gz"
QM9 = "qm9_subset10k_seed0.extxyz.gz"

HYPERS = dict(r_cut=5.0, n_max=8, l_max=6, sigma=0.5)
PADDED_CUTOFF = HYPERS["r_cut"] + HYPERS["sigma"] * math.sqrt(-2.0 * math.log(1e-3))  # 6.858 Å
BCC_ELEMENTS = ("W", "Ta", "Nb", "V", "Mo")

# skdesc modes, in table order, and their dscribe counterparts
SKDESC_MODES = ("nu2", "nu1mu1", "mu2", "crossover", "nu1mu1*", "nu1nu1hat", "nu1mu1hat", "embedding", "random")
DSCRIBE_MODE = {"nu2": "off", "nu1mu1": "mu1nu1", "mu2": "mu2", "crossover": "crossover"}
# modes also timed with float32 output, skdesc and dscribe both dtype="float32"
FLOAT32_MODES = ("nu2", "nu1mu1", "mu2")

TARGET_VS_DSCRIBE = {"nu2": 5.0, "nu1mu1": 5.0, "mu2": 5.0}
TARGET_THREADS = 1.8
PROBE_ONE, PROBE_TWO = "probe: 1 thread", "probe: 2 threads"
TARGET_MEMORY = 1.5  # peak extra memory / output size


# ----------------------------------------------------------------- inputs
def bcc_cells(n_cells, seed=0):
    """Rattled 4x4x4 bcc supercells (128 atoms, a = 3.2 Å) with random W/Ta/Nb/V/Mo."""
    import ase.build

    rng = np.random.default_rng(seed)
    base = ase.build.bulk("W", "bcc", a=3.2, cubic=True).repeat(4)
    cells = []
    for _ in range(n_cells):
        atoms = base.copy()
        atoms.set_chemical_symbols(rng.choice(BCC_ELEMENTS, size=len(atoms)))
        atoms.positions += rng.normal(scale=0.1, size=(len(atoms), 3))
        cells.append(atoms)
    return cells


def species_of(structures):
    """Element symbols present, sorted by atomic number."""
    from ase.data import atomic_numbers

    symbols = {s for atoms in structures for s in atoms.get_chemical_symbols()}
    return sorted(symbols, key=atomic_numbers.__getitem__)


# -------------------------------------------------------------- references
def make_featomic(radius):
    """featomic SoapPowerSpectrum with the GTO basis, or None if featomic is missing."""
    try:
        import featomic
    except ImportError:
        return None
    return featomic.SoapPowerSpectrum(
        cutoff={"radius": radius, "smoothing": {"type": "ShiftedCosine", "width": 0.5}},
        density={"type": "Gaussian", "width": HYPERS["sigma"]},
        basis={
            "type": "TensorProduct",
            "max_angular": HYPERS["l_max"],
            "radial": {"type": "Gto", "max_radial": HYPERS["n_max"] - 1},  # N = max_radial + 1
        },
    )


def featomic_dense(calculator, structures):
    """featomic power spectrum as one dense (n_atoms, n_features) array."""
    tensor = calculator.compute(structures)
    tensor = tensor.keys_to_samples("center_type").keys_to_properties(["neighbor_1_type", "neighbor_2_type"])
    return tensor.block().values


def dscribe_rows(soap, structures):
    """dscribe output of each structure stacked into (n_atoms, n_features)."""
    return np.concatenate([np.atleast_2d(soap.create(atoms, n_jobs=1)) for atoms in structures])


def bench_dataset(name, structures, periodic, args):
    """Rows (dataset, method, n_features, env/s, reference, ratio, target, deviation)."""
    try:
        DscribeSOAP = h.optional("dscribe.descriptors").SOAP
    except h.Skip:
        DscribeSOAP = None
    species = species_of(structures)
    n_env = sum(len(atoms) for atoms in structures)
    methods = {}  # label -> (callable, n_features)
    skdesc = {}
    for mode in SKDESC_MODES:
        est = CompressedSOAP(species=species, compression=mode, random_state=0, n_jobs=1, **HYPERS)
        skdesc[mode] = est.fit(structures[:1])
    for mode in FLOAT32_MODES:
        est = CompressedSOAP(species=species, compression=mode, dtype="float32", n_jobs=1, **HYPERS)
        skdesc[f"{mode} float32"] = est.fit(structures[:1])
    skdesc["nu2 n_jobs=2"] = CompressedSOAP(species=species, compression="nu2", n_jobs=2, **HYPERS).fit(
        structures[:1]
    )
    for key, est in skdesc.items():
        est.transform(structures[:4])  # warm up
        label = f"skdesc {key}" if "n_jobs" in key else f"skdesc {key} (n_jobs=1)"
        methods[label] = (lambda est=est: est.transform(structures), est.n_features_out_)

    dscribe = {}  # mode -> dscribe SOAP; float32 output: "<mode> float32"
    for mode, theirs in DSCRIBE_MODE.items() if DscribeSOAP is not None else ():
        for dtype in ("float64", "float32") if mode in FLOAT32_MODES else ("float64",):
            soap = DscribeSOAP(species=species, periodic=periodic, compression={"mode": theirs}, dtype=dtype, **HYPERS)
            soap.create(structures[:4], n_jobs=1)  # warm up
            suffix = "" if dtype == "float64" else " float32"
            dscribe[mode + suffix] = soap
            methods[f"dscribe {theirs}{suffix} (n_jobs=1)"] = (
                lambda soap=soap: soap.create(structures, n_jobs=1),
                soap.get_number_of_features(),
            )

    if not args.no_featomic:
        for radius, label in ((HYPERS["r_cut"], "featomic r=5.0"), (PADDED_CUTOFF, "featomic r=6.86")):
            calculator = make_featomic(radius)
            if calculator is None:
                break
            n_features = featomic_dense(calculator, structures[:4]).shape[1]  # warm up
            if radius == HYPERS["r_cut"]:  # without the conversion to one dense array
                methods[f"{label} (TensorMap)"] = (lambda c=calculator: c.compute(structures), n_features)
            methods[f"{label} (dense)"] = (lambda c=calculator: featomic_dense(c, structures), n_features)

    # what a second core gives right now, timed among the methods (same conditions)
    probe = h.ThreadProbe()
    methods[PROBE_ONE] = (probe.one, None)
    methods[PROBE_TWO] = (probe.two, None)

    labels = list(methods)
    seconds = h.best_times([methods[k][0] for k in labels], args.repeat, collect=True)
    ceiling = seconds[labels.index(PROBE_ONE)] / seconds[labels.index(PROBE_TWO)]
    labels, seconds = labels[:-2], seconds[:-2]
    rate = {label: n_env / t for label, t in zip(labels, seconds)}
    features = {label: methods[label][1] for label in labels}

    # agreement with dscribe on the first structures (same quantity computed?)
    check = structures[: max(1, min(3, len(structures)))]
    deviation = {}
    for mode, soap in dscribe.items():
        ours = skdesc[mode].transform(check).values.astype(np.float64)
        theirs = dscribe_rows(soap, check).astype(np.float64)
        deviation[mode] = np.abs(ours - theirs).max() / np.abs(theirs).max()

    rows = []
    for mode in SKDESC_MODES:
        label = f"skdesc {mode} (n_jobs=1)"
        if not dscribe:
            rows.append((name, label, features[label], rate[label], "", None, None, None))
        elif mode in DSCRIBE_MODE:
            ref = f"dscribe {DSCRIBE_MODE[mode]} (n_jobs=1)"
            rows.append((name, label, features[label], rate[label], ref.split(" (")[0], rate[label] / rate[ref],
                         TARGET_VS_DSCRIBE.get(mode), deviation[mode]))
        else:
            ref = "dscribe off (n_jobs=1)"
            rows.append((name, label, features[label], rate[label], "dscribe off", rate[label] / rate[ref],
                         None, None))
    for mode in FLOAT32_MODES:
        label = f"skdesc {mode} float32 (n_jobs=1)"
        if not dscribe:
            rows.append((name, label, features[label], rate[label], "", None, None, None))
            continue
        ref = f"dscribe {DSCRIBE_MODE[mode]} float32 (n_jobs=1)"
        rows.append((name, label, features[label], rate[label], ref.split(" (")[0], rate[label] / rate[ref],
                     None, deviation[f"{mode} float32"]))
    label, ref = "skdesc nu2 n_jobs=2", "skdesc nu2 (n_jobs=1)"
    rows.append((name, label, features[label], rate[label], "skdesc nu2 n_jobs=1", rate[label] / rate[ref],
                 TARGET_THREADS, None))
    rows.append((name, "machine: compute-only loop, 2 threads", None, None, "1 thread", ceiling, None, None))
    for mode, theirs in DSCRIBE_MODE.items() if dscribe else ():
        for suffix in ("", " float32") if mode in FLOAT32_MODES else ("",):
            label = f"dscribe {theirs}{suffix} (n_jobs=1)"
            rows.append((name, label, features[label], rate[label], "", None, None, None))
    for label in labels:
        if label.startswith("featomic"):
            # ratio: skdesc nu2 over featomic (featomic is not value-comparable)
            rows.append((name, label, features[label], rate[label], "skdesc nu2 / this",
                         rate["skdesc nu2 (n_jobs=1)"] / rate[label], None, None))
    return rows


def print_table(report, rows):
    """The throughput table, one row per (dataset, method)."""
    table = []
    for name, method, n_features, rate, ref, ratio, target, dev in rows:
        table.append((name, method, n_features, None if rate is None else round(rate),
                      None if ratio is None else f"{ratio:.2f}x", ref,
                      None if target is None else f">= {target:g}x",
                      None if target is None else ratio >= target,
                      None if dev is None else f"{dev:.1e}"))
    report.table("throughput, single-threaded unless stated", ["dataset", "method", "features", "env/s", "ratio",
                 "vs", "target", "met?", "max dev"], table,
                 footnote="'max dev': max |skdesc - dscribe| / max |dscribe| on the first 3 structures "
                          "(float32 rows: both float32, so float32 rounding); "
                          "featomic ratio = skdesc nu2 env/s / featomic env/s (not value-comparable); "
                          "'machine': the speed-up of a compute-only numba loop on two threads, timed in the "
                          "same rounds, the most a second core gave during the data set")


# ----------------------------------------------------------------- memory
def _status_kib(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def memory_child(n_env, n_jobs):
    """Peak memory of one nu2 transform; prints a JSON line (run in a fresh process)."""
    rss_start = _status_kib("VmRSS")
    cells = bcc_cells(math.ceil(n_env / 128))
    n_atoms = sum(len(atoms) for atoms in cells)
    est = CompressedSOAP(species=list(BCC_ELEMENTS), compression="nu2", n_jobs=n_jobs, **HYPERS).fit(cells[:1])
    warm = est.transform(cells[:2])
    del warm
    gc.collect()
    rss_inputs = _status_kib("VmRSS")
    reset = _reset_peak()
    baseline = _status_kib("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    # the output of the default 100,000 environments (4.6 GB) is above the default max_memory
    with skdesc.config_context(max_memory=4.0 * n_atoms * est.n_features_out_ * 8 + 2**30):
        features = est.transform(cells)
    seconds = time.perf_counter() - start
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "n_env": n_atoms,
        "n_features": features.values.shape[1],
        "n_jobs": n_jobs,
        "seconds": seconds,
        "output_bytes": features.values.nbytes,
        "baseline_bytes": baseline * 1024,
        "inputs_bytes": (rss_inputs - rss_start) * 1024,
        "peak_bytes": peak * 1024,
        "maxrss_before_bytes": maxrss_before * 1024,
        "peak_method": "VmHWM after clear_refs" if reset else "ru_maxrss",
        "final_rss_bytes": _status_kib("VmRSS") * 1024,
    }
    print(json.dumps(result))


def bench_memory(n_env, n_jobs_list, report):
    results = []
    for n_jobs in n_jobs_list:
        # the child uses the system's default malloc: freed memory goes back to the OS
        env = h.system_malloc_env()
        proc = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(n_env), "--memory-child-jobs", str(n_jobs)],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            report.skip(f"memory test n_jobs={n_jobs}", f"the child process failed:\n{proc.stderr[-2000:]}")
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    gib = 1024.0**3
    for res in results:
        extra = res["peak_bytes"] - res["baseline_bytes"]
        ratio = extra / res["output_bytes"]
        print(
            f"nu2 transform of {res['n_env']:,} bcc environments x {res['n_features']} features, "
            f"n_jobs={res['n_jobs']} ({res['seconds']:.1f} s, peak from {res['peak_method']}):\n"
            f"  output array      {res['output_bytes'] / gib:8.3f} GiB\n"
            f"  baseline RSS      {res['baseline_bytes'] / gib:8.3f} GiB  (interpreter, libraries, "
            f"inputs {res['inputs_bytes'] / 2**20:.0f} MiB, warm-up)\n"
            f"  peak RSS          {res['peak_bytes'] / gib:8.3f} GiB\n"
            f"  peak - baseline   {extra / gib:8.3f} GiB = {ratio:.3f} x output  "
            f"(target <= {TARGET_MEMORY}x: {'yes' if ratio <= TARGET_MEMORY else 'NO'}); "
            f"beyond the output {(extra - res['output_bytes']) / 2**20:,.0f} MiB"
        )
    return results


# ---------------------------------------------------------------- profile
def _kernel_call(est, batch, neighbors, table=None):
    """Call the numba kernel as CompressedSOAP._compute does, optionally with another feature table."""
    from skdesc.local._kernels import soap as kernel

    layout = est._layout_
    t_l, t_a, t_b = est._table if table is None else table[:3]
    pref = est._pref if table is None else table[3]
    channel, atom_weight, n_channels = est._density_channels(batch)
    out = np.zeros((batch.positions.shape[0], t_l.shape[0]))
    kernel.soap_kernel(
        neighbors.first, neighbors.index, neighbors.vectors, neighbors.distances, channel, batch.offsets, n_channels, int(est.l_max), est._norm,
        *est._radial, *est._star_radial, layout.use_star,
        np.ascontiguousarray(est.element_weights_, dtype=np.float64), atom_weight,
        float(est.center_weight), est._maps_t[0], layout.map_a is not None, est._maps_t[1], layout.b_kind,
        np.ascontiguousarray(t_l, dtype=np.int64), np.ascontiguousarray(t_a, dtype=np.int64),
        np.ascontiguousarray(t_b, dtype=np.int64), np.ascontiguousarray(pref, dtype=np.float64), out,
    )
    return out


def profile_split(name, structures, repeat, max_env=12_800):
    """Split of the single-threaded nu2 transform time, using transform's own batches."""
    from skdesc.local.base import FrameBatch
    from skdesc.neighbors import batch_neighbor_lists
    from skdesc.structures import structure_arrays

    keep, total = [], 0
    for atoms in structures:
        if total >= max_env:
            break
        keep.append(atoms)
        total += len(atoms)
    structures = keep
    species = species_of(structures)
    est = CompressedSOAP(species=species, compression="nu2", n_jobs=1, **HYPERS).fit(structures[:1])
    est.transform(structures[:2])
    lookup = np.full(119, -1, dtype=np.int64)
    lookup[list(est.species_)] = np.arange(len(est.species_))
    lengths = [len(atoms) for atoms in structures]
    spans = est._batches(lengths, 1)
    batches = [FrameBatch.from_structures(structures[a:b], a, lookup) for a, b in spans]
    n_env = sum(b.positions.shape[0] for b in batches)
    one = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones(1))
    request = est._neighbor_request()

    def stage(batch):
        return batch_neighbor_lists(batch.positions, batch.offsets, batch.cells, batch.pbc, request.cutoff,
                                    float(est.min_distance), request.half_below)

    def neighbours():
        return [stage(batch) for batch in batches]

    lists = neighbours()
    _kernel_call(est, batches[0], lists[0], one)  # compile this signature

    # half lists hold each pair once, full lists twice
    n_pairs = sum(
        int(np.sum(np.where(nb.half, 1.0, 0.5) * np.add.reduceat(np.diff(nb.first), b.offsets[:-1])))
        for nb, b in zip(lists, batches)
    )
    t_transform, t_frames, t_batch, t_nl, t_expand, t_full = h.best_times(
        [
            lambda: est.transform(structures),
            lambda: [structure_arrays(structures[a:b], start=a) for a, b in spans],
            lambda: [FrameBatch.from_structures(structures[a:b], a, lookup) for a, b in spans],
            neighbours,
            lambda: [_kernel_call(est, batch, nb, one) for batch, nb in zip(batches, lists)],
            lambda: [_kernel_call(est, batch, nb) for batch, nb in zip(batches, lists)],
        ],
        repeat,
        collect=True,
    )
    t_expansion = t_expand
    t_spectrum = t_full - t_expand
    print(f"profile [{name}]: skdesc nu2, n_jobs=1, {len(structures)} structures, {n_env:,} environments in "
          f"{len(batches)} batches, {len(species)} species, {n_pairs:,} atom pairs within {PADDED_CUTOFF:.2f} Å "
          f"({n_pairs / n_env:.1f} per environment), {est.n_features_out_} features, best of {repeat}")
    rows = [
        ("transform() end to end", t_transform),
        ("  FrameBatch.from_structures (input)", t_batch),
        ("    structure_arrays (copy + checks)", t_frames),
        ("  neighbour stage (batch_neighbor_lists)", t_nl),
        ("  soap_kernel, 1-feature table (density expansion)", t_expand),
        ("  soap_kernel, full nu2 table", t_full),
        ("    Gram matrices + writing the features (full - 1-feature)", t_spectrum),
        ("  rest: output array, batching (transform - above)", t_transform - t_batch - t_nl - t_full),
    ]
    for label, t in rows:
        print(f"  {label:<56}{t:8.3f} s {100 * t / t_transform:5.1f} %  {1e6 * t / n_env:7.2f} us/env")
    print(f"  per atom pair (listed and expanded from each of its two centres): neighbour list {1e9 * t_nl / n_pairs:.0f} ns, "
          f"density expansion {1e9 * t_expansion / n_pairs:.0f} ns")
    return est, batches, n_pairs


def print_page_costs(n_features, size=512 * 2**20, pause=3.0):
    """What writing the output costs per environment, by the state of its memory pages."""
    rewrite_page, fresh_page, late_page = page_touch_costs(size, pause)
    per_env = n_features * 8 / 4096
    print(f"  writing memory ({n_features} columns = {per_env:.1f} pages of 4 KiB per environment):")
    for label, cost in (
        ("already mapped", rewrite_page),
        ("fresh pages, just freed by the process", fresh_page),
        ("fresh pages, 3 s after a free (a VM may hand them back)", late_page),
    ):
        print(f"    {label:<58}{1e6 * cost:7.3f} us/page {1e6 * cost * per_env:7.2f} us/env")


def page_touch_costs(size=512 * 2**20, pause=3.0):
    """Seconds per 4 KiB page to write anonymous memory: no fault, fresh page, page handed back meanwhile."""
    import mmap

    def write(buffer):
        array = np.frombuffer(buffer, dtype=np.float64)
        start = time.perf_counter()
        array[:] = 1.0
        seconds = time.perf_counter() - start
        del array
        return seconds

    pages = size / 4096
    first = mmap.mmap(-1, size)
    write(first)
    t_rewrite = write(first)
    first.close()
    again = mmap.mmap(-1, size)  # the pages just unmapped are still held by the kernel
    t_fresh = write(again)
    again.close()
    time.sleep(pause)  # a VM with free page reporting hands them back to the host meanwhile
    late = mmap.mmap(-1, size)
    t_late = write(late)
    late.close()
    return t_rewrite / pages, t_fresh / pages, t_late / pages


# ------------------------------------------------------------------- main
def main(argv=None):
    parser = h.parser(__doc__)
    parser.add_argument("--n-cells", type=int, default=100, help="bcc supercells of 128 atoms (default 100)")
    parser.add_argument("--n-nbmotaw", type=int, default=1000, help="NbMoTaW structures (default 1000)")
    parser.add_argument("--n-qm9", type=int, default=3000, help="QM9 molecules (default 3000)")
    parser.add_argument("--datasets", nargs="+", choices=("bcc", "nbmotaw", "qm9"), default=["bcc", "nbmotaw", "qm9"])
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds; the best counts (default 3)")
    parser.add_argument("--memory-envs", type=int, default=100_000,
                        help="environments of the peak-memory test (default 100000; 0 skips it)")
    parser.add_argument("--memory-jobs", type=int, nargs="+", default=[1, 2],
                        help="n_jobs of the memory test, one child process each (default 1 2)")
    parser.add_argument("--no-featomic", action="store_true", help="skip featomic")
    parser.add_argument("--no-profile", action="store_true", help="skip the kernel profile")
    parser.add_argument("--system-malloc", action="store_true",
                        help="time with the default malloc (freed memory returned to the OS; noisier in VMs)")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child-jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.memory_child is not None:
        memory_child(args.memory_child, args.memory_child_jobs)
        return 0
    h.quick(args, n_cells=2, n_nbmotaw=10, n_qm9=30, repeat=1, memory_envs=1000, memory_jobs=1)
    allocator = "system default" if args.system_malloc else (
        "glibc, freed memory kept in one arena (MALLOC_MMAP_MAX_=0, MALLOC_ARENA_MAX=1)")
    report = h.Report("bench_soap", args, f"SOAP benchmark: r_cut {HYPERS['r_cut']} Å, n_max {HYPERS['n_max']}, "
                      f"l_max {HYPERS['l_max']}, sigma {HYPERS['sigma']} Å; best of {args.repeat}")
    report.note(f"allocator: {allocator}")
    try:
        h.optional("dscribe")
    except h.Skip as reason:
        report.skip("dscribe rows and the ratios to dscribe", reason)
    if not args.no_featomic:
        try:
            h.optional("featomic")
        except h.Skip as reason:
            report.skip("featomic rows", f"{reason} (pip install featomic)")
            args.no_featomic = True

    datasets = []
    if "bcc" in args.datasets:
        datasets.append(("bcc", bcc_cells(args.n_cells), True))
    for name, file, count, periodic in (("nbmotaw", NBMOTAW, args.n_nbmotaw, True), ("qm9", QM9, args.n_qm9, False)):
        if name in args.datasets:
            try:
                datasets.append((name, h.read_extxyz_gz(args.data_dir / file, count), periodic))
            except h.Skip as reason:
                report.skip(f"data set {name}", reason)
    for name, structures, _ in datasets:
        sizes = [len(a) for a in structures]
        print(f"{name}: {len(structures)} structures, {sum(sizes):,} environments "
              f"({min(sizes)}-{max(sizes)} atoms), species {species_of(structures)}")
    print()

    rows = []
    for name, structures, periodic in datasets:
        t0 = time.perf_counter()
        busy0, own0 = h.busy_seconds()
        rows += bench_dataset(name, structures, periodic, args)
        busy1, own1 = h.busy_seconds()
        elapsed = time.perf_counter() - t0
        print(f"[{name} done in {elapsed:.0f} s; other processes used {(busy1 - busy0 - own1 + own0) / elapsed:.2f} "
              f"of the {os.cpu_count()} cores on average]", flush=True)
    print()
    print_table(report, rows)

    if args.memory_envs > 0:
        bench_memory(args.memory_envs, args.memory_jobs, report)

    if not args.no_profile and datasets:
        # uses the kernel's private helpers: if they change, the profile is skipped, not the benchmark
        for k, (name, structures, _) in enumerate(datasets):
            print()
            try:
                est, _, _ = profile_split(name, structures, args.repeat, 500 if args.quick else 12_800)
                if k == 0:
                    print_page_costs(est.n_features_out_, *((16 * 2**20, 0.2) if args.quick else ()))
            except Exception as error:
                print(f"profile [{name}] skipped: {type(error).__name__}: {error}")

    for name, method, _, _, ref, ratio, target, _ in rows:
        if target is not None:
            report.check(f"{name}: {method} / {ref}", f"{ratio:.2f}x", f">= {target:g}x", ratio >= target)
    print()
    report.print_checks()
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
