"""Resource guards: requests that would take minutes or exhaust memory are refused up front."""

import threading
import time

import numpy as np
import pytest
from ase import Atoms
from sklearn.base import clone
from ase.build import bulk, fcc111, molecule

import skdesc
from skdesc import (
    ACSF,
    SOAP,
    BondAngleStatistics,
    BondLengthStatistics,
    ChebyshevLAED,
    CompressedSOAP,
    CoordinationNumber,
)
from skdesc.datasets import load_demo
from skdesc.local.base import FrameBatch
from skdesc.neighbors import estimate_neighbors, neighbor_list


def _tiny_cell(width=0.5, n_atoms=8, seed=0):
    rng = np.random.default_rng(seed)
    return Atoms(f"Cu{n_atoms}", scaled_positions=rng.random((n_atoms, 3)), cell=np.eye(3) * width, pbc=True)


def _flat_cell():
    rng = np.random.default_rng(1)
    return Atoms("Cu8", scaled_positions=rng.random((8, 3)), cell=np.diag([4.0, 4.0, 1e-7]), pbc=True)


def _refused(estimator, structures, match):
    """The request raises ValueError matching ``match`` within seconds."""
    cu = bulk("Cu")  # compile the estimate first: only the refusal is timed
    estimate_neighbors(cu.positions, np.array([0, 1]), cu.cell.array[None].copy(), cu.pbc[None].copy(), 3.0)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match) as info:
        estimator.fit_transform(structures)
    # the estimate is one pass over the positions; the refused requests took 51 s or
    # ran out of memory
    assert time.perf_counter() - start < 5
    return str(info.value)


# ------------------------------------------------------------ the reported cases
def test_chebyshev_long_cutoff_in_tiny_cell_is_refused():
    # 8 atoms in a 0.5 Å cell at 30 Å: ~7e6 neighbours per atom (took 51 s and 3.4 GB)
    message = _refused(ChebyshevLAED(rad_cutoff=30.0, min_distance=0), [_tiny_cell()], "max_pairs")
    assert "structure 0" in message and "rad_cutoff" in message and "about 7.24e+06 neighbours per atom" in message
    assert "config_context(max_pairs=" in message


def test_bond_angles_in_tiny_cell_are_refused():
    # 6 Å in the same cell asked for ~40 GB of per-centre angle scratch
    message = _refused(BondAngleStatistics(cutoff=6.0, min_distance=0), [_tiny_cell()], "max_triplets")
    assert "cutoff" in message
    # with the pair limit lifted the scratch of one centre is still refused by memory
    with skdesc.config_context(max_triplets=float("inf")):
        _refused(BondAngleStatistics(cutoff=6.0, min_distance=0), [_tiny_cell(width=0.25, n_atoms=1)], "max_memory")


def test_acsf_angular_terms_in_tiny_cell_are_refused():
    acsf = ACSF(r_cut=6.0, g4_params=[[0.01, 1.0, 1.0]], min_distance=0)
    assert "r_cut" in _refused(acsf, [_tiny_cell()], "angular terms")
    # without G4/G5 there are no triplets; the pair list (~4.6e5 entries) is fine
    assert np.isfinite(ACSF(r_cut=6.0, min_distance=0).fit_transform([_tiny_cell()]).values).all()


def test_degenerate_cell_axis_is_refused():
    message = _refused(ChebyshevLAED(min_distance=0), [_flat_cell()], "max_pairs")
    assert "narrowest periodic cell width 1e-07 Å" in message


def test_overlap_is_reported_before_the_size():
    # with the default min_distance the cause, not the size, is what the user needs to know
    with pytest.raises(ValueError, match="structure 1: two atoms are 1e-07 Å apart.*min_distance=0.1"):
        ChebyshevLAED().fit_transform([bulk("Cu"), _flat_cell()])
    # images closer than min_distance found by a small search: cell vectors 0.3 Å, atoms 0.05 Å apart
    close = Atoms("Cu2", positions=[[0, 0, 0], [0.05, 0.0, 0.0]], cell=np.eye(3) * 0.3, pbc=True)
    with pytest.raises(ValueError, match="structure 0: two atoms are 0.05 Å apart"):
        ChebyshevLAED(rad_cutoff=30.0).fit_transform([close])


def test_public_neighbor_list_is_guarded():
    tiny = _tiny_cell()
    with pytest.raises(ValueError, match="neighbour list of 8 atoms at a 30 Å cutoff.*max_pairs"):
        neighbor_list(tiny.positions, tiny.cell.array, tiny.pbc, 30.0)
    with skdesc.config_context(max_pairs=1e9, max_memory=1e5):
        with pytest.raises(ValueError, match="max_memory"):
            neighbor_list(tiny.positions, tiny.cell.array, tiny.pbc, 3.0)
    assert len(neighbor_list(tiny.positions, tiny.cell.array, tiny.pbc, 3.0).index) > 0


