"""The race-definition format and the bundled race fitted from real data."""

import copy
import importlib.util
import json

import pytest

from workbench.strategy.racedef import bundled_race, load_race_definition, parse_race_definition
from workbench.telemetry import Compound, TelemetryValidationError


@pytest.fixture(scope="module")
def raw(repo_root):
    return json.loads((repo_root / "data" / "bahrain-2024.race.json").read_text())


def test_bundled_race_is_complete(race):
    assert race.track.laps == 57 and len(race.cars) == 20
    assert sorted(c.grid for c in race.cars) == list(range(1, 21))
    assert {Compound.SOFT, Compound.MEDIUM, Compound.HARD} <= set(race.compounds)
    # fitted numbers land in physically sensible ranges (Heilmeier et al. 2020: 0.017-0.045 s/kg)
    assert 0.017 <= race.fuel.mass_effect_s_per_kg <= 0.045
    assert 18 < race.track.pit_loss_green_s < 28
    assert 85 < race.track.base_lap_time_s < 100
    assert min(c.pace_delta_s for c in race.cars) == 0.0
    for car in race.cars:
        assert sum(s.laps for s in car.strategy) == 57


def test_bundled_race_is_what_the_real_data_gives(repo_root, shared_data, raw):
    """Re-running data/build_bahrain_2024.py on ../shared/data reproduces the committed file."""
    spec = importlib.util.spec_from_file_location("build", repo_root / "data" / "build_bahrain_2024.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    fitted = build.build(shared_data)
    build._normalize_probs(fitted)
    fitted.pop("_fit_report")
    assert json.loads(json.dumps(fitted)) == raw


def _broken(raw, path, value):
    obj = copy.deepcopy(raw)
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return obj


@pytest.mark.parametrize("path,value,message", [
    (("track", "laps"), 0, "track.laps: 0 is below minimum 1"),
    (("track", "base_lap_time_s"), "fast", "track.base_lap_time_s: 'fast' is not a number"),
    (("track", "sector_fractions"), [0.3, 0.3, 0.3], "track.sector_fractions: [0.3, 0.3, 0.3] does not sum to 1"),
    (("track", "pit_loss_green_s"), KeyError, "track.pit_loss_green_s: None is missing"),
    (("fuel", "mass_effect_s_per_kg"), -0.03, "fuel.mass_effect_s_per_kg: -0.03 is below minimum 0"),
    (("compounds", "C3"), {"offset_s": 0, "model": "linear", "k1_s": 0.1, "k2_s": 0},
     "compounds.C3: 'C3' is a Pirelli compound code"),
    (("compounds", "SOFT", "model"), "cubic", "compounds.SOFT.model: 'cubic' is not one of linear"),
    (("events", "sc_phases_p"), [0.5, 0.4], "events.sc_phases_p: [0.5, 0.4] does not sum to 1"),
    (("cars", 3, "pace_delta_s"), None, "cars[3].pace_delta_s: None is null"),
    (("cars", 3, "driver"), "VER", "cars[3].driver: 'VER' is not unique"),
    (("cars", 3, "grid"), 1, "cars[].grid: [1, 1, 2"),
    (("cars", 3, "strategy"), [], "cars[3].strategy: [] is not a non-empty list of stints"),
    (("cars", 3, "strategy", 0, "compound"), "WET", "cars[3].strategy[0].compound: 'WET' has no model"),
    (("cars", 3, "wings"), 2, "cars[3].wings: 2 is not a field of a car entry"),
    (("weather",), {}, "weather: 'weather' is not a section of a race definition (sections are cars,"),
    (("trak",), {"name": "x" * 500}, "trak: 'trak' is not a section of a race definition (did you mean 'track'?"),
    (("cars", 3, "strategy", 1, "laps"), 1, "cars[3].strategy: ["),
    (("cars", 3, "degradation_factor"), 0.1, "cars[3].degradation_factor: 0.1 is below minimum 0.2"),
    (("cars", 3, "degradation_factor"), "x", "cars[3].degradation_factor: 'x' is not a number"),
    (("cars", 3, "strategy", 0, "tyre_age_laps"), -1, "cars[3].strategy[0].tyre_age_laps: -1 is below minimum 0"),
    (("cars", 3, "strategy", 0, "tyre_age_laps"), 2.5, "cars[3].strategy[0].tyre_age_laps: 2.5 is not an integer"),
    (("track", "drs_gain_s"), -0.1, "track.drs_gain_s: -0.1 is below minimum 0"),
])
def test_bad_race_definition_names_field_value_and_rule(raw, path, value, message):
    with pytest.raises(TelemetryValidationError) as info:
        parse_race_definition(_broken(raw, path, value))
    assert str(info.value).startswith(message)


def test_misspelt_section_does_not_dump_the_object(raw):
    obj = copy.deepcopy(raw)
    obj["trak"] = obj.pop("track")
    with pytest.raises(TelemetryValidationError) as info:
        parse_race_definition(obj)
    assert "did you mean 'track'?" in str(info.value) and "Bahrain International" not in str(info.value)


def test_a_file_that_is_not_an_object_is_described_not_dumped():
    with pytest.raises(TelemetryValidationError) as info:
        parse_race_definition([{"x": 1}] * 1000)
    assert str(info.value) == ("race definition: 'a JSON array' is not a JSON object with sections track, fuel, "
                               "compounds, events, cars")


def test_stints_that_do_not_cover_the_race_name_car_and_totals(raw):
    obj = _broken(raw, ("cars", 2, "strategy"), [{"compound": "SOFT", "laps": 20}, {"compound": "HARD", "laps": 25}])
    with pytest.raises(TelemetryValidationError) as info:
        parse_race_definition(obj)
    driver = raw["cars"][2]["driver"]
    assert str(info.value) == (f"cars[2].strategy: [20, 25] adds up to 45 laps for {driver}, not the race "
                               "distance track.laps = 57")


def test_optional_fields_default_to_the_old_model(raw):
    old = copy.deepcopy(raw)  # the bundled race is fitted with the new fields: strip them for the old model
    old["track"].pop("drs_gain_s", None)
    for car in old["cars"]:
        car.pop("degradation_factor", None)
        for stint in car["strategy"]:
            stint.pop("tyre_age_laps", None)
    race = parse_race_definition(old)
    assert race.track.drs_gain_s == 0.0
    assert all(c.degradation_factor == 1.0 for c in race.cars)
    assert all(s.tyre_age_laps == 0 for c in race.cars for s in c.strategy)
    obj = copy.deepcopy(old)
    obj["track"]["drs_gain_s"] = 0.25
    obj["cars"][0]["degradation_factor"] = 1.3
    obj["cars"][0]["strategy"][1]["tyre_age_laps"] = 3
    got = parse_race_definition(obj)
    assert got.track.drs_gain_s == 0.25 and got.cars[0].degradation_factor == 1.3
    assert got.cars[0].strategy[1].tyre_age_laps == 3 and got.cars[0].strategy[0].tyre_age_laps == 0


def test_unreadable_file_says_where(tmp_path):
    bad = tmp_path / "bad.race.json"
    bad.write_text('{"name": ')
    with pytest.raises(TelemetryValidationError, match=r"bad.race.json: is not valid JSON \(Expecting value at line 1"):
        load_race_definition(bad)


def test_unknown_driver_is_named(race):
    with pytest.raises(KeyError, match="'XXX' is not in the race"):
        race.car("XXX")


def test_degradation_models(race):
    soft = race.compounds[Compound.SOFT]
    assert soft.degradation_s(10) == pytest.approx(10 * soft.k1_s)
    assert bundled_race() == race
