"""Benchmark set for adaptive racing: real race states, and the agreement with the full run.

A state is a catalogue race (``data/races/<name>.race.json``, fitted on the real race) at
the moment every car has completed lap K of the real race: the real lap table
(``../shared/data/real-races/<year>-<name>-race-laps.csv``, FastF1 columns) is fed
into a `RaceSession` up to lap K and read back with `RaceState.from_session`. For each
state the decision is taken for the cars running in chosen positions (a podium fight
and a points-edge fight by default).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

from workbench.race.definition import RaceDefinition, load_race_definition
from workbench.strategy.adaptive import RacingRule, race_candidates
from workbench.strategy.catalogue import list_races, resolve_race
from workbench.strategy.montecarlo import RaceState
from workbench.strategy.sweep import decide

__all__ = ["BenchState", "real_race_states", "agreement"]


@dataclasses.dataclass(frozen=True)
class BenchState:
    """One decision to take: ``driver`` in ``race`` from ``state`` (a real race after ``lap`` laps)."""

    name: str
    race: RaceDefinition
    state: RaceState
    driver: str

    @property
    def lap(self) -> int:
        return self.state.laps_completed


def _laps_csv(real_races_dir: Path, name: str) -> Path:
    """``bahrain-2024`` -> ``<dir>/2024-bahrain-race-laps.csv``."""
    track, _, year = name.rpartition("-")
    return real_races_dir / f"{year}-{track}-race-laps.csv"


def real_race_states(real_races_dir: str | Path, lap_fractions: Sequence[float] = (0.35, 0.6),
                     positions: Sequence[int] = (3, 8), names: Sequence[str] | None = None) -> list[BenchState]:
    """States of every catalogue race with a real lap table in ``real_races_dir``.

    Parameters
    ----------
    lap_fractions : sequence of float
        K = round(fraction x race laps) for each state.
    positions : sequence of int
        The decision is taken for the car in each of these positions at lap K.
    names : sequence of str, optional
        Catalogue names (all with a lap table when omitted).
    """
    from workbench.hub.session import RaceSession
    from workbench.telemetry.laptable import read_fastf1_laps

    folder = Path(real_races_dir)
    if not folder.is_dir():
        raise ValueError(f"real_races_dir: {str(folder)!r} is not a folder")
    for f in lap_fractions:
        if not 0 < f < 1:
            raise ValueError(f"lap_fractions: {f!r} is not in (0, 1)")
    chosen = list(names) if names is not None else [n for n in list_races() if _laps_csv(folder, n).is_file()]
    out: list[BenchState] = []
    for name in chosen:
        race = load_race_definition(resolve_race(name))
        records = read_fastf1_laps(_laps_csv(folder, name))
        for fraction in lap_fractions:
            k = max(1, round(fraction * race.track.laps))
            session = RaceSession(race.cars[0].driver, race)
            for record in records:
                if record.lap_number <= k and record.driver in race.drivers:
                    session.ingest(record, "replay")
            session.flush()
            state = RaceState.from_session(session)
            running = sorted((c for c in state.cars if not c.retired and c.position),
                             key=lambda c: c.position)
            for p in positions:
                if p <= len(running):
                    out.append(BenchState(f"{name} lap {state.laps_completed} P{p}", race, state,
                                          running[p - 1].driver))
    return out


def agreement(states: Sequence[BenchState], total_runs: int = 10_000, seed: int = 0, backend: str = "numba",
              rule: RacingRule | None = None, reference_seed: int | None = None) -> dict:
    """How often the adaptive top-1 equals the full run's (`decide`) top-1, and at what share of the races.

    With ``reference_seed`` the full run is also repeated with that seed: its agreement with
    itself is the ceiling set by the full run's own noise (near-ties can flip either way).
    """
    rows = []
    for s in states:
        t0 = time.perf_counter()
        full = decide(s.race, s.driver, s.state, total_runs=total_runs, seed=seed, backend=backend)
        t1 = time.perf_counter()
        ad = race_candidates(s.race, s.driver, s.state, total_runs=total_runs, seed=seed, backend=backend, rule=rule)
        t2 = time.perf_counter()
        row = {"state": s.name, "driver": s.driver, "candidates": len(full.ranked),
               "full_top": full.best.strategy.label, "adaptive_top": ad.result.best.strategy.label,
               "agree": ad.result.best.strategy == full.best.strategy,
               "full_races": ad.full_races, "adaptive_races": ad.races_used, "stop_reason": ad.stop_reason,
               "points_gap": full.best.expected_points - next(c.expected_points for c in full.ranked
                                                               if c.strategy == ad.result.best.strategy),
               "full_ms": 1000 * (t1 - t0), "adaptive_ms": 1000 * (t2 - t1)}
        if reference_seed is not None:
            again = decide(s.race, s.driver, s.state, total_runs=total_runs, seed=reference_seed, backend=backend)
            row["full_self_agree"] = again.best.strategy == full.best.strategy
        rows.append(row)
    n = len(rows)
    summary = {"states": n, "agreement": sum(r["agree"] for r in rows) / n,
               "races_fraction": sum(r["adaptive_races"] for r in rows) / sum(r["full_races"] for r in rows),
               "settled": sum(r["stop_reason"] in ("settled", "single candidate") for r in rows) / n,
               "mean_points_gap": sum(r["points_gap"] for r in rows) / n, "rows": rows}
    if reference_seed is not None:
        summary["full_self_agreement"] = sum(r["full_self_agree"] for r in rows) / n
    return summary
