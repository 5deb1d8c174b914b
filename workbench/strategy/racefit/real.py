"""Simulated vs real: a fitted race re-run with its real strategies and real events, scored against reality.

From a race's lap table (FastF1 ``Laps`` columns) and its facts in the CC0 history tables
(`workbench.strategy.racefit.history.RaceFacts`):

- `real_strategies`: every car's real stints (compound, laps, age of a used set), as fitted
  into the race definition's ``cars[].strategy`` by `fit_race`, followed exactly; a car whose
  stints break the two-dry-compound rule (a retirement before its stop) follows its plan;
- `real_events`: each lap's majority ``TrackStatus`` forced (SC, VSC; a red-flag lap is forced
  as SC, the nearest the model has), every other lap forced green;
- `real_retirements`: a car that did not finish retires at the end of its last timed lap;
- `real_facts`: the race's facts from the history tables, or, for a race they have no results
  for (a season after them), from its own lap table (`facts_from_laps`), said in a note;
- `score_real_race`: one deterministic race and a Monte Carlo of them with those strategies and
  events, scored against the real classification (Ergast ``positionOrder`` of every car with
  laps): Spearman rho of the finishing order, and the real winner's simulated race time against
  the real one (none for a red-flag race: its real time includes the suspension).

`write_real_files` writes the same strategies and events as ``racetwin simulate --strategies``
and ``--events`` files (``racetwin fit LAPS.csv --real-out DIR``); ``racetwin fit LAPS.csv
--score`` prints `format_scores` of `score_real_race` (docs/montecarlo.md, "Simulated vs real").

When the race definition was fitted on the same lap table (as ``racetwin fit`` and the
catalogue do) the score is **in-sample**: how well the race model reproduces a race it has
seen, not a forecast.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from workbench.race.definition import RaceDefinition
from workbench.race.model import Event, NeutralPhase, Retirement, Strategy, apply_stints
from workbench.strategy.montecarlo import simulate
from workbench.strategy.predict import actual_classification
from workbench.strategy.racefit.history import HistoryTables, RaceFacts
from workbench.strategy.racefit.lapmodel import status_kind
from workbench.telemetry.records import TrackStatus
from workbench.telemetry.schema import TelemetryValidationError

__all__ = ["RealStrategies", "RealRace", "SimVsReal", "real_events", "real_retirements", "real_strategies",
           "real_race", "strategies_json", "write_real_files", "spearman", "has_red_flag", "score_real_race",
           "format_scores", "real_name_from_path"]

_LAPS_FILE = re.compile(r"^(?P<year>\d{4})-(?P<slug>[^\W\d_][\w-]*?)-race-laps\.csv$")


def real_name_from_path(path: str | Path) -> str:
    """A short race name from a lap table's file name: ``2024-bahrain-race-laps.csv`` -> ``bahrain-2024``.

    The catalogue's naming (``data/races/bahrain-2024.race.json``); any other file name gives
    its stem without a trailing ``-laps`` (``mine-laps.csv`` -> ``mine``).
    """
    name = Path(path).name
    m = _LAPS_FILE.match(name)
    if m:
        return f"{m['slug']}-{m['year']}"
    stem = Path(name).stem
    return stem.removesuffix("-laps") or stem


def _lap_kinds(laps: pd.DataFrame) -> pd.Series:
    if "TrackStatus" not in laps.columns:
        raise ValueError("laps: column 'TrackStatus' is missing: the real events (each lap's SC, VSC or red flag) "
                         "are read from it (FastF1's TrackStatus digits)")
    return laps.TrackStatus.map(status_kind)


def has_red_flag(laps: pd.DataFrame) -> bool:
    """Whether any lap of the table ran under a red flag (``TrackStatus`` holds a 5)."""
    return bool((_lap_kinds(laps) == "RED").any())


def real_events(laps: pd.DataFrame, n_laps: int) -> list[NeutralPhase]:
    """Each lap's majority track status as forced phases, every other lap forced green.

    Parameters
    ----------
    laps : DataFrame
        The race's lap table (``LapNumber``, ``TrackStatus``).
    n_laps : int
        Race distance: laps ``1..n_laps`` are covered, those without a row are green.

    Returns
    -------
    list of NeutralPhase
        Consecutive laps of one kind merged into one phase; a red-flag lap is forced as SC.

    Raises
    ------
    ValueError
        When the table has no ``TrackStatus`` column.
    """
    kinds = laps.assign(Kind=_lap_kinds(laps)).groupby("LapNumber").Kind.agg(
        lambda k: k.value_counts().index[0])
    out: list[NeutralPhase] = []
    for lap in range(1, n_laps + 1):
        kind = kinds.get(lap, "GREEN")
        status = TrackStatus("SC" if kind == "RED" else kind)
        if out and out[-1].kind == status and out[-1].last_lap == lap - 1:
            out[-1] = NeutralPhase(status, out[-1].first_lap, lap)
        else:
            out.append(NeutralPhase(status, lap, lap))
    return out


def real_retirements(laps: pd.DataFrame, facts: RaceFacts) -> list[Retirement]:
    """A car that did not finish (history: not "Finished" nor "+N Laps") stops at the end of its last timed lap.

    Parameters
    ----------
    laps : DataFrame
        The race's lap table (``Driver``, ``LapNumber``, ``LapTime``).
    facts : RaceFacts
        The race's classification in the history tables; a driver it does not list finished.

    Returns
    -------
    list of Retirement
        One per retired driver with lap rows, at lap 1 at the earliest.
    """
    out = []
    for driver, grp in laps.groupby("Driver"):
        if facts.finished.get(driver, True):
            continue
        timed = grp[grp.LapTime.notna()].LapNumber
        out.append(Retirement(str(driver), int(max(1, timed.max() if len(timed) else 1))))
    return out


def facts_from_laps(laps: pd.DataFrame, name: str, date: str = "", circuit_id: int | None = None,
                    circuit_name: str = "") -> RaceFacts:
    """The classification a whole race's lap table shows, for a race the history tables have no results for.

    Parameters
    ----------
    laps : DataFrame
        The whole race's lap table (FastF1 ``Laps`` columns).
    name, date, circuit_id, circuit_name : str, int
        The race (`HistoryTables.later_race` knows its circuit; None for a new event).

    Returns
    -------
    RaceFacts
        ``classified`` and ``finished`` by `workbench.strategy.predict.actual_classification`
        (finishers by laps completed then last-lap ``Position``, lapped cars finish; retired cars
        after them): the order on the road, with no post-race penalty. ``winner_time_s`` is the
        sum of the winner's lap times when every lap has one, else None. A lap table has no grid
        and no car numbers: ``grid`` and ``number`` are empty, ``race_id`` is 0 and ``circuit_id`` -1 when
        the circuit is not known.
    """
    actual = actual_classification(laps)
    winner = actual["order"][0]
    n = int(pd.to_numeric(laps.LapNumber).max())
    mine = pd.to_numeric(laps[laps.Driver == winner].LapTime, errors="coerce")
    timed = len(mine) == n and bool(mine.notna().all())
    return RaceFacts(race_id=0, name=name, date=date, circuit_id=circuit_id if circuit_id is not None else -1,
                     circuit_name=circuit_name, grid={}, number={}, classified=dict(actual["position"]),
                     finished={d: d not in actual["retired"] for d in actual["position"]},
                     winner_time_s=float(mine.sum()) if timed else None, laps=n)


def real_facts(history: HistoryTables, event: str, laps: pd.DataFrame) -> tuple[RaceFacts, str | None]:
    """The race's facts for scoring it: from the history tables, else from its own lap table.

    Returns the facts and, when they came from the lap table (a race the tables have no results
    for, `HistoryTables.later_race`), a note saying so; a name the tables do not know raises
    their ``ValueError`` (a typo is not taken for a new race).
    """
    later = history.later_race(event)
    if later is None:
        return history.facts(event), None
    facts = facts_from_laps(laps, later.name, later.date, later.circuit_id, later.circuit_name)
    return facts, (f"the history tables have no results for {later.name!r}: the real classification is the lap "
                   "table's (finishers by laps completed and last-lap Position, then the retired cars; no "
                   "post-race penalty applied), the winner's time the sum of his lap times"
                   + ("" if facts.winner_time_s is not None else " (not every lap timed: none)"))


class RealStrategies(NamedTuple):
    """`real_strategies`' result: unpacks as ``race, strategies, skipped``."""

    race: RaceDefinition  # the race with every followed car's stints as its plan and grid state
    strategies: dict[str, Strategy]  # driver -> the exact strategy of its real stints
    skipped: list[str]  # drivers left on their plan (their stints break the two-dry-compound rule)


