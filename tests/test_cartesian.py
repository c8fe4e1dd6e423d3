"""CartesianInvariants: values against an independent einsum reference, invariances, counts, rank, gradients."""

import itertools

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.neighborlist import neighbor_list
from sklearn.base import clone

from skdesc import SOAP, CartesianInvariants, FunctionalIndependenceSelector
from skdesc.local._cartesian_graphs import ALL, OPTIMAL, einsum_signature, enumerate_invariants

# The 13 contractions of Allen, Shinkle, Bujack & Lubbers (arXiv:2503.23515), written
# out independently of the package's graph tables: (einsum, tensor orders).
PAPER_13 = [
    ("", (0,)),
    ("i,i", (1, 1)),
    ("ij,ij", (2, 2)),
    ("ijk,ijk", (3, 3)),
    ("i,ij,j", (1, 2, 1)),
    ("ij,ik,jk", (2, 2, 2)),
    ("ij,jkl,ikl", (2, 3, 3)),
    ("i,j,k,ijk", (1, 1, 1, 3)),
    ("i,ij,jk,k", (1, 2, 2, 1)),
    ("i,ijk,jkl,l", (1, 3, 3, 1)),
    ("ij,jk,ilm,klm", (2, 2, 3, 3)),
    ("ij,ijk,kab,ab", (2, 3, 3, 2)),
    ("ijk,ijl,abk,abl", (3, 3, 3, 3)),
]


# ----------------------------------------------------------------- reference
def _traceless_projector(order):
    """Orthogonal projector onto symmetric traceless tensors of ``order`` (3**order square), from null spaces."""
    n = 3**order
    if order < 2:
        return np.eye(n)
    sym = np.zeros((n, n))
    for perm in itertools.permutations(range(order)):
        sym += np.eye(n).reshape((n,) + (3,) * order).transpose((0,) + tuple(1 + p for p in perm)).reshape(n, n)
    sym /= len(list(itertools.permutations(range(order))))
    trace = np.einsum("xii...->x...", np.eye(n).reshape((n,) + (3,) * order)).reshape(n, -1).T
    constraints = np.vstack([np.eye(n) - sym, trace])
    _, s, vt = np.linalg.svd(constraints)
    null = vt[np.sum(s > 1e-10) :]
    return null.T @ null


PROJECTORS = {order: _traceless_projector(order) for order in range(5)}


def _reference(atoms, r_cut, n_radial, max_order, graphs, per_element, mixed, species, weights=None):
    """Slow reference: ASE neighbours, full Cartesian moment tensors, np.einsum contractions."""
    i_idx, j_idx, vec = neighbor_list("ijD", atoms, r_cut)
    numbers = atoms.numbers
    if per_element:
        blocks = [np.array([1.0 if z == s else 0.0 for s in species]) for z in species]
        block_w = np.array(blocks)
    elif len(species) > 1:
        block_w = np.column_stack([np.ones(len(species)), weights])
    else:
        block_w = np.ones((1, 1))
    n_channels = block_w.shape[1] * n_radial
    out = []
    for a in range(len(atoms)):
        moments = [[np.zeros((3,) * l) for l in range(max_order + 1)] for _ in range(n_channels)]
        for j, v in zip(j_idx[i_idx == a], vec[i_idx == a]):
            r = np.linalg.norm(v)
            u = v / r
            fc = 0.5 * (np.cos(np.pi * r / r_cut) + 1.0)
            s = species.index(numbers[j])
            for b in range(block_w.shape[1]):
                for n in range(n_radial):
                    x = (n + 1) * np.pi * r / r_cut
                    radial = block_w[s, b] * np.sin(x) / x * fc
                    power = np.ones(())
                    for l in range(max_order + 1):
                        traceless = (PROJECTORS[l] @ power.reshape(-1)).reshape((3,) * l)
                        moments[b * n_radial + n][l] += radial * traceless
                        power = np.multiply.outer(power, u)
        row = []
        for sig, orders in graphs:
            k = len(orders)
            if mixed:
                combos = itertools.product(range(n_channels), repeat=k)
            else:
                combos = [(c,) * k for c in range(n_channels)]
            seen = {}
            for chans in combos:
                tensors = [moments[c][o] for c, o in zip(chans, orders)]
                val = float(tensors[0]) if k == 1 else float(np.einsum(sig + "->", *tensors))
                seen.setdefault(tuple(chans), val)
            row.append(seen)
        out.append(row)
    return out


