"""Quality audits: they pass for correct descriptors and catch deliberately broken ones."""

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk, molecule
from matplotlib.figure import Figure
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import SOAP, ChebyshevLAED, MomentGSD
from skdesc.audit import cutoff_scan, invariance_audit, periodic_image_audit
from skdesc.datasets import load_demo
from skdesc.local import LocalDescriptor
from skdesc.local.base import NeighborRequest


class BrokenDescriptor(LocalDescriptor):
    """Toy per-atom descriptor with a deliberate bug.

    ``mode="raw_x"``: the atom's raw x coordinate and its neighbour count;
    ``mode="no_images"``: the number of atoms within 3 Å counted in the home
    cell only (a neighbour list without periodic images).
    """

    def __init__(self, mode="raw_x", species=None, min_distance=0.1, handle_unknown="error", n_jobs=None, verbose=0):
        self.mode = mode
        self.species = species
        self.min_distance = min_distance
        self.handle_unknown = handle_unknown
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _setup(self):
        return ["toy[x]", "toy[count]"]

    def _neighbor_request(self):
        return NeighborRequest(cutoff=3.0, cutoff_name="cutoff")

    def _compute(self, batch, neighbors, values, pairs=None, dvalues=None):
        for a, b in zip(batch.offsets[:-1], batch.offsets[1:]):
            positions = batch.positions[a:b]
            distances = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
            values[a:b, 1] = (distances < 3.0).sum(axis=1) - 1
            if self.mode == "raw_x":
                values[a:b, 0] = positions[:, 0]


CHEB = ChebyshevLAED(rad_cutoff=4.5, rad_order=5, ang_cutoff=3.5, ang_order=3)
GOOD = [CHEB, SOAP(r_cut=4.0, n_max=3, l_max=3)]


def _rutile_atoms():
    from ase.spacegroup import crystal

    return crystal(["Ti", "O"], basis=[(0, 0, 0), (0.305, 0.305, 0)], spacegroup=136, cellpar=[4.59, 4.59, 2.96, 90, 90, 90])


@pytest.mark.parametrize("descriptor", GOOD, ids=lambda d: type(d).__name__)
def test_periodic_image_audit_passes(descriptor):
    for structure, repeat in ((_rutile_atoms(), (2, 2, 2)), (bulk("Nb", "bcc", a=3.3), (3, 1, 2))):
        table = periodic_image_audit(descriptor, structure, repeat=repeat)
        assert table.attrs["passed"], table
        assert table["max_rel_deviation"].max() < 1e-10
        assert table["n_features"].sum() == descriptor.fit([structure]).n_features_out_


def test_periodic_image_audit_detects_bugs():
    for mode in ("raw_x", "no_images"):
        table = periodic_image_audit(BrokenDescriptor(mode=mode), _rutile_atoms())
        assert not table.attrs["passed"]
        assert not table.loc["toy[count]", "passed"]  # images within 3 Å are missed
    # the raw-x block fails too; in no_images mode it is zero and passes
    assert not periodic_image_audit(BrokenDescriptor(), _rutile_atoms()).loc["toy[x]", "passed"]


def test_periodic_image_audit_plot_and_errors():
    table, fig = periodic_image_audit(CHEB, _rutile_atoms(), plot=True)
    assert isinstance(fig, Figure) and list(table.index) == ["cheb[rad]", "cheb[ang]", "cheb[rad_w]", "cheb[ang_w]"]
    with pytest.raises(ValueError, match="non-periodic"):
        periodic_image_audit(CHEB, molecule("H2O"))
    with pytest.raises(ValueError, match="repeat"):
        periodic_image_audit(CHEB, _rutile_atoms(), repeat=(1, 1, 1))


@pytest.mark.parametrize("descriptor", GOOD, ids=lambda d: type(d).__name__)
def test_invariance_audit_passes(descriptor):
    structures = [_rutile_atoms(), molecule("CH3CH2OH"), bulk("NbMo", "cesiumchloride", a=3.2).repeat((2, 1, 1))]
    table, fig = invariance_audit(descriptor, structures, n_rotations=2, random_state=0, plot=True)
    assert table.attrs["passed"], table[~table["passed"]]
    assert set(table.index.get_level_values("transformation")) == {"rotation", "translation", "permutation", "combined"}
    assert isinstance(fig, Figure)


def test_invariance_audit_detects_raw_coordinates():
    table = invariance_audit(BrokenDescriptor(), [molecule("CH3CH2OH")], random_state=0)
    assert not table.attrs["passed"]
    assert not table.loc[("rotation", "toy[x]"), "passed"]
    assert not table.loc[("translation", "toy[x]"), "passed"]
    assert table.loc[("permutation", "toy[x]"), "passed"]  # relabelling alone keeps each atom's x
    assert table.loc[("rotation", "toy[count]"), "passed"]  # distances are invariant
    # deterministic for a given random_state
    pd.testing.assert_frame_equal(table, invariance_audit(BrokenDescriptor(), [molecule("CH3CH2OH")], random_state=0))


@pytest.fixture(scope="module")
def demo_subset():
    structures, y = load_demo()
    keep = [i for i, atoms in enumerate(structures) if len(atoms) <= 16][:60]
    return [structures[i] for i in keep], y[keep]


def test_cutoff_scan(demo_subset):
    structures, y = demo_subset
    laed = ChebyshevLAED(rad_order=4, ang_cutoff=1.0, ang_order=1)
    pooling = MomentGSD(n_out=1, n_in=1, weighting="both")
    table, fig = cutoff_scan(laed, structures, y, param="rad_cutoff", values=[1.5, 4.0, 5.5], pooling=pooling,
                             cv=4, plot=True)
    assert list(table.columns) == ["rad_cutoff", "mae", "mae_std", "n_features", "seconds"]
    assert isinstance(fig, Figure)
    # an independent evaluation of one point of the scan
    atomic = ChebyshevLAED(rad_cutoff=4.0, rad_order=4, ang_cutoff=1.0, ang_order=1).fit_transform(structures)
    direct = -cross_val_score(make_pipeline(pooling, StandardScaler(), Ridge(alpha=1e-3)), atomic, y,
                              cv=KFold(4, shuffle=True, random_state=0), scoring="neg_mean_absolute_error")
    assert table.loc[1, "mae"] == pytest.approx(direct.mean(), rel=1e-12)
    # 1.5 Å is shorter than any bond: no structural information, only composition is left
    assert table.loc[0, "mae"] > 2 * table.loc[1, "mae"]
    with pytest.raises(ValueError, match="no parameter 'r_cut'"):
        cutoff_scan(laed, structures, y)
