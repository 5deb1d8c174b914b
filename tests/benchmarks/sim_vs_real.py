"""Simulated vs real: every catalogue race run with its real strategies and real events.

Run from the repository root:  python tests/benchmarks/sim_vs_real.py [--runs N] [--seed S]

For each race of data/races/ (fitted by data/build_catalogue.py on that race's own laps, so
this is an IN-SAMPLE check of the race model, not a forecast):

- strategies: every car's real stints (compound, laps) followed exactly; a car whose real stints
  break the two-dry-compound rule (a retirement before its stop) follows its plan instead;
- events: each lap's majority TrackStatus in the lap table forced (SC, VSC; a red-flag lap is
  forced as SC, the nearest the model has), every other lap forced green;
- retirements: a car that did not finish retires at the end of its last timed lap (forced);
- scored against the real classification (Ergast ``positionOrder`` of every car with laps):
  Spearman rho between the simulated and the real finishing order of those cars, and the
  error of the real winner's simulated race time against the real one (Ergast).

A race with a red flag has no winner-time error: its real time includes the suspension, which
the model does not have (the forced SC stands in for the red-flag laps).

Deterministic (``simulate(..., deterministic=True)``, ``racetwin simulate --deterministic``): one race
with no noise, passes decided by the threshold on the pace margin. Monte Carlo: ``--runs`` races;
rho is the mean over runs (+- its sd), ``rho(mean)`` ranks the cars by mean simulated position. The
real winner's simulated time is the deterministic race's and the Monte Carlo median. With
``--export DIR`` the same strategies and events are written as ``racetwin simulate`` files. "plan":
cars left on their plan. Numba kernel.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from workbench.strategy.catalogue import list_races, resolve_race  # noqa: E402
from workbench.strategy.montecarlo import NeutralPhase, Retirement, apply_stints, simulate  # noqa: E402
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


def real_retirements(laps: pd.DataFrame, facts) -> list[Retirement]:
    """A car that did not finish stops at the end of its last timed lap (lap 1 at the earliest)."""
    out = []
    for driver, grp in laps.groupby("Driver"):
        if facts.finished.get(driver, True):
            continue
        timed = grp[grp.LapTime.notna()].LapNumber
        out.append(Retirement(driver, int(max(1, timed.max() if len(timed) else 1))))
    return out


def real_strategies(race) -> tuple:
    """The race with every car's real stints, their exact strategies, and the drivers left on their plan.

    A car whose stints break the two-dry-compound rule (a retirement before its stop) stays on its plan.
    """
    wet = any(not s.compound.is_dry for c in race.cars for s in c.strategy)
    strategies, skipped = {}, []
    for car in race.cars:
        stints = [{"compound": s.compound.value, "laps": s.laps}
                  | ({"tyre_age_laps": s.tyre_age_laps} if s.tyre_age_laps else {}) for s in car.strategy]
        try:
            race, one = apply_stints(race, {car.driver: stints}, wet)
        except TelemetryValidationError:
            skipped.append(car.driver)
            continue
        strategies.update(one)
    return race, strategies, skipped


def stints_json(race, drivers) -> dict:
    """The stint lists of ``drivers`` as a ``--strategies`` file holds them."""
    return {c.driver: [{"compound": s.compound.value, "laps": s.laps}
                       | ({"tyre_age_laps": s.tyre_age_laps} if s.tyre_age_laps else {}) for s in c.strategy]
            for c in race.cars if c.driver in drivers}


def export(folder: Path, name: str, race, strategies: dict, events: list) -> None:
    """Write the real strategies and events as ``racetwin simulate`` files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.strategies.json").write_text(json.dumps(stints_json(race, strategies), indent=1) + "\n")
    (folder / f"{name}.events.json").write_text(json.dumps([e.to_json() for e in events], indent=1) + "\n")


def spearman(a, b) -> float:
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--export", type=Path, default=None, metavar="DIR",
                        help="also write <race>.strategies.json and <race>.events.json there, for "
                             "racetwin simulate data/races/<race>.race.json --strategies ... --events ...")
    args = parser.parse_args(argv)
    history = load_history(SHARED / "historical")
    print(f"Simulated vs real, in-sample (each race definition fitted on that race's laps); "
          f"{args.runs} Monte Carlo races, seed {args.seed}")
    print(f"{'race':<20} {'cars':>4} {'rho det':>7} {'rho MC':>14} {'rho(mean)':>9} {'winner real s':>13} "
          f"{'det s':>8} {'det err':>8} {'MC p50 s':>8} {'MC err':>8} {'plan':>4}")
    rho_det, rhos, rho_means, err_det, err_mc = [], [], [], [], []
    for name in list_races():
        race = load_race_definition(resolve_race(name))
        year, slug = name.rsplit("-", 1)[1], name.rsplit("-", 1)[0]
        laps = pd.read_csv(SHARED / "real-races" / f"{year}-{slug}-race-laps.csv")
        facts = history.facts(race.name)
        race, strategies, skipped = real_strategies(race)
        events = real_events(laps, race.track.laps) + real_retirements(laps, facts)
        if args.export is not None:
            export(args.export, name, race, strategies, events)
        det = simulate(race, None, strategies, events, runs=1, seed=args.seed, deterministic=True)
        result = simulate(race, None, strategies, events, runs=args.runs, seed=args.seed)
        scored = [d for d in race.drivers if d in facts.classified]
        real_pos = [facts.classified[d] for d in scored]
        idx = [result.index(d) for d in scored]
        per_run = [spearman(result.position[r, idx], real_pos) for r in range(result.runs)]
        rho_det.append(spearman(det.position[0, idx], real_pos))
        rhos.append(np.mean(per_run))
        rho_means.append(spearman(result.position[:, idx].mean(axis=0), real_pos))
        winner = min(facts.classified, key=facts.classified.get)
        t_det = float(det.race_time_s[0, det.index(winner)])
        t_mc = float(np.nanmedian(result.race_time_s[:, result.index(winner)]))
        red = bool((laps.TrackStatus.map(status_kind) == "RED").any())
        real_t = facts.winner_time_s
        shown = ["red flag" if red else f"{100 * (t - real_t) / real_t:>+7.2f}%" for t in (t_det, t_mc)]
        if not red:
            err_det.append(abs(t_det - real_t) / real_t)
            err_mc.append(abs(t_mc - real_t) / real_t)
        print(f"{name:<20} {len(scored):>4} {rho_det[-1]:>7.3f} {rhos[-1]:>6.3f} +- {np.std(per_run):<5.3f} "
              f"{rho_means[-1]:>9.3f} {real_t:>13.1f} {t_det:>8.1f} {shown[0]:>8} {t_mc:>8.1f} {shown[1]:>8} "
              f"{len(skipped):>4}")
    print(f"{'mean':<20} {'':>4} {np.mean(rho_det):>7.3f} {np.mean(rhos):>6.3f} {'':>7} {np.mean(rho_means):>9.3f} "
          f"{'':>13} {'':>8} {100 * np.mean(err_det):>7.2f}% {'':>8} {100 * np.mean(err_mc):>7.2f}%  "
          "(time: mean |error| without the red-flag races)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
