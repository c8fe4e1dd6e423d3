"""ElementFractions: the composition-only baseline."""

import pickle
from collections import Counter

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor
from sklearn.base import clone

from skdesc import ChebyshevLAED, ElementFractions
from skdesc.datasets import load_demo


def _alloy(symbols, a=3.2):
    atoms = bulk("Nb", "bcc", a=a, cubic=True).repeat((2, 1, 1))
    atoms.set_chemical_symbols(symbols)
    return atoms


@pytest.fixture(scope="module")
def demo():
    structures, _ = load_demo()
    return structures[::25]


def test_fractions_equal_hand_counts_and_sum_to_one(demo):
    model = ElementFractions().fit(demo)
    X = model.transform(demo)
    symbols = [s.split("_")[1] for s in model.get_feature_names_out()]
    assert symbols == ["Nb", "Mo", "Ta", "W"]  # sorted by atomic number, not alphabetically
    for atoms, row in zip(demo, X):
        counts = Counter(atoms.get_chemical_symbols())
        np.testing.assert_array_equal(row, [counts[s] / len(atoms) for s in symbols])
    np.testing.assert_allclose(X.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert X.dtype == np.float64 and X.shape == (len(demo), 4)


def test_species_fixes_columns_and_absent_elements_give_zeros():
    structures = [_alloy(["Mo", "Mo", "W", "Mo"]), _alloy(["W"] * 4)]
    model = ElementFractions(species=["W", 41, "Mo"]).fit(structures)
    assert list(model.get_feature_names_out()) == ["frac_W", "frac_Nb", "frac_Mo"]
    np.testing.assert_array_equal(model.transform(structures), [[0.25, 0.0, 0.75], [1.0, 0.0, 0.0]])
    assert model.species_ == (74, 41, 42) and model.n_features_out_ == 3


def test_pymatgen_input_equals_ase_input(demo):
    adaptor = AseAtomsAdaptor()
    as_pymatgen = [adaptor.get_structure(atoms) for atoms in demo]
    mixed = [s if i % 2 else atoms for i, (s, atoms) in enumerate(zip(as_pymatgen, demo))]
    expected = ElementFractions().fit_transform(demo)
    np.testing.assert_array_equal(ElementFractions().fit_transform(as_pymatgen), expected)
    np.testing.assert_array_equal(ElementFractions().fit(demo).transform(mixed), expected)


def test_single_structure_and_atomic_features_input(demo):
    model = ElementFractions().fit(demo)
    np.testing.assert_array_equal(model.transform(demo[3]), model.transform(demo[3:4]))
    atomic = ChebyshevLAED(rad_order=2, ang_order=1).fit_transform(demo)
    np.testing.assert_array_equal(ElementFractions().fit(atomic).transform(atomic), model.transform(demo))


def test_permutation_invariance():
    rng = np.random.default_rng(0)
    atoms = _alloy(["Nb", "Ta", "Ta", "W"]).repeat((1, 2, 2))
    model = ElementFractions(species=["Nb", "Mo", "Ta", "W"]).fit([atoms])
    permuted = atoms[rng.permutation(len(atoms))]
    np.testing.assert_array_equal(model.transform([permuted]), model.transform([atoms]))
    shuffled = [atoms, _alloy(["W"] * 4)]
    np.testing.assert_array_equal(model.transform(shuffled[::-1]), model.transform(shuffled)[::-1])


def test_unknown_element_at_transform_is_named():
    model = ElementFractions().fit([_alloy(["Nb", "Mo", "Nb", "Mo"])])
    with pytest.raises(ValueError, match=r"\['Ti'\].*species"):
        model.transform([_alloy(["Nb", "Ti", "Nb", "Mo"])])
    with pytest.raises(ValueError, match=r"\['O'\].*species"):
        ElementFractions(species=["Nb"]).fit([Atoms("NbO", positions=[[0, 0, 0], [2, 0, 0]])])


def test_bad_input_and_parameters():
    with pytest.raises(ValueError, match="element"):
        ElementFractions(species=["Xx"]).fit([_alloy(["Nb"] * 4)])
    with pytest.raises(TypeError, match="species"):
        ElementFractions(species="Nb").fit([_alloy(["Nb"] * 4)])
    with pytest.raises(TypeError, match="numeric array"):
        ElementFractions().fit(np.ones((3, 4)))
    with pytest.raises(ValueError, match="no atoms|empty"):
        ElementFractions().fit([_alloy(["Nb"] * 4), Atoms()])


def test_does_not_modify_input(demo):
    before = [(a.get_chemical_symbols(), a.positions.copy()) for a in demo]
    ElementFractions().fit(demo).transform(demo)
    for (symbols, positions), atoms in zip(before, demo):
        assert atoms.get_chemical_symbols() == symbols
        np.testing.assert_array_equal(atoms.positions, positions)


def test_clone_pickle_and_pandas_output(demo):
    model = ElementFractions(species=["Nb", "Mo", "Ta", "W"])
    assert clone(model).get_params() == {"species": ["Nb", "Mo", "Ta", "W"]}
    assert not hasattr(clone(model.fit(demo)), "species_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.transform(demo), model.transform(demo))
    frame = ElementFractions().set_output(transform="pandas").fit_transform(demo)
    assert list(frame.columns) == ["frac_Nb", "frac_Mo", "frac_Ta", "frac_W"]
    with pytest.raises(Exception, match="not fitted"):
        ElementFractions().transform(demo)
