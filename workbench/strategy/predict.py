"""Predict the final classification of a real race from the end of lap K, and score it.

`predict_from_laps(laps, at_lap=K)` cuts a FastF1-shaped lap table at lap K (rows with
``LapNumber <= K`` only), fits a race definition and the race state from those rows
(`workbench.strategy.predict_fit`), takes SC/VSC/retirement probabilities from the races run
before this one (`workbench.strategy.event_history`), and runs the Monte Carlo engine to the
flag. When the table holds the finish, the result also carries the actual classification and
a score against the naive predictor "the order at lap K stays". `sweep` does that at 25, 50
and 75 % of the race distance. See ``docs/predict.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.race.definition import RaceDefinition, bundled_race
from workbench.strategy.event_history import (
    EventPriors,
    fold_race_name,
    history,
    later_race,
    priors_before,
    race_entry,
    race_from_file_name,
)
from workbench.strategy.montecarlo import simulate
from workbench.strategy.predict_fit import GENERIC_OFFSET_S, FittedRace, fit_known_laps, seconds_elapsed
from workbench.strategy.season_prior import season_steps_before
from workbench.telemetry.records import DRY_COMPOUNDS
from workbench.twins.lap_table import check_lap_table

__all__ = ["Prediction", "predict_from_laps", "known_laps", "actual_classification", "score", "sweep",
           "RaceDistance", "race_distance", "chequered_flag_lap", "identify_race", "race_from_file_name",
           "file_race_name",
           "SWEEP_FRACTIONS", "SWAP_CONFIDENCE", "OWED_STOP_SWAP_CONFIDENCE", "owed_stop_pairs",
           "predicted_order", "POINTS_POSITIONS", "REQUIRED_PREDICT_COLUMNS", "UNFITTED_TRACK_FACTS"]

SWEEP_FRACTIONS = (0.25, 0.50, 0.75)
POINTS_POSITIONS = 10
PACE_DRAW_BATCHES = 20  # batches of races, each with the cars' pace drawn from its fit
# `predicted_order`: a car is predicted to pass one ahead of it at lap K only when it finishes ahead
# in more than this share of the simulated races. Chosen leave-one-race-out over the shared 2024
# races from 0.50 .. 0.95, together with OWED_STOP_SWAP_CONFIDENCE (every held-out race's fold picks
# 0.85; docs/predict.md, tests/benchmarks/predict_swap_confidence.py); 0.5 is the plain majority.
SWAP_CONFIDENCE = 0.85
# ... except where the car ahead still owes its mandatory stop (`owed_stop_pairs`): the stop is certain, so the
# simulated duel is only about whether the pit loss is won back, and the more likely outcome is taken (a plain
# majority). Fixed a priori; the leave-one-race-out study over 0.50 .. 0.95 picks it in every fold, but only
# Saudi Arabia 2024 has such pairs that change the order (docs/predict.md).
OWED_STOP_SWAP_CONFIDENCE = 0.5
REQUIRED_PREDICT_COLUMNS = ("Position",)  # besides the lap-table columns of `check_lap_table`
# Track facts the prediction does not fit from the laps: taken from the race definition given
# (``--race``), else from the bundled race definition, and listed as priors in the output.
UNFITTED_TRACK_FACTS = ("drs", "min_gap_s", "sc_lap_time_factor", "vsc_lap_time_factor")


@dataclasses.dataclass(frozen=True)
class RaceDistance:
    """The race distance in laps and where it came from (printed with every prediction)."""

    laps: int
    source: str


LAPPED_FINISHERS_FOR_FLAG = 2  # lapped cars crossing the line just after the winner that mark a finished table


def chequered_flag_lap(laps: pd.DataFrame) -> int | None:
    """The lap the chequered flag fell on, when the lap table clearly shows it; else None.

    Rule (the one rule of `predict`, `calibrate` and `simulate`): let N be the highest
    ``LapNumber`` and t_N the first end of a lap N (the winner's flag). The table shows the
    flag at N when at least `LAPPED_FINISHERS_FOR_FLAG` cars whose last lap is below N and
    timed ended that last lap within one median lap time *after* t_N: lapped finishers take
    the flag the first time they cross the line after the winner. A car that retired ended
    its last lap before t_N. In a table cut at lap K a car more than a lap down can also end
    its last lap just after t_K, which is why two are asked for: no cut of the eight shared
    2024 tables at any K < N shows the flag. A race with fewer lapped finishers (2024
    Belgium: none, Canada: one) does not show it: its distance must come from ``--laps``,
    the race definition or the identified race's history entry. Session times are
    `seconds_elapsed` (the ``Time`` column, else summed lap times).
    """
    table = check_lap_table(laps)
    elapsed = seconds_elapsed(laps)
    last_rows = table.sort_values("LapNumber").groupby("Driver").tail(1).set_index("Driver")
    n = int(last_rows.LapNumber.max())
    t_n = min(elapsed[(d, n)] for d in last_rows.index if int(last_rows.LapNumber[d]) == n)
    lap_s = float(table.LapTime.median())
    lapped = [d for d, row in last_rows.iterrows() if int(row.LapNumber) < n and pd.notna(row.LapTime)]
    finishers = sum(t_n < elapsed[(d, int(last_rows.LapNumber[d]))] < t_n + lap_s for d in lapped)
    return n if finishers >= LAPPED_FINISHERS_FOR_FLAG else None


def identify_race(race_name: str | None, track: RaceDefinition | None,
                  file_race: str | None = None) -> tuple[dict[str, Any] | None, str]:
    """The event-history entry of the race predicted, and how it was identified.

    From ``race_name`` (must be in the history), else the race definition's name when the
    history holds it, else ``file_race`` (the race the file name names, `file_race_name`). A race
    after the history (``2026-monaco-race-laps.csv``) gets `later_race`'s entry: its circuit from
    the latest race of its name, no distance. ``(None, why)`` when none.
    """
    if race_name is not None:
        return race_entry(race_name), "--race-name"
    names = {fold_race_name(r["race"]) for r in history()}
    if track is not None and fold_race_name(track.name) in names:
        return race_entry(track.name), "the race definition's name"
    if file_race is not None and fold_race_name(file_race) in names:
        return race_entry(file_race), "the lap table's file name"
    later = later_race(file_race) if file_race is not None else None
    if later is not None:
        circuit = (f"the circuit of the {later['after_history']}" if later["after_history"]
                   else "no earlier race of that name, so no circuit")
        return later, f"the lap table's file name: a race after the history ({circuit})"
    return None, "not identified (no --race-name; neither the race definition nor the file name names a race)"


def file_race_name(path: str | Path) -> str | None:
    """The race a lap table's file name names: a race of the history (`race_from_file_name`), else
    ``"YEAR Name Grand Prix"`` from a ``YEAR-<name>-race-laps.csv`` name (a race after the history,
    `identify_race`), else None."""
    from workbench.strategy.racefit.history import event_name_from_path

    return race_from_file_name(path) or event_name_from_path(path)


def race_distance(laps: pd.DataFrame, race_laps: int | None = None, track: RaceDefinition | None = None,
                  entry: dict[str, Any] | None = None) -> RaceDistance:
    """The race distance, never assumed: ``race_laps``, else the race definition, else the race's
    history entry, else the chequered flag in the lap table (`chequered_flag_lap`).

    The lap table's flag is read only when nothing else gives the distance: a live table, cut
    by session time, has a lapped car crossing the line after the leader too.

    Raises
    ------
    ValueError
        When none of these gives it, when the sources given disagree with each other, or when
        the lap table runs beyond the distance.
    """
    table_last = int(pd.to_numeric(laps.LapNumber).max())
    found: list[RaceDistance] = []
    if race_laps is not None:
        found.append(RaceDistance(_check_int("race_laps", race_laps, 2), f"--laps {race_laps}"))
    if track is not None:
        found.append(RaceDistance(track.track.laps, f"race definition {track.name!r}"))
    if entry is not None and entry.get("laps"):
        found.append(RaceDistance(int(entry["laps"]), f"data/event-history.json ({entry['race']})"))
    flag = None if found else chequered_flag_lap(laps)  # a table cut by session time (live) can look flagged
    if flag is not None:
        found.append(RaceDistance(flag, f"the lap table (chequered flag at lap {flag}: a lapped car took it "
                                        "after the winner)"))
    if not found:
        raise ValueError(f"race distance: unknown; the lap table ends at lap {table_last} without showing the "
                         "chequered flag (fewer than two lapped cars crossed the line just after the winner); "
                         "give --laps N or --race RACE")
    first = found[0]
    for other in found[1:]:
        if other.laps != first.laps:
            raise ValueError(f"race distance: {first.laps} laps from {first.source} disagrees with {other.laps} "
                             f"from {other.source}")
    if table_last > first.laps:
        raise ValueError(f"laps: the lap table reaches lap {table_last}, beyond the race distance of {first.laps} "
                         f"laps from {first.source}")
    return first


def _check_int(name: str, value: Any, low: int, high: int | None = None, rule: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: {value!r} is not an integer {bound}" + (f" ({rule})" if rule else ""))
    return int(value)


def _checked_table(laps: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(laps, pd.DataFrame):
        raise ValueError(f"laps: {type(laps).__name__} is not a pandas DataFrame")
    check_lap_table(laps)
    for col in REQUIRED_PREDICT_COLUMNS:
        if col not in laps.columns:
            raise ValueError(f"laps: column {col!r} is missing; predict needs it for the running order")
    return laps


def known_laps(laps: pd.DataFrame, at_lap: int) -> pd.DataFrame:
    """The rows known at the end of lap ``at_lap``: every car's laps 1..``at_lap``, nothing later."""
    return laps[pd.to_numeric(laps.LapNumber) <= at_lap].reset_index(drop=True)


def actual_classification(laps: pd.DataFrame) -> dict[str, Any]:
    """The final classification from a full lap table: last lap's positions, retirements last.

    A car finished when its last lap ended at or after the winner's last lap (lapped cars
    cross the line after the winner); the others retired, the one that went furthest first.
    Returns ``{"order": [...], "position": {driver: p}, "retired": {driver: last lap}}``.
    """
    table = check_lap_table(laps)
    elapsed = seconds_elapsed(laps)
    last = table.sort_values("LapNumber").groupby("Driver").tail(1).set_index("Driver")
    n = int(table.LapNumber.max())
    winner_end = min(elapsed[(d, n)] for d in last.index if int(last.loc[d, "LapNumber"]) == n)
    ends = {d: elapsed[(d, int(last.loc[d, "LapNumber"]))] for d in last.index}
    finished = [d for d in last.index if ends[d] >= winner_end - 1e-6]
    retired = [d for d in last.index if d not in finished]
    finished.sort(key=lambda d: (-int(last.loc[d, "LapNumber"]), float(last.loc[d, "Position"]), ends[d]))
    retired.sort(key=lambda d: (-int(last.loc[d, "LapNumber"]), ends[d]))
    order = finished + retired
    return {"order": order, "position": {d: i for i, d in enumerate(order, start=1)},
            "retired": {d: int(last.loc[d, "LapNumber"]) for d in retired}}


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    ra = pd.Series(list(a), dtype=float).rank().to_numpy()
    rb = pd.Series(list(b), dtype=float).rank().to_numpy()
    return float(np.corrcoef(ra, rb)[0, 1])


def score(predicted: dict[str, float], naive: dict[str, int], actual: dict[str, int]) -> dict[str, float]:
    """Spearman rho and mean absolute position error of the model and of the naive order, vs actual.

    ``predicted`` is the model's predicted classification (position by driver: the drivers
    ranked by mean simulated finishing position), ``naive`` the running order at lap K.
    """
    drivers = sorted(actual)
    act = [actual[d] for d in drivers]
    model = [predicted[d] for d in drivers]
    stay = [naive[d] for d in drivers]
    return {"spearman": round(_spearman(model, act), 4),
            "mae_positions": round(float(np.mean(np.abs(np.subtract(model, act)))), 4),
            "naive_spearman": round(_spearman(stay, act), 4),
            "naive_mae_positions": round(float(np.mean(np.abs(np.subtract(stay, act)))), 4)}


@dataclasses.dataclass
class Prediction:
    """A prediction made at the end of lap ``at_lap``; `table` is one row per driver.

    Attributes
    ----------
    drivers : list of dict
        Per driver, in predicted order (`predicted_order`): ``driver``, ``position_at_k``, ``predicted_position``
        (rank of the mean), ``mean_position``, ``mode_position``, ``p_win``, ``p_podium``, ``p_points``,
        ``p_retired``, ``stops_made``, ``compound``, ``tyre_age_laps``, ``two_compound_rule_met``,
        ``predicted_remaining_stops`` (mean over races), ``planned_stops`` (the hazard's plan).
    distance : RaceDistance
        The race distance and where it came from.
    actual, score : dict or None
        When the lap table holds the finish.
    pairwise : dict or None
        What `predicted_order` decided from: ``drivers``, ``p_ahead`` (drivers x drivers, P(row
        finishes ahead of column) over the simulated races), ``position_at_k``, ``owed_stop``
        (`owed_stop_pairs`); `reordered` re-decides with other thresholds. Not in ``to_json``.
    """

    at_lap: int
    race_laps: int
    runs: int
    seed: int
    drivers: list[dict[str, Any]]
    fit: dict[str, Any]
    distance_source: str = ""
    actual: dict[str, Any] | None = None
    score: dict[str, float] | None = None
    retirements_after_k: int | None = None
    pairwise: dict[str, Any] | None = None

    def reordered(self, swap_confidence: float = SWAP_CONFIDENCE,
                  owed_stop_confidence: float = OWED_STOP_SWAP_CONFIDENCE) -> dict[str, int]:
        """The predicted position per driver with other swap thresholds, from the same simulated races.

        Uses ``pairwise`` (kept by `predict_from_laps`): ``drivers``, ``p_ahead`` (P(row ahead of
        column)), ``position_at_k`` and ``owed_stop`` (`owed_stop_pairs`). For threshold studies
        (``tests/benchmarks/predict_swap_confidence.py``): no race is simulated again.
        """
        if self.pairwise is None:
            raise ValueError("pairwise: not kept for this prediction")
        pw = self.pairwise
        return _order_from_pairwise(pw["drivers"], np.asarray(pw["p_ahead"]), pw["position_at_k"],
                                    swap_confidence, pw["owed_stop"], owed_stop_confidence)

    def table(self) -> pd.DataFrame:
        """One row per driver, in predicted order."""
        cols = ["driver", "position_at_k", "predicted_position", "mean_position", "mode_position", "p_win",
                "p_podium", "p_points", "p_retired", "stops_made", "predicted_remaining_stops"]
        df = pd.DataFrame([{c: row[c] for c in cols} for row in self.drivers], columns=cols)
        if self.actual is not None:
            df["actual_position"] = [self.actual["position"][d] for d in df.driver]
        return df

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: ``predicted``, ``actual``, ``score`` and what was fitted."""
        actual = None
        if self.actual is not None:
            actual = [{"driver": d, "position": p, "retired": d in self.actual["retired"]}
                      for d, p in self.actual["position"].items()]
        return {"at_lap": self.at_lap, "race_laps": self.race_laps, "race_laps_source": self.distance_source,
                "runs": self.runs, "seed": self.seed, "predicted": self.drivers, "actual": actual,
                "score": self.score, "retirements_after_k": self.retirements_after_k, "fit": self.fit}


def simulate_with_pace_uncertainty(fitted: FittedRace, runs: int, seed: int, backend: str = "numba",
                                   progress=None):
    """Monte Carlo races from the fitted state, the cars' pace drawn from its fit.

    The races run in `PACE_DRAW_BATCHES` batches; in each, every car's ``pace_delta_s`` is
    moved by a normal draw with the standard error of its fit (``fit["pace_se_s"]``; seeded by
    (seed, batch)), so a pace advantage measured on a few laps is not taken as certain. Race
    numbers run on across batches (``sim0``), as in one call. ``progress(done, total)``, when
    given, is called after each batch.
    """
    batches = max(1, min(PACE_DRAW_BATCHES, runs))
    sizes = [runs // batches + (1 if b < runs % batches else 0) for b in range(batches)]
    se = fitted.report["pace_se_s"]
    parts, sim0 = [], 0
    for b, n in enumerate(sizes):
        rng = np.random.default_rng([seed, b, 0x9ACE])
        cars = tuple(dataclasses.replace(e, pace_delta_s=float(e.pace_delta_s + rng.normal(0.0, se.get(e.driver, 0.0))))
                     for e in fitted.race.cars)
        race = dataclasses.replace(fitted.race, cars=cars)
        parts.append(simulate(race, fitted.state, runs=n, seed=seed, backend=backend, sim0=sim0))
        sim0 += n
        if progress is not None:
            progress(sim0, runs)
    first = parts[0]
    return dataclasses.replace(first, position=np.concatenate([p.position for p in parts]),
                               race_time_s=np.concatenate([p.race_time_s for p in parts]),
                               stops=np.concatenate([p.stops for p in parts]))


def owed_stop_pairs(fitted: FittedRace) -> frozenset[tuple[str, str]]:
    """Pairs (ahead, behind) at lap K where the car ahead still owes its mandatory stop and the one behind does not.

    The car ahead has not met the two-dry-compound rule and has a stop planned; the car behind
    has met it and has no stop planned; the gap between them is smaller than the pit loss used
    (``fit["pit_loss_total_s"]``: measured, shrunk towards the generic loss), so the stop alone
    puts the car behind ahead unless the fresher tyres win the loss back. `predicted_order`
    swaps such a pair at `OWED_STOP_SWAP_CONFIDENCE`. Retired cars are in no pair.
    """
    rule, plans = fitted.report["rule_met"], fitted.report["planned_stops"]
    loss = float(fitted.report["pit_loss_total_s"])
    cars = sorted((c for c in fitted.state.cars if not c.retired), key=lambda c: c.position)
    return frozenset((a.driver, b.driver) for i, a in enumerate(cars) for b in cars[i + 1:]
                     if not rule[a.driver] and plans[a.driver] and rule[b.driver] and not plans[b.driver]
                     and b.gap_to_leader_s - a.gap_to_leader_s < loss)


def _summarise(fitted: FittedRace, runs: int, seed: int, backend: str, progress=None,
               swap_confidence: float = SWAP_CONFIDENCE) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    res = simulate_with_pace_uncertainty(fitted, runs, seed, backend, progress)
    n = len(res.drivers)
    rows = []
    by_driver = {c.driver: c for c in fitted.state.cars}
    for d in res.drivers:
        pos = res.position[:, res.index(d)]
        p = np.bincount(pos - 1, minlength=n) / runs
        stops = res.stops[:, res.index(d)]
        car = by_driver[d]
        rows.append({"driver": d, "position_at_k": car.position, "mean_position": round(float(pos.mean()), 3),
                     "mode_position": int(np.argmax(p)) + 1, "p_win": round(float(p[0]), 4),
                     "p_podium": round(float(p[:3].sum()), 4), "p_points": round(float(p[:POINTS_POSITIONS].sum()), 4),
                     "p_retired": round(float(np.isnan(res.race_time_s[:, res.index(d)]).mean()), 4),
                     "retired_at_k": bool(car.retired), "stops_made": int(car.stops_made),
                     "compound": car.compound.value, "tyre_age_laps": int(car.tyre_age_laps),
                     "two_compound_rule_met": fitted.report["rule_met"][d],
                     "predicted_remaining_stops": round(float(stops.mean()), 3),
                     "planned_stops": fitted.report["planned_stops"][d]})
    rows.sort(key=lambda r: (r["mean_position"], r["position_at_k"]))
    at_k = {d: c.position for d, c in by_driver.items()}
    owed = owed_stop_pairs(fitted)
    for r, place in zip(rows, predicted_order(res, at_k, swap_confidence, owed)):
        r["predicted_position"] = place
    rows.sort(key=lambda r: r["predicted_position"])
    pairwise = {"drivers": list(res.drivers), "p_ahead": _p_ahead(res.position), "position_at_k": at_k,
                "owed_stop": owed}
    return rows, pairwise


def _p_ahead(pos: np.ndarray) -> np.ndarray:
    """P(row driver finishes ahead of column driver) over the simulated races (positions are unique)."""
    return (pos[:, :, None] < pos[:, None, :]).mean(axis=0)


def _order_from_pairwise(drivers: Sequence[str], p_ahead: np.ndarray, position_at_k: dict[str, int],
                         swap_confidence: float, owed_stop: Collection[tuple[str, str]],
                         owed_stop_confidence: float) -> dict[str, int]:
    for name, value in (("swap_confidence", swap_confidence), ("owed_stop_confidence", owed_stop_confidence)):
        if not 0.5 <= value < 1.0:
            raise ValueError(f"{name}: {value!r} is not in [0.5, 1)")
    n = len(drivers)
    wins = np.zeros(n)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            ahead_at_k, behind = (i, j) if position_at_k[drivers[i]] < position_at_k[drivers[j]] else (j, i)
            t = owed_stop_confidence if (drivers[ahead_at_k], drivers[behind]) in owed_stop else swap_confidence
            if ahead_at_k == i:
                wins[i] += 1.0 - p_ahead[i, j] <= t  # i keeps its place unless j passes it confidently
            else:
                wins[i] += p_ahead[i, j] > t
    ranked = sorted(range(n), key=lambda i: (-wins[i], position_at_k[drivers[i]]))
    return {drivers[i]: k for k, i in enumerate(ranked, start=1)}


def predicted_order(res, position_at_k: dict[str, int], swap_confidence: float = SWAP_CONFIDENCE,
                    owed_stop: Collection[tuple[str, str]] = frozenset(),
                    owed_stop_confidence: float = OWED_STOP_SWAP_CONFIDENCE) -> list[int]:
    """Predicted finishing position per driver, in ``res.drivers`` order sorted by mean position.

    Pairwise, against the order at lap K: of two cars, the one ahead at K stays predicted ahead
    unless the other finishes ahead of it in more than ``swap_confidence`` of the simulated
    races (`SWAP_CONFIDENCE`; 0.5 is a plain majority), or in more than ``owed_stop_confidence``
    for a pair in ``owed_stop`` ((ahead, behind) where the car ahead still owes its mandatory
    stop, `owed_stop_pairs`). Drivers are ranked by how many others they are predicted ahead
    of (Copeland), ties by the order at K.

    Examples
    --------
    >>> import numpy as np, types
    >>> res = types.SimpleNamespace(drivers=("A", "B"), position=np.array([[2, 1]] * 7 + [[1, 2]] * 3))
    >>> order_by_mean = ("B", "A")  # B's mean position is 1.3, A's 1.7
    >>> dict(zip(order_by_mean, predicted_order(res, {"A": 1, "B": 2})))  # B ahead in 70 %: A keeps P1
    {'B': 2, 'A': 1}
    >>> dict(zip(order_by_mean, predicted_order(res, {"A": 1, "B": 2}, swap_confidence=0.5)))
    {'B': 1, 'A': 2}
    >>> dict(zip(order_by_mean, predicted_order(res, {"A": 1, "B": 2}, owed_stop={("A", "B")})))  # A owes its stop
    {'B': 1, 'A': 2}
    """
    pos = res.position
    drivers = list(res.drivers)
    place = _order_from_pairwise(drivers, _p_ahead(pos), position_at_k, swap_confidence, owed_stop,
                                 owed_stop_confidence)
    mean = pos.mean(axis=0)
    by_mean = sorted(range(len(drivers)), key=lambda i: (mean[i], position_at_k[drivers[i]]))
    return [place[drivers[i]] for i in by_mean]


def _event_priors(entry: dict[str, Any] | None) -> tuple[EventPriors, str]:
    if entry is not None and "after_history" in entry:  # `later_race`'s entry: a race after the history
        where = (f"the circuit's ({entry['after_history']} and earlier)" if entry["circuit_id"] is not None
                 else "no circuit (no earlier race of that name)")
        return (priors_before(entry["date"], entry["circuit_id"]),
                f"the whole history to {history()[-1]['race']}, {where}: {entry['race']} is after it")
    if entry is not None:
        return priors_before(entry["date"], entry["circuit_id"]), f"races before {entry['race']} ({entry['date']})"
    last = history()[-1]
    day_after = (pd.Timestamp(last["date"]) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    return (priors_before(day_after), f"the whole history to {last['race']}, no circuit (race not identified: a "
            "score may be optimistic if this race is in that history)")


def predict_from_laps(laps: pd.DataFrame, at_lap: int, runs: int = 2000, seed: int = 0,
                      track: RaceDefinition | None = None, race_name: str | None = None,
                      backend: str = "numba", retired: Collection[str] | None = None,
                      race_laps: int | None = None, file_race: str | None = None,
                      race_priors: bool = False, progress=None,
                      swap_confidence: float = SWAP_CONFIDENCE, season_steps: bool = True) -> Prediction:
    """Predict the finish of the race in ``laps`` from the end of lap ``at_lap``.

    Parameters
    ----------
    laps : DataFrame
        FastF1-shaped lap table (times in seconds): Driver, LapNumber, LapTime, Compound,
        Stint, TyreLife, Position; Team, TrackStatus and sector times are used when present.
    at_lap : int
        K: only laps 1..K of every car are used. 1 <= K < race distance, and the table must reach K.
    runs, seed : int
        Monte Carlo races and seed (the same seed gives the same prediction).
    track : RaceDefinition, optional
        A race definition for this race: its distance and the track facts that are not fitted
        (`UNFITTED_TRACK_FACTS`). Without it those facts are the bundled race definition's,
        reported as priors in ``fit["priors"]``. Its fitted numbers are used only with
        ``race_priors``.
    race_name : str, optional
        The race in ``data/event-history.json`` whose date limits the history used for SC/VSC and
        retirements (default: ``track.name``, else ``file_race``; else the whole history, said so).
    retired : collection of str, optional
        Cars known to be out (live use); by default see `fit_known_laps`.
    race_laps : int, optional
        The race distance. Never assumed: see `race_distance` for the order of the sources.
    file_race : str, optional
        The race the lap table's file name names (`race_from_file_name`; the CLI passes it).
    race_priors : bool
        Use ``track``'s compound steps, per-car pace and overtaking difficulty as the priors of
        the fit (the live hub: its race definition is what is known before the race). Off by
        default: a catalogue definition is fitted on the whole race, so offline it would carry
        laps after K into a scored prediction.
    progress : callable(done, total), optional
        Called as the Monte Carlo races finish (`workbench.strategy.sweep.progress_bar`).
    swap_confidence : float
        The share of simulated races a car must finish ahead of one ahead of it at lap K for
        the predicted order to swap them (`predicted_order`).
    season_steps : bool
        Without ``race_priors``: the compound steps the fit shrinks towards (and gives a compound
        nobody has raced by lap K) are learnt from the catalogue races dated strictly before this
        race (`workbench.strategy.season_prior.season_steps_before`); the generic steps for the
        first race of the season or an unidentified race, or when False. ``fit["compound_steps"]``
        says which.

    Raises
    ------
    ValueError
        Naming the field, the value and the rule broken.
    """
    _checked_table(laps)
    entry, identified_by = identify_race(race_name, track, file_race)
    distance = race_distance(laps, race_laps, track, entry)
    n_laps = distance.laps
    at_lap = _check_int("at_lap", at_lap, 1, n_laps - 1,
                        f"the race has {n_laps} laps ({distance.source}) and must have laps left")
    runs = _check_int("runs", runs, 1)
    seed = _check_int("seed", seed, 0)
    table_last = int(pd.to_numeric(laps.LapNumber).max())
    if at_lap > table_last:
        raise ValueError(f"at_lap: {at_lap} is beyond the lap table, which ends at lap {table_last}")
    events, events_from = _event_priors(entry)
    base = track or bundled_race()
    priors = race_priors and track is not None
    if priors:
        steps = {c.value: m.offset_s for c, m in track.compounds.items()}
        steps_report: dict[str, Any] = {"steps": {c: round(v, 3) for c, v in steps.items()},
                                        "from": f"race definition {track.name!r} (race_priors)"}
    elif season_steps:
        season = season_steps_before(entry["date"] if entry else None, entry["race"] if entry else None)
        steps, steps_report = season.steps, season.to_json()
    else:
        steps, steps_report = None, {"steps": None, "from": "generic prior (season_steps=False)"}
    fitted = fit_known_laps(known_laps(laps, at_lap), at_lap, n_laps, base, events, retired=retired,
                            compound_steps=steps,
                            pace_prior={e.driver: e.pace_delta_s for e in track.cars} if priors else None,
                            keep_overtaking=priors)
    fitted.report["distance"] = {"laps": n_laps, "source": distance.source}
    fitted.report["race"] = {"name": entry["race"] if entry else None, "identified_by": identified_by}
    fitted.report["events_from"] = events_from
    fitted.report["compound_steps"] = steps_report
    facts_from = (f"race definition {track.name!r}" if track is not None
                  else f"prior: the bundled race definition ({base.name}), not fitted for this race")
    fitted.report["priors"] = {**fitted.report["priors"],
                               **{f: {"value": getattr(base.track, f), "from": facts_from}
                                  for f in UNFITTED_TRACK_FACTS}}
    if not priors:  # the steps the compound offsets shrink towards (step 5 of docs/predict.md), a prior
        used = steps or {c: v for c, v in GENERIC_OFFSET_S.items() if c in DRY_COMPOUNDS}
        fitted.report["priors"]["compound_steps"] = {
            "value": "/".join(f"{used[c]:+.2f}" for c in DRY_COMPOUNDS) + " s (" + "/".join(DRY_COMPOUNDS) + ")",
            "from": f"prior: {steps_report['from']}"}
    rows, pairwise = _summarise(fitted, runs, seed, backend, progress, swap_confidence)
    pred = Prediction(at_lap, n_laps, runs, seed, rows, fitted.report, distance.source, pairwise=pairwise)
    if table_last >= n_laps:
        actual = actual_classification(laps)
        naive = {c.driver: c.position for c in fitted.state.cars}
        pred.actual = actual
        pred.score = score({r["driver"]: r["predicted_position"] for r in rows}, naive, actual["position"])
        pred.retirements_after_k = sum(1 for lap in actual["retired"].values() if lap >= at_lap)
    return pred


def sweep(laps: pd.DataFrame, runs: int = 2000, seed: int = 0, track: RaceDefinition | None = None,
          fractions: Sequence[float] = SWEEP_FRACTIONS, race_name: str | None = None,
          race_laps: int | None = None, file_race: str | None = None, progress=None,
          swap_confidence: float = SWAP_CONFIDENCE, season_steps: bool = True) -> list[dict[str, Any]]:
    """Score predictions at K = round(fraction x race distance): one row per K, model vs naive.

    The distance comes from `race_distance` (never assumed). Raises ValueError when the
    table does not reach the finish (there is nothing to score against). ``progress(done,
    total)``, when given, counts Monte Carlo races over all the K.
    """
    _checked_table(laps)
    entry, _ = identify_race(race_name, track, file_race)
    distance = race_distance(laps, race_laps, track, entry)
    n_laps = distance.laps
    last = int(pd.to_numeric(laps.LapNumber).max())
    if last < n_laps:
        raise ValueError(f"laps: ends at lap {last}, before the finish (lap {n_laps}, {distance.source}); a sweep "
                         "needs the finish")
    out = []
    for i, f in enumerate(fractions):
        k = max(1, min(n_laps - 1, int(round(f * n_laps))))
        step = (None if progress is None
                else lambda done, total, i=i: progress(i * total + done, len(fractions) * total))
        p = predict_from_laps(laps, k, runs=runs, seed=seed, track=track, race_name=race_name,
                              race_laps=n_laps, file_race=file_race, progress=step,
                              swap_confidence=swap_confidence, season_steps=season_steps)
        out.append({"fraction": f, "at_lap": k, "race_laps": n_laps, "race_laps_source": distance.source,
                    **p.score, "retirements_after_k": p.retirements_after_k})
    return out
