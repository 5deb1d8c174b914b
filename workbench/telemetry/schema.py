"""The JSON wire form of telemetry records: one declarative table, two uses.

`FIELDS` declares every field of every record type (type, bounds, unit, meaning).
From it we generate the published JSON Schema (`json_schema()`, versioned by
`SCHEMA_VERSION`) and we validate incoming objects (`validate()`), so the schema a
client reads and the checks the server applies cannot drift apart.

A wire message is one record object with a ``type`` discriminator, or a batch
``{"type": "batch", "records": [...]}``. Errors name the field path, the value
and the rule, e.g. ``records[3].tyre_age_laps: -2 is below minimum 0``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
from typing import Any

from workbench.telemetry.records import (
    RECORD_TYPES,
    Compound,
    EventKind,
    Record,
    SessionType,
    TrackStatus,
)

__all__ = ["SCHEMA_VERSION", "DRIVER_PATTERN", "FIELDS", "Field", "check_field", "check_object",
           "TelemetryValidationError", "validate", "validate_batch", "json_schema", "to_wire", "normalize_compound",
           "short_repr", "bounds", "json_safe"]

SCHEMA_VERSION = "1.0"
"""Version of the wire schema: the major part changes only when old messages break."""

MAX_BATCH_RECORDS = 10_000

_DRIVER_PATTERN = DRIVER_PATTERN = r"^[A-Z0-9]{2,4}$"  # a driver code (FastF1 Driver), e.g. VER
_DETAIL_PATTERN = r"^C[0-6]$"


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a wire record: its JSON type and the rules it must meet."""

    kind: str  # "number" | "integer" | "string" | "boolean"
    description: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None


def _time(desc="Session (race) time in seconds from the session start.") -> Field:
    return Field("number", desc, required=True, minimum=0, maximum=86_400)


_COMPOUNDS = tuple(c.value for c in Compound)
_TRACK_STATUS = tuple(s.value for s in TrackStatus)

