"""ElementProperty: Magpie element-property statistics against matminer's magpie preset."""

import pickle
import warnings
from functools import lru_cache

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from pymatgen.io.ase import AseAtomsAdaptor
from sklearn.base import clone

from skdesc import ChebyshevLAED, ElementProperty
from skdesc.composition import ELEMENT_STATISTICS, MAGPIE_PROPERTIES, element_property_table

from .conftest import read_dataset

pytest.importorskip("matminer")


@lru_cache(maxsize=None)
def _matminer(impute_nan):
    from matminer.featurizers.composition import ElementProperty as MatminerElementProperty

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MatminerElementProperty.from_preset("magpie", impute_nan=impute_nan)


def _reference(structures, impute_nan=False):
    featurizer = _matminer(impute_nan)
    from pymatgen.core import Composition

    rows = [featurizer.featurize(Composition(a.get_chemical_formula())) for a in structures]
    return np.array(rows, dtype=float), [label.replace("MagpieData ", "") for label in featurizer.feature_labels()]


def _hand_built():
    """Compositions with unequal fractions, ties in the mode and one to four elements."""
    salt = bulk("NaCl", "rocksalt", a=5.64, cubic=True)  # Na4Cl4: a tie, the mode is the smaller value
    salt.symbols[[0, 1]] = "K"  # K2Na2Cl4
    spinel = bulk("Fe", "bcc", a=2.9, cubic=True).repeat((3, 1, 1))
    spinel.set_chemical_symbols(["Fe", "Fe", "O", "O", "O", "Al"])
    return [
        bulk("Cu", "fcc", a=3.6),
        salt,
        spinel,
        molecule("CH3CH2OH"),
        bulk("Si", "diamond", a=5.43),
    ]


def _shared_data():
    try:
        tio2 = read_dataset("tio2_artrith2016.extxyz.gz", "0:7815:1500")
        alloys = read_dataset("nbmotaw_li2020_partial.extxyz.gz", "0:5658:700")
    except pytest.skip.Exception:
        return []
    return tio2 + alloys


@pytest.fixture(scope="module")
def structures():
    return _hand_built() + _shared_data()


def test_matches_matminer_magpie_preset(structures):
    ours = ElementProperty().fit(structures)
    reference, labels = _reference(structures)
    assert list(ours.get_feature_names_out()) == labels
    values = ours.transform(structures)
    assert values.shape == reference.shape == (len(structures), 132)
    scale = np.maximum(1.0, np.abs(reference))
    np.testing.assert_array_less(np.abs(values - reference) / scale, 1e-10)


def test_shared_data_are_covered():
    if not _shared_data():
        pytest.skip("shared TiO2 / NbMoTaW data not found")
    symbols = {s for atoms in _shared_data() for s in atoms.get_chemical_symbols()}
    assert {"Ti", "O", "Nb", "Mo", "Ta", "W"} <= symbols


def test_missing_values_error_or_matminer_imputation():
    # He has no Electronegativity or GSbandgap... in the Magpie data; Og has no values at all
    helium_hydride = Atoms("HeH", positions=[[0, 0, 0], [0, 0, 0.8]])
    with pytest.raises(ValueError, match="He has no value of .*missing='mean'"):
        ElementProperty().fit_transform([helium_hydride])
    structures = [helium_hydride, Atoms("XeF2", positions=[[0, 0, 0], [0, 0, 2.0], [0, 0, -2.0]])]
    ours = ElementProperty(missing="mean").fit_transform(structures)
    reference, _ = _reference(structures, impute_nan=True)
    np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-10)
    assert np.isfinite(ours).all()


def test_properties_and_stats_select_and_order_columns(structures):
    full = ElementProperty().fit(structures)
    names = list(full.get_feature_names_out())
    part = ElementProperty(properties=["MeltingT", "Number"], stats=["mode", "mean"]).fit(structures)
    wanted = ["mode MeltingT", "mean MeltingT", "mode Number", "mean Number"]
    assert list(part.get_feature_names_out()) == wanted
    np.testing.assert_array_equal(part.transform(structures), full.transform(structures)[:, [names.index(n) for n in wanted]])
    # any column of the table can be asked for
    table_names, table = element_property_table()
    assert set(MAGPIE_PROPERTIES) <= set(table_names) and table.shape == (119, len(table_names))
    density = ElementProperty(properties=["Density"], stats=["maximum"]).fit_transform([bulk("Cu", "fcc", a=3.6)])
    assert density[0, 0] == table[29, table_names.index("Density")]


def test_closed_form_statistics():
    # Fe2O3Al: fractions 2/6, 3/6, 1/6 of the atomic numbers 26, 8, 13
    atoms = _hand_built()[2]
    row = ElementProperty(properties=["Number"]).fit_transform([atoms])[0]
    z = np.array([26.0, 8.0, 13.0])
    f = np.array([2, 3, 1]) / 6
    mean = f @ z
    expected = dict(minimum=8.0, maximum=26.0, range=18.0, mean=mean, avg_dev=f @ np.abs(z - mean), mode=8.0)
    np.testing.assert_allclose(row, [expected[s] for s in ELEMENT_STATISTICS], rtol=1e-15)


def test_input_kinds_agree_and_positions_do_not_matter(structures):
    model = ElementProperty().fit(structures)
    X = model.transform(structures)
    pymatgen = [AseAtomsAdaptor.get_structure(a) if a.pbc.all() else AseAtomsAdaptor.get_molecule(a) for a in structures]
    np.testing.assert_array_equal(model.transform(pymatgen), X)
    features = ChebyshevLAED(rad_cutoff=3.0, rad_order=2, ang_cutoff=2.0, ang_order=1).fit_transform(structures)
    np.testing.assert_array_equal(model.transform(features), X)
    shuffled = structures[1].copy()
    shuffled.positions = np.random.default_rng(0).permutation(shuffled.positions)
    shuffled.set_chemical_symbols(list(reversed(shuffled.get_chemical_symbols())))
    np.testing.assert_array_equal(model.transform([shuffled])[0], X[1])
    np.testing.assert_allclose(model.transform([structures[1].repeat(2)])[0], X[1], rtol=1e-14)


def test_bad_parameters_and_input_are_refused(structures):
    with pytest.raises(ValueError, match="properties .*Bogus.* must be chosen"):
        ElementProperty(properties=["Bogus"]).fit(structures)
    with pytest.raises(ValueError, match="stats .*median.* must be chosen"):
        ElementProperty(stats=["median"]).fit(structures)
    for bad in (dict(properties="Number"), dict(stats=[]), dict(missing="zero")):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ElementProperty(**bad).fit(structures)
    with pytest.raises(TypeError):
        ElementProperty().fit(np.zeros((3, 4)))


def test_clone_pickle_pandas_and_input_untouched(structures):
    before = [a.copy() for a in structures]
    model = ElementProperty(stats=["mean"]).fit(structures)
    X = model.transform(structures)
    assert all(a == b for a, b in zip(structures, before))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).transform(structures), X)
    np.testing.assert_array_equal(clone(model).fit_transform(structures), X)
    frame = clone(model).set_output(transform="pandas").fit_transform(structures)
    assert list(frame.columns) == list(model.get_feature_names_out())


def test_bundled_table_is_what_the_script_makes(tmp_path):
    from skdesc.datasets import make_element_properties

    out = tmp_path / "table.csv"
    make_element_properties.main(["--output", str(out)])
    from importlib.resources import files

    bundled = (files("skdesc.datasets") / "data" / "element_properties.csv").read_text()
    assert out.read_text() == bundled
