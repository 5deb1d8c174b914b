"""Compatibility: the race definition moved to `workbench.race.definition` (issue 17).

The race model sits below both the strategy engine and the telemetry simulator; this module
keeps the old import path, which many notebooks, tests and user scripts use, working.
"""

from workbench.race.definition import (
    RACE_SCHEMA_VERSION,
    CarEntry,
    CompoundModel,
    EventModel,
    Fuel,
    JsonFileError,
    RaceDefinition,
    StintPlan,
    Track,
    bundled_race,
    load_race_definition,
    parse_race_definition,
    read_json,
    with_distance,
)

__all__ = ["RaceDefinition", "Track", "Fuel", "CompoundModel", "EventModel", "CarEntry", "StintPlan",
           "load_race_definition", "parse_race_definition", "read_json", "JsonFileError", "with_distance",
           "bundled_race", "RACE_SCHEMA_VERSION"]
