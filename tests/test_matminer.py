"""The matminer adapter: per-structure and batched paths, MultipleFeaturizer, fitting."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from skdesc import SOAP, ChebyshevLAED, CompressedSOAP, MomentGSD
from skdesc.matminer import CITATIONS, SkdescFeaturizer


def _pipeline():
    laed = ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=3.0, ang_order=2)
    return make_pipeline(laed, MomentGSD(n_out=1, n_in=1))


@pytest.fixture(scope="module")
def tio2_structures(tio2_small):
    from pymatgen.io.ase import AseAtomsAdaptor

    small = sorted(tio2_small, key=len)[:5]
    return [AseAtomsAdaptor.get_structure(atoms) for atoms in small]


def test_batched_equals_per_structure(tio2_structures):
    featurizer = SkdescFeaturizer(_pipeline()).fit(tio2_structures)
    one_by_one = np.array([featurizer.featurize(s) for s in tio2_structures])
    batched = np.array(featurizer.featurize_many(tio2_structures, pbar=False))
    assert batched.shape == (len(tio2_structures), len(featurizer.feature_labels()))
    np.testing.assert_array_equal(batched, one_by_one)
    # and both equal the wrapped estimator applied directly
    direct = _pipeline().fit(tio2_structures).transform(tio2_structures)
    np.testing.assert_array_equal(batched, direct)


def test_batched_path_is_one_transform_call(tio2_structures, monkeypatch):
    featurizer = SkdescFeaturizer(_pipeline()).fit(tio2_structures)
    calls = []
    original = featurizer.estimator_.transform
    monkeypatch.setattr(featurizer.estimator_, "transform", lambda X: calls.append(len(X)) or original(X))
    df = pd.DataFrame({"structure": tio2_structures})
    featurizer.featurize_dataframe(df, "structure", pbar=False)
    assert calls == [len(tio2_structures)]


def test_featurize_dataframe(tio2_structures):
    featurizer = SkdescFeaturizer(_pipeline())
    df = pd.DataFrame({"structure": tio2_structures, "label": np.arange(len(tio2_structures))})
    out = featurizer.fit_featurize_dataframe(df, "structure", pbar=False)
    labels = featurizer.feature_labels()
    assert list(out.columns) == ["structure", "label"] + labels
    assert labels[0].startswith("Sigma11")
    expected = featurizer.estimator_.transform(tio2_structures)
    np.testing.assert_array_equal(out[labels].to_numpy(), expected)
    assert list(df.columns) == ["structure", "label"]  # input untouched


def test_multiple_featurizer_with_magpie(tio2_structures):
    from matminer.featurizers.base import MultipleFeaturizer
    from matminer.featurizers.composition import ElementProperty
    from matminer.featurizers.structure import StructureComposition

    skdesc_part = SkdescFeaturizer(_pipeline())
    magpie = StructureComposition(ElementProperty.from_preset("magpie"))
    df = pd.DataFrame({"structure": tio2_structures})
    results = []
    for iterate in (True, False):  # per-entry path and batched path
        combined = MultipleFeaturizer([skdesc_part, magpie], iterate_over_entries=iterate)
        combined.set_n_jobs(1)
        combined.fit(df["structure"])
        results.append(combined.featurize_dataframe(df, "structure", pbar=False))
    pd.testing.assert_frame_equal(results[0], results[1])
    out = results[0]
    n_skdesc = len(skdesc_part.feature_labels())
    assert out.shape[1] == 1 + n_skdesc + len(magpie.feature_labels())
    magpie_direct = magpie.featurize(tio2_structures[0])
    np.testing.assert_allclose(out.iloc[0, 1 + n_skdesc :].to_numpy(dtype=float), magpie_direct)
    assert set(skdesc_part.citations()) <= set(combined.citations())


def test_unfitted_estimator_error_and_prefitted(tio2_structures):
    featurizer = SkdescFeaturizer(_pipeline())
    with pytest.raises(NotFittedError, match="call SkdescFeaturizer.fit"):
        featurizer.featurize(tio2_structures[0])
    with pytest.raises(NotFittedError):
        featurizer.featurize_many(tio2_structures, ignore_errors=True)
    # an estimator fitted beforehand is used as it is
    fitted = _pipeline().fit(tio2_structures)
    prefit = SkdescFeaturizer(fitted)
    np.testing.assert_array_equal(prefit.featurize(tio2_structures[1]), fitted.transform(tio2_structures[1:2])[0])
    # fit works on a clone and leaves the template unfitted
    template = _pipeline()
    SkdescFeaturizer(template).fit(tio2_structures)
    with pytest.raises(NotFittedError):
        template.transform(tio2_structures)
    clone(SkdescFeaturizer(template))


def test_per_atom_estimator_is_refused(tio2_structures):
    featurizer = SkdescFeaturizer(ChebyshevLAED(rad_order=3, ang_order=1)).fit(tio2_structures)
    with pytest.raises(TypeError, match="add a pooling step"):
        featurizer.featurize_many(tio2_structures, ignore_errors=True)


def test_ignore_errors_only_blanks_bad_entries(tio2_structures):
    featurizer = SkdescFeaturizer(_pipeline()).fit(tio2_structures)
    entries = [tio2_structures[0], "not a structure", tio2_structures[1]]
    with pytest.raises(TypeError):
        featurizer.featurize_many(entries)
    rows = featurizer.featurize_many(entries, ignore_errors=True, return_errors=True)
    n = len(featurizer.feature_labels())
    assert np.all(np.isnan(rows[1][:n])) and "TypeError" in rows[1][n]
    np.testing.assert_array_equal(rows[0][:n], featurizer.featurize(tio2_structures[0]))
    assert np.isnan(rows[2][n])


def test_citations_follow_the_descriptor():
    cheb = SkdescFeaturizer(_pipeline()).citations()
    assert CITATIONS["artrith2017"] in cheb and CITATIONS["gharakhanyan2023"] in cheb
    assert CITATIONS["bartok2013"] not in cheb
    soap = SkdescFeaturizer(make_pipeline(CompressedSOAP(compression="mu2"), MomentGSD())).citations()
    assert CITATIONS["bartok2013"] in soap and CITATIONS["darby2022"] in soap
    plain_soap = SkdescFeaturizer(SOAP()).citations()
    assert CITATIONS["darby2022"] not in plain_soap
    assert all(entry.startswith("@") for entry in cheb + soap)
    assert SkdescFeaturizer(SOAP()).implementors()


def test_sklearn_transform_and_set_output(tio2_structures):
    featurizer = SkdescFeaturizer(_pipeline()).fit(tio2_structures)
    values = featurizer.transform(tio2_structures)
    np.testing.assert_array_equal(values, featurizer.estimator_.transform(tio2_structures))
    frame = featurizer.set_output(transform="pandas").transform(pd.Series(tio2_structures))
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == featurizer.feature_labels()
    np.testing.assert_array_equal(frame.to_numpy(), values)
    with pytest.raises(TypeError):  # errors are raised, not turned into NaN rows
        featurizer.transform([tio2_structures[0], "not a structure"])
