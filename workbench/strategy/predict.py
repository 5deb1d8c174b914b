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
from typing import Any

import numpy as np
import pandas as pd

from workbench.strategy.event_history import priors_before, race_entry
from workbench.strategy.montecarlo import simulate
from workbench.strategy.predict_fit import FittedRace, fit_known_laps
from workbench.strategy.racedef import RaceDefinition, bundled_race
from workbench.twins.lap_table import check_lap_table

__all__ = ["Prediction", "predict_from_laps", "known_laps", "actual_classification", "score", "sweep",
           "SWEEP_FRACTIONS", "POINTS_POSITIONS", "REQUIRED_PREDICT_COLUMNS"]

SWEEP_FRACTIONS = (0.25, 0.50, 0.75)
POINTS_POSITIONS = 10
REQUIRED_PREDICT_COLUMNS = ("Position",)  # besides the lap-table columns of `check_lap_table`


def _check_int(name: str, value: Any, low: int, high: int | None = None, rule: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"{name}: {value!r} is not an integer {bound}" + (f" ({rule})" if rule else ""))
    return int(value)


def _checked_table(laps: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(laps, pd.DataFrame):
        raise ValueError(f"laps: {type(laps).__name__} is not a pandas DataFrame")
    for col in REQUIRED_PREDICT_COLUMNS:
        if col not in laps.columns:
            raise ValueError(f"laps: column {col!r} is missing; predict needs it for the running order")
    check_lap_table(laps)
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
    from workbench.strategy.predict_fit import _seconds_elapsed

    elapsed = _seconds_elapsed(laps)
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
    """Spearman rho and mean absolute position error of the model and of the naive order, vs actual."""
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
        Per driver, best mean position first: ``driver``, ``position_at_k``, ``mean_position``,
        ``mode_position``, ``p_win``, ``p_podium``, ``p_points``, ``p_retired``,
        ``predicted_remaining_stops`` (mean over races), ``planned_stops`` (the hazard's plan).
    actual, score : dict or None
        When the lap table holds the finish.
    """

    at_lap: int
    race_laps: int
    runs: int
    seed: int
    drivers: list[dict[str, Any]]
    fit: dict[str, Any]
    actual: dict[str, Any] | None = None
    score: dict[str, float] | None = None
    retirements_after_k: int | None = None

    def table(self) -> pd.DataFrame:
        """One row per driver, in predicted order (mean position)."""
        cols = ["driver", "position_at_k", "mean_position", "mode_position", "p_win", "p_podium", "p_points",
                "p_retired", "predicted_remaining_stops"]
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
        return {"at_lap": self.at_lap, "race_laps": self.race_laps, "runs": self.runs, "seed": self.seed,
                "predicted": self.drivers, "actual": actual, "score": self.score,
                "retirements_after_k": self.retirements_after_k, "fit": self.fit}


def _summarise(fitted: FittedRace, runs: int, seed: int, backend: str) -> list[dict[str, Any]]:
    res = simulate(fitted.race, fitted.state, runs=runs, seed=seed, backend=backend)
    n = len(res.drivers)
    rows = []
    by_driver = {c.driver: c for c in fitted.state.cars}
    for d in res.drivers:
        pos = res.position[:, res.index(d)]
        p = np.bincount(pos - 1, minlength=n) / runs
        stops = res.stops[:, res.index(d)]
        rows.append({"driver": d, "position_at_k": by_driver[d].position, "mean_position": round(float(pos.mean()), 3),
                     "mode_position": int(np.argmax(p)) + 1, "p_win": round(float(p[0]), 4),
                     "p_podium": round(float(p[:3].sum()), 4), "p_points": round(float(p[:POINTS_POSITIONS].sum()), 4),
                     "p_retired": round(float(np.isnan(res.race_time_s[:, res.index(d)]).mean()), 4),
                     "predicted_remaining_stops": round(float(stops.mean()), 3),
                     "planned_stops": fitted.report["planned_stops"][d]})
    rows.sort(key=lambda r: (r["mean_position"], r["position_at_k"]))
    return rows


def predict_from_laps(laps: pd.DataFrame, at_lap: int, runs: int = 2000, seed: int = 0,
                      track: RaceDefinition | None = None, race_name: str | None = None,
                      backend: str = "numba", retired: Collection[str] | None = None) -> Prediction:
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
        Where the race distance and the unfitted track facts come from (default: the bundled
        2024 Bahrain race; its fitted numbers are not used).
    race_name : str, optional
        The race in ``data/event-history.json`` whose date limits the history used for SC/VSC and
        retirements (default: ``track.name``).
    retired : collection of str, optional
        Cars known to be out (live use); by default a car whose last lap is before K retired.

    Raises
    ------
    ValueError
        Naming the field, the value and the rule broken.
    """
    track = track or bundled_race()
    n_laps = track.track.laps
    _checked_table(laps)
    at_lap = _check_int("at_lap", at_lap, 1, n_laps - 1, f"the race has {n_laps} laps and must have laps left")
    runs = _check_int("runs", runs, 1)
    seed = _check_int("seed", seed, 0)
    table_last = int(pd.to_numeric(laps.LapNumber).max())
    if at_lap > table_last:
        raise ValueError(f"at_lap: {at_lap} is beyond the lap table, which ends at lap {table_last}")
    entry = race_entry(race_name or track.name)
    events = priors_before(entry["date"], entry["circuit_id"])
    fitted = fit_known_laps(known_laps(laps, at_lap), at_lap, n_laps, track, events, retired=retired)
    rows = _summarise(fitted, runs, seed, backend)
    pred = Prediction(at_lap, n_laps, runs, seed, rows, fitted.report)
    if table_last >= n_laps:
        actual = actual_classification(laps)
        naive = {c.driver: c.position for c in fitted.state.cars}
        pred.actual = actual
        pred.score = score({r["driver"]: r["mean_position"] for r in rows}, naive, actual["position"])
        pred.retirements_after_k = sum(1 for lap in actual["retired"].values() if lap >= at_lap)
    return pred


def sweep(laps: pd.DataFrame, runs: int = 2000, seed: int = 0, track: RaceDefinition | None = None,
          fractions: Sequence[float] = SWEEP_FRACTIONS, race_name: str | None = None) -> list[dict[str, Any]]:
    """Score predictions at K = round(fraction x race distance): one row per K, model vs naive.

    Raises
    ------
    ValueError
        When the table does not reach the finish (there is nothing to score against).
    """
    track = track or bundled_race()
    n_laps = track.track.laps
    _checked_table(laps)
    last = int(pd.to_numeric(laps.LapNumber).max())
    if last < n_laps:
        raise ValueError(f"laps: ends at lap {last}, before the finish (lap {n_laps}); a sweep needs the finish")
    out = []
    for f in fractions:
        k = max(1, min(n_laps - 1, int(round(f * n_laps))))
        p = predict_from_laps(laps, k, runs=runs, seed=seed, track=track, race_name=race_name)
        out.append({"fraction": f, "at_lap": k, **p.score, "retirements_after_k": p.retirements_after_k})
    return out
