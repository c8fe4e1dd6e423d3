"""The GSD space of Gharakhanyan et al. (2023): information imbalance between all moment GSDs."""

import numbers

import numpy as np
import pandas as pd

from ..atomic import AtomicFeatures
from ..pooling.moments import _WEIGHTINGS, MomentGSD, _parse_sigma, gsd_space
from ._space_kernel import assemble_distances, rank_sums
from .measures import TIE_RTOL, squared_distance_rows

__all__ = ["GSDSpaceAnalysis"]

_SCALINGS = ("standard", "minmax", "none")


def _atomic_blocks(full):
    """Column groups of the fitted Sigma_mm5 from which every GSD is assembled.

    Returns a dict (part, p, q) -> column indices, where part is "iii0",
    "iii1" (outer p, inner q over element descriptors, unweighted/weighted),
    "i0", "i1" (outer p over atoms, q = 0) or "ii" (stacked inner q, p = 0).
    """
    names = full.get_feature_names_out()
    groups = {}
    for column, name in enumerate(names):
        label, rest = name.split("[", 1)
        i, j, k = _parse_sigma(label)
        fields = dict(item.split("=") for item in rest.split("]", 1)[0].split(","))
        if i == 0:
            key = ("ii", 0, int(fields["in"]))
        elif j == 0:
            key = (f"i{k}", int(fields["out"]), 0)
        else:
            key = (f"iii{k}", int(fields["out"]), int(fields["in"]))
        groups.setdefault(key, []).append(column)
    return {key: np.array(cols) for key, cols in groups.items()}


def _members(gsd):
    """Atomic-block keys of an unfitted MomentGSD of the space."""
    i, j = int(gsd.n_out), int(gsd.n_in)
    k = _WEIGHTINGS[gsd.weighting]
    weights = [0, 1] if k == 2 else [k]
    keys = []
    if i == 0:
        return [("ii", 0, q) for q in range(1, j + 1)]
    if j > 0:
        keys += [(f"iii{w}", p, q) for w in weights for p in range(1, i + 1) for q in range(1, j + 1)]
    if j == 0 or gsd.include_atom_moments:
        keys += [(f"i{w}", p, 0) for w in weights for p in range(1, i + 1)]
    if gsd.include_element_stack:
        keys += [("ii", 0, q) for q in range(1, j + 1)]
    return keys


def _assembly_plan(member_sets):
    """How to sum each descriptor's distances from earlier descriptors and blocks.

    Descriptors are visited from the fewest blocks up; each one reuses the
    largest already-assembled descriptors that fit in its remaining blocks
    (e.g. Sigma_ij2 = Sigma_ij0 + Sigma_ij1, Sigma_555 = Sigma_552 + Sigma_502 +
    Sigma_050), and adds the leftover blocks one by one.  This cuts the
    additions per row chunk from about 2,000 to about 200 for m = 5.

    Returns a list of (descriptor, source descriptors, extra blocks).
    """
    order = sorted(range(len(member_sets)), key=lambda s: len(member_sets[s]))
    done = []
    plan = []
    for s in order:
        remaining = set(member_sets[s])
        sources = []
        for t in sorted(done, key=lambda t: -len(member_sets[t])):
            if member_sets[t] and member_sets[t] <= remaining:
                sources.append(t)
                remaining -= member_sets[t]
        plan.append((s, sources, sorted(remaining)))
        done.append(s)
    return plan


def _plan_arrays(plan):
    """The assembly plan as flat arrays for :func:`assemble_distances`."""
    spaces, starts, is_space, index = [], [0], [], []
    for s, sources, extra in plan:
        spaces.append(s)
        is_space += [True] * len(sources) + [False] * len(extra)
        index += list(sources) + list(extra)
        starts.append(len(index))
    return (
        np.array(spaces, dtype=np.int64),
        np.array(starts, dtype=np.int64),
        np.array(is_space, dtype=np.bool_),
        np.array(index, dtype=np.int64),
    )


