"""`racetwin bench`: kernel throughput and decision latency beside the numpy reference.

Three numbers, each measured for the numba kernel and for the numpy reference in
the same run on the same inputs:

- full-field races/s: whole 57-lap, 20-car races from the grid;
- single-car lap evaluations/s: the traffic-free lap model of one car
  (`single_car_times`), counted as races x laps;
- decision latency: lap completed in the hub -> `RaceState.from_session` ->
  ranked strategies from 10,000 races (`decide`), p95 over repeats; also the CPU
  time per decision, which shared (busy) machines distort less than wall time.
- adaptive decision latency: the same decisions by adaptive candidate racing
  (`workbench.strategy.adaptive.race_candidates`), timed beside the full run in the
  same loop (full, then adaptive, same seed and state), with the races each used and
  how often the two top recommendations agree.

Where Mojo is installed, the Mojo kernels' full-field races/s and single-car lap
evaluations/s are measured on the same inputs too (None otherwise).
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from workbench.race.definition import RaceDefinition, bundled_race
from workbench.strategy.adaptive import race_candidates
from workbench.strategy.montecarlo import RaceState, pack
from workbench.strategy.sweep import decide

__all__ = ["cpu_model", "live_session", "run_bench"]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def live_session(race: RaceDefinition, driver: str, lap: int, seed: int = 0):
    """A `RaceSession` fed a simulated race's lap records and events up to the leader's ``lap``."""
    from workbench.hub.session import RaceSession
    from workbench.race.simulator import TelemetrySimulator
    from workbench.telemetry.records import LapRecord

    session = RaceSession(driver, race)
    sim = TelemetrySimulator(race, seed=seed, sample_drivers=[])
    for record in sim.records():
        if isinstance(record, LapRecord) and record.lap_number > lap:
            break
        session.ingest(record, "bench", check_future=False)
    session.flush()
    return session


def _rate(fn, work: float, min_time_s: float = 0.5, max_reps: int = 50) -> float:
    """Work per second of ``fn`` (best of repeats within ``min_time_s``)."""
    best, spent, reps = float("inf"), 0.0, 0
    while spent < min_time_s and reps < max_reps:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    return work / best


def run_bench(race: RaceDefinition | None = None, races: int = 20_000, races_numpy: int = 1_000,
              single_runs: int = 200_000, single_runs_numpy: int = 20_000, decisions: int = 20,
              decision_runs: int = 10_000, decision_lap: int = 20, driver: str = "LEC") -> dict:
    """Measure everything; returns the ``--json`` object of ``racetwin bench``."""
    import numba

    from workbench.kernels import numba_race
    from workbench.race import reference

    race = race if race is not None else bundled_race()
    packed = pack(race)
    n_cars, n_laps = len(race.cars), race.track.laps

    def full(kernel, n):
        out = (np.zeros((n, n_cars), dtype=np.int64), np.zeros((n, n_cars)), np.zeros((n, n_cars), dtype=np.int64))
        return lambda: kernel(1, 0, n, *packed.kernel_args(), *out)

    full(numba_race.run_races, 64)()  # compile / load the cache outside the timing
    ff = _rate(full(numba_race.run_races, races), races)
    ff_np = _rate(full(reference.run_races, races_numpy), races_numpy, max_reps=3)

    c = race.drivers.index(driver)
    plan = race.car(driver).strategy
    stops = np.cumsum([s.laps for s in plan[:-1]]).astype(np.int64)
    comps = np.array([packed.compounds.index(s.compound) for s in plan[1:]], dtype=np.int64)

    def single(kernel, n):
        out = np.zeros(n)
        return lambda: kernel(1, 0, n, c, 0, n_laps, packed.track, packed.comp_offset, packed.comp_model,
                              packed.comp_k1, packed.comp_k2, int(packed.compound0[c]), 0, race.fuel.start_kg,
                              float(packed.pace[c]), float(packed.sigma[c]), stops, comps, len(stops), out)

    single(numba_race.single_car_times, 16)()
    sc = _rate(single(numba_race.single_car_times, single_runs), single_runs * n_laps)
    sc_np = _rate(single(reference.single_car_times, single_runs_numpy), single_runs_numpy * n_laps, max_reps=3)

    mojo = sc_mojo = None
    from workbench.kernels import mojo_backend
    if mojo_backend.available()[0]:
        full(mojo_backend.run_races, 64)()  # build / load the extension outside the timing
        mojo = _rate(full(mojo_backend.run_races, races), races)
        sc_mojo = _rate(single(mojo_backend.single_car_times, single_runs), single_runs * n_laps)

    session = live_session(race, driver, decision_lap)
    decide(race, driver, RaceState.from_session(session), total_runs=200)  # warm
    race_candidates(race, driver, RaceState.from_session(session), total_runs=200)
    latencies, latencies_ad, cpu_full, cpu_ad, races_ad, agree, settled = [], [], 0.0, 0.0, [], 0, 0
    for i in range(decisions):  # full and adaptive alternate, so both see the same machine load
        c0, t0 = time.process_time(), time.perf_counter()
        result = decide(race, driver, RaceState.from_session(session), total_runs=decision_runs, seed=i)
        latencies.append(time.perf_counter() - t0)
        cpu_full += time.process_time() - c0
        c0, t0 = time.process_time(), time.perf_counter()
        adaptive = race_candidates(race, driver, RaceState.from_session(session), total_runs=decision_runs, seed=i)
        latencies_ad.append(time.perf_counter() - t0)
        cpu_ad += time.process_time() - c0
        races_ad.append(adaptive.races_used)
        agree += adaptive.result.best.strategy == result.best.strategy
        settled += adaptive.settled
    cpu_per_decision = cpu_full / decisions
    t0 = time.perf_counter()
    decide(race, driver, RaceState.from_session(session), total_runs=decision_runs, seed=0, backend="numpy")
    latency_np = time.perf_counter() - t0
    t0 = time.perf_counter()
    race_candidates(race, driver, RaceState.from_session(session), total_runs=decision_runs, seed=0, backend="numpy")
    latency_np_ad = time.perf_counter() - t0
    full_races = len(result.ranked) * result.ranked[0].runs
    from workbench.bench.cuda import cuda_fields  # GPU numbers (None without a GPU); cuda engineer's module
    gpu = cuda_fields(race, driver, decision_lap, decisions, decision_runs)
    return {
        **gpu,
        "backend": "numba", "threads": numba.get_num_threads(), "cpu": cpu_model(), "cpu_count": os.cpu_count(),
        "full_field_races_per_s": ff, "full_field_races_per_s_numpy": ff_np, "full_field_races_per_s_mojo": mojo,
        "single_car_lap_evals_per_s": sc, "single_car_lap_evals_per_s_numpy": sc_np,
        "single_car_lap_evals_per_s_mojo": sc_mojo,
        "decision_latency_p95_ms": 1000 * float(np.percentile(latencies, 95)),
        "decision_latency_p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "decision_latency_p95_ms_numpy": 1000 * latency_np,
        "decision_cpu_ms": 1000 * cpu_per_decision,  # CPU time of all threads: wall time on idle cores x threads
        "decision_latency_p95_ms_adaptive": 1000 * float(np.percentile(latencies_ad, 95)),
        "decision_latency_p50_ms_adaptive": 1000 * float(np.percentile(latencies_ad, 50)),
        "decision_latency_p95_ms_numpy_adaptive": 1000 * latency_np_ad,
        "decision_cpu_ms_adaptive": 1000 * cpu_ad / decisions,
        "decision": {"lap": decision_lap, "driver": driver, "candidates": len(result.ranked),
                     "races": full_races, "repeats": decisions, "numpy_repeats": 1},
        "decision_adaptive": {"races_mean": float(np.mean(races_ad)), "races_max": int(max(races_ad)),
                              "races_fraction": float(np.mean(races_ad)) / full_races,
                              "top1_agreement": agree / decisions, "settled": settled / decisions},
        "sizes": {"races": races, "races_numpy": races_numpy, "single_car_runs": single_runs,
                  "single_car_runs_numpy": single_runs_numpy, "laps": n_laps, "cars": n_cars},
    }
