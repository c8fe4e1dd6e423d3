"""Property-based tests (hypothesis, deterministic profile in conftest.py).

Random small structures (triclinic and mixed-periodicity cells, several
elements, near-degenerate cases: collinear atoms, nearly overlapping atoms,
nearly flat and very small cells) go through every local descriptor, which
must return finite values or raise a clear ValueError/TypeError, be invariant
to rotation, translation, permutation and wrapping, and leave the caller's
objects unchanged.  Pooling rules must map finite per-atom values to finite
structure vectors; the information imbalance must stay in its range.
"""

import warnings

import numpy as np
import pytest
from ase import Atoms
from sklearn.base import clone

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from skdesc import (  # noqa: E402
    ACSF,
    SOAP,
    AtomicFeatures,
    BondAngleStatistics,
    BondLengthStatistics,
    ChebyshevLAED,
    CompressedSOAP,
    CoordinationNumber,
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    MomentGSD,
    SpeciesPooling,
    SumPooling,
)
from skdesc.information import information_imbalance  # noqa: E402

SPECIES = [1, 8, 29]

DESCRIPTORS = [
    ChebyshevLAED(species=SPECIES, rad_cutoff=3.5, rad_order=6, ang_cutoff=3.0, ang_order=4),
    SOAP(species=SPECIES, r_cut=3.5, n_max=3, l_max=3),
    CompressedSOAP(species=SPECIES, r_cut=3.5, n_max=3, l_max=3, compression="nu1mu1"),
    CompressedSOAP(species=SPECIES, r_cut=3.5, n_max=3, l_max=2, compression="nu1mu1*", normalize="l2"),
    ACSF(
        species=SPECIES,
        r_cut=3.5,
        g2_params=[[0.5, 1.0]],
        g3_params=[1.0],
        g4_params=[[0.1, 2.0, -1.0]],
        g5_params=[[0.1, 1.0, 1.0]],
    ),
    CoordinationNumber(species=SPECIES, cutoff=3.0, smooth_width=1.0),
    BondLengthStatistics(species=SPECIES, cutoff=3.5),
    BondAngleStatistics(species=SPECIES, cutoff=3.5, n_bins=3, per_element_pair=True),
]

KINDS = ["random"] * 5 + ["collinear", "close_pair", "flat_cell", "small_cell", "zero_free_axes"]


@st.composite
def structures(draw):
    """A random small ase.Atoms (positions and elements from a drawn seed)."""
    kind = draw(st.sampled_from(KINDS))
    n_atoms = draw(st.integers(1, 6))
    pbc = np.array(draw(st.tuples(st.booleans(), st.booleans(), st.booleans())))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    lengths = rng.uniform(0.8, 2.0, 3) if kind == "small_cell" else rng.uniform(2.0, 7.0, 3)
    cell = np.diag(lengths) + np.tril(rng.uniform(-0.5, 0.5, (3, 3)), -1) * lengths[:, None]
    if kind == "flat_cell":
        # third vector almost in the plane of the first two: near-zero volume
        cell[2] = 0.3 * cell[0] + 0.6 * cell[1] + rng.uniform(1e-7, 1e-3) * np.cross(cell[0], cell[1])
    positions = rng.random((n_atoms, 3)) @ cell
    if kind == "collinear":
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        steps = np.cumsum(rng.uniform(0.9, 1.8, n_atoms))
        positions = rng.random(3) * 2.0 + steps[:, None] * direction
    elif kind == "close_pair" and n_atoms > 1:
        positions[1] = positions[0] + rng.normal(size=3) * 1e-4
    if kind == "zero_free_axes":
        cell[~pbc] = 0.0  # a non-periodic axis's cell vector is ignored and may be zero
    numbers = rng.choice(SPECIES, n_atoms)
    return Atoms(numbers=numbers, positions=positions, cell=cell, pbc=pbc)


def _rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _snapshot(atoms):
    return atoms.positions.copy(), atoms.cell.array.copy(), atoms.pbc.copy(), atoms.numbers.copy()


def _transform(estimator, atoms):
    """Values, or None after a clear ValueError/TypeError (any other exception fails)."""
    try:
        return estimator.fit_transform([atoms]).values
    except (ValueError, TypeError) as error:
        assert str(error), "errors must say what is wrong"
        hypothesis.event(f"refused: {type(error).__name__}")
        return None


def _close(a, b):
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9 * scale)


