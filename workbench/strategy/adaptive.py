"""Adaptive candidate racing: the live decision at a fraction of the full run's races.

`decide` gives every candidate the same ``ceil(total_runs / n)`` races. `race_candidates`
races them instead, in rounds on common random numbers, through the same
``run_candidates`` kernel entry point of every backend (numba, numpy reference, Mojo):

1. **Round 0**: every candidate runs races ``0 .. first_runs - 1`` of ``seed`` (the same
   first races as the full run). Round ``r >= 1`` runs as many new races as the survivors
   already have (the per-candidate count doubles), keyed by a seed derived from
   ``(seed, r)``; every survivor of a round meets the same races, so all comparisons are
   paired.
2. **Score per race**: our car's points (`POINTS`) in that race; when no survivor has
   scored in any race yet, minus our finishing position instead (the full ranking's
   tie-break, expected points then mean position).
3. **Paired test** (from ``min_test_runs`` races on): the leader L has the best mean score.
   For every other survivor k, with ``d = score_L - score_k`` over their shared races,
   mean ``m``, standard error ``se`` and ``z`` the normal quantile at
   ``1 - (1 - confidence) / (comparisons in the round x max_rounds)`` (Bonferroni over
   the candidates and the rounds):
   k is **clearly worse** when ``m - z se > 0`` (dropped), **equivalent** when
   ``m + z se < indifference`` (``indifference_points`` in points, or
   ``indifference_positions`` in positions).
4. **Stop** when every other survivor is clearly worse or equivalent: the top
   recommendation is *settled* (at the stated confidence, no remaining candidate beats
   it by more than the indifference margin). Otherwise **successive halving**: keep the
   best ``ceil(n / eta)`` survivors by mean score (never fewer than 2) and run the next
   round. Also stop when the race budget (``budget_fraction`` of ``total_runs``, 15 %;
   never less than round 0 nor more than the full run) or ``max_rounds`` is spent.

Candidates dropped by halving are not covered by the confidence statement (that is the
price of the speed); how often the adaptive top-1 equals the full run's is measured on
real race states (`workbench.bench.adaptive_states`, docs/montecarlo.md).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

from workbench import rng
from workbench.race.definition import RaceDefinition
from workbench.strategy.montecarlo import NeutralPhase, RaceState, Strategy, pack
from workbench.strategy.sweep import (
    POINTS,
    CandidateResult,
    SweepResult,
    _run_candidates,
    candidates,
    positions_of,
    rank,
)

__all__ = ["RacingRule", "AdaptiveDecision", "race_candidates", "round_seed"]

_ROUND_PURPOSE = 1_000  # key purpose of the round seeds (apart from every kernel purpose)
# Numba rounds of at most this many races run on one thread: a parallel launch costs ~7 ms
# fixed on the 2-core development machine (run_races of 1 race: 7.2 ms on 2 threads, 0.04 ms on
# one), more than ~400 races' difference. Races are pure functions of their keys: same results.
SERIAL_ROWS = 384


@dataclasses.dataclass(frozen=True)
class RacingRule:
    """The racing schedule, test and stopping rule (see the module notes)."""

    confidence: float = 0.95
    indifference_points: float = 0.5
    indifference_positions: float = 0.1
    first_runs: int = 4
    min_test_runs: int = 8
    eta: int = 8
    max_rounds: int = 10
    budget_fraction: float = 0.15

    def __post_init__(self) -> None:
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"confidence: {self.confidence!r} is not in [0.5, 1)")
        if not 0 < self.budget_fraction <= 1:
            raise ValueError(f"budget_fraction: {self.budget_fraction!r} is not in (0, 1]")
        for name in ("indifference_points", "indifference_positions"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: {getattr(self, name)!r} is below minimum 0")
        for name, low in (("first_runs", 1), ("min_test_runs", 2), ("eta", 2), ("max_rounds", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name}: {value!r} is not an integer >= {low}")


@dataclasses.dataclass(frozen=True)
class AdaptiveDecision:
    """A raced decision: the ranking plus what it cost and why it stopped.

    ``result.ranked`` holds the survivors first (ranked as `rank` does, on their shared
    races), then the dropped candidates, latest round first; each candidate's ``runs``
    says how many races it got.
    """

    result: SweepResult
    races_used: int
    full_races: int  # what `decide` spends on the same candidates and total_runs
    rounds: int
    stop_reason: str  # settled | single candidate | budget | max_rounds
    survivors: int
    rule: RacingRule

    @property
    def settled(self) -> bool:
        return self.stop_reason in ("settled", "single candidate")

    @property
    def races_fraction(self) -> float:
        return self.races_used / self.full_races

    def to_json(self) -> dict:
        return {**self.result.to_json(), "adaptive": {
            "races_used": self.races_used, "full_races": self.full_races, "races_fraction": self.races_fraction,
            "rounds": self.rounds, "stop_reason": self.stop_reason, "survivors": self.survivors,
            "rule": dataclasses.asdict(self.rule)}}


def round_seed(seed: int, round_index: int) -> int:
    """Seed of round ``round_index``: ``seed`` itself for round 0, else a hash of (seed, round)."""
    if round_index == 0:
        return int(seed)
    return int(rng.key_hash(seed, round_index, 0, 0, _ROUND_PURPOSE)) >> 1


def _check_total(total_runs) -> int:
    if isinstance(total_runs, bool) or not isinstance(total_runs, (int, np.integer)) or total_runs < 1:
        raise ValueError(f"total_runs: {total_runs!r} is not an integer >= 1")
    return int(total_runs)


def _paired(lead: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of ``lead - other`` (paired over the same races)."""
    d = lead - other
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


