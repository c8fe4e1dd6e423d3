"""SOAP's ``dtype`` option: float32 per-atom values, computed in float64 and rounded once."""

import numpy as np
import pytest
import scipy.sparse as sp
from ase.build import bulk, molecule
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

import skdesc
from skdesc import (
    SOAP,
    AtomicFeatures,
    CompressedSOAP,
    HistogramPooling,
    MaxPooling,
    MeanPooling,
    MinPooling,
    MomentGSD,
    SpeciesPooling,
    StatisticPooling,
    StructureKernel,
    StructureKernelRidge,
    SumPooling,
)
from skdesc.local.soap import COMPRESSIONS

PARAMS = dict(r_cut=4.0, n_max=3, l_max=3, sigma=0.5)


def _rattled(atoms, seed, scale=0.05):
    atoms = atoms.copy()
    atoms.positions += np.random.default_rng(seed).normal(scale=scale, size=atoms.positions.shape)
    return atoms


@pytest.fixture(scope="module")
def periodic():
    salt = _rattled(bulk("NaCl", "rocksalt", a=5.64, cubic=True), 0)
    alloy = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 1, 1)
    alloy.symbols[[1, 4]] = "Au"
    return [salt, _rattled(alloy, 1)]


@pytest.fixture(scope="module")
def molecules():
    return [_rattled(molecule("CH3CH2OH"), 2), molecule("H2O"), _rattled(molecule("CH3COOH"), 3)]


def _pair(**params):
    """The same descriptor with float64 and float32 output."""
    params = {**PARAMS, **params}
    return CompressedSOAP(**params), CompressedSOAP(dtype="float32", **params)


def _assert_rounded_once(values32, values64):
    assert values32.dtype == np.float32 and values64.dtype == np.float64
    np.testing.assert_array_equal(values32, values64.astype(np.float32))
    # the test can fail: the float64 values are not float32 numbers, so a float32 result
    # computed (not only stored) in float32 would differ
    assert np.any(values64 != values64.astype(np.float32).astype(np.float64))


# --------------------------------------------------------------- the values
@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
@pytest.mark.parametrize("inputs", ["periodic", "molecules"])
def test_float32_output_is_the_float64_output_rounded_once(compression, inputs, request):
    structures = request.getfixturevalue(inputs)
    full, single = _pair(compression=compression, random_state=0)
    _assert_rounded_once(single.fit_transform(structures).values, full.fit_transform(structures).values)
    assert single.dtype_ == np.float32 and full.dtype_ == np.float64


@pytest.mark.parametrize("normalize", ["kernel", "l2"])
def test_float32_output_with_normalization(normalize, periodic, molecules):
    structures = periodic + molecules
    full, single = _pair(compression="nu2", normalize=normalize)
    _assert_rounded_once(single.fit_transform(structures).values, full.fit_transform(structures).values)


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32")])
def test_soap_accepts_numpy_dtypes(dtype, molecules):
    values = SOAP(dtype=dtype, **PARAMS).fit_transform(molecules).values
    _assert_rounded_once(values, SOAP(**PARAMS).fit_transform(molecules).values)


@pytest.mark.parametrize("normalize", ["dscribe", "l2"])
def test_derivatives_stay_float64_with_float32_values(normalize, periodic, molecules):
    structures = [periodic[0], molecules[0]]
    full, single = _pair(compression="nu1mu1", normalize=normalize)
    values64, derivatives64 = full.fit(structures).transform_with_derivatives(structures)
    values32, derivatives32 = single.fit(structures).transform_with_derivatives(structures)
    _assert_rounded_once(values32.values, values64.values)
    assert derivatives32.values.dtype == np.float64
    np.testing.assert_array_equal(derivatives32.values, derivatives64.values)
    # and transform_with_derivatives' values are transform's
    np.testing.assert_array_equal(values32.values, single.transform(structures).values)


def test_sparse_output_honours_dtype(periodic, molecules):
    structures = periodic + molecules
    full, single = _pair(compression="nu2", sparse=True)
    values64 = full.fit_transform(structures).values
    values32 = single.fit_transform(structures).values
    assert sp.issparse(values32) and values32.dtype == np.float32
    _assert_rounded_once(values32.toarray(), values64.toarray())