def _matches_reference(desc, atoms, graphs, species, weights=None):
    values = desc.fit_transform([atoms]).values
    ref = _reference(atoms, desc.r_cut, desc.n_radial, desc.max_order, graphs, desc.per_element, desc.mix_channels,
                     species, weights)
    for f in range(values.shape[1]):
        g = desc._feature_graph[f]
        chans = tuple(desc._feature_channel[f, : len(graphs[g][1])])
        expected = np.array([ref[a][g][chans] for a in range(len(atoms))])
        np.testing.assert_allclose(values[:, f], expected, rtol=1e-10, atol=1e-12, err_msg=desc.feature_names_out_[f])


def _alloy(seed=0, repeat=2, species=("Ti", "O")):
    atoms = bulk("Fe", "bcc", a=2.9, cubic=True).repeat(repeat)
    rng = np.random.default_rng(seed)
    atoms.symbols = list(rng.choice(species, size=len(atoms)))
    atoms.positions += rng.normal(scale=0.15, size=atoms.positions.shape)
    return atoms


def _cluster(n=9, seed=0, symbols="C"):
    rng = np.random.default_rng(seed)
    pos = [np.zeros(3)]
    while len(pos) < n:
        p = rng.uniform(-2.2, 2.2, size=3)
        if all(np.linalg.norm(p - q) > 0.9 for q in pos):
            pos.append(p)
    return Atoms(symbols * n if len(symbols) == 1 else symbols, positions=pos)


# --------------------------------------------------------------------- tests
def test_optimal_set_is_the_papers_thirteen():
    assert [(einsum_signature(g), g[0]) for g in OPTIMAL[3]] != []
    assert len(OPTIMAL[3]) == 13 and len(OPTIMAL[4]) == 22
    assert len(ALL[3]) == 20 and len(ALL[4]) == 48
    desc = CartesianInvariants(n_radial=1, per_element=False).fit([Atoms("C2", positions=[[0, 0, 0], [0, 0, 1.2]])])
    assert desc.n_features_out_ == 13
    assert CartesianInvariants(n_radial=1, per_element=False, max_order=4).fit(
        [Atoms("C2", positions=[[0, 0, 0], [0, 0, 1.2]])]).n_features_out_ == 22


def test_values_match_independent_reference_optimal_per_element():
    atoms = _alloy(seed=1)
    desc = CartesianInvariants(species=["O", "Ti"], r_cut=3.5, n_radial=2)
    _matches_reference(desc, atoms, PAPER_13, [8, 22])


def test_values_match_reference_all_order4_mixed_weighted():
    atoms = _alloy(seed=2, repeat=1, species=("Ti", "O"))
    desc = CartesianInvariants(species=["O", "Ti"], r_cut=3.2, n_radial=1, max_order=4, invariants="all",
                               mix_channels=True, per_element=False)
    graphs = [(einsum_signature(g), g[0]) for g in ALL[4]]
    _matches_reference(desc, atoms, graphs, [8, 22], weights=np.array([-1.0, 1.0]))


def test_values_match_reference_optimal_mixed_single_element():
    atoms = _cluster(7, seed=3)
    desc = CartesianInvariants(r_cut=3.0, n_radial=2, mix_channels=True)
    _matches_reference(desc, atoms, PAPER_13, [6])


def test_stored_invariant_lists_match_the_enumeration():
    assert tuple(enumerate_invariants(3)) == ALL[3]


def _desc(**kw):
    return CartesianInvariants(r_cut=3.5, n_radial=2, max_order=4, invariants="all", **kw)