def _stints(car) -> list[dict]:
    return [{"compound": s.compound.value, "laps": s.laps}
            | ({"tyre_age_laps": s.tyre_age_laps} if s.tyre_age_laps else {}) for s in car.strategy]


def real_strategies(race: RaceDefinition) -> RealStrategies:
    """Every car's stints of a fitted race (its real ones) as exact strategies.

    `fit_race` writes each car's real stints (compound, laps, age of a used set) as its
    ``strategy``; this makes each of them an exact strategy (`workbench.race.model.apply_stints`).
    The race is wet when any car has an INTERMEDIATE or WET stint (one compound is then legal).
    A car whose stints break the two-dry-compound rule (a retirement before its stop) is left on
    its plan and listed in ``skipped``.
    """
    wet = any(not s.compound.is_dry for c in race.cars for s in c.strategy)
    strategies: dict[str, Strategy] = {}
    skipped: list[str] = []
    for car in race.cars:
        try:
            race, one = apply_stints(race, {car.driver: _stints(car)}, wet)
        except TelemetryValidationError:
            skipped.append(car.driver)
            continue
        strategies.update(one)
    return RealStrategies(race, strategies, skipped)


def strategies_json(race: RaceDefinition, drivers) -> dict[str, list[dict]]:
    """The stint lists of ``drivers`` (in the race's car order) as a ``--strategies`` file holds them."""
    return {c.driver: _stints(c) for c in race.cars if c.driver in drivers}