# ------------------------------------------------------------ memory guard
def test_output_memory_check_counts_four_bytes_per_float32_value(molecules):
    structures = molecules * 40
    full, single = _pair(compression="nu2")
    full.fit(structures)
    single.fit(structures)
    n_values = sum(len(atoms) for atoms in structures) * single.n_features_out_
    with skdesc.config_context(max_memory=4 * n_values):
        values = single.transform(structures).values
        assert values.dtype == np.float32 and values.nbytes == 4 * n_values
        with pytest.raises(ValueError, match=r"float64.*max_memory"):
            full.transform(structures)
    with skdesc.config_context(max_memory=4 * n_values - 1):
        with pytest.raises(ValueError, match=r"features, float32\).*max_memory"):
            single.transform(structures)


# ------------------------------------------------------------- parameters
@pytest.mark.parametrize("dtype", ["float16", "int32", np.int64, "complex128", None, 32, np.dtype(">f8")])
def test_invalid_dtype_names_the_accepted_values(dtype, molecules):
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64'"):
        CompressedSOAP(dtype=dtype, **PARAMS).fit(molecules)


def test_clone_and_set_params_after_fit(molecules):
    estimator = CompressedSOAP(dtype="float32", **PARAMS)
    assert estimator.get_params()["dtype"] == "float32"
    copy = clone(estimator)
    assert copy.dtype == "float32" and not hasattr(copy, "dtype_")
    fitted = clone(estimator).fit(molecules)
    before = fitted.transform(molecules).values
    # the fitted dtype is used until refit: changing it after fit is refused, never mixed
    fitted.set_params(dtype="float64")
    with pytest.raises(ValueError, match="parameters changed since fit: dtype"):
        fitted.transform(molecules)
    fitted.set_params(dtype="float32")
    np.testing.assert_array_equal(fitted.transform(molecules).values, before)
    refitted = fitted.set_params(dtype=np.float64).fit(molecules)
    _assert_rounded_once(before, refitted.transform(molecules).values)


def test_a_wrongly_typed_output_is_refused_before_the_kernel(molecules):
    estimator = CompressedSOAP(dtype="float32", **PARAMS).fit(molecules)
    lookup = np.full(119, -1, dtype=np.int64)
    lookup[list(estimator.species_)] = np.arange(len(estimator.species_))
    n_atoms = sum(len(atoms) for atoms in molecules)
    for wrong in (np.empty((n_atoms, estimator.n_features_out_)), np.empty((n_atoms, estimator.n_features_out_), int)):
        with pytest.raises(ValueError, match="internal check failed"):
            estimator._run_batch(molecules, 0, lookup, wrong, False)
    out = np.full((n_atoms, estimator.n_features_out_), np.nan, dtype=np.float32)
    values, _ = estimator._run_batch(molecules, 0, lookup, out, False)
    assert values is out
    np.testing.assert_array_equal(out, estimator.transform(molecules).values)


# --------------------------------------------------------------- downstream
def _float32_features(seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 7, size=12)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    values = rng.normal(size=(offsets[-1], 5)).astype(np.float32)
    if sparse:
        values[np.abs(values) < 0.5] = 0.0
        values = sp.csr_matrix(values)
    return AtomicFeatures(values, offsets, rng.choice([1, 8], size=offsets[-1]))


def _as_float64(atomic):
    values = atomic.values.astype(np.float64)
    return AtomicFeatures(values, atomic.offsets, atomic.numbers, atomic.feature_names, atomic.species)


def test_atomic_features_keep_float32_and_convert_the_rest():
    atomic = _float32_features()
    assert atomic.values.dtype == np.float32
    assert atomic[[2, 0]].values.dtype == np.float32
    assert AtomicFeatures.concatenate([atomic, atomic]).values.dtype == np.float32
    assert _float32_features(sparse=True).values.dtype == np.float32
    one = dict(offsets=[0, 2], numbers=[1, 1])
    assert AtomicFeatures.from_arrays([np.ones((2, 3), np.float32)]).values.dtype == np.float32
    for dtype in (np.float16, np.int64, np.dtype(">f8")):
        assert AtomicFeatures(np.ones((2, 3), dtype), **one).values.dtype == np.float64


