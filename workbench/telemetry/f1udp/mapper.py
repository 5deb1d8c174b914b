"""Map decoded F1-game packets onto our records (`CarSample`, `LapRecord`, `SessionInfo`, `RaceEvent`).

The game streams *state* (every car's lap data, telemetry, status, damage at N Hz);
our records are *samples and changes*. `F1GameMapper` keeps the last state per car
and emits:

- `CarSample` per active car for every CarTelemetry packet, merged with the car's
  latest LapData (lap, distance, pit), CarStatus (fuel, compound, tyre age) and
  CarDamage (tyre wear);
- `LapRecord` when a car's lap number goes up (LapData) or when SessionHistory
  shows a completed lap not yet emitted;
- `RaceEvent` for pit in/out, retirements, SC/VSC, red and chequered flags;
- `SessionInfo` whenever the session facts or weather change.

Cars are named ``C00`` … ``C23`` by their slot in the packet arrays (stable for a
session; Participants names are kept in `participants` for display).

Bounds: every numeric field is checked against the one table the JSON validator
uses (`workbench.telemetry.schema.FIELDS`, via `bounds`). A value outside it is
not silently dropped: the field becomes None (unknown) and the value is counted in
`out_of_range` by ``record_type.field`` (the ingestor turns the counts into rejects
``f1: out of range: <record_type.field>``).

Restricted telemetry: a player whose "UDP telemetry" setting is *restricted*
(Participants ``m_yourTelemetry == 0``) is sent as zeros for fuel and damage. For such
a car (other than the receiving player's own car) fuel and tyre wear are unknown
(None), never 0 kg or 0 %. An exact 0.0 kg fuel load is also treated as unknown.
"""

from __future__ import annotations

import collections
import math
from typing import Any

from workbench.telemetry.f1udp.tables import (
    ACTUAL_COMPOUNDS,
    RETIRED_RESULT_STATUS,
    SAFETY_CAR_STATUS,
    TRACKS,
    VISUAL_COMPOUNDS,
    session_type,
)
from workbench.telemetry.records import (
    CarSample,
    EventKind,
    LapRecord,
    RaceEvent,
    Record,
    SessionInfo,
    SessionType,
    TrackStatus,
)
from workbench.telemetry.schema import bounds

__all__ = ["F1GameMapper", "car_code"]


def car_code(index: int) -> str:
    """Our driver code for a car slot: ``C00`` … ``C23``."""
    return f"C{index:02d}"


_DISTANCE_MAX = bounds("car_sample", "distance_m")[1]
_SPEED_MAX = bounds("car_sample", "speed_kph")[1]
_GEAR_MAX = bounds("car_sample", "gear")[1]
_RPM_MAX = bounds("car_sample", "rpm")[1]
_THROTTLE_MAX = bounds("car_sample", "throttle_pct")[1]
_LAP_MAX = bounds("car_sample", "lap")[1]
_SPLIT_MIN, _SPLIT_MAX = bounds("lap", "sector1_time_s")
_POSITION_MIN, _POSITION_MAX = bounds("lap", "position")
_TYRE_AGE_MAX = bounds("lap", "tyre_age_laps")[1]
_STINT_MAX = bounds("lap", "stint")[1]


def _split_s(ms_part: int, minutes_part: int = 0) -> float | None:
    """A sector/gap time from its ms and minutes parts; None when not set (0) or out of bounds."""
    ms = ms_part + 60_000 * minutes_part
    return ms / 1000.0 if 0 < ms and _SPLIT_MIN <= ms / 1000.0 <= _SPLIT_MAX else None


_CODES = [car_code(i) for i in range(256)]

_SC_EVENTS = {(TrackStatus.SC, True): EventKind.SC_DEPLOYED, (TrackStatus.SC, False): EventKind.SC_ENDED,
              (TrackStatus.VSC, True): EventKind.VSC_DEPLOYED, (TrackStatus.VSC, False): EventKind.VSC_ENDED}


