"""HPCOrchestrator: decides when to rerun the strategy sweep and where, and publishes the results.

*When*: on hub events — an SC or VSC deployed, a rival pitting, and every lap our
car completes (reason ``pit_window`` once our planned stop is within
``pit_window_laps``, otherwise ``lap``).

*Where*: a local worker thread (the numba kernel releases the GIL, so the event
loop keeps running), or a Dask distributed cluster when ``dask_scheduler`` (or a
``client``) is given; there the candidates are split into chunks evaluated on the
workers. Every candidate's numbers depend only on (seed, candidate, runs), so the
same seed gives the same ranking locally and on any cluster.

*Staleness*: each request gets a generation number (`LatestOnlyWorker`). A newer race state replaces a
request still waiting, and a running one stops at its next chunk boundary (Dask
futures are cancelled); only the newest result is published.

Results are published on the hub, ``session.publish("strategy_results", ...)`` from the worker thread
(served at ``/api/v1/strategy-results``), and to an optional ``on_result`` callback, as a JSON-ready dict.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from workbench.race.definition import RaceDefinition
from workbench.strategy.latest_worker import LatestOnlyWorker, Superseded
from workbench.strategy.montecarlo import NeutralPhase, RaceState, planned_strategy
from workbench.strategy.sweep import SweepResult, candidates, evaluate, positions_of, rank

__all__ = ["HPCOrchestrator", "StrategyRequest", "TRIGGERS", "FINALISTS", "STAGE_ETA", "stage_plan"]

log = logging.getLogger("racetwin.orchestrator")

TRIGGERS = ("sc", "vsc", "rival_pit", "pit_window", "lap", "manual")
FINALISTS = 8  # candidates that reach the last stage of a decision
STAGE_ETA = 4  # each screening stage keeps 1/STAGE_ETA of its candidates, with STAGE_ETA times the races


@dataclasses.dataclass(frozen=True)
class StrategyRequest:
    """One decision to compute: the race state snapshot and why."""

    generation: int
    reason: str
    state: RaceState
    session_time_s: float = 0.0


def stage_plan(n_candidates: int, total_runs: int, finalists: int | None = None,
               eta: int | None = None) -> list[tuple[int, int]]:
    """Successive halving: ``[(kept after the stage, races per candidate in it), ...]`` for ``n_candidates``.

    Each stage keeps the best ``1/eta`` (never fewer than ``finalists``) and gives the survivors ``eta``
    times as many races; the last stage (the finalists) gets half of ``total_runs``, the screening stages
    share the other half equally (rounded up: a decision never runs fewer than ``total_runs`` races). With
    few candidates it is one stage of ``total_runs / n`` races each.
    Races are always ``0 .. runs - 1`` of the seed, so a later stage re-runs the earlier ones' races
    (common random numbers across stages) and every number depends only on (seed, candidate, runs).
    """
    finalists = FINALISTS if finalists is None else finalists
    eta = STAGE_ETA if eta is None else eta
    if n_candidates < 1:
        raise ValueError(f"n_candidates: {n_candidates} is not an integer >= 1")
    if n_candidates <= finalists:
        return [(n_candidates, max(1, -(-total_runs // n_candidates)))]
    sizes = [n_candidates]
    while sizes[-1] > finalists:
        nxt = -(-sizes[-1] // eta)
        sizes.append(nxt if nxt >= 2 * finalists else finalists)  # no stage that drops only a few
    screening = sizes[:-1]
    per_stage = total_runs / 2 / len(screening)
    plan = [(sizes[i + 1], max(1, math.ceil(per_stage / n))) for i, n in enumerate(screening)]
    plan.append((sizes[-1], max(plan[-1][1], -(-total_runs // 2 // sizes[-1]))))
    return plan


def _evaluate_chunk(race, driver, state, strategies, runs, seed, events, backend):
    """Run on a Dask worker: summaries of a chunk of candidates."""
    return evaluate(race, driver, state, strategies, runs, seed, events, backend)


class HPCOrchestrator:
    """Schedules strategy sweeps from live race states, locally or on a Dask cluster.

    Parameters
    ----------
    race : RaceDefinition
    driver : str
        Our car.
    total_runs : int
        Races per decision, shared between the candidates.
    seed : int
        Seed of every decision (common random numbers between candidates).
    backend : {"numba", "numpy", "mojo", "cuda", "auto"}
        Kernel of the decisions; ``"mojo"`` and ``"cuda"`` need the optional extras ``race-twin-edge[mojo]`` /
        ``[gpu]``; ``"auto"`` is `workbench.kernels.select.resolve_backend` (``racetwin serve`` passes its result).
    dask_scheduler : str, optional
        ``tcp://host:port`` of a Dask scheduler; work goes there instead of a local thread.
    client : distributed.Client, optional
        An existing Dask client (takes precedence over ``dask_scheduler``).
    pit_window_laps : int
        Our pit window is open this many laps before the planned stop.
    chunks : int
        Candidate chunks per decision on Dask (and cancellation points locally).
    on_result : callable, optional
        Called with each published result dict (from the worker thread).
    """

    def __init__(self, race: RaceDefinition, driver: str, *, total_runs: int = 10_000, seed: int = 0,
                 backend: str = "numba", dask_scheduler: str | None = None, client=None, pit_window_laps: int = 3,
                 chunks: int = 8, events: Sequence[NeutralPhase] = (),
                 on_result: Callable[[dict], None] | None = None, candidate_grid: dict | None = None):
        race.car(driver)  # raises naming an unknown driver
        if total_runs < 1:
            raise ValueError(f"total_runs: {total_runs} is not an integer >= 1")
        if chunks < 1:
            raise ValueError(f"chunks: {chunks} is not an integer >= 1")
        self.race, self.driver, self.total_runs, self.seed = race, driver, int(total_runs), int(seed)
        self.backend, self.pit_window_laps, self.chunks = backend, pit_window_laps, chunks
        self.events, self.on_result = tuple(events), on_result
        self.candidate_grid = dict(candidate_grid or {})
        self._own_client = False
        if client is None and dask_scheduler:
            from distributed import Client
            client = Client(dask_scheduler, timeout=10)
            self._own_client = True
        self.client = client
        self.where = "dask" if client is not None else "local"
        self.session = None
        self.latest: dict | None = None
        self.stages: list[dict[str, int]] = []  # the last decision's stages (candidates, races each, kept)
        self._unsubscribe: Callable[[], None] | None = None
        self._worker = LatestOnlyWorker(self._run, "racetwin-strategy", superseded_key="cancelled")
        self.counts = self._worker.counts  # requested, completed, cancelled (superseded), failed

    # -- when -------------------------------------------------------------------
    def attach(self, session) -> None:
        """Subscribe to a `RaceSession`: its events trigger runs; results are published on it
        (``session.publish("strategy_results", ...)``, read back as ``session.strategy_results``)."""
        self.session = session
        self._unsubscribe = session.subscribe(self.on_event)

    def trigger_for(self, event, session) -> str | None:
        """Why ``event`` should start a decision (a `TRIGGERS` name), or None."""
        env = session.environment
        if env.finished or (env.total_laps is not None and session.field_twin.leader_lap >= env.total_laps - 1):
            return None
        if event.kind == "sc_deployed":
            return "sc"
        if event.kind == "vsc_deployed":
            return "vsc"
        if event.kind == "pit_in" and event.driver not in (None, self.driver):
            return "rival_pit"
        if event.kind == "lap_completed" and event.driver == self.driver:
            twin = session.car_twin
            if twin.retired:
                return None
            state = RaceState.from_session(session)
            plan = planned_strategy(self.race, state.car(self.driver), state.laps_completed)
            if plan.stops and plan.stops[0].lap - state.laps_completed <= self.pit_window_laps:
                return "pit_window"
            return "lap"
        return None

    def on_event(self, event) -> None:
        """Hub callback: snapshot the state and submit when the event is a trigger."""
        reason = self.trigger_for(event, self.session)
        if reason is not None:
            self.submit(RaceState.from_session(self.session), reason, event.session_time_s)

    def submit(self, state: RaceState, reason: str = "manual", session_time_s: float = 0.0) -> int:
        """Queue a decision for ``state``; a newer submit makes this one stale. Returns its generation."""
        if reason not in TRIGGERS:
            raise ValueError(f"reason: {reason!r} is not one of {', '.join(TRIGGERS)}")
        request = self._worker.submit(lambda generation: StrategyRequest(generation, reason, state, session_time_s))
        return request.generation

    # -- where ------------------------------------------------------------------
    @property
    def last_error(self) -> str | None:
        """The last failed decision's error (``Type: message``), or None."""
        return self._worker.last_error

    def _run(self, request: StrategyRequest) -> None:
        self._publish(request, self.compute(request))

    def _check(self, generation: int) -> None:
        if self._worker.is_stale(generation):
            raise Superseded()

    def compute(self, request: StrategyRequest) -> SweepResult:
        """Rank our candidates for ``request.state`` (here or on Dask); raises `Superseded` when a newer one came.

        Successive halving on common random numbers (`stage_plan`): every candidate is screened on a few
        races, the best quarter goes on with four times as many, and the last `FINALISTS` share half of
        ``total_runs``. The ranking lists the finalists first (each with its final race count), then the
        candidates dropped at each earlier stage, best first; ``self.stages`` says how many ran how far.
        """
        state = request.state
        cands = candidates(self.race, state, self.driver, **self.candidate_grid)
        plan = stage_plan(len(cands), self.total_runs)
        alive, dropped, stages = list(cands), [], []
        for keep, runs in plan:
            ranked = rank(self._evaluate(request, alive, runs))
            stages.append({"candidates": len(alive), "runs_per_candidate": runs, "kept": min(keep, len(ranked))})
            dropped = list(ranked[keep:]) + dropped
            alive = [c.strategy for c in ranked[:keep]]
        self.stages = stages
        current, target = positions_of(state, self.driver)
        return SweepResult(self.driver, state.laps_completed, current, target, self.seed,
                           tuple(ranked[:len(alive)]) + tuple(dropped))

    def _evaluate(self, request: StrategyRequest, cands: list, runs: int) -> list:
        """Summaries of ``cands`` on races ``0 .. runs - 1`` (here in chunks, or on Dask)."""
        state = request.state
        size = max(1, -(-len(cands) // self.chunks))
        parts = [cands[i:i + size] for i in range(0, len(cands), size)]
        if self.client is None:
            results = []
            for part in parts:
                self._check(request.generation)
                results += evaluate(self.race, self.driver, state, part, runs, self.seed, self.events, self.backend)
        else:
            from distributed import wait
            futures = [self.client.submit(_evaluate_chunk, self.race, self.driver, state, part, runs, self.seed,
                                          self.events, self.backend, pure=False) for part in parts]
            try:
                while wait(futures, timeout=0.05, return_when="ALL_COMPLETED").not_done:
                    self._check(request.generation)
            except Superseded:
                self.client.cancel(futures)
                raise
            except TimeoutError:
                pass
            results = [r for chunk in self.client.gather(futures) for r in chunk]
        self._check(request.generation)
        return results

    # -- results ----------------------------------------------------------------
    def _publish(self, request: StrategyRequest, result: SweepResult, top: int = 10) -> None:
        payload = {
            "generation": request.generation, "reason": request.reason, "driver": self.driver,
            "lap": request.state.laps_completed, "session_time_s": request.session_time_s,
            "track_status": request.state.track_status.value, "where": self.where, "backend": self.backend,
            "seed": self.seed, "races": sum(st["candidates"] * st["runs_per_candidate"] for st in self.stages),
            "candidates": len(result.ranked), "stages": list(self.stages),
            "published_wall_s": time.time(),
            "best": result.best.to_json(), "ranked": [c.to_json() for c in result.ranked[:top]],
            "seed_rows": result.seed_rows()[:top], "current_position": result.current_position,
        }
        self.latest = payload
        if self.session is not None:
            self.session.publish("strategy_results", payload)  # thread-safe: the hub hands it to its subscribers
        if self.on_result is not None:
            self.on_result(payload)

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        return self._worker.wait_idle(timeout_s)

    def status(self) -> dict[str, Any]:
        return {"where": self.where, "backend": self.backend, "total_runs": self.total_runs, **self.counts,
                "busy": self._worker.busy, "last_error": self.last_error}

    def close(self) -> None:
        """Stop the worker (a running decision is dropped) and unsubscribe."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._worker.close()
        if self._own_client:
            self.client.close()
