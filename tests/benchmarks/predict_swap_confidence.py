"""Choose `predict.SWAP_CONFIDENCE` leave-one-race-out over the shared 2024 races, and score it.

    PYTHONPATH=. python tests/benchmarks/predict_swap_confidence.py [--runs 2000] [--seed 0]

For every candidate threshold the season sweep (`workbench.strategy.predict_season`) is run
once (the simulated races do not depend on the threshold: same seed, same races). Then, for
each race held out, the threshold with the lowest mean MAE over the three K on the OTHER races
is chosen and the held-out race is scored with it. Prints each fold's choice and the
out-of-sample table (per fraction: mean MAE and rho, model / naive, and on how many races the
model is better, worse or tied).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from workbench.strategy.predict_season import season_sweep

REAL_RACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-races"
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def leave_one_race_out(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the held-out races, each scored with the threshold chosen on the other races."""
    held_out = []
    for race in table.race.unique():
        others = table[table.race != race].groupby("swap_confidence").mae_positions.mean()
        chosen = float(others.idxmin())  # ties: the smallest threshold (idxmin keeps the first)
        held_out.append(table[(table.race == race) & (table.swap_confidence == chosen)])
    return pd.concat(held_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--directory", type=Path, default=None, help="default: ../shared/data/real-races")
    args = parser.parse_args()
    directory = args.directory or REAL_RACES
    paths = sorted(directory.glob("*-laps.csv"))
    table = pd.concat([season_sweep(paths, runs=args.runs, seed=args.seed, swap_confidence=t).assign(swap_confidence=t)
                       for t in THRESHOLDS])
    loro = leave_one_race_out(table)
    print(f"{len(paths)} races, {args.runs} Monte Carlo races per prediction, seed {args.seed}")
    print("threshold chosen on the other races, per held-out race:")
    for race, t in loro.groupby("race").swap_confidence.first().items():
        print(f"  {race:<32} {t:.2f}")
    scored = loro.assign(better=loro.mae_positions < loro.naive_mae_positions,
                         worse=loro.mae_positions > loro.naive_mae_positions)
    summary = scored.groupby("fraction").agg(mae=("mae_positions", "mean"), naive_mae=("naive_mae_positions", "mean"),
                                             rho=("spearman", "mean"), naive_rho=("naive_spearman", "mean"),
                                             better=("better", "sum"), worse=("worse", "sum"), races=("race", "count"))
    print("out of sample (each race scored with the threshold chosen without it):")
    print(summary.round(3).to_string())
    print("in-sample means per threshold (for reference; not a score):")
    print(table.groupby(["swap_confidence", "fraction"]).mae_positions.mean().unstack().round(3).to_string())


if __name__ == "__main__":
    main()
