"""Race definition: the documented file format for a race the simulator can run.

A race definition is a JSON file (``*.race.json``) with sections ``track``,
``fuel``, ``compounds``, ``events`` and ``cars``; `FIELDS_*` below are its schema
(every field with its unit, bounds and meaning) and `load_race_definition` checks a
file against them with the same error form as telemetry:
``cars[3].pace_delta_s: 'x' is not a number``.

The bundled race, ``data/bahrain-2024.race.json``, is fitted from the real 2024
Bahrain Grand Prix by ``data/build_bahrain_2024.py`` (see ``data/README.md``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from workbench.paths import bundled_data_dir
from workbench.telemetry.records import Compound
from workbench.telemetry.schema import (
    Field,
    TelemetryValidationError,
    check_field,
    check_object,
    normalize_compound,
)

__all__ = ["RaceDefinition", "Track", "Fuel", "CompoundModel", "EventModel", "CarEntry", "StintPlan",
           "load_race_definition", "parse_race_definition", "read_json", "JsonFileError", "with_distance",
           "bundled_race", "RACE_SCHEMA_VERSION"]

RACE_SCHEMA_VERSION = "1.0"

TRACK_FIELDS = {
    "name": Field("string", "Circuit name.", True),
    "length_m": Field("number", "Lap length in metres.", True, minimum=500, maximum=10_000),
    "laps": Field("integer", "Race distance in laps.", True, minimum=1, maximum=200),
    "base_lap_time_s": Field("number", "Lap time of the reference car on fresh reference-compound tyres "
                             "with no fuel, in seconds.", True, minimum=20, maximum=600),
    "sector_fractions": Field("number", "Share of the lap time in sectors 1, 2, 3 (sums to 1).", True,
                              minimum=0.05, maximum=0.9),
    "pit_loss_green_s": Field("number", "Time lost to a stop under green flag vs staying out, excluding "
                              "the standstill, in seconds.", True, minimum=0, maximum=120),
    "pit_loss_vsc_s": Field("number", "Same under a virtual safety car.", True, minimum=0, maximum=120),
    "pit_loss_sc_s": Field("number", "Same under a safety car.", True, minimum=0, maximum=120),
    "pit_standstill_median_s": Field("number", "Median stationary time of a stop.", True, minimum=1, maximum=60),
    "pit_standstill_sigma_log": Field("number", "Log-space standard deviation of the stationary time.", True,
                                      minimum=0, maximum=2),
    "overtaking_difficulty": Field("number", "0 = a faster car always passes, 1 = never.", True,
                                   minimum=0, maximum=1),
    "drs": Field("boolean", "DRS zones exist.", True),
    "start_loss_s": Field("number", "Lap-1 time lost to the standing start by the pole sitter.", True,
                          minimum=0, maximum=60),
    "start_loss_per_grid_slot_s": Field("number", "Extra lap-1 loss per grid slot behind pole.", True,
                                        minimum=0, maximum=5),
    "start_sigma_s": Field("number", "Standard deviation of a car's lap-1 time around the model.", True,
                           minimum=0, maximum=10),
    "sc_lap_time_factor": Field("number", "Lap time under SC as a multiple of the base lap time.", True,
                                minimum=1, maximum=3),
    "vsc_lap_time_factor": Field("number", "Lap time under VSC as a multiple of the base lap time.", True,
                                 minimum=1, maximum=3),
    "min_gap_s": Field("number", "Closest a following car can run behind another at the line.", True,
                       minimum=0, maximum=5),
    "corners": Field("number", "[distance_m, apex_speed_kph] pairs used to draw speed traces.", True,
                     minimum=0, maximum=10_000),
    "drs_gain_s": Field("number", "Lap time gained on a green lap by a car that crossed the line less than 1 s "
                        "behind the car ahead, where `drs` is true (default 0: no gain).", minimum=0, maximum=3),
}
FUEL_FIELDS = {
    "start_kg": Field("number", "Fuel on board at the start.", True, minimum=0, maximum=120),
    "burn_kg_per_lap": Field("number", "Fuel burnt per green lap.", True, minimum=0, maximum=10),
    "mass_effect_s_per_kg": Field("number", "Lap time added per kg of fuel.", True, minimum=0, maximum=0.2),
}
COMPOUND_FIELDS = {
    "detail": Field("string", "Pirelli compound code.", pattern=r"^C[0-6]$"),
    "offset_s": Field("number", "Lap-time offset of a fresh set vs the reference compound.", True,
                      minimum=-10, maximum=10),
    "model": Field("string", "Degradation model (Heilmeier et al. 2018).", True,
                   enum=("linear", "quadratic", "logarithmic")),
    "k1_s": Field("number", "First coefficient: s/lap (linear, quadratic) or s per ln(lap) (log).", True,
                  minimum=-1, maximum=10),
    "k2_s": Field("number", "Second coefficient: s/lap^2 (quadratic), otherwise 0.", True,
                  minimum=-1, maximum=1),
    "fit_note": Field("string", "How the numbers were obtained."),
}
EVENT_FIELDS = {
    "sc_phases_p": Field("number", "P(0, 1, 2, 3 SC phases in a race).", True, minimum=0, maximum=1),
    "sc_length_laps_p": Field("number", "P(SC lasts 1, 2, ... full laps).", True, minimum=0, maximum=1),
    "vsc_phases_p": Field("number", "P(0, 1, 2, 3 VSC phases in a race).", True, minimum=0, maximum=1),
    "vsc_length_laps_p": Field("number", "P(VSC lasts 1, 2, ... laps).", True, minimum=0, maximum=1),
    "retirement_p": Field("number", "Probability a car retires during the race.", True, minimum=0, maximum=1),
}
STINT_FIELDS = {
    "compound": Field("string", "Compound of the stint.", True, enum=tuple(c.value for c in Compound)),
    "laps": Field("integer", "Planned stint length in laps.", True, minimum=1, maximum=200),
    "tyre_age_laps": Field("integer", "Age of the set when fitted, in laps (default 0: a new set); also for the "
                           "start set.", minimum=0, maximum=100),
}
CAR_FIELDS = {
    "driver": Field("string", "Driver abbreviation.", True, pattern=r"^[A-Z0-9]{2,4}$"),
    "team": Field("string", "Team name.", True),
    "number": Field("integer", "Car number.", True, minimum=0, maximum=99),
    "grid": Field("integer", "Grid slot, 1 = pole.", True, minimum=1, maximum=30),
    "pace_delta_s": Field("number", "Lap-time delta to the reference car.", True, minimum=-10, maximum=20),
    "lap_noise_s": Field("number", "Standard deviation of a green lap time.", True, minimum=0, maximum=10),
    "strategy": Field("object", "Planned stints in order; their laps add up to the race distance.", True),
    "degradation_factor": Field("number", "Multiplies every compound's degradation for this car (default 1).",
                                minimum=0.2, maximum=5),
}
_LIST_FIELDS = {"sector_fractions": 3, "corners": None, "sc_phases_p": None, "sc_length_laps_p": None,
                "vsc_phases_p": None, "vsc_length_laps_p": None}


@dataclasses.dataclass(frozen=True)
class Track:
    name: str
    length_m: float
    laps: int
    base_lap_time_s: float
    sector_fractions: tuple[float, float, float]
    pit_loss_green_s: float
    pit_loss_vsc_s: float
    pit_loss_sc_s: float
    pit_standstill_median_s: float
    pit_standstill_sigma_log: float
    overtaking_difficulty: float
    drs: bool
    start_loss_s: float
    start_loss_per_grid_slot_s: float
    start_sigma_s: float
    sc_lap_time_factor: float
    vsc_lap_time_factor: float
    min_gap_s: float
    corners: tuple[tuple[float, float], ...]
    drs_gain_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class Fuel:
    start_kg: float
    burn_kg_per_lap: float
    mass_effect_s_per_kg: float


@dataclasses.dataclass(frozen=True)
class CompoundModel:
    """Lap-time offset and degradation of one compound: ``offset_s + deg(age)``."""

    offset_s: float
    model: str
    k1_s: float
    k2_s: float
    detail: str | None = None
    fit_note: str | None = None

    def degradation_s(self, tyre_age_laps):
        """Time lost to tyre wear at a tyre age in laps (array-friendly)."""
        if self.model == "linear":
            return self.k1_s * tyre_age_laps
        if self.model == "quadratic":
            return self.k1_s * tyre_age_laps + self.k2_s * tyre_age_laps**2
        return self.k1_s * np.log1p(tyre_age_laps)


@dataclasses.dataclass(frozen=True)
class EventModel:
    sc_phases_p: tuple[float, ...]
    sc_length_laps_p: tuple[float, ...]
    vsc_phases_p: tuple[float, ...]
    vsc_length_laps_p: tuple[float, ...]
    retirement_p: float


@dataclasses.dataclass(frozen=True)
class StintPlan:
    compound: Compound
    laps: int
    tyre_age_laps: int = 0


@dataclasses.dataclass(frozen=True)
class CarEntry:
    driver: str
    team: str
    number: int
    grid: int
    pace_delta_s: float
    lap_noise_s: float
    strategy: tuple[StintPlan, ...]
    degradation_factor: float = 1.0


@dataclasses.dataclass(frozen=True)
class RaceDefinition:
    """A race the simulator can run: track, fuel, compounds, random events and cars."""

    name: str
    track: Track
    fuel: Fuel
    compounds: dict[Compound, CompoundModel]
    events: EventModel
    cars: tuple[CarEntry, ...]
    source: str = ""

    @property
    def drivers(self) -> list[str]:
        return [c.driver for c in self.cars]

    def car(self, driver: str) -> CarEntry:
        for entry in self.cars:
            if entry.driver == driver:
                return entry
        raise KeyError(f"driver: {driver!r} is not in the race; drivers are {', '.join(self.drivers)}")


def _check_section(path: str, obj: Any, specs: dict[str, Field], what: str) -> dict:
    scalars = {k: v for k, v in specs.items() if k not in _LIST_FIELDS and v.kind != "object"}
    plain = {k: v for k, v in obj.items() if k in scalars or k not in specs} if isinstance(obj, dict) else obj
    values = check_object(path, plain, scalars, what)
    for name, spec in specs.items():
        if name not in _LIST_FIELDS:
            continue
        items = obj.get(name)
        if not isinstance(items, list) or not items:
            raise TelemetryValidationError(f"{path}.{name}", items, "is not a non-empty list")
        want = _LIST_FIELDS[name]
        if want is not None and len(items) != want:
            raise TelemetryValidationError(f"{path}.{name}", items, f"does not have {want} items")
        if name == "corners":
            values[name] = tuple(
                tuple(check_field(f"{path}.{name}[{i}][{j}]", spec, v) for j, v in enumerate(pair))
                if isinstance(pair, list) and len(pair) == 2
                else _raise(f"{path}.{name}[{i}]", pair, "is not a [distance_m, apex_speed_kph] pair")
                for i, pair in enumerate(items))
        else:
            values[name] = tuple(check_field(f"{path}.{name}[{i}]", spec, v) for i, v in enumerate(items))
            if name.endswith("_p") and not math.isclose(sum(values[name]), 1.0, abs_tol=1e-6):
                raise TelemetryValidationError(f"{path}.{name}", items, "does not sum to 1")
    return values


def _raise(path: str, value: Any, rule: str):
    raise TelemetryValidationError(path, value, rule)


def parse_race_definition(obj: Any) -> RaceDefinition:
    """Check a decoded race-definition object and build a `RaceDefinition`.

    Raises
    ------
    workbench.telemetry.TelemetryValidationError
        Naming the field path, the value and the rule.
    """
    if not isinstance(obj, dict):
        kind = {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(obj), "number")
        _raise("race definition", f"a JSON {kind}", "is not a JSON object with sections track, fuel, compounds, "
                                                    "events, cars")
    known = {"schema_version", "name", "source", "track", "fuel", "compounds", "events", "cars"}
    for key in obj:
        if key not in known:
            near = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            _raise(str(key), key, f"is not a section of a race definition ({hint}sections are "
                                  f"{', '.join(sorted(known))})")
    for key in known - {"source"}:
        if key not in obj:
            _raise(key, None, "is missing but the section is required")
    if str(obj["schema_version"]).split(".")[0] != RACE_SCHEMA_VERSION.split(".")[0]:
        _raise("schema_version", obj["schema_version"], f"is not compatible with {RACE_SCHEMA_VERSION}")
    track = _check_section("track", obj["track"], TRACK_FIELDS, "the track section")
    if not math.isclose(sum(track["sector_fractions"]), 1.0, abs_tol=1e-6):
        _raise("track.sector_fractions", list(track["sector_fractions"]), "does not sum to 1")
    fuel = _check_section("fuel", obj["fuel"], FUEL_FIELDS, "the fuel section")
    if not isinstance(obj["compounds"], dict) or not obj["compounds"]:
        _raise("compounds", obj["compounds"], "is not a non-empty object of compound models")
    compounds = {}
    for name, spec in obj["compounds"].items():
        try:
            canon = Compound(normalize_compound(name))
        except ValueError as exc:
            _raise(f"compounds.{name}", name, str(exc))
        compounds[canon] = CompoundModel(
            **_check_section(f"compounds.{name}", spec, COMPOUND_FIELDS, "a compound model"))
    events = _check_section("events", obj["events"], EVENT_FIELDS, "the events section")
    if not isinstance(obj["cars"], list) or not obj["cars"]:
        _raise("cars", obj["cars"], "is not a non-empty list of cars")
    cars = []
    for i, car in enumerate(obj["cars"]):
        path = f"cars[{i}]"
        values = _check_section(path, car, CAR_FIELDS, "a car entry")
        plan = car.get("strategy")
        if not isinstance(plan, list) or not plan:
            _raise(f"{path}.strategy", plan, "is not a non-empty list of stints")
        stints = []
        for j, stint in enumerate(plan):
            s = _check_section(f"{path}.strategy[{j}]", stint, STINT_FIELDS, "a stint")
            if s["compound"] not in compounds:
                _raise(f"{path}.strategy[{j}].compound", s["compound"].value, "has no model in compounds")
            stints.append(StintPlan(**s))
        total = sum(s.laps for s in stints)
        if total != track["laps"]:
            _raise(f"{path}.strategy", [s.laps for s in stints],
                   f"adds up to {total} laps for {values['driver']}, not the race distance track.laps = "
                   f"{track['laps']}")
        cars.append(CarEntry(**values, strategy=tuple(stints)))
    drivers = [c.driver for c in cars]
    for i, d in enumerate(drivers):
        if drivers.index(d) != i:
            _raise(f"cars[{i}].driver", d, "is not unique")
    grids = sorted(c.grid for c in cars)
    if grids != list(range(1, len(cars) + 1)):
        _raise("cars[].grid", grids, f"is not a permutation of 1..{len(cars)}")
    return RaceDefinition(name=obj["name"], source=obj.get("source", ""), track=Track(**track), fuel=Fuel(**fuel),
                          compounds=compounds, events=EventModel(**events), cars=tuple(cars))


class JsonFileError(TelemetryValidationError):
    """A JSON file could not be read: ``str()`` is ``"PATH: why"`` (``why`` alone in `why`)."""

    def __init__(self, path: str | Path, why: str):
        super().__init__(str(path), str(path), why)
        self.why = why
        self.args = (f"{path}: {why}",)

    def __str__(self) -> str:
        return self.args[0]


def read_json(path: str | Path) -> Any:
    """A JSON file's content; `JsonFileError` naming the file when it is missing, a directory,
    unreadable, binary or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise JsonFileError(path, "does not exist") from None
    except IsADirectoryError:
        raise JsonFileError(path, "is a directory, not a JSON file") from None
    except PermissionError:
        raise JsonFileError(path, "cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise JsonFileError(path, f"is not UTF-8 text (byte {exc.start}: a binary file?)") from None
    except json.JSONDecodeError as exc:
        raise JsonFileError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise JsonFileError(path, "is nested too deeply to be read") from None


def load_race_definition(path: str | Path) -> RaceDefinition:
    """Read and check a race-definition JSON file."""
    return parse_race_definition(read_json(path))


def with_distance(race: RaceDefinition, laps: int) -> RaceDefinition:
    """The race over ``laps`` laps: every car's planned stints scaled to the new distance.

    Each stint keeps its share of the race (rounded, at least one lap); the last stint
    takes what is left, and stints that no longer fit are dropped.
    """
    if isinstance(laps, bool) or not isinstance(laps, int) or not 1 <= laps <= 200:
        raise TelemetryValidationError("laps", laps, "is not an integer from 1 to 200")
    old = race.track.laps
    cars = []
    for car in race.cars:
        stints, used = [], 0
        for stint in car.strategy[:-1]:
            n = max(1, round(stint.laps * laps / old))
            if used + n >= laps:
                break
            stints.append(dataclasses.replace(stint, laps=n))
            used += n
        last = car.strategy[len(stints)] if len(stints) < len(car.strategy) else car.strategy[-1]
        stints.append(dataclasses.replace(last, laps=laps - used))
        cars.append(dataclasses.replace(car, strategy=tuple(stints)))
    return dataclasses.replace(race, track=dataclasses.replace(race.track, laps=laps), cars=tuple(cars))


def bundled_race() -> RaceDefinition:
    """The bundled race: the 2024 Bahrain Grand Prix, fitted from real laps."""
    return load_race_definition(bundled_data_dir() / "bahrain-2024.race.json")
