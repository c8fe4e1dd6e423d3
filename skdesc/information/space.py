"""The GSD space of Gharakhanyan et al. (2023): information imbalance between all moment GSDs."""

import numbers

import numpy as np
import pandas as pd

from .._param_validation import Interval, Options, check_param
from .._validation import check_atomic_features
from ..pooling._sigma import _WEIGHTINGS, _parse_sigma, _sigma
from ..pooling.moments import MomentGSD, gsd_space
from ._space_kernel import assemble_distances, rank_sums
from .measures import TIE_RTOL, _power_of_two_scale, squared_distance_rows

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


def _display(label):
    """The paper's typography for labels in plots and messages: ``Sigma332`` -> ``Σ332``."""
    return str(label).replace("Sigma", "Σ")


def _figure_axes(ax, size):
    """The given axes, or a new pyplot-free figure (no global backend state)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


_OFFSETS = (  # label positions around a point, in points: (dx, dy, ha, va)
    (4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"), (-4, -3, "right", "top"),
    (0, 6, "center", "bottom"), (0, -6, "center", "top"), (7, 0, "left", "center"), (-7, 0, "right", "center"),
    (10, 10, "left", "bottom"), (-10, -10, "right", "top"), (10, -10, "left", "top"), (-10, 10, "right", "bottom"),
)


def _log_axis(ax, which):
    """Logarithmic x or y axis with plain tick labels (1, 2, 5, 10, ...), never crowded minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _renderer(fig):
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _place_labels(ax, xy, labels, order, fontsize=6, color="black"):
    """Label the points ``xy[order]`` (``labels``: one string per point) without overlaps.

    Greedy: each label takes the first position around its point where it
    lies inside the axes and overlaps neither an earlier label nor any point;
    labels with no such position are left out, except the first of ``order``,
    which then moves further out on a leader line (or, failing that, may cover
    points, never another label).  Call after the final layout
    (``tight_layout``): positions are checked in display coordinates.

    Returns
    -------
    list of matplotlib.text.Annotation
        The labels drawn.
    """
    renderer = _renderer(ax.figure)
    centres = ax.transData.transform(xy)
    radius = 3.5 * ax.figure.dpi / 72  # a marker of about 7 points
    area = ax.get_window_extent(renderer)
    legend = ax.get_legend()
    placed = [legend.get_window_extent(renderer)] if legend is not None else []
    notes = []
    far = [(dx * 4, dy * 6, ha, va) for dx, dy, ha, va in _OFFSETS[:6]]

    def attempt(index, dx, dy, ha, va, arrow, check_points):
        arrowprops = {"arrowstyle": "-", "color": color, "lw": 0.5} if arrow else None
        note = ax.annotate(
            labels[index], xy[index], xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
            fontsize=fontsize, color=color, zorder=4, arrowprops=arrowprops,
        )
        box = note.get_window_extent(renderer)
        inside = area.x0 <= box.x0 and box.x1 <= area.x1 and area.y0 <= box.y0 and box.y1 <= area.y1
        others = ~np.all(centres == centres[index], axis=1)
        hits_point = check_points and np.any(
            others
            & (centres[:, 0] + radius > box.x0) & (centres[:, 0] - radius < box.x1)
            & (centres[:, 1] + radius > box.y0) & (centres[:, 1] - radius < box.y1)
        )
        if inside and not hits_point and not any(box.overlaps(other) for other in placed):
            placed.append(box)
            notes.append(note)
            return True
        note.remove()
        return False

    for rank, index in enumerate(order):
        if not labels[index]:
            continue
        if any(attempt(index, *offset, False, True) for offset in _OFFSETS):
            continue
        if rank == 0 and not any(attempt(index, *offset, True, True) for offset in far):
            any(attempt(index, *offset, False, False) for offset in _OFFSETS + tuple(far))
    return notes


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
        ``best_`` is the lowest-complexity GSD whose symmetric imbalance (SRIM,
        a mean rank) to the reference exceeds the reference's own, 1, by at
        most this fraction of what an uninformative descriptor adds, ``N/2 - 1``:
        ``excess = (SRIM - 1) / (N/2 - 1) <= tolerance``.  At any N, 0.01
        means that the nearest neighbour in either descriptor is, on average,
        ranked in the other at most 1 % of the way from first place to where
        a random structure would be (mean rank N/2): among the closest 0.5 %
        of the data set.  (Bounding ``2 SRIM / N`` instead, DADApy's normalisation,
        fails at small N: its floor, 2/N, is 0.01 at N = 200, where only the
        reference itself qualifies.)  Data sets of a few hundred structures
        sample the neighbourhoods more coarsely, so their excess is larger and
        the recommendation richer than for thousands of structures of the same
        kind (TiO2, Chebyshev LAED: complexity 5-10 at N = 200, 3 at 1,000, 2 at 6,000).
    reference : str, default=None
        Reference descriptor for ``best_`` and the default of the plots
        (``"Sigma554"``, ``"Σ554"`` or ``"554"``);
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
    srim_to_reference_ : pandas.DataFrame
        One row per GSD: ``srim`` (mean rank) to the reference, ``excess``
        (the quantity ``tolerance`` bounds), ``dimension``, ``complexity`` and
        ``within_tolerance``.
    best_ : str
        Label of the lowest-complexity GSD within ``tolerance`` of the
        reference (the reference itself if no other is); see
        :meth:`recommendation`.
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
        X = check_atomic_features(X, estimator=self, ensure_nonempty=False)
        if X.n_structures < 3:
            raise ValueError("at least 3 structures are needed")
        space, self.reference_ = self._validate_params()
        m = int(self.max_order)
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
        self.srim_to_reference_ = self._srim_to_reference()
        within = self.srim_to_reference_[self.srim_to_reference_["within_tolerance"]]
        self.best_ = str(within.sort_values(["complexity", "excess"]).index[0])
        return self

    def _validate_params(self):
        """Check the parameters (no data needed); return the GSD space and the reference label."""
        # not an estimator (no get_params): its own parameters are checked one by one
        for name, constraints in (
            ("scaling", [Options(str, _SCALINGS)]),
            ("chunk_size", [Interval(numbers.Integral, 1, None, closed="left")]),
            ("tolerance", [Interval(numbers.Real, 0, 1, closed="left")]),
        ):
            check_param(getattr(self, name), name, constraints, owner=type(self).__name__)
        space = gsd_space(self.max_order, element_weights=self.element_weights, moments=self.moments)
        labels = list(space)
        if self.reference is None:
            return space, labels[-1]
        try:
            reference = _sigma(*_parse_sigma(self.reference))
        except (TypeError, ValueError):
            reference = None
        if reference not in space:
            raise ValueError(
                f"reference {self.reference!r} is not in the GSD space of max_order={self.max_order} "
                f"(e.g. {_display(labels[-2])!r}, {_display(labels[-1])!r}, {_display(labels[0])!r})"
            )
        return space, reference

    def _normalise(self, values):
        # exact powers of two first: no squared distance or variance overflows or
        # underflows, whatever the scale of the data (the ranks are scale invariant)
        values = np.array(values, dtype=np.float64)
        if self.scaling == "none":
            return _power_of_two_scale(values)
        values = _power_of_two_scale(values, per_column=True)
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
            from .._progress import progress

            starts = progress(starts, len(starts), "GSD space", unit="chunk")
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
        reference = self._reference_label(reference)
        srim = self.srim()[reference].drop(reference)
        table = pd.DataFrame({"srim": srim}).join(self.descriptors_["complexity"])
        best = table.loc[table.groupby("complexity")["srim"].idxmin()]
        return best.rename_axis("descriptor").reset_index().sort_values("complexity").reset_index(drop=True)

    def _srim_to_reference(self):
        n = self.n_structures_
        srim = self.srim()[self.reference_]
        # the reference's SRIM to itself is its floor: 1 without ties, more when
        # structures are duplicated (tied distances 0)
        floor = float(srim[self.reference_])
        excess = (srim - floor) / max(0.5 * n - floor, np.finfo(float).tiny)
        table = pd.DataFrame({"srim": srim, "excess": excess})
        table = table.join(self.descriptors_[["dimension", "complexity"]])
        # rounding of the mean of exact ranks must not decide membership
        table["within_tolerance"] = (table["excess"] <= self.tolerance + 1e-12) | (table.index == self.reference_)
        return table

    def recommendation(self):
        """One sentence on ``best_``: its complexity, SRIM to the reference and the tolerance."""
        self._check_fitted()
        row = self.srim_to_reference_.loc[self.best_]
        best, reference = _display(self.best_), _display(self.reference_)
        if self.best_ == self.reference_:
            return (
                f"recommended GSD: {best} (the reference itself; no less complex GSD is within "
                f"tolerance {self.tolerance:g} of it)"
            )
        return (
            f"recommended GSD: {best} (complexity {row['complexity']:g}, {int(row['dimension'])} features), "
            f"the least complex within tolerance {self.tolerance:g} of {reference}: SRIM {row['srim']:.3g} "
            f"(mean rank), {row['excess']:.3g} of the way from {reference} itself "
            f"({self.srim_to_reference_.loc[self.reference_, 'srim']:.3g}) to an "
            f"uninformative descriptor ({self.n_structures_ / 2:g})"
        )

    # ---------------------------------------------------------------- plots
    def _reference_label(self, reference):
        if reference is None:
            return self.reference_
        try:
            label = _sigma(*_parse_sigma(reference))
        except (TypeError, ValueError):
            label = None
        if label not in self.imbalance_.index:
            raise ValueError(
                f"reference {reference!r} is not one of the fitted GSDs (e.g. {_display(self.reference_)!r})"
            )
        return label

    def _best_for(self, reference):
        """``best_`` for another reference, with the same tolerance."""
        if reference == self.reference_:
            return self.best_
        srim = self.srim()[reference]
        excess = (srim - 1.0) / (0.5 * self.n_structures_ - 1.0)
        table = pd.DataFrame({"excess": excess}).join(self.descriptors_["complexity"])
        table = table[table["excess"] <= self.tolerance + 1e-12]
        return str(table.sort_values(["complexity", "excess"]).index[0])

    def plot_correlation(self, reference=None, path=None, ax=None):
        """Delta(reference -> other) against Delta(other -> reference), coloured by complexity (Fig. 1a).

        Both axes are raw mean ranks on log scales (1 = every nearest neighbour
        kept); the recommended GSD for this reference is ringed and labelled.
        """
        self._check_fitted()
        reference = self._reference_label(reference)
        best = self._best_for(reference)
        others = self.imbalance_.index.drop(reference)
        x = self.imbalance_.loc[reference, others]
        y = self.imbalance_.loc[others, reference]
        fig, ax = _figure_axes(ax, (5.4, 4.4))
        points = ax.scatter(x, y, c=self.descriptors_.loc[others, "complexity"], cmap="viridis", s=18, zorder=2)
        fig.colorbar(points, ax=ax, label="complexity (d / d_LAED)")
        _log_axis(ax, "x")
        _log_axis(ax, "y")
        ax.set_xlabel(f"ΔR({_display(reference)} → Σ), mean rank")
        ax.set_ylabel(f"ΔR(Σ → {_display(reference)}), mean rank")
        ax.set_title(f"N = {self.n_structures_}; ringed: recommended GSD")
        if best != reference:
            ax.scatter([x[best]], [y[best]], s=90, facecolors="none", edgecolors="red", linewidths=1.5, zorder=3)
        fig.tight_layout()
        if best != reference:
            where = others.get_loc(best)
            labels = [""] * len(others)
            labels[where] = f"{_display(best)} (recommended)"
            _place_labels(ax, np.c_[x.values, y.values], labels, [where], color="red", fontsize=7)
        return self._finish(fig, path, layout=False)

    def plot_min_srim(self, reference=None, path=None, ax=None):
        """Lowest SRIM to ``reference`` at each complexity (Fig. 1b), with the tolerance and ``best_``.

        The SRIM is shown as the excess over the reference itself,
        ``(SRIM - 1) / (N/2 - 1)`` (0: every nearest neighbour kept, 1: no
        information), the quantity ``tolerance`` bounds; the y axis is
        logarithmic above the smallest positive value and linear below it, so
        that exact zeros are shown.  Labels that would overlap another label or
        point are left out (the recommended GSD's label always stays).
        """
        self._check_fitted()
        reference = self._reference_label(reference)
        best = self._best_for(reference)
        table = self.min_srim_by_complexity(reference)
        excess = (table["srim"].to_numpy() - 1.0) / (0.5 * self.n_structures_ - 1.0)
        complexity = table["complexity"].to_numpy()
        fig, ax = _figure_axes(ax, (6.4, 4.4))
        ax.plot(complexity, excess, "o-", ms=4, color="tab:blue", zorder=2)
        ax.axhline(self.tolerance, color="0.4", ls="--", lw=0.8, zorder=1, label=f"tolerance {self.tolerance:g}")
        _log_axis(ax, "x")
        positive = excess[excess > 0]
        if positive.size == excess.size:
            _log_axis(ax, "y")
        else:  # exact zeros (GSDs with the reference's ranks): linear near 0, logarithmic above
            from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

            floor = 10.0 ** np.floor(np.log10(min(positive.min() if positive.size else 1.0, self.tolerance or 1.0)))
            ax.set_yscale("symlog", linthresh=floor, linscale=0.5)
            ax.set_ylim(bottom=0.0)
            ax.yaxis.set_major_locator(FixedLocator([0.0] + list(10.0 ** np.arange(np.log10(floor), 0.5))))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("complexity (d / d_LAED)")
        ax.set_ylabel(f"min (SRIM − 1) / (N/2 − 1) to {_display(reference)}")
        ax.set_title(f"N = {self.n_structures_}; recommended: {_display(best)}")
        chosen = np.flatnonzero(table["descriptor"].to_numpy() == best)
        if chosen.size:
            ax.plot(complexity[chosen], excess[chosen], "*", ms=13, color="red", zorder=3,
                    label=f"recommended {_display(best)}")
        ax.legend(loc="upper right", fontsize=7, frameon=False)
        fig.tight_layout()
        labels = [_display(label) for label in table["descriptor"]]
        order = list(chosen) + [i for i in range(len(labels)) if i not in chosen]
        _place_labels(ax, np.c_[complexity, excess], labels, order)
        return self._finish(fig, path, layout=False)

    @staticmethod
    def _finish(fig, path, layout=True):
        if layout:
            fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=150)
        return fig

    def _check_fitted(self):
        if not hasattr(self, "imbalance_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call fit(AtomicFeatures) first")
