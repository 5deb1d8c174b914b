"""The race prediction in the live hub: each lap the leader completes, predict the finish from there.

`LivePredictor.attach(session)` subscribes to a `RaceSession`; when the leader completes a
lap K it snapshots the hub's lap records (laps 1..K of every car, the hub's retirements) and
a worker thread runs `workbench.strategy.predict.predict_from_laps` on them (with the hub's race
definition as the prior for pace, compound steps and overtaking: what is known before the race;
every car's stops made, compound, tyre age and two-compound state from its laps), so the event loop
never waits. The worker publishes each result on the hub (``session.publish("race_prediction", ...)``,
read back as ``session.race_prediction``); it is served beside the
strategy results at ``/api/v1/strategy-results``. A newer lap replaces a request still waiting. Until the laps hold
one green racing lap after lap 1 (behind a safety-car start) no prediction is requested: the
predictor says what it waits for in ``status()["waiting"]`` instead of failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import pandas as pd

from workbench.race.definition import RaceDefinition
from workbench.strategy.latest_worker import LatestOnlyWorker
from workbench.strategy.predict import predict_from_laps
from workbench.strategy.predict_fit import has_clean_lap
from workbench.telemetry.records import LapRecord, TrackStatus

__all__ = ["LivePredictor", "records_frame", "predict_session", "FASTF1_STATUS", "MIN_LAP"]


FASTF1_STATUS = {TrackStatus.GREEN: "1", TrackStatus.YELLOW: "2", TrackStatus.SC: "4", TrackStatus.RED: "5",
                 TrackStatus.VSC: "6"}
MIN_LAP = 3  # before this the laps hold too little green running to fit pace on
_NEEDED = ("position", "compound", "stint", "tyre_age_laps")


def records_frame(records: Iterable[LapRecord]) -> pd.DataFrame:
    """Lap records as a FastF1-shaped table; records missing a field the prediction needs are left out."""
    rows = [{"Driver": r.driver, "Team": r.team, "LapNumber": r.lap_number, "LapTime": r.lap_time_s,
             "Compound": r.compound.value, "Stint": r.stint, "TyreLife": r.tyre_age_laps, "Position": r.position,
             "TrackStatus": FASTF1_STATUS.get(r.track_status, "1"), "Time": r.session_time_s}
            for r in records if all(getattr(r, f) is not None for f in _NEEDED)]
    frame = pd.DataFrame(rows)
    return frame.drop_duplicates(["Driver", "LapNumber"], keep="last").reset_index(drop=True) if rows else frame


def _retired(session) -> set[str]:
    return {d for d, t in session.field_twin.cars.items() if t.retired}


def predict_session(session, runs: int = 1000, seed: int = 0, at_lap: int | None = None) -> dict[str, Any]:
    """Predict the finish from the hub's laps at the leader's lap (or ``at_lap``); the published dict.

    Raises
    ------
    ValueError
        When the hub has no race definition, or the laps cannot be predicted from (see `predict_from_laps`).
    """
    race: RaceDefinition | None = session.race
    if race is None:
        raise ValueError("session.race: None is not a race definition (the prediction needs the race distance)")
    k = session.field_twin.leader_lap if at_lap is None else at_lap
    return _predict(records_frame(session.laps), race, k, _retired(session), runs, seed)


def _predict(frame: pd.DataFrame, race: RaceDefinition, at_lap: int, retired: set[str], runs: int,
             seed: int) -> dict[str, Any]:
    pred = predict_from_laps(frame, at_lap, runs=runs, seed=seed, track=race, retired=retired, race_priors=True)
    out = pred.to_json()
    out.pop("actual"), out.pop("score"), out.pop("retirements_after_k")
    return {"lap": at_lap, **out}


@dataclasses.dataclass(frozen=True)
class _Request:
    lap: int
    frame: pd.DataFrame
    retired: frozenset[str]


class LivePredictor:
    """Publishes the finish prediction on the hub (``race_prediction``) every leader lap.

    Parameters
    ----------
    race : RaceDefinition
        The race (its distance and name; the prediction fits everything else from the laps).
    runs, seed : int
        Monte Carlo races per prediction and the seed (the same laps give the same prediction).
    """

    def __init__(self, race: RaceDefinition, runs: int = 1000, seed: int = 0):
        if runs < 1:
            raise ValueError(f"runs: {runs} is not an integer >= 1")
        self.race, self.runs, self.seed = race, int(runs), int(seed)
        self.session = None
        self._last_lap = 0
        self.waiting: str | None = None  # why no prediction was requested at the last leader lap, if none was
        self._green_seen = False
        self._unsubscribe = None
        self._worker = LatestOnlyWorker(self._run, "racetwin-predict")
        self.counts = self._worker.counts  # requested, completed, superseded, failed

    def attach(self, session) -> None:
        """Subscribe to a `RaceSession`: each new leader lap queues a prediction."""
        self.session = session
        self._unsubscribe = session.subscribe(self.on_event)

    def on_event(self, event) -> None:
        if event.kind != "lap_completed" or self.session is None:
            return
        lap = self.session.field_twin.leader_lap
        if lap <= self._last_lap or lap < MIN_LAP or lap >= self.race.track.laps:
            return
        self._last_lap = lap
        frame = records_frame(self.session.laps)
        if not self._green_seen:  # checked until the first green racing lap; laps are never taken back
            try:
                self._green_seen = has_clean_lap(frame)
            except ValueError:
                self._green_seen = True  # a table the prediction refuses: let it fail and say why (last_error)
            if not self._green_seen:
                self.waiting = (f"lap {lap}: no green racing lap after lap 1 yet (a safety-car start?); the first "
                                "prediction comes after one")
                return
            self.waiting = None
        self.submit(lap, frame, _retired(self.session))

    def submit(self, lap: int, frame: pd.DataFrame, retired: Iterable[str] = ()) -> None:
        """Queue a prediction from ``frame`` at ``lap``; a request still waiting is superseded."""
        self._worker.submit(lambda generation: _Request(lap, frame, frozenset(retired)))

    def _run(self, request: _Request) -> None:
        result = _predict(request.frame, self.race, request.lap, set(request.retired), self.runs, self.seed)
        if self.session is not None:
            self.session.publish("race_prediction", result)  # thread-safe: the hub hands it to its subscribers

    @property
    def last_error(self) -> str | None:
        """The last failed prediction's error (``Type: message``), or None."""
        return self._worker.last_error

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        return self._worker.wait_idle(timeout_s)

    def status(self) -> dict[str, Any]:
        return {"runs": self.runs, "seed": self.seed, **self.counts, "busy": self._worker.busy,
                "last_error": self.last_error, "waiting": self.waiting}

    def close(self) -> None:
        """Unsubscribe and stop the worker thread."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._worker.close()
