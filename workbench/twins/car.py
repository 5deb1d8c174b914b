"""CarTwin: the live state of one car, built from telemetry records."""

from __future__ import annotations

from typing import Any

import numpy as np
import param

from workbench.telemetry.records import CarSample, Compound, LapRecord, Record, TrackStatus
from workbench.telemetry.schema import validate

__all__ = ["CarTwin", "RECENT_PACE_LAPS"]

RECENT_PACE_LAPS = 3
LIVE_CHANNELS = ("speed_kph", "throttle_pct", "brake", "gear", "rpm", "drs", "distance_m")
_SLOW_SAMPLE_FIELDS = ("compound", "tyre_age_laps", "in_pit")


class CarTwin(param.Parameterized):
    """Digital twin of one car: position, gaps, laps, stint, tyres, fuel and live channels.

    Feed it records with `update_state`; every field is a `param` parameter, so a
    notebook or a Panel app can watch it. This first version tracks what the
    telemetry says; tyre, fuel and pit-window *models* are layered on later.
    """

    driver = param.String(default="", doc="Driver abbreviation (FastF1 Driver).")
    team = param.String(default=None, allow_None=True, doc="Team name.")
    position = param.Integer(default=None, allow_None=True, bounds=(1, None), doc="Position at the last line crossing.")
    lap = param.Integer(default=0, bounds=(0, None), doc="Laps completed.")
    current_lap = param.Integer(default=1, bounds=(1, None), doc="Lap being driven.")
    gap_to_leader_s = param.Number(default=None, allow_None=True, doc="Gap to the leader at the line, s.")
    gap_ahead_s = param.Number(default=None, allow_None=True, doc="Interval to the car ahead at the line, s.")
    gap_behind_s = param.Number(default=None, allow_None=True, doc="Interval to the car behind at the line, s.")
    last_lap_time_s = param.Number(default=None, allow_None=True, doc="Last lap time, s.")
    best_lap_time_s = param.Number(default=None, allow_None=True, doc="Best lap time, s.")
    recent_pace_s = param.Number(default=None, allow_None=True,
                                 doc=f"Mean of the last {RECENT_PACE_LAPS} green, non-pit laps, s.")
    lap_times_s = param.List(default=[], item_type=float, doc="Lap time of every completed lap, s (nan if unknown).")
    stint = param.Integer(default=1, bounds=(1, None), doc="Stint number (FastF1 Stint).")
    compound = param.Selector(default=None, objects=[None, *Compound], allow_None=True, doc="Tyre compound.")
    tyre_age_laps = param.Integer(default=None, allow_None=True, bounds=(0, None), doc="Laps on this set.")
    fuel_kg = param.Number(default=None, allow_None=True, bounds=(0, None), doc="Fuel on board, kg.")
    pit_stops = param.Integer(default=0, bounds=(0, None), doc="Pit stops made.")
    in_pit = param.Boolean(default=False, doc="In the pit lane now.")
    retired = param.Boolean(default=False, doc="Out of the race.")
    track_status = param.Selector(default=TrackStatus.GREEN, objects=list(TrackStatus), doc="Track status.")
    session_time_s = param.Number(default=0.0, doc="Session time of the last record applied, s.")
    latest_sample = param.ClassSelector(class_=CarSample, default=None, allow_None=True,
                                        doc="The last high-rate sample (speed, throttle, brake, gear, DRS, ...).")

    _clean_laps: list[float]

    def __init__(self, **params):
        super().__init__(**params)
        self._clean_laps = []

    def update_state(self, sample: Record | dict[str, Any]) -> None:
        """Apply one record (a `CarSample` or `LapRecord`, or its wire dict) of this car.

        Raises
        ------
        ValueError
            If the record is for another driver or is not a car record.
        """
        record = validate(sample) if isinstance(sample, dict) else sample
        if not isinstance(record, (CarSample, LapRecord)):
            raise ValueError(f"type: {record.type!r} is not a car record (car_sample or lap)")
        if self.driver and record.driver != self.driver:
            raise ValueError(f"driver: {record.driver!r} is not this twin's driver {self.driver!r}")
        if isinstance(record, CarSample):
            self._apply_sample(record)
        else:
            self._apply_lap(record)

    def _apply_sample(self, s: CarSample) -> None:
        # High-rate path: one parameter set per sample; slow-changing fields only when they change.
        changed = {name: getattr(s, name) for name in _SLOW_SAMPLE_FIELDS
                   if getattr(s, name) is not None and getattr(s, name) != getattr(self, name)}
        if s.lap != self.current_lap:
            changed["current_lap"] = s.lap
        if changed:
            self.param.update(changed)
        self.latest_sample = s

    def _apply_lap(self, r: LapRecord) -> None:
        times = list(self.lap_times_s)
        times.extend([float("nan")] * (r.lap_number - len(times)))
        lap_time = float("nan") if r.lap_time_s is None else r.lap_time_s
        times[r.lap_number - 1] = lap_time
        clean = (r.lap_time_s is not None and r.track_status is TrackStatus.GREEN and not r.pit_in
                 and not r.pit_out and r.lap_number > 1)
        if clean:
            self._clean_laps.append(lap_time)
        valid = [t for t in times if not np.isnan(t)]
        update = {
            "lap": max(self.lap, r.lap_number), "current_lap": max(self.lap, r.lap_number) + 1,
            "lap_times_s": times, "last_lap_time_s": r.lap_time_s,
            "best_lap_time_s": min(valid) if valid else None,
            "recent_pace_s": float(np.mean(self._clean_laps[-RECENT_PACE_LAPS:])) if self._clean_laps else None,
            "session_time_s": r.session_time_s, "track_status": r.track_status,
            "in_pit": r.pit_in,
        }
        for name in ("position", "gap_to_leader_s", "compound", "tyre_age_laps", "stint", "fuel_kg", "team"):
            value = getattr(r, name)
            if value is not None:
                update[name] = value
        if r.position is not None:
            update["gap_ahead_s"] = r.interval_s if r.position > 1 else None
        if r.stint is not None:
            update["pit_stops"] = r.stint - 1
        elif r.pit_in:
            update["pit_stops"] = self.pit_stops + 1
        self.param.update(update)

    def state(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the twin."""
        out = {}
        for name in self.param:
            if name in ("name", "latest_sample"):
                continue
            value = getattr(self, name)
            if isinstance(value, (Compound, TrackStatus)):
                value = value.value
            elif isinstance(value, float) and np.isnan(value):
                value = None
            elif name == "lap_times_s":
                value = [None if np.isnan(v) else v for v in value]
            out[name] = value
        sample = self.latest_sample
        out["fuel_kg"] = sample.fuel_kg if sample is not None and sample.fuel_kg is not None else self.fuel_kg
        out["live"] = None if sample is None else {"session_time_s": sample.session_time_s, "lap": sample.lap,
                                                   **{c: getattr(sample, c) for c in LIVE_CHANNELS}}
        return out
