"""Monte Carlo front end: many full-field races from a race state, on a chosen kernel.

`simulate` runs many full-field races from a `RaceState` (the grid or a live
state read from the hub) with given or assumed strategies, on the numba kernel
(default) or the numpy reference, and returns every race's finishing positions,
race times and stop counts. Race ``i`` is a pure function of (seed, i): the same
seed gives bit-identical results on any thread count, and any two calls with the
same seed see common random numbers, which is what makes strategy comparisons
sharp.

The race model itself (strategies, race state, events, `pack`) lives in `workbench.race.model`,
below both this engine and the telemetry simulator; its names are re-exported here, where
most callers know them.

Strategies here are *remaining* stops: ``Strategy((Stop(18, HARD),))`` means
"pit at the end of lap 18 for hards".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from workbench.race.definition import RaceDefinition, read_json
from workbench.race.model import (
    CarState,
    Event,
    NeutralPhase,
    PackedRace,
    RaceState,
    Retirement,
    Stop,
    Strategy,
    apply_stints,
    check_strategy,
    default_pass_threshold_s,
    grid_gap_s,
    load_events,
    load_strategies,
    pack,
    parse_events,
    planned_strategy,
    strategies_from_stints,
)

__all__ = ["Stop", "Strategy", "CarState", "RaceState", "NeutralPhase", "Retirement", "PackedRace",
           "SimulationResult", "BACKENDS", "simulate", "pack", "planned_strategy", "check_strategy",
           "strategies_from_stints", "apply_stints", "parse_events", "load_events", "load_strategies",
           "default_pass_threshold_s", "read_json", "Event", "grid_gap_s"]

BACKENDS = ("numba", "numpy", "mojo", "cuda")  # mojo, cuda: optional extras (workbench.kernels.mojo_backend, .select)
BACKEND_CHOICES = ("auto",) + BACKENDS  # auto: workbench.kernels.select.resolve_backend


@dataclasses.dataclass
class SimulationResult:
    """Outcome of ``runs`` races: arrays are [run, car] in race-definition car order."""

    drivers: tuple[str, ...]
    position: np.ndarray
    race_time_s: np.ndarray  # nan for a car that retired
    stops: np.ndarray
    seed: int
    sim0: int = 0

    @property
    def runs(self) -> int:
        return self.position.shape[0]

    def index(self, driver: str) -> int:
        if driver not in self.drivers:
            raise KeyError(f"driver: {driver!r} is not in the race; drivers are {', '.join(self.drivers)}")
        return self.drivers.index(driver)

    def position_distribution(self, driver: str) -> np.ndarray:
        """P(finish in position 1..n) of ``driver`` (index 0 = P1)."""
        pos = self.position[:, self.index(driver)]
        return np.bincount(pos - 1, minlength=len(self.drivers)) / len(pos)

    def finishing_order(self, run: int = 0) -> list[str]:
        return [self.drivers[c] for c in np.argsort(self.position[run])]


PROGRESS_CHUNKS = 20  # slices of the races when `simulate` reports progress


def check_backend(backend: str) -> str:
    """``backend`` validated and ``auto`` resolved (`workbench.kernels.select.resolve_backend`)."""
    if backend not in BACKEND_CHOICES:
        raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKEND_CHOICES)}")
    from workbench.kernels.select import resolve_backend
    return resolve_backend(backend)


def _run_kernel(packed: PackedRace, runs: int, seed: int, sim0: int, backend: str):
    n = len(packed.t0)
    position = np.zeros((runs, n), dtype=np.int64)
    race_time = np.zeros((runs, n))
    stops = np.zeros((runs, n), dtype=np.int64)
    if backend == "numba":
        from workbench.kernels.numba_race import run_races
    elif backend == "numpy":
        from workbench.race.reference import run_races
    elif backend == "mojo":
        from workbench.kernels.mojo_backend import run_races  # raises MojoUnavailable, saying how to install
    elif backend == "cuda":
        from workbench.kernels.select import cuda_kernels
        run_races = cuda_kernels().run_races  # raises CudaUnavailable, saying how to install
    else:
        raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    run_races(seed, sim0, runs, *packed.kernel_args(), position, race_time, stops)
    return position, race_time, stops


def simulate(race: RaceDefinition, state: RaceState | None = None, strategies: Mapping[str, Strategy] | None = None,
             events: Sequence[NeutralPhase | Retirement] = (), runs: int = 1000, seed: int = 0,
             backend: str = "numba", sim0: int = 0, packed: PackedRace | None = None, deterministic: bool = False,
             pass_threshold_s: float | None = None, progress=None) -> SimulationResult:
    """Simulate ``runs`` full-field races (numbers ``sim0 ..``) from ``state`` (the grid by default).

    Parameters
    ----------
    race : RaceDefinition
    state : RaceState, optional
        Where the race stands; the grid when omitted.
    strategies : mapping of driver to Strategy, optional
        Cars that follow a given strategy exactly; the others follow their plan.
    events : sequence of NeutralPhase or Retirement
        Forced SC/VSC/green laps (an SC/VSC may start part-way through its first lap) and
        forced retirements; random neutralisations fill the other laps.
    runs, seed, sim0 : int
        How many races, the seed, and the number of the first race.
    backend : {"numba", "numpy", "mojo", "cuda", "auto"}
        ``mojo`` raises `workbench.kernels.mojo_backend.MojoUnavailable` when Mojo is not installed,
        ``cuda`` raises `workbench.kernels.select.CudaUnavailable` without numba-cuda or a GPU;
        ``auto`` is `workbench.kernels.select.resolve_backend` (cuda on a GPU, else numba).
    packed : PackedRace, optional
        Already packed arrays (then ``state``, ``strategies``, ``events`` and the
        deterministic options are ignored).
    deterministic, pass_threshold_s
        No noise, no random events, passes decided by a threshold (see `pack`).
    progress : callable(done, total), optional
        Called as races finish (`workbench.strategy.sweep.progress_bar`); the races then run in
        `PROGRESS_CHUNKS` slices numbered on with ``sim0``, so the result is the same as without.
    """
    for name, value, low in (("runs", runs, 1), ("seed", seed, 0), ("sim0", sim0, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: {value!r} is not an integer >= {low}")
    backend = check_backend(backend)
    packed = packed if packed is not None else pack(race, state, strategies, events, deterministic, pass_threshold_s)
    if progress is None:
        position, race_time, stops = _run_kernel(packed, int(runs), int(seed), int(sim0), backend)
    else:
        parts, done = [], 0
        for n in np.diff(np.linspace(0, int(runs), min(PROGRESS_CHUNKS, int(runs)) + 1).astype(int)):
            parts.append(_run_kernel(packed, int(n), int(seed), int(sim0) + done, backend))
            done += int(n)
            progress(done, int(runs))
        position, race_time, stops = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return SimulationResult(packed.drivers, position, race_time, stops, int(seed), int(sim0))