POOLING = {
    "MomentGSD": lambda: MomentGSD(),
    "MomentGSD[555]": lambda: MomentGSD.from_sigma("555"),
    "MeanPooling": MeanPooling,
    "SumPooling": SumPooling,
    "MaxPooling": MaxPooling,
    "MinPooling": MinPooling,
    "StatisticPooling": lambda: StatisticPooling(["mean", "max"]),
    "HistogramPooling": lambda: HistogramPooling(n_bins=3),
    "SpeciesPooling": lambda: SpeciesPooling("mean"),
}


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", sorted(POOLING))
def test_pooling_computes_float32_values_in_float64(name, sparse):
    atomic = _float32_features(sparse=sparse)
    pooled = POOLING[name]().fit(atomic).transform(atomic)
    assert pooled.dtype == np.float64
    # the same as pooling the float32 numbers held in float64 (summed in float64, not float32)
    np.testing.assert_array_equal(pooled, POOLING[name]().fit(_as_float64(atomic)).transform(_as_float64(atomic)))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("params", [dict(zeta=2), dict(zeta=2, normalize=False), dict(zeta=3, normalize=False),
                                    dict(zeta=1, normalize=False)], ids=str)
def test_structure_kernels_multiply_float32_values_in_float64(params, sparse):
    atomic = _float32_features(sparse=sparse)
    reference = _as_float64(atomic)
    K = StructureKernel(**params).fit(atomic).transform(atomic)
    assert K.dtype == np.float64
    # float64 products (BLAS may round differently for other memory layouts: 1e-16, float32 sums: 1e-7)
    expected = StructureKernel(**params).fit(reference).transform(reference)
    np.testing.assert_allclose(K, expected, rtol=1e-13, atol=1e-13 * np.abs(expected).max())
    y = np.arange(len(atomic), dtype=float)
    predicted = StructureKernelRidge(**params).fit(atomic, y).predict(atomic)
    np.testing.assert_allclose(predicted, StructureKernelRidge(**params).fit(reference, y).predict(reference),
                               rtol=1e-9, atol=1e-9)


def test_pipeline_with_float32_soap_and_moment_gsd(periodic, molecules):
    structures = periodic + molecules + [_rattled(s, 10 + k) for k, s in enumerate(periodic + molecules)]
    y = np.array([len(atoms) + 0.1 * k for k, atoms in enumerate(structures)])
    params = dict(compression="mu2", **PARAMS)

    def model(dtype):
        return make_pipeline(CompressedSOAP(dtype=dtype, **params), MomentGSD(n_out=2, n_in=2), Ridge(alpha=1e-3))

    single = model("float32").fit(structures, y)
    full = model("float64").fit(structures, y)
    pooled = single[:-1].transform(structures)
    assert single[0].transform(structures).values.dtype == np.float32 and pooled.dtype == np.float64
    # float32 resolution of the per-atom values (central moments cancel: absolute, not relative)
    expected = full[:-1].transform(structures)
    np.testing.assert_allclose(pooled, expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(single.predict(structures), full.predict(structures), rtol=1e-4)


def test_cli_featurize_passes_dtype(tmp_path, molecules):
    import ase.io

    from skdesc.cli import main

    path = tmp_path / "m.extxyz"
    ase.io.write(path, molecules)
    out = tmp_path / "atoms.npz"
    args = ["featurize", str(path), "--descriptor", "soap", "--r-cut", "4", "--n-max", "3", "--l-max", "3",
            "--param", "dtype=float32", "--quiet", "--output", str(out)]
    assert main(args) == 0
    expected = SOAP(dtype="float32", **PARAMS).fit_transform(ase.io.read(path, ":")).values
    with np.load(out, allow_pickle=False) as data:
        assert data["features"].dtype == np.float32
        np.testing.assert_array_equal(data["features"], expected)


def test_compile_kernels_compiles_the_float32_kernel():
    from skdesc._warmup import compile_kernels
    from skdesc.local._kernels import soap

    compile_kernels(["SOAP"], derivatives=False)
    outputs = {signature[-1].dtype.name for signature in soap.soap_kernel.signatures}
    assert {"float32", "float64"} <= outputs
