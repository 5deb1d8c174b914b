"""Typed, normalized telemetry records: what every source decodes into.

Names follow FastF1 / OpenF1 where the concept exists there (Driver, LapNumber,
Compound, TyreLife, Stint, Position, TrackStatus), written in snake_case with the
unit in the name where it is ambiguous (``lap_time_s``, ``fuel_kg``, ``speed_kph``).
All times are *race* (session) times in seconds from the start of the session,
never wall-clock times, so a replay at any speed yields the same state.

Records are immutable; build them with `workbench.telemetry.validate` from wire
JSON, or directly from Python when the values are known to be valid.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import ClassVar

__all__ = [
    "Compound", "DRY_COMPOUNDS", "TrackStatus", "EventKind", "SessionType",
    "CarSample", "LapRecord", "SessionInfo", "RaceEvent", "Record", "RECORD_TYPES",
]


class Compound(str, enum.Enum):
    """Tyre compound as raced (FastF1 ``Compound``); C0-C6 are kept as ``compound_detail``."""

    SOFT = "SOFT"
    MEDIUM = "MEDIUM"
    HARD = "HARD"
    INTERMEDIATE = "INTERMEDIATE"
    WET = "WET"

    @property
    def is_dry(self) -> bool:
        return self in (Compound.SOFT, Compound.MEDIUM, Compound.HARD)


DRY_COMPOUNDS: tuple[str, ...] = tuple(c.value for c in Compound if c.is_dry)
"""The dry compounds' names, softest first (``("SOFT", "MEDIUM", "HARD")``): the one list."""


class TrackStatus(str, enum.Enum):
    """Track status as the race model needs it (FastF1 TrackStatus digits map onto these)."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    VSC = "VSC"
    SC = "SC"
    RED = "RED"


class SessionType(str, enum.Enum):
    RACE = "race"
    SPRINT = "sprint"
    QUALIFYING = "qualifying"
    PRACTICE = "practice"
    TIME_TRIAL = "time_trial"


class EventKind(str, enum.Enum):
    """Discrete race events; SC/VSC phases are bracketed by *_deployed and *_ended."""

    PIT_IN = "pit_in"
    PIT_OUT = "pit_out"
    SC_DEPLOYED = "sc_deployed"
    SC_ENDED = "sc_ended"
    VSC_DEPLOYED = "vsc_deployed"
    VSC_ENDED = "vsc_ended"
    RED_FLAG = "red_flag"
    RETIREMENT = "retirement"
    FLAG = "flag"
    CHEQUERED_FLAG = "chequered_flag"


@dataclasses.dataclass(frozen=True, slots=True)
class CarSample:
    """One high-rate telemetry sample of one car (FastF1 car data + position data)."""

    type: ClassVar[str] = "car_sample"
    session_time_s: float
    driver: str
    lap: int
    distance_m: float | None = None
    speed_kph: float | None = None
    throttle_pct: float | None = None
    brake: bool | None = None
    gear: int | None = None
    rpm: float | None = None
    drs: bool | None = None
    fuel_kg: float | None = None
    compound: Compound | None = None
    compound_detail: str | None = None
    tyre_age_laps: int | None = None
    tyre_wear_pct: float | None = None
    in_pit: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class LapRecord:
    """One completed lap of one car (a row of FastF1 ``Laps``), stamped at the lap's end."""

    type: ClassVar[str] = "lap"
    session_time_s: float
    driver: str
    lap_number: int
    position: int | None = None
    lap_time_s: float | None = None
    sector1_time_s: float | None = None
    sector2_time_s: float | None = None
    sector3_time_s: float | None = None
    gap_to_leader_s: float | None = None
    interval_s: float | None = None
    compound: Compound | None = None
    compound_detail: str | None = None
    tyre_age_laps: int | None = None
    stint: int | None = None
    pit_in: bool = False
    pit_out: bool = False
    track_status: TrackStatus = TrackStatus.GREEN
    fuel_kg: float | None = None
    team: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SessionInfo:
    """Session and track facts, plus the weather at ``session_time_s``."""

    type: ClassVar[str] = "session"
    session_time_s: float
    track: str
    session_type: SessionType = SessionType.RACE
    total_laps: int | None = None
    track_length_m: float | None = None
    air_temp_c: float | None = None
    track_temp_c: float | None = None
    rainfall: bool | None = None
    track_status: TrackStatus = TrackStatus.GREEN


@dataclasses.dataclass(frozen=True, slots=True)
class RaceEvent:
    """A discrete event: pit in/out, SC/VSC deployed/ended, retirement, flag."""

    type: ClassVar[str] = "event"
    session_time_s: float
    kind: EventKind
    driver: str | None = None
    lap: int | None = None
    detail: str | None = None


Record = CarSample | LapRecord | SessionInfo | RaceEvent
RECORD_TYPES: dict[str, type] = {cls.type: cls for cls in (CarSample, LapRecord, SessionInfo, RaceEvent)}