@dataclasses.dataclass(frozen=True)
class RealRace:
    """A race set up to replay reality: real strategies, real events (phases and retirements)."""

    race: RaceDefinition  # with the real stints as plans (`real_strategies`)
    strategies: dict[str, Strategy]
    events: list[Event]  # `real_events` then `real_retirements`
    skipped: list[str]  # cars left on their plan
    facts: RaceFacts
    red_flag: bool


def real_race(race: RaceDefinition, laps: pd.DataFrame, facts: RaceFacts) -> RealRace:
    """The race definition fitted on ``laps`` with that race's real strategies and events.

    Parameters
    ----------
    race : RaceDefinition
        Fitted on this lap table (`fit_race`, ``racetwin fit`` or a catalogue entry): its cars'
        ``strategy`` are the real stints.
    laps : DataFrame
        The race's lap table.
    facts : RaceFacts
        The race in the history tables (``HistoryTables.facts``): who finished.
    """
    real = real_strategies(race)
    events: list[Event] = [*real_events(laps, real.race.track.laps), *real_retirements(laps, facts)]
    return RealRace(real.race, real.strategies, events, real.skipped, facts, has_red_flag(laps))


def write_real_files(folder: str | Path, name: str, real: RealRace) -> tuple[Path, Path]:
    """Write ``<name>.strategies.json`` and ``<name>.events.json`` into ``folder`` (created if missing).

    ``racetwin simulate RACE.json --strategies <name>.strategies.json --events <name>.events.json
    [--deterministic]`` then runs `score_real_race`'s races. Returns the two paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    strategies = folder / f"{name}.strategies.json"
    events = folder / f"{name}.events.json"
    strategies.write_text(json.dumps(strategies_json(real.race, real.strategies), indent=1) + "\n")
    events.write_text(json.dumps([e.to_json() for e in real.events], indent=1) + "\n")
    return strategies, events


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation of two equally long sequences (ties get their mean rank)."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


@dataclasses.dataclass(frozen=True)
class SimVsReal:
    """`score_real_race`'s result for one race; times in seconds."""

    name: str
    cars: int  # cars scored: every car of the race with a real classification
    runs: int
    seed: int
    rho_det: float  # Spearman rho of the deterministic race's finishing order vs the real one
    rho_mc: float  # mean over the Monte Carlo races of each race's rho
    rho_mc_sd: float  # its sd over the races
    rho_of_mean: float  # rho of the cars ranked by mean simulated position
    winner: str  # the real winner (driver code)
    winner_real_s: float | None  # the real winner's race time (history), None when it has none
    winner_det_s: float  # the real winner's time in the deterministic race
    winner_mc_s: float  # its median over the Monte Carlo races (finished races only)
    red_flag: bool  # a red-flag race: no time error (its real time includes the suspension)
    plan: list[str]  # cars left on their plan

    def _error(self, t: float) -> float | None:
        if self.red_flag or self.winner_real_s is None:
            return None
        return (t - self.winner_real_s) / self.winner_real_s

    @property
    def det_error(self) -> float | None:
        """Relative error of the deterministic winner's time (None for a red-flag race or no real time)."""
        return self._error(self.winner_det_s)

    @property
    def mc_error(self) -> float | None:
        """Relative error of the Monte Carlo median winner's time (None as for `det_error`)."""
        return self._error(self.winner_mc_s)


