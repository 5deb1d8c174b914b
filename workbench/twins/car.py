"""CarTwin: the live state of one car, built from telemetry records."""

from __future__ import annotations

from typing import Any

import numpy as np
import param

from workbench.telemetry.records import CarSample, Compound, LapRecord, Record, TrackStatus
from workbench.telemetry.schema import validate
from workbench.twins.context import TwinContext
from workbench.twins.fuel_model import estimate_fuel
from workbench.twins.online_tyre import OnlineTyreModel
from workbench.twins.pit_window import DRY, pit_window
from workbench.twins.twin_schemas import TWIN_SCHEMA_VERSION, parameterized_state, parameterized_state_schema
from workbench.twins.tyre_model import CLIFF_RATE_S_PER_LAP, normal_cdf, prior_from_fit
from workbench.twins.tyre_model import best as best_fit

__all__ = ["CarTwin", "RECENT_PACE_LAPS", "car_twin_schema", "car_live_schema"]

RECENT_PACE_LAPS = 3
INTERCEPT_LAPS = 3  # the stint's level: mean of its last clean laps with wear and fuel removed
OUTLIER_S = 2.0  # a lap this far from the model's expectation is a mistake, a fight or damage
FIELD_PRIOR_MIN_LAPS = 10  # the field's fit becomes our prior once it has this many laps on a compound
FIELD_PRIOR_INFLATE = 4.0  # our car may wear its tyres differently from the average car
LIVE_CHANNELS = ("speed_kph", "throttle_pct", "brake", "gear", "rpm", "drs", "distance_m")
_SLOW_SAMPLE_FIELDS = ("compound", "tyre_age_laps", "in_pit")
FUEL_STEP_KG = 0.1  # a sample moves the fuel_kg parameter when its reading differs by this much (or more)


def _same(a, b) -> bool:
    """Equal values (lists element-wise, NaN equal to NaN)."""
    if isinstance(a, list):
        return len(a) == len(b) and all(x is y or x == y or (x != x and y != y) for x, y in zip(a, b))
    return a == b


_NOW = object()  # degradation_fit: use the field's posterior as it is now