def test_soap_tiny_sigma_is_refused_in_fit():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="radial table for sigma=1e-06.*max_memory.*raise sigma"):
        SOAP(sigma=1e-6).fit([bulk("Cu")])
    assert time.perf_counter() - start < 5
    with pytest.raises(ValueError, match="radial table"):
        CompressedSOAP(sigma=1e-6, compression="nu1mu1*").fit([bulk("Cu")])


# --------------------------------------------------------- each limit, configurable
def test_every_limit_fires_and_is_configurable():
    cu = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)  # 32 atoms, 78 neighbours at 6 Å
    cheb = ChebyshevLAED(rad_cutoff=6.0, ang_cutoff=4.0)
    reference = cheb.fit_transform([cu]).values
    with skdesc.config_context(max_pairs=1000):
        with pytest.raises(ValueError, match="max_pairs=1e\\+03"):
            cheb.transform([cu])
    with skdesc.config_context(max_triplets=100):
        with pytest.raises(ValueError, match="max_triplets.*ang_cutoff"):
            cheb.transform([cu])
    with skdesc.config_context(max_memory=1000):
        with pytest.raises(ValueError, match="max_memory"):
            cheb.transform([cu])
    # limits are restored on leaving the context, results unchanged
    np.testing.assert_array_equal(cheb.transform([cu]).values, reference)
    assert skdesc.get_config() == {
        "max_pairs": 20_000_000,
        "max_triplets": 1_000_000_000,
        "max_memory": 4 * 2**30,
        "atoms_per_batch": 4096,
        "structures_per_batch": 2048,
        "rank_block_rows": 512,
        "rank_symmetric_bytes": 2**29,
        "screen_ranks": True,
    }


def test_output_and_derivative_sizes_are_guarded():
    cu = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    soap = SOAP(r_cut=4.0).fit([cu])
    output = 8 * 32 * soap.n_features_out_
    with skdesc.config_context(max_memory=output - 1):
        with pytest.raises(ValueError, match=f"output of SOAP \\(32 atoms x {soap.n_features_out_} features"):
            soap.transform([cu])
    # derivatives: every (centre, atom) pair holds 3 x n_features values, far more than the output
    with skdesc.config_context(max_memory=20 * output):
        soap.transform([cu])
        with pytest.raises(ValueError, match="position derivatives of structures 0-0"):
            soap.transform_with_derivatives([cu])


def test_limits_reach_parallel_workers():
    structures = [bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2) for _ in range(8)]
    cheb = ChebyshevLAED(n_jobs=2).fit(structures)
    with skdesc.config_context(max_pairs=100):
        with pytest.raises(ValueError, match="max_pairs"):
            cheb.transform(structures)
    assert cheb.transform(structures).values.shape[0] == 256


def test_config_is_thread_local_and_validated():
    seen = {}
    with skdesc.config_context(max_pairs=5):
        worker = threading.Thread(target=lambda: seen.update(skdesc.get_config()))
        worker.start()
        worker.join()
        assert skdesc.get_config()["max_pairs"] == 5
    assert seen["max_pairs"] == 20_000_000
    for bad in (0, -1.0, "big", True, float("nan")):
        with pytest.raises(ValueError, match="max_pairs must be a positive number"):
            skdesc.set_config(max_pairs=bad)
    with pytest.raises(TypeError, match="unknown configuration \\['max_atoms'\\]"):
        with skdesc.config_context(max_atoms=1):
            pass
    assert skdesc.get_config()["max_pairs"] == 20_000_000


def test_tuning_knobs_are_validated_and_restored():
    for name in ("atoms_per_batch", "structures_per_batch", "rank_block_rows"):
        for bad in (0, -3, 2.5, True, "8"):
            with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
                skdesc.set_config(**{name: bad})
    for bad in (-1, float("nan"), "big", False):
        with pytest.raises(ValueError, match="rank_symmetric_bytes must be a number of bytes >= 0"):
            skdesc.set_config(rank_symmetric_bytes=bad)
    for bad in (0, 1, 1.0, "no"):
        with pytest.raises(TypeError, match="screen_ranks must be True or False"):
            skdesc.set_config(screen_ranks=bad)
    # an invalid value leaves the configuration as it was, even next to valid ones
    before = skdesc.get_config()
    with pytest.raises(ValueError, match="rank_block_rows"):
        skdesc.set_config(atoms_per_batch=8, rank_block_rows=0)
    assert skdesc.get_config() == before
    with skdesc.config_context(atoms_per_batch=8, screen_ranks=False, rank_symmetric_bytes=0):
        config = skdesc.get_config()
        assert (config["atoms_per_batch"], config["screen_ranks"], config["rank_symmetric_bytes"]) == (8, False, 0)
    assert skdesc.get_config() == before