def _summaries(strategies: Sequence[Strategy], positions: np.ndarray, times: np.ndarray, n_cars: int,
               current: int, target: int) -> list[CandidateResult]:
    """`_summarise` of candidates with the same races ([candidate, race] arrays), vectorised over candidates."""
    k, runs = positions.shape
    p = np.zeros((k, n_cars))
    np.add.at(p, (np.repeat(np.arange(k), runs), positions.ravel() - 1), 1.0)
    p /= runs
    points = np.array(POINTS + (0,) * max(0, n_cars - len(POINTS)), dtype=float)[:n_cars]
    finished = ~np.isnan(times)
    n_fin = finished.sum(axis=1)
    ordered = np.sort(times, axis=1)  # NaN (retired) last
    q = np.full((k, 3), np.nan)
    ok = n_fin > 0
    rows = np.arange(k)[ok]
    for j, level in enumerate((0.1, 0.5, 0.9)):  # numpy's default ("linear") quantile, row by row at once
        at = level * (n_fin[ok] - 1)
        lo = np.floor(at).astype(np.int64)
        hi = np.minimum(lo + 1, n_fin[ok] - 1)
        a, b = ordered[rows, lo], ordered[rows, hi]
        q[ok, j] = a + (b - a) * (at - lo)
    mean_pos, exp_pts = positions.mean(axis=1), p @ points
    gain, success = (positions < current).mean(axis=1), (positions <= target).mean(axis=1)
    retired = 1.0 - n_fin / runs
    return [CandidateResult(
        strategy=s, runs=runs, position_p=tuple(float(x) for x in p[i]), mean_position=float(mean_pos[i]),
        expected_points=float(exp_pts[i]), p_gain=float(gain[i]), success_probability=float(success[i]),
        race_time_quantiles_s={"p10": float(q[i, 0]), "p50": float(q[i, 1]), "p90": float(q[i, 2])},
        p_retired=float(retired[i])) for i, s in enumerate(strategies)]


def _launch(base, idx: int, strategies: list[Strategy], runs: int, seed: int,
            backend: str) -> tuple[np.ndarray, np.ndarray]:
    """`_run_candidates`, on one numba thread for a small round (see `SERIAL_ROWS`)."""
    if backend != "numba" or len(strategies) * runs > SERIAL_ROWS:
        return _run_candidates(base, idx, strategies, runs, seed, backend, None)
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(1)  # thread-local: other threads' kernels keep their count
    try:
        return _run_candidates(base, idx, strategies, runs, seed, backend, None)
    finally:
        numba.set_num_threads(before)