def test_rotation_reflection_translation_permutation():
    atoms = _cluster(9, seed=4, symbols="CCHHOCHOC")
    desc = _desc().fit([atoms])
    base = desc.transform([atoms]).values
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for m in (q, -q, np.diag([1.0, 1.0, -1.0])):
        moved = atoms.copy()
        moved.positions = atoms.positions @ m.T + np.array([0.3, -1.2, 4.0])
        np.testing.assert_allclose(desc.transform([moved]).values, base, rtol=1e-10, atol=1e-10)
    perm = rng.permutation(len(atoms))
    np.testing.assert_allclose(desc.transform([atoms[perm]]).values, base[perm], rtol=1e-10, atol=1e-10)


def test_periodic_supercell_and_rotated_cell():
    atoms = _alloy(seed=5)
    desc = CartesianInvariants(r_cut=4.0, n_radial=2).fit([atoms])
    base = desc.transform([atoms]).values
    big = atoms.repeat((2, 1, 2))
    np.testing.assert_allclose(desc.transform([big]).values, np.tile(base, (4, 1)), rtol=1e-10, atol=1e-10)
    rot = atoms.copy()
    rot.rotate(37, "x", rotate_cell=True)
    rot.rotate(-71, "z", rotate_cell=True)
    np.testing.assert_allclose(desc.transform([rot]).values, base, rtol=1e-10, atol=1e-10)


def _jacobian_rank(desc, atoms, centre=0):
    _, deriv = desc.fit(atoms).transform_with_derivatives([atoms])
    jac = deriv.to_dense(0)[centre].reshape(-1, desc.n_features_out_).T
    s = np.linalg.svd(jac, compute_uv=False)
    return int(np.sum(s > 1e-8 * s[0]))


def test_optimal_set_has_full_rank_and_all_adds_none():
    # one channel: 1 + 3 + 5 + 7 tensor components less 3 rotations = 13 independent functions
    for seed in range(3):
        atoms = _cluster(10, seed=seed)
        opt = CartesianInvariants(r_cut=3.5, n_radial=1, per_element=False)
        full = CartesianInvariants(r_cut=3.5, n_radial=1, per_element=False, invariants="all")
        assert _jacobian_rank(opt, atoms) == 13
        assert _jacobian_rank(full, atoms) == 13
        opt4 = CartesianInvariants(r_cut=3.5, n_radial=1, per_element=False, max_order=4)
        atoms = _cluster(12, seed=seed)
        assert _jacobian_rank(opt4, atoms) == 22


def test_selector_keeps_as_many_of_all_as_of_optimal():
    frames = [_cluster(8, seed=s) for s in range(4)]
    kw = dict(r_cut=3.5, n_radial=2, per_element=False)
    n_opt = FunctionalIndependenceSelector(CartesianInvariants(**kw), n_environments=None).fit(frames).support_.sum()
    n_all = FunctionalIndependenceSelector(CartesianInvariants(invariants="all", **kw),
                                           n_environments=None).fit(frames).support_.sum()
    assert n_all >= n_opt > 0


def test_gradients_match_finite_differences():
    atoms = _cluster(7, seed=6, symbols="CHOCHOC")
    atoms.positions += 0.0
    desc = CartesianInvariants(r_cut=3.0, n_radial=2, max_order=4, invariants="all", mix_channels=False,
                               per_element=False).fit([atoms])
    values, deriv = desc.transform_with_derivatives([atoms])
    np.testing.assert_allclose(values.values, desc.transform([atoms]).values, rtol=0, atol=0)
    dense = deriv.to_dense(0)
    h = 1e-5
    scale = np.abs(values.values).max(axis=0) + 1e-3
    for a in range(len(atoms)):
        for x in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, x] += h
            minus.positions[a, x] -= h
            fd = (desc.transform([plus]).values - desc.transform([minus]).values) / (2 * h)
            err = np.abs(dense[:, a, x, :] - fd) / scale
            assert err.max() < 1e-6, (a, x, err.max())