# ------------------------------------------------------------- ordinary workloads
_DEFAULT_DESCRIPTORS = [
    ChebyshevLAED(),
    SOAP(),
    CompressedSOAP(compression="nu1mu1*"),
    ACSF(r_cut=6.0, g2_params=[[0.1, 0.0]], g4_params=[[0.01, 1.0, 1.0]], g5_params=[[0.01, 1.0, -1.0]]),
    CoordinationNumber(),
    BondLengthStatistics(),
    BondAngleStatistics(),
]


def _ordinary_structures():
    metal = bulk("Cu", "fcc", a=3.6, cubic=True)
    triclinic = bulk("Ti", "hcp", a=2.95, c=4.68) * (6, 6, 4)
    triclinic.set_cell(triclinic.cell.array + [[0, 0, 0], [0.8, 0, 0], [0.3, 0.4, 0]], scale_atoms=True)
    wire = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 6)
    wire.pbc = [False, False, True]
    return [
        bulk("Cu"),  # one atom per cell: many images, few atoms
        metal * (12, 12, 12),  # 6912 atoms
        triclinic,
        fcc111("Pt", (6, 6, 6), vacuum=8.0),
        wire,
        molecule("C60"),
        bulk("NaCl", "rocksalt", a=5.64) * (4, 4, 4),
    ]


@pytest.mark.parametrize("descriptor", _DEFAULT_DESCRIPTORS, ids=lambda d: type(d).__name__)
def test_demo_data_and_typical_cells_pass_the_guards(descriptor):
    demo, _ = load_demo()
    for structures in (demo, _ordinary_structures()):
        estimator = clone(descriptor)
        estimator.fit(structures)
        estimator._check_output_size(np.array([0, sum(len(s) for s in structures)]))
        lookup = np.full(119, -1, dtype=np.int64)
        lookup[list(estimator.species_)] = np.arange(len(estimator.species_))
        for start in range(0, len(structures), 50):
            batch = FrameBatch.from_structures(structures[start : start + 50], start, lookup)
            estimator._check_batch_resources(batch, start)
        # derivatives hold 3 x n_features values per (centre, atom) pair: default SOAP on 50
        # demo structures would really allocate ~12 GB (refused); a few demo structures pass
        few = FrameBatch.from_structures(structures[:4], 0, lookup)
        if structures is demo:
            estimator._check_batch_resources(few, 0, derivatives=True)
    # and a real transform of a few demo structures with the defaults
    assert np.isfinite(descriptor.fit_transform(demo[:3]).values).all()


def test_larger_cutoffs_on_ordinary_cells_pass():
    big = bulk("Cu", "fcc", a=3.6, cubic=True) * (25, 25, 25)  # 62 500 atoms
    batch = FrameBatch([big], np.arange(119))
    for estimator in (ChebyshevLAED(rad_cutoff=8.0, ang_cutoff=6.0), BondAngleStatistics(cutoff=4.0)):
        estimator.fit([bulk("Cu")])
        estimator._check_batch_resources(batch, 0)
    ChebyshevLAED(rad_cutoff=15.0).fit([bulk("Cu")])._check_batch_resources(FrameBatch([bulk("Cu") * (4, 4, 4)], np.arange(119)), 0)
    assert SOAP(sigma=0.05, r_cut=8.0, n_max=12, l_max=12).fit([bulk("Cu")]).n_features_out_ > 0


# ---------------------------------------------------------------- the estimate
@pytest.mark.parametrize("cutoff", [3.0, 6.0, 10.0])
def test_estimate_is_within_a_small_factor_of_the_neighbour_list(cutoff):
    rng = np.random.default_rng(7)
    slab = fcc111("Cu", (4, 4, 6), vacuum=6.0)
    wire = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 6)
    wire.pbc = [False, False, True]
    skewed = Atoms("Al40", scaled_positions=rng.random((40, 3)), cell=[[7, 0, 0], [3, 6, 0], [1, 2, 8]], pbc=True)
    cluster = Atoms("Ar100", positions=rng.random((100, 3)) * 12.0)
    # uniform density: exact on average in bulk, high by up to ~2 for the surface atoms of a cluster
    for atoms in (bulk("Cu", "fcc", a=3.6, cubic=True) * (3, 3, 3), bulk("Cu"), skewed, slab, wire, cluster):
        actual = len(neighbor_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff).index) / len(atoms)
        estimate, images, _ = estimate_neighbors(
            atoms.positions, np.array([0, len(atoms)]), atoms.cell.array[None].copy(), atoms.pbc[None].copy(), cutoff
        )
        assert 0.45 * actual <= estimate[0] <= 2.5 * actual, (atoms.get_chemical_formula(), actual, estimate[0])
        assert images[0] >= len(atoms)
