"""FieldTwin: every car of the race, their order and gaps, and the models of the rivals.

Beyond the running order it keeps the field's tyre model (every car's clean laps, refit
once per leader lap; each `CarTwin` uses it as its prior), per-rival pit probabilities
(`workbench.twins.pit_hazard`), behavioural profiles, and, for our car, threats and
opportunities (`workbench.twins.rivals`). The heavier views are computed when asked
(`state`, `threats`, `opportunities`) and cached until the next lap record.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import param

from workbench.telemetry.records import CarSample, LapRecord, Record, TrackStatus
from workbench.telemetry.schema import validate
from workbench.twins.car import CarTwin
from workbench.twins.context import TwinContext
from workbench.twins.online_tyre import OnlineTyreModel
from workbench.twins.pit_hazard import PitHazard, compound_life
from workbench.twins.pit_window import DRY
from workbench.twins.rivals import CarModel, attack_probability, overcut_gain_s, undercut_gain_s

__all__ = ["FieldTwin", "PIT_HORIZONS_LAPS", "PROFILE_AGE_LAPS"]

PIT_HORIZONS_LAPS = (1, 3, 5)
PROFILE_AGE_LAPS = 15  # tyre management compares time lost to wear at this age
MIN_CONSISTENCY_LAPS = 5
MIN_TRAFFIC_LAPS = 5


class FieldTwin(param.Parameterized):
    """Digital twin of the whole field: one `CarTwin` per driver plus the running order and rival models.

    ``update_state(record)`` routes a car record to its driver's twin (creating it on
    first sight) and refreshes the order and each car's gap to the car behind.

    Parameters
    ----------
    context : TwinContext, optional
        Race facts and priors shared by every car; generic when not given.
    """

    cars = param.Dict(default={}, doc="CarTwin per driver abbreviation.")
    order = param.List(default=[], item_type=str, doc="Drivers by position, leader first.")
    leader_lap = param.Integer(default=0, bounds=(0, None), doc="Laps completed by the leader.")
    our_driver = param.String(default=None, allow_None=True,
                              doc="Our car: threats and opportunities are computed for it.")
    track_status = param.Selector(default=TrackStatus.GREEN, objects=list(TrackStatus), doc="Track status now.")
    total_laps = param.Integer(default=None, allow_None=True, bounds=(1, 200), doc="Race distance, laps.")
    attack_laps = param.Integer(default=1, bounds=(1, 5),
                                doc="Laps between the two cars' stops in an undercut or overcut.")

    def __init__(self, context: TwinContext | None = None, **params):
        self.context = context or TwinContext()
        params.setdefault("total_laps", self.context.total_laps)
        super().__init__(**params)
        self.tyres = OnlineTyreModel(self.context.priors)
        self.hazard = PitHazard.bundled()
        self._pending: list[tuple[str, str, int, float]] = []
        self._stint_start: dict[str, tuple[int, int]] = {}  # driver -> (stint, first lap)
        self._completed_stints: dict[str, list[int]] = {}  # compound -> stint lengths that ended in a stop
        self._profile: dict[str, dict[str, Any]] = {}
        self._clean_deltas: list[float] = []
        self._traffic_deltas: list[float] = []
        self._snap: dict[str, tuple] = {}
        self._line_time_s: dict[str, float] = {}  # driver -> session time of its last line crossing
        self._links: dict[str, dict[str, Any]] = {}
        self._version = 0
        self._cache: dict[str, tuple[tuple, Any]] = {}

    def car(self, driver: str) -> CarTwin:
        """The twin of ``driver``, created empty if it has not been seen yet."""
        twin = self.cars.get(driver)
        if twin is None:
            twin = CarTwin(driver=driver, name=f"CarTwin {driver}", context=self.context, field_model=self.tyres,
                           total_laps=self.total_laps, model_pit_window=driver == self.our_driver)
            self.cars = {**self.cars, driver: twin}
        return twin

    @param.depends("our_driver", watch=True)
    def _our_car_changed(self) -> None:
        for driver, twin in self.cars.items():
            twin.model_pit_window = driver == self.our_driver

    def update_state(self, sample: Record | dict[str, Any]) -> bool:
        """Apply a `CarSample` or `LapRecord` (or its wire dict) of any driver.

        Returns False, changing nothing, when the car's twin refuses it as out of order.
        """
        record = validate(sample) if isinstance(sample, dict) else sample
        if not isinstance(record, (CarSample, LapRecord)):
            raise ValueError(f"type: {record.type!r} is not a car record (car_sample or lap)")
        twin = self.car(record.driver)
        if not twin.update_state(record):
            return False
        if isinstance(record, LapRecord):
            self._after_lap(twin, record)
            self._refresh_order(twin)
            self._version += 1
        return True

    def set_total_laps(self, total_laps: int) -> None:
        self.total_laps = total_laps
        for twin in self.cars.values():
            twin.total_laps = total_laps

    def retire(self, driver: str) -> None:
        twin = self.car(driver)
        twin.retired = True
        self._refresh_order(twin)
        self._version += 1

    # -- per lap ----------------------------------------------------------------
    def _after_lap(self, twin: CarTwin, r: LapRecord) -> None:
        d = twin.driver
        self._line_time_s[d] = r.session_time_s
        if twin.last_lap_clean:
            self._pending.append((twin.compound.value, f"{d}/{twin.stint}", twin.tyre_age_laps,
                                  twin.last_corrected_lap_time_s))
        if twin.delta_to_model_s is not None:
            if twin.last_lap_clean:
                self._clean_deltas.append(twin.delta_to_model_s)
                self._profile.setdefault(d, {}).setdefault("deltas", []).append(twin.delta_to_model_s)
            elif twin.lap_flags == ["traffic"]:
                self._traffic_deltas.append(twin.delta_to_model_s)
        stint, start = self._stint_start.get(d, (None, 1))
        if stint != twin.stint:
            self._stint_start[d] = (twin.stint, r.lap_number if stint is not None else 1)
            start = self._stint_start[d][1]
        if r.pit_in:
            if twin.compound is not None:
                self._completed_stints.setdefault(twin.compound.value, []).append(r.lap_number - start + 1)
            prof = self._profile.setdefault(d, {})
            prof["stops"] = prof.get("stops", 0) + 1
            ahead = self._car_at(r.position - 1) if r.position else None
            if (ahead is not None and r.interval_s is not None and r.interval_s < self.context.pit_loss_green_s
                    and not ahead.in_pit and ahead.stint <= twin.stint):
                prof["undercut_attempts"] = prof.get("undercut_attempts", 0) + 1

    def _car_at(self, position: int) -> CarTwin | None:
        for t in self.cars.values():
            if t.position == position and not t.retired:
                return t
        return None

    def _snapshot(self, twin: CarTwin) -> None:
        """Plain copy of what the order needs from one car (param attribute reads are not free)."""
        self._snap[twin.driver] = (twin, twin.retired, twin.lap, twin.position or 99, twin.gap_ahead_s,
                                   twin.corrected_pace_s, self._line_time_s.get(twin.driver, 0.0))

    def _distance_key(self, snap: tuple, grid: dict[str, int]) -> tuple:
        """Race-distance order: more laps first; on the same lap the position at the line, then who crossed first.

        A car that has just crossed the line (lap N done) is ahead of every car still on lap N; cars on the
        same lap keep the order in which they crossed it. Before its first lap a car keeps its grid slot.
        """
        twin, _, lap, position, _, _, line_time_s = snap
        if lap == 0:
            return (0, 0, grid.get(twin.driver, 99), 0.0)
        return (-lap, position, 0, line_time_s)

    def _refresh_order(self, changed: CarTwin) -> None:
        """Re-rank the running cars by race distance and relink neighbours after ``changed`` got a lap (or retired).

        Retired cars leave the order (`standings` lists them after it, marked ``OUT``).
        """
        self._snapshot(changed)
        for driver, twin in self.cars.items():
            if driver not in self._snap:
                self._snapshot(twin)
        grid = {d: i for i, d in enumerate(self.order)}  # before a car's first lap: its place so far (the grid)
        ranked = sorted((s for s in self._snap.values() if not s[1]), key=lambda s: self._distance_key(s, grid))
        links: dict[str, dict[str, Any]] = {s[0].driver: {"gap_behind_s": None} for s in ranked}
        for (ahead, _, a_lap, _, _, a_pace, _), (behind, _, b_lap, _, b_gap, b_pace, _) in zip(ranked, ranked[1:]):
            links[ahead.driver]["gap_behind_s"] = b_gap if b_lap == a_lap else None
            if a_pace is not None and b_pace is not None:
                links[ahead.driver]["delta_to_behind_s"] = a_pace - b_pace
                links[behind.driver]["delta_to_ahead_s"] = b_pace - a_pace
        for s in ranked:
            old = self._links.get(s[0].driver, {})
            for k, v in links[s[0].driver].items():
                if old.get(k, "unset") != v:
                    setattr(s[0], k, v)  # one or two values: cheaper than param.update, which reads every value
        for s in self._snap.values():
            if s[1]:  # a retired car has no one behind it
                links[s[0].driver] = {"gap_behind_s": None}
                if self._links.get(s[0].driver, {}).get("gap_behind_s") is not None:
                    s[0].gap_behind_s = None
        self._links = links
        leader_lap = max((s[2] for s in self._snap.values()), default=0)
        if leader_lap > self.leader_lap and self._pending:
            for lap in self._pending:
                self.tyres.add(*lap)
            self._pending = []
        order = [s[0].driver for s in ranked]
        if order != self.order or leader_lap != self.leader_lap:
            self.param.update(order=order, leader_lap=leader_lap)

    # -- models of the rivals ---------------------------------------------------
    def _cached(self, name: str, compute):
        key = (self._version, self.our_driver, self.track_status)
        hit = self._cache.get(name)
        if hit is None or hit[0] != key:
            hit = (key, compute())
            self._cache[name] = hit
        return hit[1]

    def typical_stint_laps(self) -> float | None:
        if self.total_laps is None:
            return None
        return self.total_laps / (self.context.expected_stops + 1.0)

    def pit_probability(self, driver: str) -> dict[str, float] | None:
        """P(``driver`` pits within the next 1, 3, 5 laps); None when unknown (no lap, no race length)."""
        twin = self.cars[driver]
        norm = self.typical_stint_laps()
        if norm is None or twin.retired or twin.compound is None or twin.lap < 1:
            return None
        _, start = self._stint_start.get(driver, (None, 1))
        age = twin.lap - start + 1  # laps since the last stop, as in the fit
        extra = twin.pit_stops - self.context.expected_stops
        if twin.in_pit:  # its in-lap: the next lap is on a new set
            age, extra = 0, extra + 1
        life = compound_life(self._completed_stints.get(twin.compound.value, []), norm)
        neutral = self.track_status in (TrackStatus.SC, TrackStatus.VSC)
        to_go = self.total_laps - twin.lap
        return {str(h): round(self.hazard.pit_within(h, age, norm * life, neutral, extra, to_go), 4)
                for h in PIT_HORIZONS_LAPS}

    def _car_model(self, twin: CarTwin) -> CarModel | None:
        twin.refresh_pit_window()
        if twin.corrected_pace_s is None or twin.compound is None or twin.tyre_age_laps is None:
            return None
        compound = twin.compound.value
        if compound not in DRY:
            return None
        new = twin.pit_window_compound or next((c for c in ("HARD", "MEDIUM", "SOFT") if c != compound), compound)
        fit = twin.degradation_fit(compound)
        return CarModel(driver=twin.driver, pace_s=twin.corrected_pace_s, compound=compound,
                        tyre_age_laps=twin.tyre_age_laps, fit=fit, new_fit=twin.degradation_fit(new), new_compound=new,
                        offset_s=self.context.offsets_s.get(compound, 0.0),
                        new_offset_s=self.context.offsets_s.get(new, 0.0), noise_s=fit.noise_s)

    def _neighbours(self) -> tuple[CarTwin | None, list[tuple[CarTwin, float]]]:
        """Our car and every running rival with its gap to us (positive: behind us), within a pit loss."""
        us = self.cars.get(self.our_driver) if self.our_driver else None
        if us is None or us.gap_to_leader_s is None or us.retired:
            return us, []
        out = []
        for t in self.cars.values():
            if t is us or t.retired or t.gap_to_leader_s is None or abs(t.lap - us.lap) > 1:
                continue
            gap = t.gap_to_leader_s - us.gap_to_leader_s
            if abs(gap) < self.context.pit_loss_green_s:
                out.append((t, gap))
        return us, sorted(out, key=lambda x: x[1])

    def threats(self) -> list[dict[str, Any]]:
        """Undercut and overcut threats to our car from rivals within a pit loss behind us."""
        return self._cached("threats", self._threats)

    def _threats(self) -> list[dict[str, Any]]:
        us, around = self._neighbours()
        ours = None if us is None else self._car_model(us)
        out = []
        for t, gap in around:
            rival = self._car_model(t)
            if ours is None or rival is None or gap <= 0:
                continue
            p_pit = (self.pit_probability(t.driver) or {}).get("1", 0.0)
            gain, sd = undercut_gain_s(rival, ours, self.attack_laps)
            out.append({"kind": "undercut", "rival": t.driver, "gap_s": round(gap, 3), "gain_s": round(gain, 3),
                        "margin_s": round(gain - gap, 3), "rival_pit_probability": p_pit,
                        "probability": round(p_pit * attack_probability(gain, sd, gap), 4)})
            gain, sd = overcut_gain_s(rival, ours, self.attack_laps)
            out.append({"kind": "overcut", "rival": t.driver, "gap_s": round(gap, 3), "gain_s": round(gain, 3),
                        "margin_s": round(gain - gap, 3), "if": "we stop first",
                        "probability": round(attack_probability(gain, sd, gap), 4)})
        return sorted(out, key=lambda x: -x["probability"])

    def opportunities(self) -> list[dict[str, Any]]:
        """Undercut / overcut on cars ahead, a cheap stop under SC/VSC, free air after a stop: with gains."""
        return self._cached("opportunities", self._opportunities)

    def _opportunities(self) -> list[dict[str, Any]]:
        us, around = self._neighbours()
        if us is None:
            return []
        ours = self._car_model(us)
        out = []
        for t, gap in around:
            rival = self._car_model(t)
            if ours is None or rival is None or gap >= 0:
                continue
            ahead = -gap
            gain, sd = undercut_gain_s(ours, rival, self.attack_laps)
            out.append({"kind": "undercut", "rival": t.driver, "gap_s": round(ahead, 3),
                        "expected_gain_s": round(gain, 3), "margin_s": round(gain - ahead, 3),
                        "probability": round(attack_probability(gain, sd, ahead), 4)})
            p_pit = (self.pit_probability(t.driver) or {}).get("1", 0.0)
            gain, sd = overcut_gain_s(ours, rival, self.attack_laps)
            out.append({"kind": "overcut", "rival": t.driver, "gap_s": round(ahead, 3),
                        "expected_gain_s": round(gain, 3), "margin_s": round(gain - ahead, 3),
                        "rival_pit_probability": p_pit,
                        "probability": round(p_pit * attack_probability(gain, sd, ahead), 4)})
        status = self.track_status.value
        if status in ("SC", "VSC") and (us.pit_window_stops_to_go or 0) > 0:
            saving = self.context.pit_loss_green_s - self.context.pit_loss_s(status)
            out.append({"kind": f"cheap_stop_{status.lower()}", "rival": None, "expected_gain_s": round(saving, 3),
                        "probability": 1.0})
        free = self._free_air(us)
        if free is not None:
            out.append(free)
        return sorted(out, key=lambda x: -(x["probability"] * max(x["expected_gain_s"] or 0.0, 0.0)))

    def traffic_cost_s(self) -> float | None:
        """Time a lap in dirty air costs vs a clean lap, learned from the field's laps so far, s."""
        if len(self._traffic_deltas) < MIN_TRAFFIC_LAPS or not self._clean_deltas:
            return None
        return float(np.mean(self._traffic_deltas) - np.mean(self._clean_deltas))

    def _free_air(self, us: CarTwin) -> dict[str, Any] | None:
        """Where we rejoin if we stop now, and whether the air there is free."""
        if us.gap_to_leader_s is None or self.total_laps is None or us.lap >= self.total_laps - 1:
            return None
        rejoin = us.gap_to_leader_s + self.context.pit_loss_s(self.track_status.value)
        others = sorted(t.gap_to_leader_s for t in self.cars.values()
                        if t is not us and not t.retired and t.gap_to_leader_s is not None and t.lap == us.lap)
        ahead = [g for g in others if g <= rejoin]
        gap_ahead = rejoin - ahead[-1] if ahead else None
        free = gap_ahead is None or gap_ahead >= us.traffic_gap_s
        cost = self.traffic_cost_s()
        in_traffic_now = "traffic" in us.lap_flags
        gain = (cost if (free and in_traffic_now and cost is not None) else 0.0)
        return {"kind": "free_air", "rival": None, "rejoin_position": len(ahead) + 1,
                "rejoin_gap_ahead_s": None if gap_ahead is None else round(gap_ahead, 3), "free_air": free,
                "expected_gain_s": round(gain, 3), "probability": 1.0 if free else 0.0}

    def profiles(self) -> dict[str, dict[str, Any]]:
        """Behaviour per driver: undercut tendency, tyre management vs field and teammate, pace consistency."""
        return self._cached("profiles", self._profiles)

    def _profiles(self) -> dict[str, dict[str, Any]]:
        out = {}
        for d, twin in self.cars.items():
            prof = self._profile.get(d, {})
            stops = prof.get("stops", 0)
            deltas = prof.get("deltas", [])
            row = {"stops": stops, "undercut_attempts": prof.get("undercut_attempts", 0),
                   "undercut_tendency": round(prof.get("undercut_attempts", 0) / stops, 3) if stops else None,
                   "pace_consistency_s": round(float(np.std(deltas, ddof=1)), 3)
                   if len(deltas) >= MIN_CONSISTENCY_LAPS else None,
                   "degradation_vs_field_s": None, "degradation_vs_teammate_s": None}
            if twin.compound is not None and twin.tyres.n_laps(twin.compound.value) > 0:
                c = twin.compound.value
                own = float(twin.degradation_fit(c).degradation_s(PROFILE_AGE_LAPS)[0])
                field = float(self.tyres.best(c).degradation_s(PROFILE_AGE_LAPS)[0])
                row["degradation_vs_field_s"] = round(own - field, 3)
                mate = next((t for t in self.cars.values() if t is not twin and t.team and t.team == twin.team
                             and t.tyres.n_laps(c) > 0), None)
                if mate is not None:
                    row["degradation_vs_teammate_s"] = round(
                        own - float(mate.degradation_fit(c).degradation_s(PROFILE_AGE_LAPS)[0]), 3)
            out[d] = row
        return out

    # -- views -------------------------------------------------------------------
    def live_position(self, driver: str) -> int | None:
        """``driver``'s place in the running order now (unique; None when retired or unknown)."""
        try:
            return self.order.index(driver) + 1
        except ValueError:
            return None

    def standings(self) -> list[dict[str, Any]]:
        """The timing tower: one row per running car in race-distance order, then the retired cars.

        ``rank`` and ``position`` are the place in the order now (unique, 1..N running cars);
        ``position_at_line`` is what the car's last lap record said. A retired car has ``status``
        ``"OUT"`` and no rank, position or gaps; a car on its in-lap ``"PIT"``; any other ``"RUNNING"``.
        """
        rows = []
        running = list(self.order)
        out = sorted((d for d, t in self.cars.items() if t.retired and d not in running),
                     key=lambda d: (-self.cars[d].lap, d))
        for rank, driver in enumerate([*running, *out], start=1):
            t = self.cars[driver]
            gone = t.retired
            if not gone:
                t.refresh_pit_window()  # rivals' windows are computed when a view asks, once per lap
            place = None if gone else rank
            rows.append({"rank": place, "driver": driver, "team": t.team, "position": place,
                         "position_at_line": t.position, "status": "OUT" if gone else "PIT" if t.in_pit else "RUNNING",
                         "lap": t.lap,
                         "gap_to_leader_s": None if gone else t.gap_to_leader_s,
                         "interval_s": None if gone else t.gap_ahead_s,
                         "last_lap_time_s": t.last_lap_time_s, "best_lap_time_s": t.best_lap_time_s,
                         "compound": t.compound.value if t.compound else None, "tyre_age_laps": t.tyre_age_laps,
                         "pit_stops": t.pit_stops, "in_pit": t.in_pit, "retired": gone,
                         "corrected_pace_s": t.corrected_pace_s, "degradation_s": t.degradation_s,
                         "pit_window_ideal_lap": None if gone else t.pit_window_ideal_lap,
                         "pit_probability": self.pit_probability(driver)})
        return rows

    def compound_models(self) -> dict[str, dict[str, Any]]:
        """The field's degradation model per compound with laps (the chosen family)."""
        return {c: self.tyres.best(c).to_dict() for c in DRY if self.tyres.n_laps(c) > 0}

    def state(self) -> dict[str, Any]:
        return {"leader_lap": self.leader_lap, "order": list(self.order), "our_driver": self.our_driver,
                "track_status": self.track_status.value, "total_laps": self.total_laps,
                "cars": self.standings(), "compounds": self.compound_models(),
                "traffic_cost_s": self.traffic_cost_s(), "threats": self.threats(),
                "opportunities": self.opportunities(), "profiles": self.profiles()}
