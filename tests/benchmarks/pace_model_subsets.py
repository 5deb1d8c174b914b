"""Does the cross-race pace model beat "repeat the last clean lap" whatever races it is trained on? (docs/twins.md)

    PYTHONPATH=. python tests/benchmarks/pace_model_subsets.py [--size 6] [--directory DIR]

The leave-one-race-out backtest of `workbench.twins.pace_model` (as ``racetwin calibrate DIR``)
inside every subset of ``--size`` of the shared races: each held-out race is scored with
parameters fitted on the other races of its subset only. Prints every held-out race that loses
to the naive predictor (model MAE / naive MAE > 1) and how many of all held-out races do.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.service.commands.calibrate import race_name
from workbench.twins.calibrate import pace_score
from workbench.twins.pace_model import build_instances, fit_pace_params

REAL_RACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-races"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=6, help="races per subset (default 6)")
    parser.add_argument("--directory", type=Path, default=REAL_RACES)
    args = parser.parse_args()
    races = {race_name(p): build_instances(pd.read_csv(p), race_name(p))
             for p in sorted(args.directory.glob("*-laps.csv"))}
    ratios = []
    for subset in itertools.combinations(sorted(races), args.size):
        for held_out in subset:
            trained_on = [n for n in subset if n != held_out]
            scored = pace_score(races[held_out], fit_pace_params([races[n] for n in trained_on]))
            ratio = scored["model_mae_s"] / scored["naive_mae_s"]
            ratios.append(ratio)
            if ratio > 1.0:
                print(f"loses: {held_out} (MAE ratio {ratio:.3f}), trained on {', '.join(trained_on)}")
    losses = sum(r > 1.0 for r in ratios)
    print(f"{len(races)} races, subsets of {args.size}: {losses} of {len(ratios)} held-out races lose to the naive "
          f"predictor; MAE ratio median {np.median(ratios):.3f}, worst {max(ratios):.3f}")


if __name__ == "__main__":
    main()