def score_real_race(race: RaceDefinition, laps: pd.DataFrame, facts: RaceFacts, *, runs: int = 500,
                    seed: int = 0, name: str | None = None, backend: str = "numba") -> SimVsReal:
    """Simulate a fitted race with its real strategies and events, scored against its real classification.

    Parameters
    ----------
    race : RaceDefinition
        Fitted on ``laps`` (its cars' strategies are the real stints; see `real_race`).
    laps : DataFrame
        The race's lap table (FastF1 ``Laps`` columns).
    facts : RaceFacts
        The race in the history tables: classification, who finished, the winner's time.
    runs, seed : int
        Monte Carlo races and their seed (the deterministic race uses the same seed).
    name : str, optional
        Label of the result (default: the race's name).
    backend : str
        Kernel (`workbench.strategy.montecarlo.simulate`).

    Returns
    -------
    SimVsReal

    Raises
    ------
    ValueError
        When no car of the race has a real classification, or the real winner is not in the race.
    """
    real = real_race(race, laps, facts)
    rr = real.race
    scored = [d for d in rr.drivers if d in facts.classified]
    if len(scored) < 2:
        raise ValueError(f"classification: {len(scored)} of the race's cars are classified in the history's "
                         f"{facts.name!r}; a rank correlation needs at least 2 (is it the right event?)")
    winner = min(facts.classified, key=facts.classified.get)
    if winner not in rr.drivers:
        raise ValueError(f"classification: the winner of {facts.name!r} in the history, {winner!r}, has no laps "
                         f"in the lap table (drivers: {', '.join(rr.drivers)})")
    det = simulate(rr, None, real.strategies, real.events, runs=1, seed=seed, deterministic=True, backend=backend)
    result = simulate(rr, None, real.strategies, real.events, runs=runs, seed=seed, backend=backend)
    real_pos = [facts.classified[d] for d in scored]
    idx = [result.index(d) for d in scored]
    per_run = [spearman(result.position[r, idx], real_pos) for r in range(result.runs)]
    return SimVsReal(
        name=name or rr.name, cars=len(scored), runs=runs, seed=seed,
        rho_det=spearman(det.position[0, idx], real_pos),
        rho_mc=float(np.mean(per_run)), rho_mc_sd=float(np.std(per_run)),
        rho_of_mean=spearman(result.position[:, idx].mean(axis=0), real_pos),
        winner=winner, winner_real_s=facts.winner_time_s,
        winner_det_s=float(det.race_time_s[0, det.index(winner)]),
        winner_mc_s=float(np.nanmedian(result.race_time_s[:, result.index(winner)])),
        red_flag=real.red_flag, plan=list(real.skipped))


def format_scores(scores: Sequence[SimVsReal]) -> list[str]:
    """The simulated-vs-real table: a header, one row per race and the mean row (time errors: mean |error|
    over the races that have one)."""
    lines = [f"{'race':<20} {'cars':>4} {'rho det':>7} {'rho MC':>14} {'rho(mean)':>9} {'winner real s':>13} "
             f"{'det s':>8} {'det err':>8} {'MC p50 s':>8} {'MC err':>8} {'plan':>4}"]

    def shown(s: SimVsReal, err: float | None) -> str:
        if err is not None:
            return f"{100 * err:>+7.2f}%"
        return "red flag" if s.red_flag else "n/a"

    for s in scores:
        real_t = f"{s.winner_real_s:>13.1f}" if s.winner_real_s is not None else f"{'n/a':>13}"
        lines.append(f"{s.name:<20} {s.cars:>4} {s.rho_det:>7.3f} {s.rho_mc:>6.3f} +- {s.rho_mc_sd:<5.3f} "
                     f"{s.rho_of_mean:>9.3f} {real_t} {s.winner_det_s:>8.1f} {shown(s, s.det_error):>8} "
                     f"{s.winner_mc_s:>8.1f} {shown(s, s.mc_error):>8} {len(s.plan):>4}")
    err_det = [abs(s.det_error) for s in scores if s.det_error is not None]
    err_mc = [abs(s.mc_error) for s in scores if s.mc_error is not None]

    def mean_err(errs: list[float]) -> str:
        return f"{100 * np.mean(errs):>7.2f}%" if errs else f"{'n/a':>8}"

    lines.append(f"{'mean':<20} {'':>4} {np.mean([s.rho_det for s in scores]):>7.3f} "
                 f"{np.mean([s.rho_mc for s in scores]):>6.3f} {'':>7} "
                 f"{np.mean([s.rho_of_mean for s in scores]):>9.3f} {'':>13} {'':>8} {mean_err(err_det)} {'':>8} "
                 f"{mean_err(err_mc)}  (time: mean |error| without the red-flag races)")
    return lines
