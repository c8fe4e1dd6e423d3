"""Sensitivity matrix of a local descriptor (Parsaeifard et al. 2021; Darby et al. 2022, Sec. IV.4).

For the descriptor x of one atomic environment and small displacements dR of
its atoms, the squared descriptor distance is

    d^2 = |dx|^2 = dR^T Lambda dR,   Lambda = J^T J,   J = dx / dR  (d x 3M),

so the eigenvalues of Lambda measure how strongly each collective displacement
changes the descriptor.  Rigid translations and rotations of the environment
always give six zero eigenvalues; further (near-)zero eigenvalues reveal
displacements the descriptor cannot see, which typically occur around
symmetric configurations.
"""

import numpy as np
from matplotlib.figure import Figure

from ..atomic import AtomicDerivatives

__all__ = [
    "environment_jacobian",
    "sensitivity_matrix",
    "sensitivity_spectrum",
    "count_zero_modes",
    "plot_sensitivity_comparison",
]


def _check_derivatives(derivatives):
    if not isinstance(derivatives, AtomicDerivatives):
        raise TypeError(
            "derivatives must be an AtomicDerivatives (from a descriptor's "
            f"transform_with_derivatives), got {type(derivatives).__name__}"
        )


def environment_jacobian(derivatives, center):
    """Jacobian of one centre's descriptor w.r.t. the positions of its environment.

    Parameters
    ----------
    derivatives : AtomicDerivatives
    center : int
        Global atom row of the centre.

    Returns
    -------
    jacobian : ndarray of shape (n_features, 3 n_env)
        Columns ordered (atom, xyz); units: feature units per Å.
    atoms : ndarray of shape (n_env,)
        Global rows of the environment's atoms (the centre included).
    """
    _check_derivatives(derivatives)
    if not 0 <= center < derivatives.n_atoms:
        raise ValueError(f"center must be an atom row in [0, {derivatives.n_atoms}), got {center}")
    start, stop = derivatives.pair_offsets[center], derivatives.pair_offsets[center + 1]
    block = derivatives.values[start:stop]  # (n_env, 3, d)
    return block.reshape(-1, block.shape[2]).T, derivatives.atom[start:stop]


def sensitivity_matrix(derivatives, center):
    """Sensitivity matrix Lambda = J^T J of one atomic environment.

    Parameters
    ----------
    derivatives : AtomicDerivatives
        From ``descriptor.transform_with_derivatives(structures)``.
    center : int
        Global atom row of the centre (row of ``AtomicFeatures.values``).

    Returns
    -------
    matrix : ndarray of shape (3 n_env, 3 n_env)
        Symmetric positive semi-definite, in (feature units / Å)^2; rows and
        columns ordered (atom, xyz).
    atoms : ndarray of shape (n_env,)
        Global rows of the environment's atoms: the centre and every atom with
        an image within the cutoff (the atoms the descriptor depends on).
    """
    jacobian, atoms = environment_jacobian(derivatives, center)
    return jacobian.T @ jacobian, atoms


def sensitivity_spectrum(derivatives, centers=None, scale=True):
    """Ascending eigenvalues of the sensitivity matrix of several environments.

    Parameters
    ----------
    derivatives : AtomicDerivatives
    centers : sequence of int, optional
        Global atom rows; default all atoms.
    scale : bool, default=True
        Divide each environment's eigenvalues by its largest one (as in Fig. 9
        of Darby et al. 2022), which makes descriptors of different size and
        normalisation comparable.

    Returns
    -------
    list of ndarray
        One ascending array of 3 n_env eigenvalues per centre; round-off
        negatives are clipped to zero.
    """
    _check_derivatives(derivatives)
    centers = range(derivatives.n_atoms) if centers is None else centers
    spectra = []
    for center in centers:
        jacobian, _ = environment_jacobian(derivatives, int(center))
        # squared singular values of J are the eigenvalues of J^T J, more accurately
        singular = np.linalg.svd(jacobian, compute_uv=False)
        eigenvalues = np.zeros(jacobian.shape[1])
        eigenvalues[: singular.size] = singular**2
        eigenvalues = np.sort(eigenvalues)
        if scale and eigenvalues[-1] > 0:
            eigenvalues /= eigenvalues[-1]
        spectra.append(eigenvalues)
    return spectra


def count_zero_modes(eigenvalues, rtol=1e-10):
    """Number of eigenvalues at numerical zero: ``lambda <= rtol * max(lambda)``.

    The default suits analytic derivatives in float64: eigenvalues are squared
    singular values, so ``rtol=1e-10`` means singular values below 1e-5 of the
    largest.
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    if eigenvalues.size == 0:
        return 0
    return int(np.count_nonzero(eigenvalues <= rtol * eigenvalues.max()))


def plot_sensitivity_comparison(spectra, reference, path=None, ax=None, n_skip=6, floor=1e-12):
    """Eigenvalues of compressed descriptors against a reference (Darby et al. 2022, Fig. 9).

    Parameters
    ----------
    spectra : dict
        Label -> list of ascending, scaled eigenvalue arrays (from
        :func:`sensitivity_spectrum`), the same environments in the same order
        for every label.
    reference : str
        Label of the x axis (typically the full power spectrum ``"nu2"``).
    path : str or Path, optional
        Write a PNG there.
    ax : matplotlib Axes, optional
    n_skip : int, default=6
        Smallest eigenvalues left out (the translations and rotations).
    floor : float, default=1e-12
        Eigenvalues below it are drawn at it (log axes).

    Returns
    -------
    matplotlib.figure.Figure
    """
    if reference not in spectra:
        raise ValueError(f"reference {reference!r} is not a key of spectra {list(spectra)}")
    if ax is None:
        fig = Figure(figsize=(5, 4.5))
        ax = fig.subplots()
    else:
        fig = ax.figure
    x = np.concatenate([s[n_skip:] for s in spectra[reference]])
    for label, values in spectra.items():
        if label == reference:
            continue
        if len(values) != len(spectra[reference]):
            raise ValueError(f"spectra[{label!r}] has {len(values)} environments, the reference {len(spectra[reference])}")
        y = np.concatenate([s[n_skip:] for s in values])
        ax.scatter(np.maximum(x, floor), np.maximum(y, floor), s=6, alpha=0.6, label=label)
    ax.plot([floor, 1], [floor, 1], color="0.6", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"λ ({reference})")
    ax.set_ylabel("λ (compressed)")
    ax.legend(fontsize=7, markerscale=2)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig
