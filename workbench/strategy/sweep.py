"""Strategy sweep: every legal 1-/2-stop plan for our car, ranked on common random numbers.

`candidates` enumerates our remaining-race strategies (pit laps on a grid, compound
sequences legal under the two-dry-compound rule and the race's available
compounds); `sweep` simulates each against the rivals' assumed strategies with the
same seed, so every candidate sees the same safety cars, retirements and lap noise,
and summarises our finishing position, race time and points per candidate.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence

import numpy as np

from workbench.race.definition import RaceDefinition
from workbench.strategy.montecarlo import (
    NeutralPhase,
    PackedRace,
    RaceState,
    Stop,
    Strategy,
    check_backend,
    check_strategy,
    pack,
)
from workbench.telemetry.schema import TelemetryValidationError

__all__ = ["POINTS", "CandidateResult", "SweepResult", "candidates", "sweep", "evaluate", "rank", "decide",
           "progress_bar", "positions_of"]

POINTS = (25, 18, 15, 12, 10, 8, 6, 4, 2, 1)  # F1 points for P1..P10 (2024, no fastest-lap point)


def candidates(race: RaceDefinition, state: RaceState, driver: str, lap_step: int = 2, two_stop_lap_step: int = 4,
               min_stint_laps: int = 5, max_stops: int = 2) -> list[Strategy]:
    """Legal remaining strategies of ``driver`` with 0 (when legal), 1 or 2 more stops.

    Pit laps run from the next lap to ``laps - min_stint_laps`` on a grid of
    ``lap_step`` laps (``two_stop_lap_step`` for two stops); the current stint is not
    ended before it is ``min_stint_laps`` old unless that leaves no room.
    """
    for name, value in (("lap_step", lap_step), ("two_stop_lap_step", two_stop_lap_step),
                        ("min_stint_laps", min_stint_laps)):
        if value < 1:
            raise ValueError(f"{name}: {value} is not an integer >= 1")
    if max_stops not in (1, 2):
        raise ValueError(f"max_stops: {max_stops} is not 1 or 2")
    car = state.car(driver)
    n, l0 = race.track.laps, state.laps_completed
    first = max(l0 + 1, min(l0 + max(1, min_stint_laps - car.tyre_age_laps), n - min_stint_laps))
    last = n - min_stint_laps
    dry = [c for c in race.compounds if c.is_dry]
    out: list[Strategy] = []

    def add(strategy: Strategy) -> None:
        try:
            out.append(check_strategy(race, car, strategy, l0))
        except TelemetryValidationError:
            pass

    add(Strategy())
    for lap in range(first, last + 1, lap_step):
        for c in dry:
            add(Strategy((Stop(lap, c),)))
    if max_stops == 2:
        for lap1 in range(first, last + 1, two_stop_lap_step):
            for lap2 in range(lap1 + min_stint_laps, last + 1, two_stop_lap_step):
                for c1, c2 in itertools.product(dry, dry):
                    add(Strategy((Stop(lap1, c1), Stop(lap2, c2))))
    return out


@dataclasses.dataclass(frozen=True)
class CandidateResult:
    """What one strategy gives our car over the simulated races."""

    strategy: Strategy
    runs: int
    position_p: tuple[float, ...]  # P(P1), P(P2), ...
    mean_position: float
    expected_points: float
    p_gain: float  # P(finish ahead of the current position)
    success_probability: float  # P(finish at or ahead of the target position)
    race_time_quantiles_s: dict[str, float]  # p10/p50/p90 of finishers' race time
    p_retired: float

    @property
    def pit_lap(self) -> int:
        """First remaining stop lap (0 for no stop)."""
        return self.strategy.stops[0].lap if self.strategy.stops else 0

    def to_json(self) -> dict:
        return {"strategy": self.strategy.to_json(), "label": self.strategy.label, "runs": self.runs,
                "pit_lap": self.pit_lap, "mean_position": self.mean_position,
                "expected_points": self.expected_points, "p_gain": self.p_gain,
                "success_probability": self.success_probability,
                "race_time_quantiles_s": {k: None if np.isnan(v) else v for k, v in self.race_time_quantiles_s.items()},
                "p_retired": self.p_retired,
                "position_p": list(self.position_p)}


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """Ranked candidates (best first) for ``driver`` from ``laps_completed``."""

    driver: str
    laps_completed: int
    current_position: int
    target_position: int
    seed: int
    ranked: tuple[CandidateResult, ...]

    @property
    def best(self) -> CandidateResult:
        return self.ranked[0]

    def seed_rows(self) -> list[list[float]]:
        """The original prototype's shape: ``[pit_lap, final_position, success_probability, total_time]``.

        ``final_position`` is the mean finishing position, ``total_time`` the median race time (s).
        """
        return [[c.pit_lap, c.mean_position, c.success_probability, c.race_time_quantiles_s["p50"]]
                for c in self.ranked]

    def to_json(self) -> dict:
        return {"driver": self.driver, "laps_completed": self.laps_completed,
                "current_position": self.current_position, "target_position": self.target_position,
                "seed": self.seed, "candidates": [c.to_json() for c in self.ranked]}


def _summarise(strategy: Strategy, positions: np.ndarray, times: np.ndarray, n_cars: int, current: int,
               target: int) -> CandidateResult:
    p = np.bincount(positions - 1, minlength=n_cars) / len(positions)
    points = np.array(POINTS + (0,) * max(0, n_cars - len(POINTS)))[:n_cars]
    finished = times[~np.isnan(times)]
    q = (np.quantile(finished, [0.1, 0.5, 0.9]) if finished.size else np.full(3, np.nan))
    return CandidateResult(
        strategy=strategy, runs=len(positions), position_p=tuple(float(x) for x in p),
        mean_position=float(positions.mean()), expected_points=float(p @ points),
        p_gain=float(np.mean(positions < current)), success_probability=float(np.mean(positions <= target)),
        race_time_quantiles_s={"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])},
        p_retired=float(1.0 - finished.size / len(positions)))


def _candidate_arrays(base: PackedRace, strategies: Sequence[Strategy], width: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates' stop laps and compound indices [candidate, stop] and stop counts."""
    cand_lap = np.zeros((len(strategies), width), dtype=np.int64)
    cand_comp = np.zeros((len(strategies), width), dtype=np.int64)
    for k, strategy in enumerate(strategies):
        for j, stop in enumerate(strategy.stops):
            cand_lap[k, j], cand_comp[k, j] = stop.lap, base.compounds.index(stop.compound)
    return cand_lap, cand_comp, np.array([len(s.stops) for s in strategies], dtype=np.int64)