FIELDS: dict[str, dict[str, Field]] = {
    "car_sample": {
        "session_time_s": _time(),
        "driver": Field("string", "Driver abbreviation (FastF1 Driver), e.g. VER.", True, pattern=_DRIVER_PATTERN),
        "lap": Field("integer", "Lap being driven, 1-based.", True, minimum=1, maximum=200),
        "distance_m": Field("number", "Distance along the current lap in metres.", minimum=0, maximum=10_000),
        "speed_kph": Field("number", "Speed in km/h (FastF1 Speed).", minimum=0, maximum=400),
        "throttle_pct": Field("number", "Throttle pedal 0-100 % (FastF1 Throttle).", minimum=0, maximum=100),
        "brake": Field("boolean", "Brake pedal pressed (FastF1 Brake)."),
        "gear": Field("integer", "Gear, 0 = neutral (FastF1 nGear).", minimum=0, maximum=8),
        "rpm": Field("number", "Engine speed (FastF1 RPM).", minimum=0, maximum=20_000),
        "drs": Field("boolean", "DRS flap open."),
        "fuel_kg": Field("number", "Fuel mass on board in kg.", minimum=0, maximum=120),
        "compound": Field("string", "Tyre compound as raced (FastF1 Compound).", enum=_COMPOUNDS),
        "compound_detail": Field("string", "Pirelli compound C0-C6.", pattern=_DETAIL_PATTERN),
        "tyre_age_laps": Field("integer", "Laps on this set (FastF1 TyreLife).", minimum=0, maximum=200),
        "tyre_wear_pct": Field("number", "Mean tyre wear 0-100 %.", minimum=0, maximum=100),
        "in_pit": Field("boolean", "Car is in the pit lane."),
    },
    "lap": {
        "session_time_s": _time("Session time at the end of the lap, in seconds."),
        "driver": Field("string", "Driver abbreviation (FastF1 Driver).", True, pattern=_DRIVER_PATTERN),
        "lap_number": Field("integer", "Lap completed, 1-based (FastF1 LapNumber).", True, minimum=1, maximum=200),
        "position": Field("integer", "Position at the end of the lap (FastF1 Position).", minimum=1, maximum=30),
        "lap_time_s": Field("number", "Lap time in seconds (FastF1 LapTime).", minimum=0.001, maximum=3_600),
        "sector1_time_s": Field("number", "Sector 1 time in seconds.", minimum=0.001, maximum=3_600),
        "sector2_time_s": Field("number", "Sector 2 time in seconds.", minimum=0.001, maximum=3_600),
        "sector3_time_s": Field("number", "Sector 3 time in seconds.", minimum=0.001, maximum=3_600),
        "gap_to_leader_s": Field("number", "Gap to the leader in seconds.", minimum=0, maximum=86_400),
        "interval_s": Field("number", "Gap to the car ahead in seconds.", minimum=0, maximum=86_400),
        "compound": Field("string", "Tyre compound as raced (FastF1 Compound).", enum=_COMPOUNDS),
        "compound_detail": Field("string", "Pirelli compound C0-C6.", pattern=_DETAIL_PATTERN),
        "tyre_age_laps": Field("integer", "Laps on this set at the end of the lap (FastF1 TyreLife).",
                               minimum=0, maximum=200),
        "stint": Field("integer", "Stint number, 1-based (FastF1 Stint).", minimum=1, maximum=20),
        "pit_in": Field("boolean", "The car entered the pit lane at the end of this lap."),
        "pit_out": Field("boolean", "The car left the pit lane on this lap."),
        "track_status": Field("string", "Worst track status seen during the lap.", enum=_TRACK_STATUS),
        "fuel_kg": Field("number", "Fuel on board at the end of the lap in kg.", minimum=0, maximum=120),
        "team": Field("string", "Team name (FastF1 Team)."),
    },
    "session": {
        "session_time_s": _time(),
        "track": Field("string", "Track name.", True),
        "session_type": Field("string", "Kind of session.", enum=tuple(s.value for s in SessionType)),
        "total_laps": Field("integer", "Scheduled race distance in laps.", minimum=1, maximum=200),
        "track_length_m": Field("number", "Lap length in metres.", minimum=500, maximum=10_000),
        "air_temp_c": Field("number", "Air temperature in degrees Celsius.", minimum=-30, maximum=60),
        "track_temp_c": Field("number", "Track temperature in degrees Celsius.", minimum=-30, maximum=80),
        "rainfall": Field("boolean", "Rain is falling."),
        "track_status": Field("string", "Current track status.", enum=_TRACK_STATUS),
    },
    "event": {
        "session_time_s": _time(),
        "kind": Field("string", "What happened.", True, enum=tuple(k.value for k in EventKind)),
        "driver": Field("string", "Driver concerned, if any.", pattern=_DRIVER_PATTERN),
        "lap": Field("integer", "Lap on which it happened.", minimum=1, maximum=200),
        "detail": Field("string", "Free text, e.g. the flag colour or retirement cause."),
    },
}



def bounds(record_type: str, field: str) -> tuple[float | None, float | None]:
    """``(minimum, maximum)`` of a numeric field: the one table both the JSON validator and the UDP mapper use."""
    spec = FIELDS[record_type][field]
    return spec.minimum, spec.maximum


_ENUM_TYPES = {"compound": Compound, "track_status": TrackStatus, "session_type": SessionType, "kind": EventKind}
_COMPOUND_ALIASES = {"S": "SOFT", "M": "MEDIUM", "H": "HARD", "I": "INTERMEDIATE", "INTER": "INTERMEDIATE",
                     "W": "WET", "FULL_WET": "WET"}


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 3, 80, 80, 40
_SHORT.maxdict = _SHORT.maxlist = 6


def short_repr(value: Any) -> str:
    """``repr(value)`` bounded in depth and length (a hostile value never makes a huge or endless message)."""
    if isinstance(value, (str, bool, float)) or value is None or (isinstance(value, int) and abs(value) < 10**30):
        text = repr(value)
        return text if len(text) <= 100 else _SHORT.repr(value)
    return _SHORT.repr(value)


class TelemetryValidationError(ValueError):
    """A wire message broke a rule; ``path``, ``value`` and ``rule`` say which.

    The value in the message is shortened (`short_repr`): deep or huge values never
    make an endless message or a RecursionError.
    """

    def __init__(self, path: str, value: Any, rule: str):
        self.path, self.value, self.rule = path, value, rule
        shown = short_repr(value)
        super().__init__(f"{path}: {shown} {rule}" if path else f"{shown} {rule}")

    @property
    def reason(self) -> str:
        """A short, stable key for counting rejects (the field name and rule kind)."""
        field = re.sub(r"\[\d+\]", "[]", self.path) or "message"
        return f"{field}: {self.rule}"


