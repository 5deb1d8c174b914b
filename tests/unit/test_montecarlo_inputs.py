"""Bad Monte Carlo input is rejected with the field, the value and the rule."""

import re

import pytest

from workbench.strategy.montecarlo import (
    RaceState,
    Stop,
    Strategy,
    check_strategy,
    load_events,
    load_strategies,
    pack,
    parse_events,
    simulate,
    strategies_from_stints,
)
from workbench.telemetry.records import Compound
from workbench.telemetry.schema import TelemetryValidationError

S, M, H = Compound.SOFT, Compound.MEDIUM, Compound.HARD


@pytest.mark.parametrize("stops,laps_completed,message", [
    ([Stop(10, H)], 10, "strategy.stops[0].lap: 10 is not between 11 and 56"),
    ([Stop(57, H)], 0, "strategy.stops[0].lap: 57 is not between 1 and 56"),
    ([Stop(20, H), Stop(20, M)], 0, "strategy.stops[1].lap: 20 is not between 21 and 56"),
    ([Stop(20, Compound.WET)], 0, "strategy.stops[0].compound: 'WET' is not available"),
    ([Stop(20, S)], 0, "strategy.stops: [{'compound': 'SOFT', 'lap': 20}] breaks the two-dry-compound rule"),
    ([], 0, "strategy.stops: [] breaks the two-dry-compound rule (only SOFT used)"),
])
def test_illegal_strategies_are_named(race, stops, laps_completed, message):
    car = RaceState.grid(race).car("VER")
    with pytest.raises(TelemetryValidationError, match=re.escape(message)):
        check_strategy(race, car, Strategy(tuple(stops)), laps_completed)


def test_legal_strategy_passes(race):
    car = RaceState.grid(race).car("VER")
    assert check_strategy(race, car, Strategy((Stop(20, H),)), 0).stops[0].lap == 20


@pytest.mark.parametrize("obj,message", [
    ({}, "strategies: {} is not an object of stint lists by driver"),
    ({"XXX": []}, "strategies.XXX: 'XXX' is not in the race"),
    ({"VER": []}, "strategies.VER: [] is not a non-empty list of stints"),
    ({"VER": [{"compound": "SOFT"}]}, "strategies.VER[0]: {'compound': 'SOFT'} is not an object with exactly"),
    ({"VER": [{"compound": "PURPLE", "laps": 57}]}, "strategies.VER[0].compound: 'PURPLE' is not a compound"),
    ({"VER": [{"compound": "SOFT", "laps": 0}]}, "strategies.VER[0].laps: 0 is not a positive integer"),
    ({"VER": [{"compound": "SOFT", "laps": 20}, {"compound": "HARD", "laps": 20}]},
     "strategies.VER: [20, 20] adds up to 40 laps, not the race distance 57"),
    ({"VER": [{"compound": "SOFT", "laps": 20}, {"compound": "SOFT", "laps": 37}]},
     "strategies.VER.stops: [{'compound': 'SOFT', 'lap': 20}] breaks the two-dry-compound rule"),
])
def test_bad_strategy_files_are_named(race, obj, message):
    with pytest.raises(TelemetryValidationError, match=re.escape(message)):
        strategies_from_stints(race, obj)


def test_strategy_file_round_trip(race, tmp_path):
    path = tmp_path / "s.json"
    path.write_text('{"VER": [{"compound": "SOFT", "laps": 18}, {"compound": "HARD", "laps": 39}]}')
    assert load_strategies(path, race) == {"VER": Strategy((Stop(18, H),))}
    path.write_text("{not json")
    with pytest.raises(TelemetryValidationError, match="is not valid JSON"):
        load_strategies(path, race)


@pytest.mark.parametrize("obj,message", [
    ({}, "events: {} is not a list"),
    ([{"kind": "SC"}], "events[0]: {'kind': 'SC'} is not an object with exactly kind, first_lap, last_lap"),
    ([{"kind": "RED", "first_lap": 3, "last_lap": 4}], "events[0].kind: 'RED' is not one of SC, VSC, GREEN"),
    ([{"kind": "SC", "first_lap": 0, "last_lap": 4}], "events[0].first_lap: 0 is not a lap between 1 and 57"),
    ([{"kind": "SC", "first_lap": 3, "last_lap": 58}], "events[0].last_lap: 58 is not a lap between 1 and 57"),
    ([{"kind": "SC", "first_lap": 5, "last_lap": 4}], "events[0].last_lap: 4 is before first_lap 5"),
    ([{"kind": "SC", "first_lap": True, "last_lap": 4}], "events[0].first_lap: True is not a lap"),
])
def test_bad_events_are_named(obj, message):
    with pytest.raises(TelemetryValidationError, match=re.escape(message)):
        parse_events(obj, 57)


def test_events_file_is_read_and_forced_into_the_race(race, tmp_path):
    path = tmp_path / "e.json"
    path.write_text('[{"kind": "sc", "first_lap": 19, "last_lap": 22}, {"kind": "VSC", "first_lap": 40, '
                    '"last_lap": 40}]')
    events = load_events(path, 57)
    status = pack(race, events=events).forced_status
    assert list(status[18:24]) == [-1, 1, 1, 1, 1, -1] and status[40] == 2


@pytest.mark.parametrize("kwargs,message", [
    ({"runs": 0}, "runs: 0 is not an integer >= 1"),
    ({"runs": 2.5}, "runs: 2.5 is not an integer >= 1"),
    ({"seed": -1}, "seed: -1 is not an integer >= 0"),
    ({"backend": "gpu"}, "backend: 'gpu' is not one of auto, numba, numpy, mojo, cuda"),
])
def test_bad_simulate_arguments_are_named(race, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        simulate(race, **kwargs)


def test_state_at_the_flag_or_for_an_unknown_driver_is_rejected(race):
    grid = RaceState.grid(race)
    with pytest.raises(TelemetryValidationError, match=re.escape("state.laps_completed: 57 is not between 0 and 56")):
        pack(race, RaceState(57, grid.cars))
    with pytest.raises(TelemetryValidationError, match="state.cars: 'VER' is missing"):
        pack(race, RaceState(3, grid.cars[1:]))
    with pytest.raises(TelemetryValidationError, match="strategies.XXX: 'XXX' is not a driver"):
        pack(race, strategies={"XXX": Strategy()})
