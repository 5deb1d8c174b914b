"""Choose `predict.SWAP_CONFIDENCE` (and check `OWED_STOP_SWAP_CONFIDENCE`) leave-one-race-out over the shared races.

    PYTHONPATH=. python tests/benchmarks/predict_swap_confidence.py [--runs 2000] [--seed 0]

Every shared race is predicted once at each K of the sweep (25/50/75 % of its distance); the
simulated races do not depend on the thresholds, so every candidate pair of thresholds re-decides
the predicted order from the same races (`Prediction.reordered`). Two families are scored:

1. one threshold for every pair (``swap_confidence`` from 0.50 .. 0.95, the owed-stop pairs too);
2. ``swap_confidence`` from 0.50 .. 0.95 and, for the pairs where the car ahead still owes its
   mandatory stop (`predict.owed_stop_pairs`), ``owed_stop_confidence`` from 0.50 .. 0.95.

For each race held out, the candidate with the lowest mean MAE over the three K on the OTHER races
is chosen (ties: the first, i.e. the smallest thresholds) and the held-out race is scored with it.
Prints each fold's choice and the out-of-sample table (per fraction: mean MAE and rho, model /
naive, and on how many races the model is better or worse; the rest tie).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from workbench.strategy.predict import (
    SWEEP_FRACTIONS,
    identify_race,
    predict_from_laps,
    race_distance,
    race_from_file_name,
    score,
)

REAL_RACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-races"
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
FAMILIES = {"one threshold": [(t, t) for t in THRESHOLDS],
            "swap_confidence x owed_stop_confidence": [(t, o) for t in THRESHOLDS for o in THRESHOLDS]}


def scored_candidates(paths: list[Path], runs: int, seed: int) -> pd.DataFrame:
    """One row per (race, fraction, candidate (swap, owed)): the score of the re-decided order."""
    rows = []
    candidates = sorted({c for family in FAMILIES.values() for c in family})
    for path in paths:
        name = race_from_file_name(path)
        laps = pd.read_csv(path)
        n = race_distance(laps, entry=identify_race(None, None, name)[0]).laps
        for f in SWEEP_FRACTIONS:
            k = max(1, min(n - 1, int(round(f * n))))
            pred = predict_from_laps(laps, k, runs=runs, seed=seed, race_laps=n, file_race=name)
            naive = pred.pairwise["position_at_k"]
            for swap, owed in candidates:
                s = score(pred.reordered(swap, owed), naive, pred.actual["position"])
                rows.append({"race": name, "fraction": f, "swap": swap, "owed": owed, **s})
    return pd.DataFrame(rows)


def leave_one_race_out(table: pd.DataFrame, candidates: list[tuple[float, float]]) -> pd.DataFrame:
    """Rows of the held-out races, each scored with the candidate chosen on the other races."""
    table = table[[c in set(candidates) for c in zip(table.swap, table.owed)]]
    held_out = []
    for race in table.race.unique():
        others = table[table.race != race].groupby(["swap", "owed"]).mae_positions.mean()
        chosen = others.idxmin()  # ties: the smallest thresholds (idxmin keeps the first)
        held_out.append(table[(table.race == race) & (table.swap == chosen[0]) & (table.owed == chosen[1])])
    return pd.concat(held_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--directory", type=Path, default=None, help="default: ../shared/data/real-races")
    args = parser.parse_args()
    directory = args.directory or REAL_RACES
    paths = sorted(directory.glob("*-laps.csv"))
    table = scored_candidates(paths, args.runs, args.seed)
    print(f"{len(paths)} races, {args.runs} Monte Carlo races per prediction, seed {args.seed}")
    for family, candidates in FAMILIES.items():
        loro = leave_one_race_out(table, candidates)
        print(f"\n## {family}: (swap_confidence, owed_stop_confidence) chosen on the other races, per held-out race:")
        for race, g in loro.groupby("race"):
            print(f"  {race:<32} {g.swap.iloc[0]:.2f} {g.owed.iloc[0]:.2f}")
        scored = loro.assign(better=loro.mae_positions < loro.naive_mae_positions,
                             worse=loro.mae_positions > loro.naive_mae_positions)
        summary = scored.groupby("fraction").agg(mae=("mae_positions", "mean"),
                                                 naive_mae=("naive_mae_positions", "mean"), rho=("spearman", "mean"),
                                                 naive_rho=("naive_spearman", "mean"),
                                                 better=("better", "sum"), worse=("worse", "sum"),
                                                 races=("race", "count"))
        print("out of sample (each race scored with the thresholds chosen without it):")
        print(summary.round(3).to_string())
    print("\nin-sample means of the one-threshold family (for reference; not a score):")
    one = table[table.swap == table.owed]
    print(one.groupby(["swap", "fraction"]).mae_positions.mean().unstack().round(3).to_string())


if __name__ == "__main__":
    main()
