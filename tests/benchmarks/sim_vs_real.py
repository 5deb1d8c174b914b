"""Simulated vs real: every catalogue race (or any lap tables) run with its real strategies and real events.

Run from the repository root:

    python tests/benchmarks/sim_vs_real.py [--runs N] [--seed S] [--export DIR]
    python tests/benchmarks/sim_vs_real.py --laps A-race-laps.csv B-race-laps.csv ... [--runs N]

Without ``--laps``: each race of data/races/ (fitted by data/build_catalogue.py on that race's own
laps) with its lap table from ../shared/data/real-races/. With ``--laps``: each lap table is fitted
on the fly exactly as ``racetwin fit LAPS.csv`` does (`fit_race`, the event from the file name
``YEAR-SLUG-race-laps.csv``, the history in ../shared/data/historical, the bundled start model).
Either way each race definition was fitted on that race's laps, so this is an IN-SAMPLE check of
the race model, not a forecast.

The logic is the product's, `workbench.strategy.racefit.real` (real strategies, real events and
retirements, the score; ``racetwin fit LAPS.csv --score`` prints one race's row): this script only
loops over races and prints `format_scores`. Deterministic: one race with no noise, passes decided
by the threshold on the pace margin. Monte Carlo: ``--runs`` races; rho is the mean over runs (+- its
sd), ``rho(mean)`` ranks the cars by mean simulated position. The real winner's simulated time is the
deterministic race's and the Monte Carlo median. A red-flag race has no winner-time error. With
``--export DIR`` the same strategies and events are written as ``racetwin simulate`` files
(``racetwin fit LAPS.csv --real-out DIR`` writes them for one lap table). "plan": cars left on
their plan. Numba kernel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workbench.race.definition import parse_race_definition  # noqa: E402
from workbench.strategy.catalogue import list_races, resolve_race  # noqa: E402
from workbench.strategy.racedef import load_race_definition  # noqa: E402
from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps  # noqa: E402
from workbench.strategy.racefit.real import (  # noqa: E402
    format_scores,
    real_facts,
    real_name_from_path,
    real_race,
    score_real_race,
    write_real_files,
)
from workbench.strategy.racefit.start import load_start_model  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def catalogue_races(history):
    """(name, race definition, lap table, facts) of every catalogue race."""
    for name in list_races():
        race = load_race_definition(resolve_race(name))
        year, slug = name.rsplit("-", 1)[1], name.rsplit("-", 1)[0]
        laps = pd.read_csv(SHARED / "real-races" / f"{year}-{slug}-race-laps.csv")
        yield name, race, laps, history.facts(race.name)


def fitted_races(paths: list[Path], history):
    """(name, race definition, lap table, facts) of each lap table, fitted on the fly like ``racetwin fit``."""
    model = load_start_model()
    for path in paths:
        laps, drivers = read_laps(path)
        event = event_name_from_path(path)
        if event is None:
            raise ValueError(f"--laps: {str(path)!r} is not named YEAR-SLUG-race-laps.csv, so its race in the "
                             "history is unknown (use racetwin fit LAPS.csv --event NAME --score)")
        fitted = fit_race(laps, drivers=drivers, event=event, history=history, start_model=model, source=str(path))
        facts, note = real_facts(history, event, laps)
        if note is not None:
            print(f"sim_vs_real: note: {path.name}: {note}", file=sys.stderr)
        yield real_name_from_path(path), parse_race_definition(fitted.race), laps, facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--laps", type=Path, nargs="+", default=None, metavar="LAPS.csv",
                        help="score these lap tables (fitted on the fly) instead of the catalogue")
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="also write <race>.strategies.json and <race>.events.json there, for "
                             "racetwin simulate data/races/<race>.race.json --strategies ... --events ...")
    args = parser.parse_args(argv)
    history = load_history(SHARED / "historical")
    races = catalogue_races(history) if args.laps is None else fitted_races(args.laps, history)
    print(f"Simulated vs real, in-sample (each race definition fitted on that race's laps); "
          f"{args.runs} Monte Carlo races, seed {args.seed}")
    scores = []
    lines = []
    try:
        for name, race, laps, facts in races:
            if args.export is not None:
                write_real_files(args.export, name, real_race(race, laps, facts))
            scores.append(score_real_race(race, laps, facts, runs=args.runs, seed=args.seed, name=name))
            lines = format_scores(scores)
            if len(scores) == 1:
                print(lines[0])
            print(lines[-2], flush=True)
    except ValueError as exc:
        print(f"sim_vs_real: {exc}", file=sys.stderr)
        return 2
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
