"""CarTwin and FieldTwin: the seed's update_state, order and gaps."""

import math

import pytest

from workbench.telemetry import CarSample, Compound, LapRecord, TrackStatus
from workbench.twins import CarTwin, FieldTwin


def test_car_twin_update_state_from_wire_dict():
    twin = CarTwin(driver="VER")
    twin.update_state({"type": "lap", "session_time_s": 98.0, "driver": "VER", "lap_number": 1, "position": 2,
                       "lap_time_s": 98.0, "compound": "soft", "tyre_age_laps": 1, "stint": 1, "interval_s": 0.8})
    assert twin.lap == 1 and twin.position == 2 and twin.compound is Compound.SOFT and twin.gap_ahead_s == 0.8


def test_recent_pace_uses_clean_laps_only():
    twin = CarTwin(driver="VER")
    times = [(1, 103.0, {}), (2, 97.0, {}), (3, 97.2, {}), (4, 120.0, {"pit_in": True}),
             (5, 115.0, {"pit_out": True, "stint": 2}), (6, 96.0, {}), (7, 130.0, {"track_status": TrackStatus.SC})]
    t = 0.0
    for n, lt, kw in times:
        t += lt
        twin.update_state(LapRecord(t, "VER", n, lap_time_s=lt, **kw))
    assert twin.recent_pace_s == pytest.approx((97.0 + 97.2 + 96.0) / 3)
    assert twin.best_lap_time_s == 96.0 and twin.last_lap_time_s == 130.0
    assert twin.pit_stops == 1 and twin.lap == 7


def test_missing_lap_time_is_unknown_not_zero():
    twin = CarTwin(driver="BOT")
    twin.update_state(LapRecord(100.0, "BOT", 2, lap_time_s=None))
    state = twin.state()
    assert state["lap_times_s"] == [None, None] and twin.best_lap_time_s is None
    assert math.isnan(twin.lap_times_s[0])


def test_samples_update_live_channels():
    twin = CarTwin(driver="VER")
    twin.update_state(CarSample(5.0, "VER", 1, speed_kph=250.0, gear=7, fuel_kg=99.0, compound=Compound.HARD))
    state = twin.state()
    assert state["live"]["speed_kph"] == 250.0 and state["fuel_kg"] == 99.0 and state["compound"] == "HARD"


def test_a_sample_after_a_lap_still_sets_what_the_lap_changed():
    # Samples compare against a copy of the sample-driven parameters; anything else that changes
    # them (a lap record, a view, a test) must drop the copy, or the next sample would be ignored.
    twin = CarTwin(driver="VER")
    twin.update_state(CarSample(5.0, "VER", 1, compound=Compound.SOFT, tyre_age_laps=1, in_pit=False))
    twin.update_state(CarSample(5.1, "VER", 1, compound=Compound.SOFT, tyre_age_laps=1, in_pit=False))
    assert twin.compound is Compound.SOFT and twin.latest_sample.session_time_s == 5.1
    twin.update_state(LapRecord(90.0, "VER", 1, lap_time_s=90.0, compound=Compound.HARD, tyre_age_laps=3))
    assert twin.compound is Compound.HARD and twin.current_lap == 2
    twin.update_state(CarSample(90.5, "VER", 1, compound=Compound.SOFT, tyre_age_laps=1))
    assert twin.compound is Compound.SOFT and twin.tyre_age_laps == 1 and twin.current_lap == 1
    twin.compound = Compound.MEDIUM  # set from outside
    twin.update_state(CarSample(90.6, "VER", 1, compound=Compound.SOFT))
    assert twin.compound is Compound.SOFT


def test_wrong_driver_and_wrong_type_are_refused():
    twin = CarTwin(driver="VER")
    with pytest.raises(ValueError, match="driver: 'HAM' is not this twin's driver 'VER'"):
        twin.update_state(LapRecord(1.0, "HAM", 1))
    with pytest.raises(ValueError, match="type: 'session' is not a car record"):
        twin.update_state({"type": "session", "session_time_s": 0, "track": "x"})
    assert twin.lap == 0


def test_field_twin_orders_cars_and_links_gaps():
    field = FieldTwin()
    field.update_state(LapRecord(100.0, "VER", 1, position=1, gap_to_leader_s=0.0))
    field.update_state(LapRecord(101.5, "LEC", 1, position=2, gap_to_leader_s=1.5, interval_s=1.5))
    field.update_state(LapRecord(103.0, "HAM", 1, position=3, gap_to_leader_s=3.0, interval_s=1.5))
    field.update_state(LapRecord(196.0, "VER", 2, position=1, gap_to_leader_s=0.0))
    assert field.order == ["VER", "LEC", "HAM"] and field.leader_lap == 2
    assert field.cars["LEC"].gap_behind_s == 1.5
    assert field.cars["VER"].gap_behind_s is None  # LEC has not finished lap 2 yet
    field.retire("LEC")
    assert field.order == ["VER", "HAM"]  # a retired car leaves the order; the tower lists it after, OUT
    rows = field.standings()
    assert [r["driver"] for r in rows] == ["VER", "HAM", "LEC"] and rows[2]["retired"] and rows[2]["status"] == "OUT"


def test_samples_move_the_fuel_parameter_in_steps_and_the_json_is_the_parameter():
    from workbench.twins.car import FUEL_STEP_KG

    twin = CarTwin(driver="VER")
    twin.update_state(CarSample(5.0, "VER", 1, fuel_kg=38.0))
    twin.update_state(CarSample(5.1, "VER", 1, fuel_kg=38.0 - FUEL_STEP_KG / 2))  # less than a step: kept
    assert twin.fuel_kg == 38.0 and twin.state()["fuel_kg"] == 38.0
    twin.update_state(CarSample(5.2, "VER", 1, fuel_kg=37.5))
    assert twin.fuel_kg == 37.5 and twin.state()["fuel_kg"] == 37.5
    twin.update_state(LapRecord(90.0, "VER", 1, lap_time_s=90.0, fuel_kg=37.46))  # a lap's reading is exact
    twin.update_state(CarSample(90.1, "VER", 2, fuel_kg=37.44))
    assert twin.fuel_kg == 37.46 and twin.state()["fuel_kg"] == 37.46
