"""Race Twin Edge: a Formula 1 race-strategy workbench.

The engine: telemetry records and sources, digital twins, the race hub. Views
(Panel apps, REST) live in `workbench.ui`, `workbench.service.server` and `apps/`
and are never imported by the engine.
"""

from workbench.service.session import HubEvent, RaceSession
from workbench.strategy.racedef import RaceDefinition, bundled_race, load_race_definition
from workbench.telemetry import (
    CarSample,
    Compound,
    LapRecord,
    RaceEvent,
    SessionInfo,
    TelemetryValidationError,
    json_schema,
    validate,
)
from workbench.telemetry.simulator import TelemetrySimulator
from workbench.twins import CarTwin, FieldTwin

__version__ = "0.1.0"

__all__ = [
    "CarSample", "CarTwin", "Compound", "FieldTwin", "HubEvent", "LapRecord", "RaceDefinition", "RaceEvent",
    "RaceSession", "SessionInfo", "TelemetrySimulator", "TelemetryValidationError", "bundled_race",
    "json_schema", "load_race_definition", "validate",
]
