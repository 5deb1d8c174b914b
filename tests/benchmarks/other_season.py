"""The models on races nobody here fitted or tuned on: a whole other season from one FastF1 lap table.

    PYTHONPATH=. python tests/benchmarks/other_season.py ALL_LAPS.csv [--runs 2000] [--seed 0]

``ALL_LAPS.csv`` is many races' laps in one FastF1 ``Laps`` table with an ``EventName`` column,
as FastF1 writes them (timedeltas as ``0 days 00:01:27.344000``), e.g. ``Data/grand_prix/
all_grand_prix_laps_2026.csv`` of github.com/Casper-Guo/Armchair-Strategist (Apache-2.0; F1
timing data via FastF1): the 2026 season, rounds 1-11, which no part of this project has seen —
the bundled pace parameters and the event history end before it, and the catalogue is 2024. Not
bundled, and nothing downloads it: fetch it yourself.

For every race, both out of sample (docs/predict.md, docs/twins.md):

- the prediction sweep (`workbench.strategy.predict.sweep`, as ``racetwin predict --sweep``) at
  25/50/75 %: MAE and Spearman rho of the model and of the naive "order at lap K stays". The race
  is named ``"YEAR EventName"`` (a race after the bundled history: its circuit from the latest race
  of that name, `workbench.strategy.event_history.later_race`); the distance is the table's last
  lap (these tables are whole races; a 2026 table does not always show the chequered flag);
- the cross-race pace model's next-5-lap backtest with the bundled parameters
  (`workbench.twins.calibrate.pace_backtest`, as the last line of ``racetwin calibrate``),
  against "repeat the last clean lap".

Prints one Markdown table each; the means are the unweighted means over races.

With ``--split DIR`` it only writes each race as ``DIR/YEAR-<name>-race-laps.csv`` **in the shared tables'
shape** (``../shared/data/real-races``: Driver, Team, LapNumber, LapTime, Compound, Stint, TyreLife, Position,
TrackStatus, Sector1-3Time, times in seconds, rows by driver then lap; lap 1's empty LapTime is FastF1's
``Time - LapStartTime``, as the shared tables carry a lap-1 time), so every command and benchmark that reads a
folder of race tables (``racetwin calibrate DIR``, ``python -m workbench.strategy.predict_season DIR``,
``sim_vs_real.py --laps``, ``predict_reachability.py``) runs on that season as on the hidden races.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.strategy.event_history import fold_race_name
from workbench.strategy.predict import sweep
from workbench.strategy.predict_season import markdown_table
from workbench.telemetry.lap_reader import check_lap_table
from workbench.twins.calibrate import pace_backtest


def races_of(path: Path, year: int | None) -> dict[str, pd.DataFrame]:
    """``{"2026 Australian Grand Prix": laps, ...}`` in round order, from one multi-race FastF1 table."""
    table = pd.read_csv(path)
    if "EventName" not in table.columns:
        raise SystemExit(f"{path}: column 'EventName' is missing; give a table of many races as FastF1 writes them")
    if year is None:
        dates = pd.to_datetime(table.get("LapStartDate", pd.Series(dtype=str)), errors="coerce").dropna()
        named = re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", path.name)
        if not dates.empty:
            year = int(dates.dt.year.mode().iloc[0])
        elif len(set(named)) == 1:
            year = int(named[0])
        else:
            raise SystemExit(f"{path}: neither LapStartDate nor the file name gives the season; give --year")
    order = table.groupby("EventName")["RoundNumber"].min().sort_values() if "RoundNumber" in table.columns \
        else pd.Series(range(table.EventName.nunique()), index=table.EventName.unique())
    return {f"{year} {event}": table[table.EventName == event].drop(columns=["EventName", "RoundNumber"],
                                                                   errors="ignore").reset_index(drop=True)
            for event in order.index}


SHARED_COLUMNS = ("Driver", "Team", "LapNumber", "LapTime", "Compound", "Stint", "TyreLife", "Position", "TrackStatus",
                  "Sector1Time", "Sector2Time", "Sector3Time")


def shared_shape(laps: pd.DataFrame) -> pd.DataFrame:
    """One race's FastF1 table cut to the shared tables' columns, times in seconds, lap 1 timed where FastF1 can."""
    seconds = {c: pd.to_timedelta(laps[c]).dt.total_seconds() for c in ("LapTime", "Sector1Time", "Sector2Time",
                                                                         "Sector3Time")}
    if {"Time", "LapStartTime"} <= set(laps.columns):
        start = (pd.to_timedelta(laps.Time) - pd.to_timedelta(laps.LapStartTime)).dt.total_seconds()
        first = seconds["LapTime"].isna() & (pd.to_numeric(laps.LapNumber) == 1)
        seconds["LapTime"] = seconds["LapTime"].where(~first, start)
    out = laps[list(SHARED_COLUMNS)].assign(**seconds)
    out["LapNumber"] = pd.to_numeric(out.LapNumber).astype(int)
    return out.sort_values(["Driver", "LapNumber"], ignore_index=True)


def split(races: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write every race as ``YEAR-<name>-race-laps.csv`` (`shared_shape`) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, laps in races.items():
        year, event = name.split(" ", 1)
        slug = "-".join(fold_race_name(event.removesuffix(" Grand Prix")).split())
        path = folder / f"{year}-{slug}-race-laps.csv"
        shared_shape(laps).to_csv(path, index=False)
        print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("laps", type=Path, help="one FastF1 lap table of many races, with an EventName column")
    parser.add_argument("--year", type=int, default=None,
                        help="the season (default: from LapStartDate, else the one year in the file name)")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", type=Path, default=None, metavar="DIR",
                        help="only write each race's table in the shared tables' shape into DIR")
    args = parser.parse_args()
    if args.split is not None:
        split(races_of(args.laps, args.year), args.split)
        return
    rows, pace = [], []
    for name, laps in races_of(args.laps, args.year).items():
        for note in check_lap_table(laps, source=name).attrs["lap_table_notes"]:
            print(f"note: {note}", file=sys.stderr)
        n_laps = int(pd.to_numeric(laps.LapNumber).max())
        for row in sweep(laps, runs=args.runs, seed=args.seed, race_laps=n_laps, file_race=name):
            rows.append({"race": name, **row})
        scored = pace_backtest(laps, name)
        pace.append({"race": name, **scored})
        print(f"{name}: done", file=sys.stderr, flush=True)
    print(f"Prediction sweep, {args.runs} races, seed {args.seed} (out of sample: laps <= K, history before the "
          "race); cells model / naive\n")
    print(markdown_table(pd.DataFrame(rows)))
    print("\nCross-race pace model, next-5-lap MAE (s), bundled parameters (out of sample: "
          f"{pace[0]['params']['source'] if pace else ''})\n")
    print("| race | laps scored | model | naive | winner |\n|---|---|---|---|---|")
    for p in pace:
        print(f"| {p['race']} | {p['laps_scored']} | **{p['model_mae_s']:.3f}** | {p['naive_mae_s']:.3f} | "
              f"{p['winner']} |")
    model = np.mean([p["model_mae_s"] for p in pace])
    naive = np.mean([p["naive_mae_s"] for p in pace])
    wins = sum(p["winner"] == "model" for p in pace)
    print(f"| **mean** | | **{model:.3f}** | {naive:.3f} | model on {wins} of {len(pace)} |")


if __name__ == "__main__":
    main()