@pytest.mark.parametrize("descriptor", DESCRIPTORS, ids=lambda d: f"{type(d).__name__}-{getattr(d, 'compression', '')}")
@settings(max_examples=30)
@given(atoms=structures(), seed=st.integers(0, 2**32 - 1))
def test_local_descriptor_properties(descriptor, atoms, seed):
    estimator = clone(descriptor)
    before = _snapshot(atoms)
    values = _transform(estimator, atoms)
    for original, now in zip(before, _snapshot(atoms)):
        np.testing.assert_array_equal(original, now)  # the caller's structure is not modified
    if values is None:
        return
    hypothesis.event("computed")
    assert values.shape[0] == len(atoms)
    assert np.isfinite(values).all()
    rng = np.random.default_rng(seed)

    # rotation (positions and cell together) and translation
    moved = atoms.copy()
    rotation = _rotation(seed)
    moved.set_cell(atoms.cell.array @ rotation.T)
    moved.positions = atoms.positions @ rotation.T + rng.uniform(-5.0, 5.0, 3)
    _close(estimator.transform([moved]).values, values)

    # permutation: the rows follow the atoms
    order = rng.permutation(len(atoms))
    _close(estimator.transform([atoms[order]]).values, values[order])

    # wrapping: whole lattice vectors added along periodic axes
    if atoms.pbc.any():
        wrapped = atoms.copy()
        shifts = rng.integers(-2, 3, (len(atoms), 3)) * atoms.pbc
        wrapped.positions = atoms.positions + shifts @ atoms.cell.array
        _close(estimator.transform([wrapped]).values, values)


# ------------------------------------------------------------------ pooling
@st.composite
def atomic_features(draw):
    """Random finite AtomicFeatures, including constant and repeated columns."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_structures = draw(st.integers(1, 6))
    counts = rng.integers(1, 7, n_structures)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    n_features = draw(st.integers(1, 4))
    scale = 10.0 ** draw(st.integers(-6, 6))
    values = rng.normal(size=(offsets[-1], n_features)) * scale
    if draw(st.booleans()):
        values[:, 0] = draw(st.sampled_from([0.0, 1.0, -3.5]))  # a constant column
    if draw(st.booleans()):
        values[:, -1] = np.round(values[:, -1] / scale) * scale  # many ties
    numbers = rng.choice(SPECIES[: draw(st.integers(1, 3))], offsets[-1])
    return AtomicFeatures(values, offsets, numbers, species=SPECIES)


POOLING = [
    MeanPooling(),
    SumPooling(),
    MaxPooling(),
    MinPooling(),
    HistogramPooling(n_bins=4),
    SpeciesPooling(rule="mean"),
    MomentGSD(n_out=3, n_in=2, weighting="both", moments="central"),
]


@pytest.mark.parametrize("pooling", POOLING, ids=lambda p: type(p).__name__)
@settings(max_examples=15)
@given(features=atomic_features())
def test_pooling_finite_for_finite_input(pooling, features):
    copy = features.values.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = clone(pooling).fit_transform(features)
    out = np.asarray(out.toarray() if hasattr(out, "toarray") else out)
    assert out.shape[0] == len(features)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(features.values, copy)


@settings(max_examples=40)
@given(features=atomic_features())
def test_moment_gsd_default_is_finite_for_finite_input(features):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = MomentGSD().fit_transform(features)
    assert np.isfinite(np.asarray(out)).all()


# ------------------------------------------------------- information imbalance
@settings(max_examples=40)
@given(
    n=st.integers(3, 40),
    dims=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    seed=st.integers(0, 2**32 - 1),
    duplicates=st.booleans(),
)
def test_information_imbalance_range_and_identity(n, dims, seed, duplicates):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, dims[0]))
    B = np.column_stack([A[:, :1] + rng.normal(size=(n, 1)), rng.normal(size=(n, dims[1] - 1))])
    if duplicates:
        A[1] = A[0]  # tied environments
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ab = information_imbalance(A, B)
        ba = information_imbalance(B, A)
        aa = information_imbalance(A, A)
    # normalised: 2 / N * mean rank, ranks in [1, N - 1]
    for value in ab + aa:
        assert 2.0 / n - 1e-12 <= value <= 2.0 * (n - 1) / n + 1e-12
    assert ab == ba[::-1]  # swapping the spaces swaps the two directions
    assert aa[0] == aa[1]
    if not duplicates:
        # every nearest neighbour in A has rank 1 in A
        assert aa == (2.0 / n, 2.0 / n)
