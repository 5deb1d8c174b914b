"""Simulated vs real: every catalogue race run with its real strategies and real events.

Run from the repository root:  python tests/benchmarks/sim_vs_real.py [--runs N] [--seed S]

For each race of data/races/ (fitted by data/build_catalogue.py on that race's own laps, so
this is an IN-SAMPLE check of the race model, not a forecast):

- strategies: every car's real stints (compound, laps) followed exactly; a car whose real stints
  break the two-dry-compound rule (a retirement before its stop) follows its plan instead;
- events: each lap's majority TrackStatus in the lap table forced (SC, VSC; a red-flag lap is
  forced as SC, the nearest the model has), every other lap forced green;
- scored against the real classification (Ergast ``positionOrder`` of the cars classified as
  finishers, lapped included; retirements are left out, since the model draws its own):
  Spearman rho between the simulated and the real finishing order of those cars, and the
  error of the real winner's simulated race time against the real one (Ergast).

A race with a red flag has no winner-time error: its real time includes the suspension, which
the model does not have (the forced SC stands in for the red-flag laps).

Monte Carlo: ``--runs`` races; rho is the mean over runs, and ``rho(mean)`` ranks the cars by
mean simulated position. Numba kernel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workbench.strategy.catalogue import list_races, resolve_race  # noqa: E402
from workbench.strategy.montecarlo import NeutralPhase, simulate, strategies_from_stints  # noqa: E402
from workbench.strategy.racedef import load_race_definition  # noqa: E402
from workbench.strategy.racefit import load_history  # noqa: E402
from workbench.strategy.racefit.lapmodel import status_kind  # noqa: E402
from workbench.telemetry.records import TrackStatus  # noqa: E402
from workbench.telemetry.schema import TelemetryValidationError  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def real_events(laps: pd.DataFrame, n_laps: int) -> list[NeutralPhase]:
    """Each lap's majority status as forced phases (RED as SC), every other lap green."""
    kinds = laps.assign(Kind=laps.TrackStatus.map(status_kind)).groupby("LapNumber").Kind.agg(
        lambda k: k.value_counts().index[0])
    out = []
    for lap in range(1, n_laps + 1):
        kind = {"RED": "SC"}.get(kinds.get(lap, "GREEN"), kinds.get(lap, "GREEN"))
        status = TrackStatus(kind)
        if out and out[-1].kind == status and out[-1].last_lap == lap - 1:
            out[-1] = NeutralPhase(status, out[-1].first_lap, lap)
        else:
            out.append(NeutralPhase(status, lap, lap))
    return out


def real_strategies(race) -> tuple[dict, list[str]]:
    """The cars' real stints as exact strategies; drivers whose stints break the rules are listed."""
    out, skipped = {}, []
    for car in race.cars:
        stints = [{"compound": s.compound.value, "laps": s.laps} for s in car.strategy]
        try:
            out.update(strategies_from_stints(race, {car.driver: stints}))
        except TelemetryValidationError:
            skipped.append(car.driver)
    return out, skipped


def spearman(a, b) -> float:
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    history = load_history(SHARED / "historical")
    print(f"Simulated vs real, in-sample (each race definition fitted on that race's laps); "
          f"{args.runs} Monte Carlo races, seed {args.seed}")
    print(f"{'race':<20} {'cars':>4} {'rho MC':>14} {'rho(mean)':>9} {'winner real s':>13} {'sim p50 s':>10} "
          f"{'error':>8} {'rule fix':>8}")
    rhos, rho_means, errors = [], [], []
    for name in list_races():
        race = load_race_definition(resolve_race(name))
        year, slug = name.rsplit("-", 1)[1], name.rsplit("-", 1)[0]
        laps = pd.read_csv(SHARED / "real-races" / f"{year}-{slug}-race-laps.csv")
        facts = history.facts(race.name)
        strategies, skipped = real_strategies(race)
        result = simulate(race, None, strategies, real_events(laps, race.track.laps), runs=args.runs,
                          seed=args.seed)
        scored = [d for d in race.drivers if facts.finished.get(d)]
        real_pos = [facts.classified[d] for d in scored]
        idx = [result.index(d) for d in scored]
        per_run = [spearman(result.position[r, idx], real_pos) for r in range(result.runs)]
        mean_pos = result.position[:, idx].mean(axis=0)
        winner = min(facts.classified, key=facts.classified.get)
        t = result.race_time_s[:, result.index(winner)]
        sim_t = float(np.nanmedian(t))
        err = sim_t - facts.winner_time_s
        red = bool((laps.TrackStatus.map(status_kind) == "RED").any())
        rhos.append(np.mean(per_run))
        rho_means.append(spearman(mean_pos, real_pos))
        if not red:
            errors.append(abs(err) / facts.winner_time_s)
        shown = "red flag" if red else f"{100 * err / facts.winner_time_s:>+7.2f}%"
        print(f"{name:<20} {len(scored):>4} {np.mean(per_run):>6.3f} +- {np.std(per_run):<5.3f} {rho_means[-1]:>9.3f} "
              f"{facts.winner_time_s:>13.1f} {sim_t:>10.1f} {shown:>8} {len(skipped):>8}")
    print(f"{'mean':<20} {'':>4} {np.mean(rhos):>6.3f} {'':>7} {np.mean(rho_means):>9.3f} {'':>13} {'':>10} "
          f"{100 * np.mean(errors):>7.2f}% (mean |error| without the red-flag races)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