class F1GameMapper:
    """Stateful packets → records mapper for one game session stream (one sender).

    Use `records(header, body)` for every decoded packet, in arrival order.
    """

    def __init__(self) -> None:
        self.lap_data: dict[int, dict] = {}
        self.status: dict[int, dict] = {}
        self.tyre_wear_pct: dict[int, float | None] = {}
        self.participants: dict[int, dict[str, Any]] = {}
        self.restricted: set[int] = set()
        self.num_active_cars: int | None = None
        self.laps_emitted: dict[int, set[int]] = {}
        self.lap_started_in_pit: dict[int, int] = {}
        self.retired: set[int] = set()
        self.session: dict[str, Any] = {}
        self.events_seen: dict[str, int] = {}
        self.classification: list[dict] = []
        self._session_key: tuple | None = None
        self._track_status = TrackStatus.GREEN
        self._chequered = False
        self._player = 0
        self._slow: dict[int, dict[str, Any]] = {}
        self.out_of_range: collections.Counter[str] = collections.Counter()

    def _num(self, value: float, record_type: str, field: str) -> float | None:
        """``value`` when finite and within the field's bounds (the schema's table), else None, counted."""
        lo, hi = bounds(record_type, field)
        if math.isfinite(value) and (lo is None or lo <= value) and (hi is None or value <= hi):
            return float(value)
        self.out_of_range[f"{record_type}.{field}"] += 1
        return None

    def take_out_of_range(self) -> dict[str, int]:
        """The out-of-range counts since the last call (and reset them)."""
        out = dict(self.out_of_range)
        self.out_of_range.clear()
        return out

    # -- dispatch -------------------------------------------------------------------
    def records(self, header: dict, body: dict) -> list[Record]:
        """The records one decoded packet yields (often none: state is only stored)."""
        if header["playerCarIndex"] != self._player:
            self._player = header["playerCarIndex"]
            self._slow.clear()
        handler = self._HANDLERS.get(header["packetId"])
        return handler(self, header, body) if handler is not None else []

    def _restricted(self, idx: int) -> bool:
        return idx in self.restricted and idx != self._player

    def _active(self, idx: int) -> bool:
        lap = self.lap_data.get(idx)
        return lap is not None and lap["resultStatus"] >= 2 and 1 <= lap["currentLapNum"] <= _LAP_MAX

    # -- per packet -----------------------------------------------------------------
    def _session(self, header: dict, body: dict) -> list[Record]:
        t = header["sessionTime"]
        fmt = header["packetFormat"]
        stype = session_type(fmt, body["sessionType"])
        status = SAFETY_CAR_STATUS.get(body["safetyCarStatus"], TrackStatus.GREEN)
        track = TRACKS.get(body["trackId"], "unknown" if body["trackId"] < 0 else f"track {body['trackId']}")
        info = SessionInfo(
            session_time_s=t, track=track, session_type=stype or SessionType.RACE,
            total_laps=body["totalLaps"] if body["totalLaps"] and self._num(body["totalLaps"], "session",
                                                                              "total_laps") else None,
            track_length_m=self._num(body["trackLength"], "session", "track_length_m"),
            air_temp_c=self._num(body["airTemperature"], "session", "air_temp_c"),
            track_temp_c=self._num(body["trackTemperature"], "session", "track_temp_c"),
            rainfall=body["weather"] >= 3, track_status=status)
        self.session = {"track": track, "track_id": body["trackId"], "session_type": stype.value if stype else None,
                        "session_type_code": body["sessionType"], "total_laps": body["totalLaps"],
                        "weather": body["weather"]}
        out: list[Record] = []
        if status is not self._track_status:
            if self._track_status in (TrackStatus.SC, TrackStatus.VSC):
                out.append(RaceEvent(t, _SC_EVENTS[(self._track_status, False)]))
            if status in (TrackStatus.SC, TrackStatus.VSC):
                out.append(RaceEvent(t, _SC_EVENTS[(status, True)]))
            self._track_status = status
        key = (info.track, info.session_type, info.total_laps, info.track_length_m, info.air_temp_c,
               info.track_temp_c, info.rainfall, info.track_status)
        if key != self._session_key:
            self._session_key = key
            out.insert(0, info)
        return out

    def _lap_data(self, header: dict, body: dict) -> list[Record]:
        t = header["sessionTime"]
        out: list[Record] = []
        for idx, new in enumerate(body["cars"]):
            old = self.lap_data.get(idx)
            self.lap_data[idx] = new
            if new["resultStatus"] < 2 or not 1 <= new["currentLapNum"] <= _LAP_MAX:
                continue
            driver = car_code(idx)
            if old is None:
                self.lap_started_in_pit[idx] = new["currentLapNum"] if new["pitStatus"] else 0
                continue
            lap = new["currentLapNum"]
            if old["currentLapNum"] >= 1 and lap > old["currentLapNum"]:
                self.lap_started_in_pit[idx] = lap if new["pitStatus"] else 0
                out.append(self._lap_record(t, idx, old, new))
            if old["pitStatus"] == 0 and new["pitStatus"] != 0:
                out.append(RaceEvent(t, EventKind.PIT_IN, driver, lap))
            elif old["pitStatus"] != 0 and new["pitStatus"] == 0:
                out.append(RaceEvent(t, EventKind.PIT_OUT, driver, lap))
            if new["resultStatus"] in RETIRED_RESULT_STATUS and idx not in self.retired:
                self.retired.add(idx)
                out.append(RaceEvent(t, EventKind.RETIREMENT, driver, lap, RETIRED_RESULT_STATUS[new["resultStatus"]]))
        return out

    def _lap_record(self, t: float, idx: int, old: dict, new: dict) -> LapRecord:
        n = old["currentLapNum"]
        self.laps_emitted.setdefault(idx, set()).add(n)
        lap_s = new["lastLapTimeInMS"] and self._num(new["lastLapTimeInMS"] / 1000.0, "lap", "lap_time_s") or None
        s1 = _split_s(old["sector1TimeMSPart"], old["sector1TimeMinutesPart"])
        s2 = _split_s(old["sector2TimeMSPart"], old["sector2TimeMinutesPart"])
        s3 = round(lap_s - s1 - s2, 3) if lap_s and s1 and s2 and lap_s - s1 - s2 > 0 else None
        position = new["carPosition"] if self._num(new["carPosition"], "lap", "position") is not None else None
        gap = interval = None
        if position and position > 1:
            gap = _split_s(new["deltaToRaceLeaderMSPart"], new.get("deltaToRaceLeaderMinutesPart", 0))
            interval = _split_s(new["deltaToCarInFrontMSPart"], new.get("deltaToCarInFrontMinutesPart", 0))
        elif position == 1:
            gap = 0.0
        status = self.status.get(idx)
        return LapRecord(
            session_time_s=t, driver=car_code(idx), lap_number=n, position=position, lap_time_s=lap_s,
            sector1_time_s=s1, sector2_time_s=s2, sector3_time_s=s3, gap_to_leader_s=gap, interval_s=interval,
            compound=VISUAL_COMPOUNDS.get(status["visualTyreCompound"]) if status else None,
            compound_detail=ACTUAL_COMPOUNDS.get(status["actualTyreCompound"]) if status else None,
            tyre_age_laps=self._tyre_age(status),
            stint=old["numPitStops"] + 1 if self._num(old["numPitStops"] + 1, "lap", "stint") else None,
            pit_in=new["pitStatus"] != 0,
            pit_out=self.lap_started_in_pit.get(idx) == n, track_status=self._track_status,
            fuel_kg=self._fuel(idx))

    def _fuel(self, idx: int) -> float | None:
        status = self.status.get(idx)
        if status is None or self._restricted(idx) or status["fuelInTank"] == 0:
            return None
        return self._num(status["fuelInTank"], "car_sample", "fuel_kg")

    def _tyre_age(self, status: dict | None) -> int | None:
        if not status:
            return None
        return status["tyresAgeLaps"] if self._num(status["tyresAgeLaps"], "lap", "tyre_age_laps") is not None \
            else None

    def _slow_fields(self, idx: int) -> dict[str, Any]:
        """Fuel, tyre and wear fields of a car; cached until the next CarStatus/CarDamage/Participants."""
        fields = self._slow.get(idx)
        if fields is None:
            status = self.status.get(idx)
            fields = self._slow[idx] = {
                "fuel_kg": self._fuel(idx),
                "compound": VISUAL_COMPOUNDS.get(status["visualTyreCompound"]) if status else None,
                "compound_detail": ACTUAL_COMPOUNDS.get(status["actualTyreCompound"]) if status else None,
                "tyre_age_laps": self._tyre_age(status),
                "tyre_wear_pct": None if self._restricted(idx) else self.tyre_wear_pct.get(idx)}
        return fields

    def _telemetry(self, header: dict, body: dict) -> list[Record]:
        t = header["sessionTime"]
        out: list[Record] = []
        lap_data = self.lap_data
        for idx, tel in enumerate(body["cars"]):
            lap = lap_data.get(idx)
            if lap is None or lap["resultStatus"] < 2 or not 1 <= lap["currentLapNum"] <= _LAP_MAX:
                continue
            gear, speed, rpm, throttle = tel["gear"], tel["speed"], tel["engineRPM"], tel["throttle"] * 100.0
            distance = lap["lapDistance"]
            # the hot path: inline checks against the schema's bounds; the rare miss is counted by `_num`.
            # A negative distance is the game's "before the line" (out lap): unknown, not an error.
            out.append(CarSample(
                t, _CODES[idx], lap["currentLapNum"],
                distance if 0 <= distance <= _DISTANCE_MAX else (  # NaN fails both comparisons
                    None if -_DISTANCE_MAX <= distance < 0 else self._num(distance, "car_sample", "distance_m")),
                float(speed) if speed <= _SPEED_MAX else self._num(speed, "car_sample", "speed_kph"),
                throttle if 0 <= throttle <= _THROTTLE_MAX else self._num(throttle, "car_sample", "throttle_pct"),
                tel["brake"] > 0.0, gear if 0 <= gear <= _GEAR_MAX else self._gear(gear),
                float(rpm) if rpm <= _RPM_MAX else self._num(rpm, "car_sample", "rpm"), tel["drs"] == 1,
                in_pit=lap["pitStatus"] != 0, **self._slow_fields(idx)))
        return out

    def _gear(self, gear: int) -> None:
        if gear != -1:  # -1 is the game's reverse: no gear of ours, not an error
            self.out_of_range["car_sample.gear"] += 1
        return None

    def _car_status(self, header: dict, body: dict) -> list[Record]:
        self.status = dict(enumerate(body["cars"]))
        self._slow.clear()
        return []

    def _car_damage(self, header: dict, body: dict) -> list[Record]:
        self._slow.clear()
        for idx, car in enumerate(body["cars"]):
            wear = car["tyresWear"]
            self.tyre_wear_pct[idx] = self._num(sum(wear) / 4.0, "car_sample", "tyre_wear_pct")
        return []

    def _participants(self, header: dict, body: dict) -> list[Record]:
        self._slow.clear()
        self.num_active_cars = body["numActiveCars"]
        self.restricted = set()
        for idx, p in enumerate(body["cars"][:body["numActiveCars"]]):
            name = p["name"].split(b"\0", 1)[0].decode("utf-8", "replace")
            self.participants[idx] = {"driver": car_code(idx), "name": name, "team_id": p["teamId"],
                                      "race_number": p["raceNumber"], "ai": bool(p["aiControlled"]),
                                      "telemetry": "public" if p["yourTelemetry"] else "restricted"}
            if p["yourTelemetry"] == 0:
                self.restricted.add(idx)
        return []

    def _event(self, header: dict, body: dict) -> list[Record]:
        t = header["sessionTime"]
        code = body["eventStringCode"].decode("ascii", "replace")
        self.events_seen[code] = self.events_seen.get(code, 0) + 1
        details = body["eventDetails"]
        if code == "RTMT":
            idx = details[0]
            if idx not in self.retired and idx < 24:
                self.retired.add(idx)
                lap = self.lap_data.get(idx, {}).get("currentLapNum")
                ok = lap if lap and 1 <= lap <= _LAP_MAX else None
                return [RaceEvent(t, EventKind.RETIREMENT, car_code(idx), ok)]
        elif code == "CHQF" and not self._chequered:
            self._chequered = True
            return [RaceEvent(t, EventKind.CHEQUERED_FLAG)]
        elif code == "RDFL":
            return [RaceEvent(t, EventKind.RED_FLAG)]
        elif code == "SCAR":
            status = {1: TrackStatus.SC, 2: TrackStatus.VSC}.get(details[0])
            if status is not None and details[1] in (0, 2, 3):
                deployed = details[1] == 0
                return [RaceEvent(t, _SC_EVENTS[(status, deployed)], detail="event SCAR")]
        return []

    def _session_history(self, header: dict, body: dict) -> list[Record]:
        idx = body["carIdx"]
        if not 0 <= idx < 24 or not self._active(idx):
            return []
        emitted = self.laps_emitted.setdefault(idx, set())
        out: list[Record] = []
        for n in range(1, min(body["numLaps"], 100)):  # the last entry is the lap in progress
            if n in emitted:
                continue
            h = body["lapHistoryData"][n - 1]
            lap_s = h["lapTimeInMS"] / 1000.0 or None  # 0: lap not timed (not an error)
            lap_s = lap_s and self._num(lap_s, "lap", "lap_time_s")
            if lap_s is None:
                continue
            emitted.add(n)
            out.append(LapRecord(
                session_time_s=header["sessionTime"], driver=car_code(idx), lap_number=n, lap_time_s=lap_s,
                sector1_time_s=_split_s(h["sector1TimeMSPart"], h["sector1TimeMinutesPart"]),
                sector2_time_s=_split_s(h["sector2TimeMSPart"], h["sector2TimeMinutesPart"]),
                sector3_time_s=_split_s(h["sector3TimeMSPart"], h["sector3TimeMinutesPart"]),
                track_status=self._track_status))
        return out

    def _final_classification(self, header: dict, body: dict) -> list[Record]:
        t = header["sessionTime"]
        out: list[Record] = []
        self.classification = []
        for idx, car in enumerate(body["cars"][:body["numCars"]]):
            self.classification.append({"driver": car_code(idx), "position": car["position"],
                                        "laps": car["numLaps"], "best_lap_s": car["bestLapTimeInMS"] / 1000.0,
                                        "result_status": car["resultStatus"]})
            if car["resultStatus"] in RETIRED_RESULT_STATUS and idx not in self.retired:
                self.retired.add(idx)
                out.append(RaceEvent(t, EventKind.RETIREMENT, car_code(idx),
                                     detail=RETIRED_RESULT_STATUS[car["resultStatus"]]))
        if not self._chequered:
            self._chequered = True
            out.append(RaceEvent(t, EventKind.CHEQUERED_FLAG, detail="final classification"))
        return out

    _HANDLERS = {1: _session, 2: _lap_data, 3: _event, 4: _participants, 6: _telemetry, 7: _car_status,
                 8: _final_classification, 10: _car_damage, 11: _session_history}
