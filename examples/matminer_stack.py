"""Stack skdesc with matminer: Magpie composition baseline, moment GSD, and both.

Uses the bundled NbMoTaW demo data (300 structures, energy per atom).  The
skdesc pipeline (ChebyshevLAED -> MomentGSD Sigma_222) is wrapped as a
matminer featurizer and combined with Magpie's ElementProperty (applied to
each structure's composition through StructureComposition) in one
MultipleFeaturizer over a DataFrame column of pymatgen Structures.  Report the
composition-only baseline every time (Pelz, Materials Genomics, Unit 6,
slide 7); the table shows what the structural descriptor adds.

Usage::

    python examples/matminer_stack.py [--max-structures 300]
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from matminer.featurizers.base import MultipleFeaturizer
from matminer.featurizers.composition import ElementProperty
from matminer.featurizers.structure import StructureComposition
from pymatgen.io.ase import AseAtomsAdaptor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdesc import ChebyshevLAED, MomentGSD
from skdesc.datasets import load_demo
from skdesc.matminer import SkdescFeaturizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-structures", type=int, default=300)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*have weight 0.*")

    structures, y = load_demo()
    # the file is sorted by composition: take a random subset, not the first structures
    keep = np.sort(np.random.default_rng(0).permutation(len(structures))[: args.max_structures])
    structures, y = [structures[i] for i in keep], y[keep]
    df = pd.DataFrame({"structure": [AseAtomsAdaptor.get_structure(a) for a in structures], "energy_per_atom": y})

    gsd = SkdescFeaturizer(make_pipeline(ChebyshevLAED(rad_order=10, ang_order=4, n_jobs=-1), MomentGSD.from_sigma("222")))
    magpie = StructureComposition(ElementProperty.from_preset("magpie"))
    # iterate_over_entries=False: each featurizer runs over the whole column, so the
    # skdesc part is computed in one batched transform call
    both = MultipleFeaturizer([gsd, magpie], iterate_over_entries=False)
    both.set_n_jobs(1)
    both.fit(df["structure"])
    table = both.featurize_dataframe(df, "structure", pbar=False)

    gsd_columns = gsd.feature_labels()
    magpie_columns = magpie.feature_labels()
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-4, 2, 13)))
    cv = KFold(5, shuffle=True, random_state=0)
    print(f"{len(df)} NbMoTaW structures, 5-fold CV, standardised ridge regression, MAE in meV/atom")
    for name, columns in [
        ("Magpie (composition only)", magpie_columns),
        ("Sigma222 of ChebyshevLAED", gsd_columns),
        ("Magpie + Sigma222", magpie_columns + gsd_columns),
    ]:
        X = table[columns].to_numpy(dtype=float)
        mae = -cross_val_score(model, X, y, cv=cv, scoring="neg_mean_absolute_error")
        print(f"  {name:<28} {len(columns):>5d} features  MAE {1000 * mae.mean():7.1f} +- {1000 * mae.std():.1f}")
    keys = [entry.split("{", 1)[1].split(",", 1)[0] for entry in both.citations()]
    print(f"\nBibTeX keys from citations(): {', '.join(sorted(keys))}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
