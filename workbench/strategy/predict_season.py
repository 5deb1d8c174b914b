"""`racetwin predict --sweep` over a season of real races: the per-race table of docs/predict.md.

``python -m workbench.strategy.predict_season DIR [--runs N] [--seed S]`` runs `predict.sweep`
on every ``*-laps.csv`` in ``DIR`` (each race with its own distance, identified from the file
name) and prints one Markdown table: per race and on average, the model's and the naive
predictor's ("the order at lap K stays") MAE and Spearman rho at 25, 50 and 75 % distance.
Every prediction is out of sample: fitted on laps <= K and on history dated before the race.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.strategy.predict import SWAP_CONFIDENCE, SWEEP_FRACTIONS, file_race_name, sweep

__all__ = ["season_sweep", "season_means", "markdown_table"]


def season_sweep(paths: Iterable[str | Path], runs: int = 2000, seed: int = 0,
                 swap_confidence: float = SWAP_CONFIDENCE, season_steps: bool = True,
                 on_error: Callable[[Path, str], None] | None = None) -> pd.DataFrame:
    """One row per (race, fraction): the sweep's fields plus ``race`` (the file's race name).

    ``swap_confidence`` goes to `workbench.strategy.predict.predicted_order`, ``season_steps`` to
    `workbench.strategy.predict.predict_from_laps`. A race that cannot be swept (its distance
    unknown, a table `predict` refuses) raises ``ValueError``; with ``on_error`` it is left out
    instead and ``on_error(path, message)`` says why, so one bad table does not lose the others.
    """
    rows: list[dict[str, Any]] = []
    for path in sorted(Path(p) for p in paths):
        name = file_race_name(path)
        try:
            laps = pd.read_csv(path)
            race_rows = sweep(laps, runs=runs, seed=seed, file_race=name, swap_confidence=swap_confidence,
                              season_steps=season_steps)
        except (ValueError, OSError) as exc:
            if on_error is None:
                raise
            on_error(path, str(exc))
            continue
        rows.extend({"race": name or path.stem, **row} for row in race_rows)
    return pd.DataFrame(rows)


def season_means(table: pd.DataFrame) -> pd.DataFrame:
    """Per fraction: mean MAE and rho of model and naive, and on how many races the model is better / worse."""
    t = table.assign(mae_better=table.mae_positions < table.naive_mae_positions,
                     rho_better=table.spearman > table.naive_spearman,
                     mae_worse=table.mae_positions > table.naive_mae_positions,
                     rho_worse=table.spearman < table.naive_spearman)
    return t.groupby("fraction").agg(mae=("mae_positions", "mean"), naive_mae=("naive_mae_positions", "mean"),
                                     rho=("spearman", "mean"), naive_rho=("naive_spearman", "mean"),
                                     mae_better=("mae_better", "sum"), rho_better=("rho_better", "sum"),
                                     mae_worse=("mae_worse", "sum"), rho_worse=("rho_worse", "sum"),
                                     races=("race", "count"))


def markdown_table(table: pd.DataFrame) -> str:
    """The season table: a row per race, then the mean and the count of races where the model is better / worse
    (the rest are ties)."""
    fr = list(SWEEP_FRACTIONS)
    head = "| race | laps | " + " | ".join(f"K ({100 * f:.0f} %) MAE model / naive | rho model / naive" for f in fr)
    lines = [head + " |", "|---|---|" + "---|---|" * len(fr)]
    for race, grp in table.groupby("race", sort=False):
        g = grp.set_index("fraction")
        cells = [f"{int(g.loc[f, 'at_lap'])}: **{g.loc[f, 'mae_positions']:.2f}** / "
                 f"{g.loc[f, 'naive_mae_positions']:.2f} | **{g.loc[f, 'spearman']:.3f}** / "
                 f"{g.loc[f, 'naive_spearman']:.3f}" for f in fr]
        lines.append(f"| {race} | {int(grp.race_laps.iloc[0])} | " + " | ".join(cells) + " |")
    m = season_means(table)
    cells = [f"**{m.loc[f, 'mae']:.2f}** / {m.loc[f, 'naive_mae']:.2f} | **{m.loc[f, 'rho']:.3f}** / "
             f"{m.loc[f, 'naive_rho']:.3f}" for f in fr]
    lines.append("| **mean** | | " + " | ".join(cells) + " |")
    cells = [f"model better / worse on {int(m.loc[f, 'mae_better'])} / {int(m.loc[f, 'mae_worse'])} of "
             f"{int(m.loc[f, 'races'])} | {int(m.loc[f, 'rho_better'])} / {int(m.loc[f, 'rho_worse'])} of "
             f"{int(m.loc[f, 'races'])}" for f in fr]
    lines.append("| races | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.strategy.predict_season", description=__doc__)
    parser.add_argument("directory", type=Path, help="folder of FastF1-shaped YYYY-<race>-race-laps.csv files")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    paths = sorted(args.directory.glob("*-laps.csv"))
    if not paths:
        parser.error(f"{args.directory}: no *-laps.csv file")
    left_out: list[str] = []

    def say(path: Path, message: str) -> None:
        left_out.append(path.name)
        print(f"predict_season: {path}: {message}; this race is left out of the table", file=sys.stderr)

    table = season_sweep(paths, runs=args.runs, seed=args.seed, on_error=say)
    if not table.empty:
        print(markdown_table(table))
    if left_out:
        print(f"predict_season: {len(left_out)} of {len(paths)} races left out: {', '.join(left_out)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