def normalize_compound(value: str) -> str:
    """Map a compound spelling to its canonical name; raise ValueError if unknown.

    ``soft``, ``S`` and ``SOFT`` all become ``SOFT``. A Pirelli code such as ``C3``
    is not a compound as raced (C3 is soft at one event, medium at another): it
    belongs in ``compound_detail``.
    """
    canon = value.strip().upper()
    canon = _COMPOUND_ALIASES.get(canon, canon)
    if canon in _COMPOUNDS:
        return canon
    if re.fullmatch(_DETAIL_PATTERN, canon):
        raise ValueError("is a Pirelli compound code: give it as compound_detail and name the compound "
                         f"as one of {', '.join(_COMPOUNDS)}")
    raise ValueError(f"is not a compound; allowed: {', '.join(_COMPOUNDS)}")


def check_field(path: str, spec: Field, value: Any) -> Any:
    """Check one value against its field spec; return it normalised (enums typed, integers as int).

    Raises
    ------
    TelemetryValidationError
        Naming ``path``, the value and the rule broken.
    """
    prefix, _, name = path.rpartition(".")
    return _check_field(f"{prefix}." if prefix else "", name, spec, value)


def _check_field(prefix: str, name: str, spec: Field, value: Any) -> Any:
    # The hot path of every record: the error path (prefix + name) is only built on an error.
    kind = spec.kind
    if value is None:
        if spec.required:
            raise TelemetryValidationError(prefix + name, value, "is null but the field is required")
        return None
    numeric = type(value)
    if (numeric is float and kind == "number" and math.isfinite(value)) or (
            numeric is int and kind in ("number", "integer")):  # the common cases, first
        if (spec.minimum is None or value >= spec.minimum) and (spec.maximum is None or value <= spec.maximum):
            return float(value) if kind == "number" else value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise TelemetryValidationError(prefix + name, value, "is not a boolean")
        return value
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TelemetryValidationError(prefix + name, value, f"is not a {kind}")
        if kind == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            raise TelemetryValidationError(prefix + name, value, "is not an integer")
        if isinstance(value, float) and not math.isfinite(value):
            raise TelemetryValidationError(prefix + name, value, "is not a finite number")
        if spec.minimum is not None and value < spec.minimum:
            raise TelemetryValidationError(prefix + name, value, f"is below minimum {spec.minimum:g}")
        if spec.maximum is not None and value > spec.maximum:
            raise TelemetryValidationError(prefix + name, value, f"is above maximum {spec.maximum:g}")
        try:
            return int(value) if kind == "integer" else float(value)
        except OverflowError:
            raise TelemetryValidationError(prefix + name, value, "is too large for a number") from None
    if not isinstance(value, str):
        raise TelemetryValidationError(prefix + name, value, "is not a string")
    if name == "compound":
        try:
            value = normalize_compound(value)
        except ValueError as exc:
            raise TelemetryValidationError(prefix + name, value, str(exc)) from None
    elif spec.enum is not None:
        canon = next((e for e in spec.enum if e.upper() == value.upper()), None)
        if canon is None:
            raise TelemetryValidationError(prefix + name, value, f"is not one of {', '.join(spec.enum)}")
        value = canon
    if spec.pattern is not None and not re.fullmatch(spec.pattern, value):
        raise TelemetryValidationError(prefix + name, value, f"does not match pattern {spec.pattern}")
    return _ENUM_TYPES[name](value) if name in _ENUM_TYPES else value


def check_object(path: str, obj: Any, specs: dict[str, Field], what: str, extra: tuple[str, ...] = ()) -> dict:
    """Check a JSON object against field specs; return the checked values present.

    Unknown keys (other than ``extra``) and missing required fields are errors.
    """
    prefix = f"{path}." if path else ""
    if not isinstance(obj, dict):
        raise TelemetryValidationError(path, obj, "is not a JSON object")
    for name in obj:
        if name not in specs and name not in extra:
            raise TelemetryValidationError(f"{prefix}{name}", obj[name], f"is not a field of {what}")
    values = {}
    for name, spec in specs.items():
        if name not in obj:
            if spec.required:
                raise TelemetryValidationError(f"{prefix}{name}", None, "is missing but the field is required")
            continue
        values[name] = _check_field(prefix, name, spec, obj[name])
    return values


