"""Run the CUDA kernels under numba's simulator beside numba; print one JSON object of findings.

Started by tests/unit/test_cuda_backend.py in a fresh interpreter, because
``NUMBA_ENABLE_CUDASIM`` must be set before numba.cuda is first imported. Inputs are
tiny: the simulator runs every GPU thread as Python.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import numpy as np  # noqa: E402

from workbench.kernels import cuda_race, numba_race  # noqa: E402
from workbench.kernels.select import resolve_backend  # noqa: E402
from workbench.strategy.montecarlo import RaceState, Strategy, pack, simulate  # noqa: E402
from workbench.strategy.racedef import bundled_race, with_distance  # noqa: E402
from workbench.strategy.sweep import _candidate_arrays, _run_candidates, candidates, decide  # noqa: E402
from workbench.telemetry.records import TrackStatus  # noqa: E402


def _compare(a, b) -> dict:
    return {"positions_equal": bool(np.array_equal(a.position, b.position)),
            "stops_equal": bool(np.array_equal(a.stops, b.stops)),
            "nan_equal": bool(np.array_equal(np.isnan(a.race_time_s), np.isnan(b.race_time_s))),
            "max_time_diff_s": float(np.nanmax(np.abs(a.race_time_s - b.race_time_s)))}


def main() -> None:
    race = with_distance(bundled_race(), 12)  # 20 cars, 12 laps: small enough for the simulator
    out: dict = {"auto_under_simulator": resolve_backend("auto")}
    out["grid"] = _compare(simulate(race, runs=4, seed=3, backend="numba"),
                           simulate(race, runs=4, seed=3, backend="cuda"))
    live = RaceState.grid(race)
    out["sim0"] = _compare(simulate(race, live, runs=3, seed=8, sim0=5, backend="numba"),
                           simulate(race, live, runs=3, seed=8, sim0=5, backend="cuda"))
    # a live state under the safety car, cars on used tyres (as tests/unit/test_montecarlo.py does)
    cars = tuple(dataclasses.replace(c, gap_to_leader_s=2.5 * i, tyre_age_laps=6)
                 for i, c in enumerate(sorted(live.cars, key=lambda c: c.position)))
    sc = RaceState(5, cars, TrackStatus.SC, 3)
    out["live_sc"] = _compare(simulate(race, sc, runs=3, seed=4, backend="numba"),
                              simulate(race, sc, runs=3, seed=4, backend="cuda"))
    # run_candidates: full outputs, one launch over every (candidate, race) pair
    driver = race.drivers[0]
    cands = candidates(race, live, driver)[:3]
    base = pack(race, live)
    idx = base.drivers.index(driver)
    width = max(1, max(len(s.stops) for s in cands))
    base = base.with_strategy(idx, Strategy()).widened(width)
    lap, comp, ns = _candidate_arrays(base, cands, width)
    runs, n = 2, len(base.drivers)
    res = []
    for mod in (numba_race, cuda_race):
        o = (np.zeros((len(cands) * runs, n), np.int64), np.zeros((len(cands) * runs, n)),
             np.zeros((len(cands) * runs, n), np.int64))
        mod.run_candidates(5, runs, idx, lap, comp, ns, *base.kernel_args(), *o)
        res.append(o)
    out["candidates"] = {"positions_equal": bool(np.array_equal(res[0][0], res[1][0])),
                         "stops_equal": bool(np.array_equal(res[0][2], res[1][2])),
                         "max_time_diff_s": float(np.nanmax(np.abs(res[0][1] - res[1][1])))}
    # decide: GPU-reduced summaries against the CPU's
    grid_kw = {"lap_step": 4, "two_stop_lap_step": 6}
    a = decide(race, driver, live, total_runs=60, seed=2, backend="numba", **grid_kw)
    b = decide(race, driver, live, total_runs=60, seed=2, backend="cuda", **grid_kw)
    # the histogram quantile's bound: half a bin of each candidate's finishers' time range
    every = candidates(race, live, driver, **grid_kw)
    _, times = _run_candidates(pack(race, live), idx, every, a.ranked[0].runs, 2, "numba", None)
    bound = {s.label: (np.nanmax(t) - np.nanmin(t)) / (2 * cuda_race.TIME_BINS) for s, t in zip(every, times)}
    gpu = {c.strategy.label: c for c in b.ranked}
    out["decide"] = {
        "n_candidates": len(a.ranked),
        "same_ranking": [c.strategy.label for c in a.ranked] == [c.strategy.label for c in b.ranked],
        "same_position_p": all(x.position_p == y.position_p for x, y in zip(a.ranked, b.ranked)),
        "same_expected_points": all(x.expected_points == y.expected_points for x, y in zip(a.ranked, b.ranked)),
        "runs_per_candidate": a.ranked[0].runs,
        "max_quantile_diff_s": max(abs(x.race_time_quantiles_s[q] - gpu[x.strategy.label].race_time_quantiles_s[q])
                                   for x in a.ranked for q in ("p10", "p50", "p90")),
        "quantiles_within_bound": all(
            abs(x.race_time_quantiles_s[q] - gpu[x.strategy.label].race_time_quantiles_s[q])
            <= bound[x.strategy.label] + 1e-9 for x in a.ranked for q in ("p10", "p50", "p90")),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
