"""Telemetry: typed records, the wire schema and its validation, and sources."""

from workbench.telemetry.ingestor import TelemetryIngestor
from workbench.telemetry.records import (
    CarSample,
    Compound,
    EventKind,
    LapRecord,
    RaceEvent,
    Record,
    SessionInfo,
    SessionType,
    TrackStatus,
)
from workbench.telemetry.schema import (
    SCHEMA_VERSION,
    TelemetryValidationError,
    json_schema,
    to_wire,
    validate,
    validate_batch,
)

__all__ = [
    "CarSample", "Compound", "EventKind", "LapRecord", "RaceEvent", "Record", "SessionInfo", "SessionType",
    "TrackStatus", "SCHEMA_VERSION", "TelemetryValidationError", "json_schema", "to_wire", "validate",
    "validate_batch", "TelemetryIngestor",
]
