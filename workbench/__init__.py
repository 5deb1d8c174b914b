"""Race Twin Edge: a Formula 1 race-strategy workbench.

The engine: telemetry records and sources, digital twins, the race hub. Views
(Panel apps, REST) live in `workbench.ui`, `workbench.service.server` and `apps/`
and are never imported by the engine.

The names below are loaded on first use (PEP 562), so importing one sub-package
(``workbench.kernels.layout``, ``workbench.rng``) does not load the hub, the store
and the simulator.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "HubEvent": "workbench.hub.session",
    "RaceSession": "workbench.hub.session",
    "RaceDefinition": "workbench.race.definition",
    "bundled_race": "workbench.race.definition",
    "load_race_definition": "workbench.race.definition",
    "CarSample": "workbench.telemetry",
    "Compound": "workbench.telemetry",
    "LapRecord": "workbench.telemetry",
    "RaceEvent": "workbench.telemetry",
    "SessionInfo": "workbench.telemetry",
    "TelemetryValidationError": "workbench.telemetry",
    "json_schema": "workbench.telemetry",
    "validate": "workbench.telemetry",
    "TelemetrySimulator": "workbench.race.simulator",
    "CarTwin": "workbench.twins",
    "FieldTwin": "workbench.twins",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
