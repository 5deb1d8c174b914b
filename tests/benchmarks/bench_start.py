"""The simulated start against real starts: |grid - lap-1 position| over the shared 2024 races.

Run from the repository root:  python tests/benchmarks/bench_start.py [--runs N] [--seed S]

Real: every car's grid slot and lap-1 position in ``data/start-model.json`` (built by
data/build_catalogue.py from ../shared/data/real-races and the Ergast grids; races whose lap 1
ran under a red flag are left out: the restart re-forms the grid). Simulated: each catalogue race
(data/races/) cut to its first lap (green, no retirement) and run ``--runs`` times on the numba
kernel; its lap-1 order is the finishing order of that one-lap race. The start parameters of each
race were chosen from the start model with the race's own lap 1 blended with the other races'
(see workbench/strategy/racefit/start.py), so this is largely an in-sample check of the kernel
against the model it was tuned to, not an out-of-sample score.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from workbench.strategy.catalogue import list_races, resolve_race  # noqa: E402
from workbench.strategy.montecarlo import NeutralPhase, simulate  # noqa: E402
from workbench.strategy.racedef import StintPlan, load_race_definition  # noqa: E402
from workbench.strategy.racefit.start import SLOT_BANDS, load_start_model  # noqa: E402
from workbench.telemetry.records import TrackStatus  # noqa: E402

BINS = (0, 1, 2, 3, 4, 5)  # |change| = 0, 1, 2, 3, 4, 5+


def first_lap_only(race):
    """The race cut to lap 1: green, nobody retires, every car on its starting set."""
    track = dataclasses.replace(race.track, laps=1)
    events = dataclasses.replace(race.events, retirement_p=0.0)
    cars = tuple(dataclasses.replace(c, strategy=(StintPlan(c.strategy[0].compound, 1,
                                                            c.strategy[0].tyre_age_laps),)) for c in race.cars)
    return dataclasses.replace(race, track=track, events=events, cars=cars)


def simulated_changes(race, runs: int, seed: int) -> np.ndarray:
    """[run, car] |grid - lap-1 position|."""
    short = first_lap_only(race)
    result = simulate(short, None, None, [NeutralPhase(TrackStatus.GREEN, 1, 1)], runs=runs, seed=seed)
    grid = np.array([c.grid for c in short.cars])
    return np.abs(result.position - grid[None, :])


def histogram(values: np.ndarray) -> list[float]:
    v = np.minimum(np.asarray(values).ravel(), BINS[-1])
    return [float((v == b).mean()) for b in BINS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = load_start_model()["races"]
    rows, real_all, sim_all, real_means, sim_means = [], [], [], [], []
    for name in list_races():
        race = load_race_definition(resolve_race(name))
        entry = model.get(race.name)
        if entry is None or entry["red_flag_lap1"]:
            continue
        real = np.array([abs(g - p) for g, p in entry["pairs"]])
        sim = simulated_changes(race, args.runs, args.seed)
        per_run = sim.mean(axis=1)
        real_all.append(real)
        sim_all.append(sim.ravel())
        real_means.append(real.mean())
        sim_means.append(per_run.mean())
        slots = np.array([c.grid for c in race.cars])
        by_slot = " ".join(f"{sim[:, (slots >= lo) & (slots <= hi)].mean():.2f}/{entry['by_slot'][f'{lo}-{hi}']:.2f}"
                           for lo, hi in SLOT_BANDS)
        rows.append(f"{name:<20} {real.mean():>5.2f} {per_run.mean():>5.2f} {np.quantile(per_run, 0.1):>5.2f}-"
                    f"{np.quantile(per_run, 0.9):<5.2f} {race.track.start_sigma_s:>5.2f}  {by_slot}")
    print(f"|grid - lap-1 position|, {args.runs} simulated starts per race, seed {args.seed}")
    print(f"{'race':<20} {'real':>5} {'sim':>5} {'sim p10-p90':>11} {'sigma':>5}  sim/real by grid slot 1-3, 4-10, 11+")
    print("\n".join(rows))
    real_pool, sim_pool = np.concatenate(real_all), np.concatenate(sim_all)
    lo, hi = float(np.min(real_means)), float(np.max(real_means))
    print(f"\nmean over races: real {np.mean(real_means):.2f} (races {lo:.2f}-{hi:.2f}, sd {np.std(real_means):.2f}); "
          f"simulated {np.mean(sim_means):.2f} (races {np.min(sim_means):.2f}-{np.max(sim_means):.2f})")
    print("share of cars by |change| " + " ".join(f"{b}{'+' if b == BINS[-1] else ''}" for b in BINS))
    print("  real      " + " ".join(f"{p:5.2f}" for p in histogram(real_pool)))
    print("  simulated " + " ".join(f"{p:5.2f}" for p in histogram(sim_pool)))
    agree = lo <= float(np.mean(sim_means)) <= hi
    print(f"simulated mean within the real races' range: {'yes' if agree else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