def validate(obj: Any, path: str = "") -> Record:
    """Validate one wire record and return the typed record.

    Parameters
    ----------
    obj : dict
        A decoded JSON object with a ``type`` of ``car_sample``, ``lap``, ``session`` or
        ``event``. An optional ``schema_version`` must share our major version.
    path : str
        Prefix for error messages (used for records inside a batch).

    Raises
    ------
    TelemetryValidationError
        Naming the field path, the value and the rule broken.
    """
    prefix = f"{path}." if path else ""
    if not isinstance(obj, dict):
        raise TelemetryValidationError(path, obj, "is not a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise TelemetryValidationError(f"{prefix}type", kind, f"is not one of {', '.join(FIELDS)}")
    version = obj.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise TelemetryValidationError(f"{prefix}schema_version", version,
                                       f"is not compatible with schema version {SCHEMA_VERSION}")
    values = check_object(path, obj, FIELDS[kind], f"a {kind} record", extra=("type", "schema_version"))
    return RECORD_TYPES[kind](**{k: v for k, v in values.items() if v is not None})


def validate_batch(obj: Any) -> list[Record]:
    """Validate a single record or a ``{"type": "batch", "records": [...]}`` message.

    All-or-nothing: the first bad record raises, naming ``records[i].field``.
    """
    if isinstance(obj, dict) and obj.get("type") == "batch":
        records = obj.get("records")
        if not isinstance(records, list):
            raise TelemetryValidationError("records", records, "is not a list of records")
        if len(records) > MAX_BATCH_RECORDS:
            raise TelemetryValidationError("records", f"<{len(records)} records>",
                                           f"is above the batch limit of {MAX_BATCH_RECORDS} records")
        return [validate(item, f"records[{i}]") for i, item in enumerate(records)]
    return [validate(obj)]


def _field_schema(spec: Field) -> dict:
    out: dict[str, Any] = {"type": [spec.kind] if spec.required else [spec.kind, "null"],
                           "description": spec.description}
    for key in ("minimum", "maximum", "pattern"):
        if getattr(spec, key) is not None:
            out[key] = getattr(spec, key)
    if spec.enum is not None:
        out["enum"] = list(spec.enum) + ([] if spec.required else [None])
    return out


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one wire message, generated from `FIELDS`.

    Compound names are listed canonically; the validator also accepts their
    case-insensitive spellings and one-letter aliases and normalizes them.
    """
    defs = {}
    for kind, specs in FIELDS.items():
        defs[kind] = {
            "type": "object",
            "properties": {"type": {"const": kind}, "schema_version": {"type": "string"},
                           **{name: _field_schema(s) for name, s in specs.items()}},
            "required": ["type", *[n for n, s in specs.items() if s.required]],
            "additionalProperties": False,
        }
    record = {"oneOf": [{"$ref": f"#/$defs/{k}"} for k in FIELDS]}
    defs["batch"] = {"type": "object",
                     "properties": {"type": {"const": "batch"}, "schema_version": {"type": "string"},
                                    "records": {"type": "array", "items": record, "maxItems": MAX_BATCH_RECORDS}},
                     "required": ["type", "records"], "additionalProperties": False}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://race-twin-edge.example/schema/telemetry/{SCHEMA_VERSION}",
        "title": "Race Twin Edge telemetry message",
        "version": SCHEMA_VERSION,
        "oneOf": [{"$ref": f"#/$defs/{k}"} for k in (*FIELDS, "batch")],
        "$defs": defs,
    }


def to_wire(record: Record) -> dict:
    """The wire (JSON-ready) form of a record; `validate(to_wire(r)) == r`."""
    out: dict[str, Any] = {"type": record.type}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if value is None:
            continue
        out[f.name] = value.value if hasattr(value, "value") else value
    return out


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that `json.dumps` writes as strict JSON (``allow_nan=False``): NaN and infinities
    become None, tuples lists, numpy scalars plain numbers (``.item()``), anything else unknown its ``str``.

    The one such conversion: REST bodies, push-stream messages and ``--json`` outputs use it.

    >>> json_safe({"t": float("nan"), "laps": (1, 2.5)})
    {'t': None, 'laps': [1, 2.5]}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)