def race_candidates(race: RaceDefinition, driver: str, state: RaceState | None = None, total_runs: int = 10_000,
                    seed: int = 0, events: Sequence[NeutralPhase] = (), backend: str = "numba",
                    rule: RacingRule | None = None, strategies: Sequence[Strategy] | None = None,
                    progress: Callable[[int, int], None] | None = None, **grid) -> AdaptiveDecision:
    """Rank ``driver``'s candidates from ``state`` by racing them (see the module notes).

    Parameters
    ----------
    total_runs : int
        As `decide`'s; racing spends at most ``rule.budget_fraction`` of it (at least round 0).
    rule : RacingRule, optional
        Schedule, confidence and indifference margins (defaults as documented).
    strategies : sequence of Strategy, optional
        The candidates; `candidates` (with keyword arguments ``grid``) when omitted.
    progress : callable, optional
        Called as ``progress(decided, n_candidates)`` after each round.
    """
    rule = rule if rule is not None else RacingRule()
    total = _check_total(total_runs)
    state = state if state is not None else RaceState.grid(race)
    cands = list(strategies) if strategies is not None else candidates(race, state, driver, **grid)
    if not cands:
        raise ValueError(f"strategies: no legal candidate for {driver} from lap {state.laps_completed}")
    n = len(cands)
    base = pack(race, state, None, events)
    idx = base.drivers.index(driver)
    n_cars = len(base.drivers)
    current, target = positions_of(state, driver, target_position=None)
    points = np.array(POINTS + (0,) * max(0, n_cars - len(POINTS)), dtype=float)[:n_cars]
    full_races = max(1, -(-total // n)) * n
    budget = min(full_races, max(n * rule.first_runs, math.ceil(total * rule.budget_fraction)))

    pos: list[list[np.ndarray]] = [[] for _ in range(n)]
    times: list[list[np.ndarray]] = [[] for _ in range(n)]
    alive = list(range(n))
    dropped_in: dict[int, int] = {}
    used, have, rounds, reason = 0, 0, 0, "max_rounds"
    alpha = 1.0 - rule.confidence
    while rounds < rule.max_rounds:
        new = (rule.first_runs if n > 1 else budget) if rounds == 0 else have
        new = min(new, (budget - used) // len(alive))
        if new < 1:
            reason = "budget"
            break
        p, t = _launch(base, idx, [cands[k] for k in alive], new, round_seed(seed, rounds), backend)
        for row, k in enumerate(alive):
            pos[k].append(p[row])
            times[k].append(t[row])
        used, have, rounds = used + new * len(alive), have + new, rounds + 1
        if len(alive) == 1:
            reason = "single candidate"
            break
        shared = np.stack([np.concatenate(pos[k]) for k in alive])  # [survivor, race]: the same races
        scored = bool(points[shared - 1].any())
        score = points[shared - 1] if scored else -shared.astype(float)
        margin = rule.indifference_points if scored else rule.indifference_positions
        mean = score.mean(axis=1)
        order = sorted(range(len(alive)), key=lambda i: (-mean[i], shared[i].mean(), i))
        lead = order[0]
        worse, undecided = set(), []
        if have >= rule.min_test_runs:
            z = NormalDist().inv_cdf(1.0 - alpha / ((len(alive) - 1) * rule.max_rounds))
            for i in order[1:]:
                m, se = _paired(score[lead], score[i])
                if m - z * se > 0:
                    worse.add(i)
                elif not m + z * se < margin:
                    undecided.append(i)
        else:
            undecided = order[1:]
        if not undecided:
            for i in worse:
                dropped_in[alive[i]] = rounds
            alive = [alive[i] for i in order if i not in worse]
            reason = "settled"
            break
        keep = [i for i in order if i not in worse][:max(2, math.ceil(len(alive) / rule.eta))]
        for i in order:
            if i not in keep:
                dropped_in[alive[i]] = rounds
        alive = [alive[i] for i in keep]
        if progress is not None:
            progress(n - len(alive), n)
    if progress is not None:
        progress(n, n)

    groups = [alive] + [[k for k, r in dropped_in.items() if r == rr] for rr in sorted(set(dropped_in.values()),
                                                                                     reverse=True)]
    ranked: list[CandidateResult] = []
    for group in groups:
        ranked += rank(_summaries([cands[k] for k in group], np.stack([np.concatenate(pos[k]) for k in group]),
                                  np.stack([np.concatenate(times[k]) for k in group]), n_cars, current, target))
    result = SweepResult(driver, state.laps_completed, current, target, int(seed), tuple(ranked))
    return AdaptiveDecision(result, used, full_races, rounds, reason, len(alive), rule)