def test_gradients_periodic_mixed_per_element():
    atoms = _alloy(seed=7, repeat=1)
    desc = CartesianInvariants(r_cut=3.0, n_radial=1, mix_channels=True).fit([atoms])
    values, deriv = desc.transform_with_derivatives([atoms])
    dense = deriv.to_dense(0)
    h = 1e-5
    scale = np.abs(values.values).max(axis=0) + 1e-3
    for a in range(len(atoms)):
        for x in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, x] += h
            minus.positions[a, x] -= h
            fd = (desc.transform([plus]).values - desc.transform([minus]).values) / (2 * h)
            assert (np.abs(dense[:, a, x, :] - fd) / scale).max() < 1e-6


def test_feature_names_and_counts():
    atoms = _alloy(seed=8, repeat=1)
    desc = CartesianInvariants(species=["O", "Ti"], n_radial=2, mix_channels=True).fit([atoms])
    names = list(desc.get_feature_names_out())
    assert len(names) == len(set(names)) == desc.n_features_out_
    assert names[0] == "cart[M0: - | O:n=1]"
    assert "cart[M1 M1: i,i | O:n=1, Ti:n=2]" in names
    assert "cart[M1 M1: i,i | Ti:n=2, O:n=1]" not in names  # one per symmetry orbit
    # mixed counts: K channels, M0: K, each pair contraction K(K+1)/2
    k = 4
    assert sum(n.startswith("cart[M1 M1:") for n in names) == k * (k + 1) // 2
    assert sum(n.startswith("cart[M2 M2 M2:") for n in names) == k * (k + 1) * (k + 2) // 6
    diag = CartesianInvariants(species=["O", "Ti"], n_radial=2).fit([atoms])
    assert diag.n_features_out_ == 13 * 4
    assert desc.invariants_[4] == "i,ij,j"


def test_clone_and_n_jobs():
    frames = [_alloy(seed=s, repeat=1) for s in range(6)]
    desc = CartesianInvariants(r_cut=3.5, n_radial=2, max_order=4)
    twin = clone(desc)
    assert twin.get_params() == desc.get_params()
    one = desc.fit_transform(frames).values
    with_two = clone(desc).set_params(n_jobs=2).fit_transform(frames).values
    np.testing.assert_array_equal(one, with_two)


def test_invalid_parameters():
    atoms = _alloy(repeat=1)
    for params in ({"max_order": 2}, {"invariants": "minimal"}, {"n_radial": 0}, {"r_cut": -1.0}):
        with pytest.raises(ValueError):
            CartesianInvariants(**params).fit([atoms])
    with pytest.raises(ValueError, match="per_element=False"):
        CartesianInvariants(element_weights=[1.0, 2.0]).fit([atoms])


def _ring_environment(sites, n=8, r=2.0):
    angles = 2 * np.pi * np.asarray(sites) / n
    pos = [[0.0, 0.0, 0.0]] + [[r * np.cos(t), r * np.sin(t), 0.0] for t in angles]
    return Atoms("C" * (len(sites) + 1), positions=pos)


def test_separates_a_pair_that_the_soap_power_spectrum_cannot():
    # Two sets of 4 of the 8 vertices of a regular octagon with the same multiset of chord
    # lengths (homometric) that no rotation or reflection maps onto each other: with all
    # neighbours at one distance the power spectrum sees only the multiset of pair angles,
    # so the two centres have equal SOAP (Pozdnyakov et al., PRL 125, 166001 (2020)).
    a = _ring_environment([0, 1, 2, 5])
    b = _ring_environment([0, 1, 3, 4])
    soap = SOAP(r_cut=3.0, n_max=6, l_max=6).fit([a])
    sa, sb = soap.transform([a]).values[0], soap.transform([b]).values[0]
    np.testing.assert_allclose(sa, sb, rtol=1e-9, atol=1e-12)
    desc = CartesianInvariants(r_cut=3.0, n_radial=2).fit([a])
    ca, cb = desc.transform([a]).values[0], desc.transform([b]).values[0]
    assert np.abs(ca - cb).max() > 1e-3 * np.abs(ca).max()
