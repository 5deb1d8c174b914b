"""GPU numbers for ``racetwin bench --json``: measured only when a real CUDA GPU is present.

`cuda_fields` returns ``full_field_races_per_s_cuda``, ``decision_latency_p95_ms_cuda``
and ``gpu`` (the device's name); without a GPU (or under numba's simulator, whose
speed means nothing) the numbers are ``None`` and ``gpu_detail`` says why.
"""

from __future__ import annotations

import time

import numpy as np

from workbench.kernels.select import gpu_status
from workbench.race.definition import RaceDefinition
from workbench.strategy.montecarlo import RaceState, pack


def cuda_fields(race: RaceDefinition, driver: str, decision_lap: int, decisions: int = 20,
                decision_runs: int = 10_000, races: int = 1_000_000) -> dict:
    """Full-field races/s (``races`` in one launch, copies included) and decision p95 on the GPU.

    Parameters
    ----------
    race : RaceDefinition
    driver, decision_lap : str, int
        The decision measured: `workbench.strategy.sweep.decide` for ``driver`` at ``decision_lap``
        of the bench's live session, ``decision_runs`` races, ``decisions`` repeats (seeds 0..).
    races : int
        Full-field races per timed launch.
    """
    status = gpu_status()
    out = {"gpu": status.gpu_name, "gpu_detail": status.reason,
           "full_field_races_per_s_cuda": None, "decision_latency_p95_ms_cuda": None}
    if status.gpu_name is None or status.simulator:
        return out
    from workbench.bench.harness import live_session
    from workbench.kernels import cuda_race
    from workbench.strategy.sweep import decide

    packed = pack(race)
    n_cars = len(race.cars)

    def launch(n: int) -> float:
        buf = (np.zeros((n, n_cars), dtype=np.int64), np.zeros((n, n_cars)), np.zeros((n, n_cars), dtype=np.int64))
        t0 = time.perf_counter()
        cuda_race.run_races(1, 0, n, *packed.kernel_args(), *buf)
        return time.perf_counter() - t0

    launch(256)  # compile outside the timing
    out["full_field_races_per_s_cuda"] = races / min(launch(races) for _ in range(3))
    state = RaceState.from_session(live_session(race, driver, decision_lap))
    decide(race, driver, state, total_runs=200, backend="cuda")  # compile the reduction
    latencies = []
    for i in range(decisions):
        t0 = time.perf_counter()
        decide(race, driver, state, total_runs=decision_runs, seed=i, backend="cuda")
        latencies.append(time.perf_counter() - t0)
    out["decision_latency_p95_ms_cuda"] = 1000 * float(np.percentile(latencies, 95))
    return out