class CarTwin(param.Parameterized):
    """Digital twin of one car: position, gaps, laps, stint, tyres, fuel and live channels.

    Feed it records with `update_state`; every field is a `param` parameter, so a
    notebook or a Panel app can watch it. High-rate samples only set the live
    channels; each completed lap (`LapRecord`) flags the lap, refits the tyre model on
    this car's clean laps (prior: the field on the same compound, else the race
    definition), and recomputes fuel, deltas, cliff risk and the pit window.

    Parameters
    ----------
    context : TwinContext, optional
        Race facts and priors (`TwinContext.from_race`); generic when not given.
    field_model : OnlineTyreModel, optional
        The field's tyre model, whose posterior becomes this car's prior.
    """

    # -- settings (bounded, documented) --
    traffic_gap_s = param.Number(default=1.0, bounds=(0.0, 5.0), doc="A lap ending within this of the car ahead "
                                 "ran in dirty air and is not used to fit the tyre model, s.")
    pit_window_tolerance_s = param.Number(default=1.0, bounds=(0.0, 30.0), doc="Laps whose best plan is within "
                                          "this of the best plan are inside the pit window, s.")
    cliff_rate_s_per_lap = param.Number(default=CLIFF_RATE_S_PER_LAP, bounds=(0.01, 5.0),
                                        doc="Wear rate that counts as a cliff, s lost per extra lap.")
    model_pit_window = param.Boolean(default=True, doc="Recompute the pit window on every lap (our car); "
                                     "False: only when refresh_pit_window() is called (rivals, when a view asks).")
    available_sets = param.Dict(default=None, allow_None=True,
                                doc="New sets left per dry compound, e.g. {'HARD': 2}; None: not limited.")

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
    fuel_kg = param.Number(default=None, allow_None=True, bounds=(0, None),
                           doc="Fuel on board, kg: the latest reading (lap record, or a sample once it "
                               f"differs by {FUEL_STEP_KG} kg or more).")
    tyre_wear_pct = param.Number(default=None, allow_None=True, bounds=(0, 100),
                                 doc="Tyre wear from telemetry at the last lap end (F1 game), %; None if not sent.")
    pit_stops = param.Integer(default=0, bounds=(0, None), doc="Pit stops made.")
    in_pit = param.Boolean(default=False, doc="In the pit lane now.")
    retired = param.Boolean(default=False, doc="Out of the race.")
    track_status = param.Selector(default=TrackStatus.GREEN, objects=list(TrackStatus), doc="Track status.")
    session_time_s = param.Number(default=0.0, doc="Session time of the last record applied, s.")
    total_laps = param.Integer(default=None, allow_None=True, bounds=(1, 200), doc="Race distance, laps.")
    # -- per-lap model outputs --
    lap_flags = param.List(default=[], item_type=str,
                           doc="Why the last lap is not clean: in, out, lap1, sc, vsc, yellow, red, traffic, "
                               "outlier, no_time; empty for a clean lap.")
    compounds_used = param.List(default=[], item_type=str, doc="Dry compounds raced so far (two-compound rule).")
    fuel_burn_kg_per_lap = param.Number(default=None, allow_None=True, bounds=(0, None),
                                        doc="Fuel burnt per green lap: median of telemetry readings, else model, kg.")
    fuel_source = param.Selector(default="model", objects=["model", "telemetry"],
                                 doc="Where the fuel numbers come from.")
    fuel_laps_left = param.Number(default=None, allow_None=True, bounds=(0, None),
                                  doc="Laps the fuel on board lasts at the current burn.")
    lift_and_coast_kg_per_lap = param.Number(default=0.0, bounds=(0, None),
                                             doc="Fuel to save per lap to reach the flag with a 1 kg margin, kg.")
    tyre_model = param.String(default=None, allow_None=True,
                              doc="Degradation family chosen by evidence for the current compound.")
    degradation_s = param.Number(default=None, allow_None=True,
                                 doc="Time lost to wear at the current tyre age vs a new set, s.")
    degradation_sd_s = param.Number(default=None, allow_None=True, bounds=(0, None),
                                    doc="Posterior standard deviation of degradation_s, s.")
    degradation_rate_s_per_lap = param.Number(default=None, allow_None=True, doc="Time lost per extra lap now, s.")
    cliff_risk = param.Number(default=None, allow_None=True, bounds=(0, 1),
                              doc="P(wear rate above cliff_rate_s_per_lap), or of recent laps far above the model.")
    corrected_pace_s = param.Number(default=None, allow_None=True,
                                    doc="Pace on a new set with no fuel: last clean laps minus wear and fuel, s.")
    expected_lap_time_s = param.Number(default=None, allow_None=True,
                                       doc="The model's expectation of the last lap before it was driven, s.")
    delta_to_model_s = param.Number(default=None, allow_None=True, doc="Last lap minus the model's expectation, s.")
    delta_to_stint_s = param.Number(default=None, allow_None=True,
                                    doc="Last lap minus the mean of this stint's earlier clean laps, s.")
    delta_to_ahead_s = param.Number(default=None, allow_None=True,
                                    doc="Corrected pace minus the car ahead's (negative: we are faster), s.")
    delta_to_behind_s = param.Number(default=None, allow_None=True,
                                     doc="Corrected pace minus the car behind's (negative: we are faster), s.")
    pit_window_earliest_lap = param.Integer(default=None, allow_None=True, bounds=(1, None),
                                            doc="Earliest in-lap within pit_window_tolerance_s of the best plan.")
    pit_window_ideal_lap = param.Integer(default=None, allow_None=True, bounds=(1, None),
                                         doc="In-lap of the best plan.")
    pit_window_latest_lap = param.Integer(default=None, allow_None=True, bounds=(1, None),
                                          doc="Latest in-lap within pit_window_tolerance_s of the best plan.")
    pit_window_compound = param.String(default=None, allow_None=True, doc="Compound of the next set in the best plan.")
    pit_window_stops_to_go = param.Integer(default=None, allow_None=True, bounds=(0, 2),
                                           doc="Stops left in the best plan (0: run to the flag).")

    _clean_laps: list[float]
    #: The last high-rate sample (speed, throttle, brake, gear, DRS, ...): a plain attribute, not a
    #: parameter, because setting a parameter at 10-60 Hz per car was the ingest path's main cost.
    latest_sample: CarSample | None

    def __init__(self, context: TwinContext | None = None, field_model: OnlineTyreModel | None = None, **params):
        self.context = context or TwinContext()
        params.setdefault("total_laps", self.context.total_laps)
        super().__init__(**params)
        self.latest_sample = None
        self._clean_laps = []
        self._last_time_s = float("-inf")
        # The sample-driven parameters as last read or set here (plain dict reads are ~10x cheaper than
        # parameter reads); any change to them from elsewhere drops the copy (watcher below).
        self._sample_params: dict[str, Any] | None = None
        self.param.watch(self._drop_sample_params, [*_SLOW_SAMPLE_FIELDS, "current_lap", "fuel_kg"])
        self.field_model = field_model
        self.tyres = OnlineTyreModel(self.context.priors)
        self._stint_laps: list[tuple[int, float]] = []  # (tyre age, corrected lap time) of this stint's clean laps
        self._stint_raw: list[tuple[int, int, float]] = []  # (lap, tyre age, lap time) of the same laps
        self._stint_key: str | None = None
        self._field_prior_of: dict[str, Any] = {}
        self._recent_resid: list[float] = []
        self._fuel_readings: list[tuple[int, float]] = []
        self.last_lap_clean = False
        self.last_corrected_lap_time_s: float | None = None
        self._last_fit: dict[str, Any] = {}  # compound -> the fit after the last lap
        self._pit_inputs: tuple | None = None  # what the pit window of the last lap needs
        self._pit_window_lap: int | None = None  # lap whose pit window the parameters show

    def update_state(self, sample: Record | dict[str, Any]) -> bool:
        """Apply one record (a `CarSample` or `LapRecord`, or its wire dict) of this car.

        Returns False, changing nothing, for a record older than the last one applied
        or a lap already applied.

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
        if record.session_time_s < self._last_time_s:
            return False  # out of order: older than what the twin already shows
        if isinstance(record, CarSample):
            self._last_time_s = record.session_time_s
            self._apply_sample(record)
            return True
        if record.lap_number <= self.lap:
            return False  # a lap already applied (duplicate or out of order)
        self._last_time_s = record.session_time_s
        self._apply_lap(record)
        return True

    def _drop_sample_params(self, *events) -> None:
        self._sample_params = None

    def _apply_sample(self, s: CarSample) -> None:
        # High-rate path: no parameter read or set unless a slow-changing field really changes.
        known = self._sample_params
        if known is None:
            known = {name: getattr(self, name) for name in (*_SLOW_SAMPLE_FIELDS, "current_lap", "fuel_kg")}
        changed = {}
        for name in _SLOW_SAMPLE_FIELDS:
            value = getattr(s, name)
            if value is not None and value != known[name]:
                changed[name] = value
        fuel = s.fuel_kg  # changes on every sample: the parameter follows it in FUEL_STEP_KG steps
        if fuel is not None and (known["fuel_kg"] is None or abs(fuel - known["fuel_kg"]) >= FUEL_STEP_KG):
            changed["fuel_kg"] = fuel
        if s.lap != known["current_lap"]:
            changed["current_lap"] = s.lap
        if changed:
            self.param.update(changed)  # the watcher drops the copy: re-read on the next sample
        else:
            self._sample_params = known
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
        now = {name: update.get(name, getattr(self, name)) for name in ("stint", "compound", "tyre_age_laps", "lap")}
        update.update(self._model_lap(r, now))
        # Set only what changed, watchers batched as in param.update (setting a parameter is the costly part).
        current = self.param.values()
        with param.parameterized.batch_call_watchers(self):
            for name, value in update.items():
                old = current[name]
                if value is not old and not (type(value) is type(old) and _same(value, old)):
                    setattr(self, name, value)

    # -- per-lap models ------------------------------------------------------
    def _lap_flags(self, r: LapRecord) -> list[str]:
        flags = [name for name, on in (("in", r.pit_in), ("out", r.pit_out), ("lap1", r.lap_number == 1)) if on]
        if r.track_status is not TrackStatus.GREEN:
            flags.append(r.track_status.value.lower())
        if r.interval_s is not None and (r.position or 1) > 1 and r.interval_s < self.traffic_gap_s:
            flags.append("traffic")
        if r.lap_time_s is None:
            flags.append("no_time")
        return flags

    def degradation_fit(self, compound: str, field_fits: Any = _NOW):
        """This car's posterior on a compound; the field's posterior is the prior once it has laps.

        On a compound this car has not raced yet, the field's posterior itself (once it has
        `FIELD_PRIOR_MIN_LAPS` laps), else the race definition's prior. With a field prior
        the family is the one with the highest joint evidence (field's + ours): a dozen
        laps of one car cannot overrule the shape the whole field shows. ``field_fits``
        pins the field's posterior to one taken earlier (see `_field_fits_now`), so a
        result computed later equals the one computed at the lap.
        """
        fits = self._field_fits_now(compound) if field_fits is _NOW else field_fits
        if fits is not None:
            if self.tyres.n_laps(compound) == 0:
                return best_fit(fits)  # no laps of ours on it: the field's posterior as it is
            if self._field_prior_of.get(compound) is not fits:
                self._field_prior_of[compound] = fits
                self.tyres.set_prior(compound, prior_from_fit(fits, FIELD_PRIOR_INFLATE, source="field"))
            own = self.tyres.fits(compound)
            return own[max(own, key=lambda f: own[f].log_evidence + fits[f].log_evidence)]
        return self.tyres.best(compound)

    def fit_after_last_lap(self, compound: str):
        """The degradation fit on ``compound`` as it stood after this car's last lap on it, or None.

        What views show: unlike `degradation_fit`, it reads and never updates the twin, and it is
        the fit behind ``tyre_model`` and ``degradation_s``.
        """
        return self._last_fit.get(compound)

    def _field_fits_now(self, compound: str):
        """The field's posterior on a compound if it is usable as a prior now, else None."""
        field = self.field_model
        if field is not None and field.n_laps(compound) >= FIELD_PRIOR_MIN_LAPS:
            return field.fits(compound)
        return None

    def _model_lap(self, r: LapRecord, now: dict[str, Any]) -> dict[str, Any]:
        """Flags, fuel, tyre fit, deltas and pit window after a completed lap: one dict for param.update."""
        ctx = self.context
        stint_key = f"{self.driver}/{now['stint']}"
        if stint_key != self._stint_key:
            self._stint_key, self._stint_laps, self._stint_raw, self._recent_resid = stint_key, [], [], []
        sample = self.latest_sample
        fuel_now = r.fuel_kg if r.fuel_kg is not None else (sample.fuel_kg if sample is not None else None)
        if fuel_now is not None and r.track_status is TrackStatus.GREEN and not (r.pit_in or r.pit_out):
            self._fuel_readings.append((r.lap_number, fuel_now))
        fuel = estimate_fuel(self._fuel_readings, r.lap_number, self.total_laps, fuel_now, ctx.fuel_start_kg,
                             ctx.fuel_burn_kg_per_lap)
        flags = self._lap_flags(r)
        compound = now["compound"].value if now["compound"] is not None else None
        used = list(self.compounds_used)
        if compound in DRY and compound not in used:
            used.append(compound)
        out: dict[str, Any] = {
            "compounds_used": used, "fuel_burn_kg_per_lap": fuel.burn_kg_per_lap, "fuel_source": fuel.source,
            "fuel_laps_left": fuel.laps_of_fuel if np.isfinite(fuel.laps_of_fuel) else None,
            "lift_and_coast_kg_per_lap": fuel.lift_and_coast_kg_per_lap,
            "tyre_wear_pct": sample.tyre_wear_pct if sample is not None else self.tyre_wear_pct}
        age = now["tyre_age_laps"]
        self.last_lap_clean, self.last_corrected_lap_time_s = False, None
        if compound is None or age is None:
            return out | {"lap_flags": flags}
        # The expectation of this lap comes from the fit as it stood after the previous lap.
        fit = self._last_fit.get(compound) or self.degradation_fit(compound)
        mass = ctx.mass_effect_s_per_kg
        expected = None
        if self._stint_laps:
            recent = np.array(self._stint_laps[-INTERCEPT_LAPS:])
            level = float(np.mean(recent[:, 1] - fit.degradation_s(recent[:, 0])))
            expected = level + float(fit.degradation_s(age)[0]) + mass * fuel.fuel_kg
        lap_time = r.lap_time_s
        if lap_time is not None and expected is not None and not flags and abs(lap_time - expected) > OUTLIER_S:
            flags.append("outlier")
        stint_times = [t for _, _, t in self._stint_raw]
        out["expected_lap_time_s"] = expected
        out["delta_to_model_s"] = None if expected is None or lap_time is None else lap_time - expected
        out["delta_to_stint_s"] = (lap_time - float(np.mean(stint_times))) if stint_times and lap_time else None
        if not flags:
            corrected = lap_time - mass * fuel.fuel_kg
            if expected is not None:
                self._recent_resid = (self._recent_resid + [lap_time - expected])[-INTERCEPT_LAPS:]
            self._stint_laps.append((age, corrected))
            self._stint_raw.append((r.lap_number, age, lap_time))
            self.tyres.add(compound, stint_key, age, corrected)
            self.last_lap_clean, self.last_corrected_lap_time_s = True, corrected
        fit = self._last_fit[compound] = self.degradation_fit(compound)
        out["lap_flags"] = flags
        if self._stint_laps:
            recent = np.array(self._stint_laps[-INTERCEPT_LAPS:])
            out["corrected_pace_s"] = float(np.mean(recent[:, 1] - fit.degradation_s(recent[:, 0])))
        rate, _ = fit.rate_s_per_lap(age)
        risk = fit.cliff_risk(age, self.cliff_rate_s_per_lap)
        if len(self._recent_resid) == INTERCEPT_LAPS:  # recent laps far above the model: the set is going off
            z = float(np.mean(self._recent_resid)) / (fit.noise_s / np.sqrt(INTERCEPT_LAPS))
            risk = max(risk, normal_cdf(z - 2.0))
        out |= {"tyre_model": fit.family, "degradation_s": float(fit.degradation_s(age)[0]),
                "degradation_sd_s": float(fit.degradation_sd_s(age)[0]), "degradation_rate_s_per_lap": rate,
                "cliff_risk": float(risk)}
        # the field's posteriors as they are at this lap: a window computed later (when a view asks)
        # must not depend on when that is
        field_fits = {c: self._field_fits_now(c) for c in DRY}
        self._pit_inputs = (now["lap"], compound, age, used, r.track_status, field_fits)
        if self.model_pit_window:
            out |= self._pit_window(*self._pit_inputs)
        return out

    def refresh_pit_window(self) -> None:
        """Compute the pit window for the last completed lap if it is not computed yet (cheap when fresh)."""
        if self._pit_inputs is not None and self._pit_window_lap != self._pit_inputs[0]:
            self.param.update(self._pit_window(*self._pit_inputs))

    def _pit_window(self, lap: int, compound: str, age: int, used: list[str], status: TrackStatus,
                    field_fits: dict[str, Any]) -> dict[str, Any]:
        keys = ("pit_window_earliest_lap", "pit_window_ideal_lap", "pit_window_latest_lap", "pit_window_compound",
                "pit_window_stops_to_go")
        window = None
        self._pit_window_lap = lap
        if self.total_laps is not None and lap < self.total_laps:
            fits = {c: self.degradation_fit(c, field_fits[c]) for c in DRY}
            window = pit_window(lap, self.total_laps, compound, age,
                                {c: f.degradation_s for c, f in fits.items()}, self.context.offsets_s,
                                self.context.pit_loss_s(status.value), set(used), self.available_sets,
                                self.pit_window_tolerance_s)
        if window is None:
            return dict.fromkeys(keys)
        return dict(zip(keys, (window.earliest_lap, window.ideal_lap, window.latest_lap, window.compound,
                               window.stops_to_go)))

    def state(self) -> dict[str, Any]:
        """The twin's JSON: every parameter (`parameterized_state`, the shape `car_twin_schema` describes)
        plus ``live``, the last high-rate sample's channels. REST, the push stream and the page read this."""
        out = parameterized_state(self)
        sample = self.latest_sample
        out["live"] = None if sample is None else {"session_time_s": sample.session_time_s, "lap": sample.lap,
                                                   **{c: getattr(sample, c) for c in LIVE_CHANNELS}}
        return out


def car_live_schema() -> dict[str, Any]:
    """The ``live`` property of `CarTwin.state`: the last high-rate sample's channels, or null."""
    return {"type": ["object", "null"], "description": "The last high-rate sample.",
            "properties": {c: {} for c in ("session_time_s", "lap", *LIVE_CHANNELS)}}


def car_twin_schema() -> dict[str, Any]:
    """JSON schema of `CarTwin.state`: every parameter with its type, bounds and doc, plus ``live``."""
    body = parameterized_state_schema(CarTwin, extra={"live": car_live_schema()}, title="CarTwin state")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "version": TWIN_SCHEMA_VERSION, **body}
