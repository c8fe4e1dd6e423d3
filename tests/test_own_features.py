"""AtomicFeatures.from_arrays: per-atom arrays from elsewhere into pooling and information imbalance."""

import numpy as np
import pytest
from ase.build import bulk, molecule
from sklearn.neural_network import MLPRegressor

from skdesc import AtomicFeatures, ChebyshevLAED, CoordinationNumber, MomentGSD
from skdesc.information import information_imbalance


@pytest.fixture(scope="module")
def structures():
    rng = np.random.default_rng(1)
    out = []
    for k in range(24):
        atoms = bulk("NaCl", "rocksalt", a=5.4 + 0.02 * k).repeat((2, 1, 1))
        atoms.positions += rng.normal(scale=0.03 + 0.004 * k, size=atoms.positions.shape)
        out.append(atoms)
    return out


def test_the_arrays_of_a_descriptor_round_trip(structures):
    laed = ChebyshevLAED(rad_order=4, ang_order=2)
    native = laed.fit_transform(structures)
    per_structure = AtomicFeatures.from_arrays(native.to_list(), structures, feature_names=native.feature_names)
    stacked = AtomicFeatures.from_arrays(
        native.values, structures, numbers=native.numbers, feature_names=native.feature_names
    )
    assert per_structure == native == stacked
    assert AtomicFeatures.from_arrays(native.values, offsets=native.offsets, numbers=native.numbers).shape == native.shape
    np.testing.assert_array_equal(MomentGSD(n_out=2).fit_transform(per_structure), MomentGSD(n_out=2).fit_transform(native))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_embeddings_are_pooled_and_compared(structures):
    """A small MLP trained on Chebyshev features; its hidden layer is the per-atom embedding."""
    laed = ChebyshevLAED(rad_order=4, ang_order=2)
    chebyshev = laed.fit_transform(structures)
    target = CoordinationNumber(cutoff=3.3, smooth_width=0.6).fit_transform(structures).values[:, 0]
    mlp = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", max_iter=300, random_state=0)
    scaled = (chebyshev.values - chebyshev.values.mean(0)) / (chebyshev.values.std(0) + 1e-12)
    mlp.fit(scaled, target)
    hidden = np.tanh(scaled @ mlp.coefs_[0] + mlp.intercepts_[0])  # (n_atoms, 6)
    embeddings = np.split(hidden, chebyshev.offsets[1:-1])
    own = AtomicFeatures.from_arrays(embeddings, structures, feature_names=[f"h{k}" for k in range(6)])
    assert own.shape == (len(structures), 6) and own.species == (11, 17)
    pooled = MomentGSD(n_out=2).fit_transform(own)
    reference = MomentGSD(n_out=2).fit_transform(chebyshev)
    assert pooled.shape == (len(structures), 12)
    informed, back = information_imbalance(pooled, reference)
    # a wrong pairing of structures (rows of other structures) carries no information
    shuffled = np.random.default_rng(0).permutation(len(structures))
    wrong, _ = information_imbalance(pooled[shuffled], reference)
    assert np.isfinite([informed, back]).all()
    assert informed < 0.5 < wrong


def test_bad_arrays_are_refused_with_the_place():
    structures = [bulk("NaCl", "rocksalt", a=5.64), molecule("H2O")]
    good = [np.ones((2, 3)), np.ones((3, 3))]
    with pytest.raises(ValueError, match="structure 1 has 3 atoms but 4 rows"):
        AtomicFeatures.from_arrays([np.ones((2, 3)), np.ones((4, 3))], structures)
    with pytest.raises(ValueError, match="values\\[1\\] has 2 features per atom"):
        AtomicFeatures.from_arrays([np.ones((2, 3)), np.ones((3, 2))], structures)
    broken = [np.ones((2, 3)), np.ones((3, 3))]
    broken[1][2, 1] = np.inf
    with pytest.raises(ValueError, match="structure 1, atom 2: feature 1 is inf"):
        AtomicFeatures.from_arrays(broken, structures)
    with pytest.raises(ValueError, match="complex"):
        AtomicFeatures.from_arrays([np.ones((2, 3)) * 1j, np.ones((3, 3))], structures)
    with pytest.raises(TypeError, match="numeric"):
        AtomicFeatures.from_arrays([np.array([["a"]] * 2), np.ones((3, 1))], structures)
    with pytest.raises(ValueError, match="structure 1: atom 0 is element 8"):
        AtomicFeatures.from_arrays(good, structures, numbers=[11, 17, 1, 1, 8])
    with pytest.raises(ValueError, match="2 structures, structures has 1"):
        AtomicFeatures.from_arrays(good, structures[:1])
    with pytest.raises(ValueError, match="need structures or offsets"):
        AtomicFeatures.from_arrays(np.ones((5, 3)))
    with pytest.raises(ValueError, match="5 rows but the structures have 4"):
        AtomicFeatures.from_arrays(np.ones((5, 3)), offsets=[0, 2, 4])
    with pytest.raises(ValueError, match="offsets disagree"):
        AtomicFeatures.from_arrays(good, offsets=[0, 3, 5])
    # one feature per atom as 1-D arrays; the caller's arrays are not changed
    charges = [np.array([0.8, -0.8]), np.array([-0.7, 0.35, 0.35])]
    features = AtomicFeatures.from_arrays(charges, structures)
    assert features.values.shape == (5, 1)
    features.values[0, 0] = 5.0
    assert charges[0][0] == 0.8