def _points(n_cars: int) -> np.ndarray:
    """Points for P1 .. P``n_cars``."""
    return np.array(POINTS + (0,) * max(0, n_cars - len(POINTS)), dtype=np.float64)[:n_cars]


def _evaluate_on_gpu(base: PackedRace, idx: int, strategies: Sequence[Strategy], runs: int, seed: int,
                     current: int, target: int) -> list[CandidateResult]:
    """`evaluate` with the summaries reduced on the GPU (`workbench.kernels.cuda_race.candidate_summaries`).

    One launch over every (candidate, race) pair; only histograms come back. The
    race-time quantiles are histogram-based (within half a bin of the exact ones, see
    `workbench.kernels.cuda_race`); everything else equals the CPU summary.
    """
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ValueError(f"runs_per_candidate: {runs!r} is not an integer >= 1")
    from workbench.kernels.select import cuda_kernels
    kernels = cuda_kernels()  # raises CudaUnavailable, saying how to install
    width = max(1, max(len(s.stops) for s in strategies))
    base = base.with_strategy(idx, Strategy()).widened(width)
    n_cars = len(base.drivers)
    cand_lap, cand_comp, n_stops = _candidate_arrays(base, strategies, width)
    out = kernels.candidate_summaries(int(seed), int(runs), idx, cand_lap, cand_comp, n_stops, _points(n_cars),
                                      *base.kernel_args())
    results = []
    for k, strategy in enumerate(strategies):
        hist = out["position_hist"][k]
        p = hist / runs
        pos = np.arange(1, n_cars + 1)
        q = out["time_quantiles_s"][k]
        results.append(CandidateResult(
            strategy=strategy, runs=int(runs), position_p=tuple(float(x) for x in p),
            mean_position=float(hist @ pos / runs), expected_points=float(p @ _points(n_cars)),
            p_gain=float(hist[:max(0, current - 1)].sum() / runs),
            success_probability=float(hist[:max(0, target)].sum() / runs),
            race_time_quantiles_s={"p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])},
            p_retired=float(1.0 - out["finished"][k] / runs)))
    return results


def _run_candidates(base: PackedRace, idx: int, strategies: Sequence[Strategy], runs: int, seed: int,
                    backend: str, progress: Callable[[int, int], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Our car's positions and race times [candidate, run] on races ``0 .. runs - 1``."""
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ValueError(f"runs_per_candidate: {runs!r} is not an integer >= 1")
    width = max(1, max(len(s.stops) for s in strategies))
    base = base.with_strategy(idx, Strategy()).widened(width)
    n_cand, n_cars = len(strategies), len(base.drivers)
    if backend == "numba":
        from workbench.kernels.numba_race import run_candidates
    elif backend == "mojo":
        from workbench.kernels.mojo_backend import run_candidates  # raises MojoUnavailable, saying how to install
    elif backend == "numpy":
        from workbench.race.reference import run_candidates
    elif backend == "cuda":
        from workbench.kernels.select import cuda_kernels
        run_candidates = cuda_kernels().run_candidates  # raises CudaUnavailable, saying how to install
    else:
        raise ValueError(f"backend: {backend!r} is not one of numba, numpy, mojo, cuda")
    cand_lap, cand_comp, n_stops = _candidate_arrays(base, strategies, width)
    # One launch per chunk of candidates: parallel over every (candidate, race) pair.
    chunk = max(1, (4_000 if backend == "numpy" else 20_000) // runs)
    positions, times = np.zeros((n_cand, runs), dtype=np.int64), np.zeros((n_cand, runs))
    for k0 in range(0, n_cand, chunk):
        k1 = min(n_cand, k0 + chunk)
        rows = (k1 - k0) * runs
        pos, t, stops = (np.zeros((rows, n_cars), dtype=np.int64), np.zeros((rows, n_cars)),
                         np.zeros((rows, n_cars), dtype=np.int64))
        run_candidates(seed, runs, idx, cand_lap[k0:k1], cand_comp[k0:k1], n_stops[k0:k1], *base.kernel_args(),
                       pos, t, stops)
        positions[k0:k1] = pos[:, idx].reshape(k1 - k0, runs)
        times[k0:k1] = t[:, idx].reshape(k1 - k0, runs)
        if progress is not None:
            progress(k1, n_cand)
    return positions, times


def sweep(race: RaceDefinition, driver: str, state: RaceState | None = None,
          strategies: Sequence[Strategy] | None = None, runs_per_candidate: int = 200, seed: int = 0,
          events: Sequence[NeutralPhase] = (), backend: str = "numba", target_position: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Simulate every candidate for ``driver`` on common random numbers and rank them.

    Ranking: expected points (higher first), then mean finishing position, then
    median race time.

    Parameters
    ----------
    strategies : sequence of Strategy, optional
        The candidates; `candidates` with its defaults when omitted.
    runs_per_candidate : int
        Races per candidate (all candidates use races ``0 .. runs - 1`` of ``seed``).
    target_position : int, optional
        Success means finishing here or better; the current position by default.
    progress : callable, optional
        Called as ``progress(done, total)`` after each candidate.
    """
    state = state if state is not None else RaceState.grid(race)
    strategies = list(strategies) if strategies is not None else candidates(race, state, driver)
    current, target = positions_of(state, driver, target_position)
    results = evaluate(race, driver, state, strategies, runs_per_candidate, seed, events, backend, target_position,
                       progress)
    return SweepResult(driver, state.laps_completed, current, target, int(seed), rank(results))


def positions_of(state: RaceState, driver: str, target_position: int | None = None) -> tuple[int, int]:
    """Our current position in ``state`` and the target position (the current one by default)."""
    car = state.car(driver)
    order = sorted(state.cars, key=lambda c: (c.retired, c.gap_to_leader_s))
    current = car.position or 1 + [c.driver for c in order].index(driver)
    return current, current if target_position is None else int(target_position)


def rank(results: Sequence[CandidateResult]) -> tuple[CandidateResult, ...]:
    """Best first: expected points, then mean finishing position, then median race time."""
    return tuple(sorted(results, key=lambda c: (-c.expected_points, c.mean_position,
                                                np.nan_to_num(c.race_time_quantiles_s["p50"], nan=np.inf))))


def evaluate(race: RaceDefinition, driver: str, state: RaceState, strategies: Sequence[Strategy],
             runs_per_candidate: int, seed: int, events: Sequence[NeutralPhase] = (), backend: str = "numba",
             target_position: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> list[CandidateResult]:
    """Summaries of ``strategies`` (unranked, in order): the part of `sweep` that can be split up.

    Each candidate's summary depends only on (seed, candidate, runs), so any split of
    the candidates between calls, threads or machines gives the same summaries.
    """
    car = state.car(driver)
    strategies = list(strategies)
    if not strategies:
        raise ValueError(f"strategies: no legal candidate for {driver} from lap {state.laps_completed}")
    for i, strategy in enumerate(strategies):
        check_strategy(race, car, strategy, state.laps_completed, f"strategies[{i}]")
    base = pack(race, state, None, events)
    idx = base.drivers.index(driver)
    current, target = positions_of(state, driver, target_position)
    backend = check_backend(backend)
    if backend == "cuda":
        results = _evaluate_on_gpu(base, idx, strategies, runs_per_candidate, seed, current, target)
        if progress is not None:
            progress(len(strategies), len(strategies))
        return results
    positions, times = _run_candidates(base, idx, strategies, runs_per_candidate, seed, backend, progress)
    return [_summarise(s, positions[k], times[k], len(base.drivers), current, target)
            for k, s in enumerate(strategies)]


def decide(race: RaceDefinition, driver: str, state: RaceState | None = None, total_runs: int = 10_000,
           seed: int = 0, events: Sequence[NeutralPhase] = (), backend: str = "numba",
           progress: Callable[[int, int], None] | None = None, adaptive: bool = False, **grid) -> SweepResult:
    """Rank our default candidates from ``state`` using about ``total_runs`` races in all.

    The live decision: `candidates` (keyword arguments ``grid`` go to it), then
    `sweep` with ``ceil(total_runs / n_candidates)`` races per candidate. With
    ``adaptive=True`` the candidates are raced instead (`workbench.strategy.adaptive`):
    the same ranking shape from a fraction of the races.
    """
    state = state if state is not None else RaceState.grid(race)
    if isinstance(total_runs, bool) or not isinstance(total_runs, (int, np.integer)) or total_runs < 1:
        raise ValueError(f"total_runs: {total_runs!r} is not an integer >= 1")
    # -- adaptive candidate racing (owned by workbench/strategy/adaptive.py) --
    if adaptive:
        from workbench.strategy.adaptive import race_candidates
        return race_candidates(race, driver, state, total_runs, seed, events, backend, progress=progress,
                               **grid).result
    # --
    cands = candidates(race, state, driver, **grid)
    runs = max(1, -(-int(total_runs) // max(1, len(cands))))
    return sweep(race, driver, state, cands, runs, seed, events, backend, progress=progress)


def progress_bar(description: str, enabled: bool = True, unit: str = "candidate"
                 ) -> Callable[[int, int], None] | None:
    """A tqdm progress callback ``update(done, total)`` (notebook, or stderr in a terminal), or None.

    None when not ``enabled`` (the CLI passes ``sys.stderr.isatty()``) or without tqdm; used by
    `sweep`, `simulate`, `predict` and the leave-one-race-out backtest (``unit`` names what is counted).
    """
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm comes with panel; without it, no bar
        return None
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=description, unit=unit, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
    return update