def _figure_axes(ax, size):
    """The given axes, or a new pyplot-free figure (no global backend state)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


class GSDSpaceAnalysis:
    """Rank information imbalance between all moment GSDs of one data set.

    Builds the ``3 m (m + 1) + m + 2`` descriptors of :func:`skdesc.gsd_space`
    (97 for ``max_order=5``) from per-atom descriptors, normalises every
    feature, and computes ``Delta(A -> B)`` for all ordered pairs with exact
    ranks.  No GSD is featurised or compared from scratch: all of them are
    column subsets of ``Sigma_mm5``, and after per-feature normalisation the
    squared distance of a GSD is the sum of the squared distances of its
    blocks (65 blocks for m = 5).  Rows are processed in chunks, so memory is
    O(chunk_size x N x n_descriptors), never all N x N matrices at once.

    Parameters
    ----------
    max_order : int, default=5
        Highest inner and outer moment.
    element_weights : dict or sequence, default=None
        Passed to :class:`~skdesc.MomentGSD`.
    moments : {"central", "standardized", "cumulant"}, default="central"
    scaling : {"standard", "minmax", "none"}, default="standard"
        Per-feature normalisation before distances (the paper normalises all
        descriptors): z-score, range to [0, 1], or none.  Constant features
        are left at zero.
    tolerance : float, default=0.01
        ``best_`` is the lowest-complexity GSD whose symmetric imbalance to
        the reference, normalised (2/N times the mean rank: independent of the
        data-set size; 0.01 means the neighbours keep, on average, ranks
        within the closest 0.5 % of the data), is at most this.
    reference : str, default=None
        Reference descriptor for ``best_`` and the default of the plots;
        ``None`` is the largest one, ``Sigma_mm5`` (``"Sigma555"`` for m = 5;
        ``"Sigma554"`` is the paper's other choice).
    chunk_size : int, default=64
        Rows of the distance matrices processed at once.
    verbose : int, default=0
        Progress bar over row chunks.

    Attributes
    ----------
    descriptors_ : pandas.DataFrame
        One row per GSD: ``n_out``, ``n_in``, ``k``, ``dimension``, ``complexity``.
    imbalance_ : pandas.DataFrame
        ``imbalance_.loc[a, b]`` = Delta(a -> b) as a raw mean rank (Gharakhanyan et al. 2023).
    imbalance_normalized_ : pandas.DataFrame
        The same in DADApy's convention, ``2 / N`` times the mean rank.
    reference_ : str
        The reference descriptor used.
    best_ : str
        Label of the lowest-complexity GSD within ``tolerance`` of the reference.
    n_ties_ : int
        Number of (descriptor, point) cases where tied distances mattered.
    """

    def __init__(
        self,
        max_order=5,
        element_weights=None,
        moments="central",
        scaling="standard",
        tolerance=0.01,
        reference=None,
        chunk_size=64,
        verbose=0,
    ):
        self.max_order = max_order
        self.element_weights = element_weights
        self.moments = moments
        self.scaling = scaling
        self.tolerance = tolerance
        self.reference = reference
        self.chunk_size = chunk_size
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Compute all GSDs of ``X`` and the imbalance between every ordered pair.

        Parameters
        ----------
        X : AtomicFeatures
            Per-atom descriptors of N >= 3 structures.
        y : ignored

        Returns
        -------
        self
        """
        if not isinstance(X, AtomicFeatures):
            raise TypeError("GSDSpaceAnalysis takes AtomicFeatures from a local descriptor")
        if X.n_structures < 3:
            raise ValueError("at least 3 structures are needed")
        if self.scaling not in _SCALINGS:
            raise ValueError(f"scaling must be one of {_SCALINGS}, got {self.scaling!r}")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, numbers.Integral) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        space = gsd_space(self.max_order, element_weights=self.element_weights, moments=self.moments)
        m = int(self.max_order)
        self.reference_ = list(space)[-1] if self.reference is None else self.reference
        if self.reference_ not in space:
            raise ValueError(
                f"reference {self.reference_!r} is not in the GSD space of max_order={m} "
                f"(e.g. {list(space)[-2]!r}, {list(space)[-1]!r})"
            )
        full = MomentGSD.from_sigma((m, m, 5), element_weights=self.element_weights, moments=self.moments).fit(X)
        values = self._normalise(full.transform(X))
        blocks = _atomic_blocks(full)
        labels = list(space)
        members = [_members(space[label]) for label in labels]
        d = X.n_features
        self.descriptors_ = pd.DataFrame(
            {
                "n_out": [space[a].n_out for a in labels],
                "n_in": [space[a].n_in for a in labels],
                "k": [_parse_sigma(a)[2] for a in labels],
                "dimension": [sum(blocks[key].size for key in keys) for keys in members],
            },
            index=pd.Index(labels, name="descriptor"),
        )
        self.descriptors_["complexity"] = self.descriptors_["dimension"] / d
        sums, ties = self._rank_sums(values, blocks, members)
        n = X.n_structures
        mean = sums / n
        self.imbalance_ = pd.DataFrame(mean, index=labels, columns=labels)
        self.imbalance_normalized_ = self.imbalance_ * (2.0 / n)
        self.n_ties_ = int(ties)
        self.n_structures_ = n
        self.best_ = self._best()
        return self

    def _normalise(self, values):
        values = np.array(values, dtype=np.float64)
        if self.scaling == "none":
            return values
        if self.scaling == "standard":
            centre, spread = values.mean(axis=0), values.std(axis=0)
        else:
            centre, spread = values.min(axis=0), values.max(axis=0) - values.min(axis=0)
        constant = spread <= 1e-12 * np.maximum(np.abs(values).max(axis=0), 1e-300)
        spread[constant] = 1.0
        values -= centre
        values /= spread
        values[:, constant] = 0.0
        return values

    def _rank_sums(self, values, blocks, members):
        keys = list(blocks)
        index = {key: position for position, key in enumerate(keys)}
        block_values = [np.ascontiguousarray(values[:, blocks[key]]) for key in keys]
        block_norms = [np.einsum("ij,ij->i", v, v) for v in block_values]
        plan = _assembly_plan([{index[key] for key in keys_} for keys_ in members])
        terms = _plan_arrays(plan)
        n = values.shape[0]
        n_spaces = len(members)
        totals = np.zeros((n_spaces, n_spaces))
        ties = 0
        starts = range(0, n, int(self.chunk_size))
        if self.verbose:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="GSD space", unit="chunk")
        # buffers reused across chunks: fresh memory is slow to fault in
        size = min(int(self.chunk_size), n)
        partial_buffer = np.empty((len(keys), size, n))
        distance_buffer = np.empty((n_spaces, size, n))
        for start in starts:
            rows = slice(start, min(start + size, n))
            n_rows = rows.stop - rows.start
            if n_rows < size:  # the last chunk: contiguous arrays of its own size
                partial_buffer = np.empty((len(keys), n_rows, n))
                distance_buffer = np.empty((n_spaces, n_rows, n))
            partial = partial_buffer
            for b, (v, norms) in enumerate(zip(block_values, block_norms)):
                squared_distance_rows(v, rows, norms, out=partial[b])
            distances = distance_buffer
            assemble_distances(partial, distances, *terms)
            sums, tie_count = rank_sums(distances, start, TIE_RTOL)
            totals += sums
            ties += tie_count
        return totals, ties

    # -------------------------------------------------------------- results
    def srim(self):
        """Symmetric imbalance (raw mean rank) between all pairs, DataFrame."""
        self._check_fitted()
        values = 0.5 * (self.imbalance_.values + self.imbalance_.values.T)
        return pd.DataFrame(values, index=self.imbalance_.index, columns=self.imbalance_.columns)

    def summary(self):
        """Tables B.1-B.3 of the paper in one DataFrame.

        Columns: ``to_others`` = mean Delta(a -> b) over b != a (how well a
        informs the others; Table B.2 sorts by it), ``from_others`` = mean
        Delta(b -> a) (how well a is inferred; Table B.3), ``srim`` = their
        mean (Table B.1), and the descriptor's dimension and complexity.
        Sorted by ``srim``.
        """
        self._check_fitted()
        values = self.imbalance_.values.copy()
        np.fill_diagonal(values, np.nan)
        table = pd.DataFrame(
            {
                "to_others": np.nanmean(values, axis=1),
                "from_others": np.nanmean(values, axis=0),
            },
            index=self.imbalance_.index,
        )
        table["srim"] = 0.5 * (table["to_others"] + table["from_others"])
        table = table.join(self.descriptors_[["dimension", "complexity"]])
        return table.sort_values("srim")

    def pairs(self, n=10, most_similar=True):
        """Most similar (lowest SRIM) or most dissimilar pairs (Tables B.4-B.5 style)."""
        self._check_fitted()
        srim = self.srim()
        labels = srim.index
        i, j = np.triu_indices(len(labels), 1)
        table = pd.DataFrame({"a": labels[i], "b": labels[j], "srim": srim.values[i, j]})
        return table.sort_values("srim", ascending=most_similar).head(n).reset_index(drop=True)

    def min_srim_by_complexity(self, reference=None):
        """Lowest SRIM to ``reference`` among the GSDs of each complexity (Fig. 1b)."""
        self._check_fitted()
        reference = reference or self.reference_
        srim = self.srim()[reference].drop(reference)
        table = pd.DataFrame({"srim": srim}).join(self.descriptors_["complexity"])
        best = table.loc[table.groupby("complexity")["srim"].idxmin()]
        return best.rename_axis("descriptor").reset_index().sort_values("complexity").reset_index(drop=True)

    def _best(self):
        srim = self.srim()[self.reference_] * (2.0 / self.n_structures_)
        table = pd.DataFrame({"srim": srim}).join(self.descriptors_["complexity"])
        within = table[table["srim"] <= self.tolerance].sort_values(["complexity", "srim"])
        return str(within.index[0]) if len(within) else self.reference_

    # ---------------------------------------------------------------- plots
    def plot_correlation(self, reference=None, path=None, ax=None):
        """Delta(reference -> other) against Delta(other -> reference), coloured by complexity (Fig. 1a)."""
        self._check_fitted()
        reference = reference or self.reference_
        others = self.imbalance_.index.drop(reference)
        x = self.imbalance_.loc[reference, others]
        y = self.imbalance_.loc[others, reference]
        fig, ax = _figure_axes(ax, (5, 4.2))
        points = ax.scatter(x, y, c=self.descriptors_.loc[others, "complexity"], cmap="viridis", s=18)
        fig.colorbar(points, ax=ax, label="complexity")
        ax.set_xlabel(f"ΔR({reference} → Σ)")
        ax.set_ylabel(f"ΔR(Σ → {reference})")
        ax.set_title(f"N = {self.n_structures_}")
        return self._finish(fig, path)

    def plot_min_srim(self, reference=None, path=None, ax=None):
        """Minimum SRIM to ``reference`` against complexity (Fig. 1b)."""
        self._check_fitted()
        reference = reference or self.reference_
        table = self.min_srim_by_complexity(reference)
        fig, ax = _figure_axes(ax, (6, 4))
        ax.plot(table["complexity"], table["srim"], "o-", ms=4)
        for _, row in table.iterrows():
            ax.annotate(row["descriptor"].replace("Sigma", "Σ"), (row["complexity"], row["srim"]), fontsize=6)
        ax.set_xlabel("complexity (d / d_LAED)")
        ax.set_ylabel(f"min SRIM to {reference}")
        return self._finish(fig, path)

    @staticmethod
    def _finish(fig, path):
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=150)
        return fig

    def _check_fitted(self):
        if not hasattr(self, "imbalance_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call fit(AtomicFeatures) first")
