"""Benchmark of the twins (prints numbers; not a pass/fail test).

    python tests/benchmarks/bench_twins.py

Targets from issue 4: CarTwin update < 200 us; FieldTwin update for 22 cars < 1 ms;
a full lap's refit < 20 ms. Times are CPU time of this process (``time.process_time``:
the machine is shared, wall time measures the neighbours), best of several repeats, on a
simulated 2024 Bahrain race (seed 4), 22 cars where it says so.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.racedef import bundled_race
from workbench.telemetry.records import LapRecord
from workbench.twins.car import CarTwin
from workbench.twins.context import TwinContext
from workbench.twins.field import FieldTwin


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def race_with_22_cars():
    race = bundled_race()
    extra = [dataclasses.replace(race.cars[i], driver=f"X{i}", number=90 + i, grid=len(race.cars) + i + 1)
             for i in range(2)]
    return dataclasses.replace(race, cars=race.cars + tuple(extra))


def main() -> None:
    race = race_with_22_cars()
    ctx = TwinContext.from_race(race)
    sim = TelemetrySimulator(race, seed=4)
    laps = sim.lap_records()
    samples = list(sim.samples("VER"))[:5000]

    twin = CarTwin(driver="VER", context=ctx)
    def feed_samples():
        twin._last_time_s = float("-inf")
        for s in samples:
            twin.update_state(s)
    t = best_of(feed_samples)
    print(f"CarTwin.update_state(CarSample): {t / len(samples) * 1e6:.1f} us per sample ({len(samples)} samples)")

    field = FieldTwin(context=ctx, our_driver="VER")
    for r in laps:
        if r.lap_number <= 20:
            field.update_state(r)
    def feed_field_samples():
        for tw in field.cars.values():
            tw._last_time_s = float("-inf")
        for s in samples[:2000]:
            field.update_state(s)
    t = best_of(feed_field_samples)
    print(f"FieldTwin.update_state(CarSample), {len(field.cars)} cars: {t / 2000 * 1e6:.1f} us per sample")

    # One full lap of the field: 22 LapRecords (lap 21), each refitting that car; plus the field's refit.
    lap21 = [r for r in laps if r.lap_number == 21]
    def one_lap():
        f = FieldTwin(context=ctx, our_driver="VER")
        for r in laps:
            if r.lap_number <= 20:
                f.update_state(r)
        t0 = time.process_time()
        for r in lap21:
            f.update_state(r)
        t1 = time.process_time()
        for c in ("SOFT", "HARD"):
            f.tyres._fits.pop(c, None)
        t2 = time.process_time()
        for c in ("SOFT", "HARD"):
            f.tyres.fits(c)
        t3 = time.process_time()
        state_t0 = time.process_time()
        f.state()
        return t1 - t0, t3 - t2, time.process_time() - state_t0
    runs = [one_lap() for _ in range(3)]
    lap_s, refit_s, state_s = (min(r[i] for r in runs) for i in range(3))
    print(f"FieldTwin, one full lap ({len(lap21)} LapRecords: every car refit, our pit window): {lap_s * 1e3:.1f} ms "
          f"({lap_s / len(lap21) * 1e3:.2f} ms per car)")
    print(f"Field tyre model refit (all compounds, laps to lap 21): {refit_s * 1e3:.2f} ms")
    print(f"FieldTwin.state() after that lap (rivals' pit windows, threats, opportunities, profiles, pit "
          f"probabilities): {state_s * 1e3:.1f} ms")

    our = CarTwin(driver="VER", context=ctx)
    ver = [r for r in laps if r.driver == "VER"]
    def our_laps():
        tw = CarTwin(driver="VER", context=ctx)
        t0 = time.process_time()
        for r in ver:
            tw.update_state(r)
        return (time.process_time() - t0) / len(ver)
    per_lap = min(our_laps() for _ in range(3))
    print(f"CarTwin.update_state(LapRecord) incl. refit and pit window: {per_lap * 1e3:.2f} ms per lap (mean of "
          f"{len(ver)} laps)")
    assert isinstance(ver[0], LapRecord) and our.lap == 0
    print("numpy", np.__version__)


if __name__ == "__main__":
    main()
