"""CarTwin models: lap flags, fuel, fitted degradation vs the simulator's truth, pit window, deltas, refusals."""

import dataclasses
import json

import jsonschema
import numpy as np
import pytest

from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.racedef import CompoundModel
from workbench.telemetry import CarSample, Compound, LapRecord, TrackStatus
from workbench.twins import CarTwin, FieldTwin
from workbench.twins.car import car_twin_schema
from workbench.twins.context import TwinContext


@pytest.fixture(scope="module")
def truth_race():
    from workbench.strategy.racedef import bundled_race
    race = bundled_race()
    compounds = dict(race.compounds)
    compounds[Compound.SOFT] = CompoundModel(offset_s=0.0, model="quadratic", k1_s=0.04, k2_s=0.004)
    compounds[Compound.HARD] = CompoundModel(offset_s=-0.3, model="logarithmic", k1_s=0.9, k2_s=0.0)
    return dataclasses.replace(race, compounds=compounds)


@pytest.fixture(scope="module")
def raced(truth_race):
    """A whole simulated race through a FieldTwin with generic priors (the truth is not told)."""
    sim = TelemetrySimulator(truth_race, seed=1)
    ctx = dataclasses.replace(TwinContext.from_race(truth_race), priors={})
    field = FieldTwin(context=ctx, our_driver="VER")
    seen = {}
    for r in sim.lap_records():
        field.update_state(r)
        if r.driver == "VER":
            t = field.cars["VER"]
            seen[r.lap_number] = (t.pit_window_ideal_lap, t.compound.value, t.tyre_age_laps, list(t.lap_flags))
    return sim, field, seen


def test_field_degradation_recovers_the_truth(raced, truth_race):
    _, field, _ = raced
    for compound in ("SOFT", "HARD"):
        fit = field.tyres.best(compound)
        truth = truth_race.compounds[Compound(compound)]
        assert fit.family == truth.model
        ages = np.array([5, 10, 15, 20])
        np.testing.assert_allclose(fit.degradation_s(ages), truth.degradation_s(ages), atol=0.3)


def test_our_car_degradation_is_within_its_uncertainty_of_the_truth(raced, truth_race):
    _, field, _ = raced
    us = field.cars["VER"]
    truth = truth_race.compounds[us.compound].degradation_s(us.tyre_age_laps)
    assert abs(us.degradation_s - truth) < 3 * us.degradation_sd_s + 0.3
    assert us.tyre_model in ("linear", "quadratic", "logarithmic") and 0 <= us.cliff_risk <= 1


def test_fuel_burn_from_telemetry_matches_the_race(raced, truth_race):
    _, field, _ = raced
    us = field.cars["VER"]
    assert us.fuel_source == "telemetry"
    assert us.fuel_burn_kg_per_lap == pytest.approx(truth_race.fuel.burn_kg_per_lap, abs=0.02)


def test_pit_window_is_recomputed_each_lap_and_points_ahead(raced):
    _, _, seen = raced
    first_stint = [lap for lap, (_, _, _, flags) in seen.items() if lap < 10]
    windows = [seen[lap][0] for lap in first_stint if seen[lap][0] is not None]
    assert windows and all(w > lap for w, lap in zip(windows, first_stint))
    assert len({seen[lap][0] for lap in seen}) > 3  # it moves as the race unfolds


def test_flags_for_in_out_sc_traffic_and_lap_one():
    twin = CarTwin(driver="VER", context=TwinContext(total_laps=57))
    t = 0.0
    laps = [(1, {}), (2, {"interval_s": 0.6, "position": 3}), (3, {"track_status": TrackStatus.SC}),
            (4, {"pit_in": True}), (5, {"pit_out": True, "stint": 2, "tyre_age_laps": 1}), (6, {})]
    flags = {}
    for n, kw in laps:
        t += 95.0
        kw = {"compound": Compound.SOFT, "tyre_age_laps": n, "stint": 1, **kw}
        twin.update_state(LapRecord(t, "VER", n, lap_time_s=95.0, **kw))
        flags[n] = list(twin.lap_flags)
    assert flags == {1: ["lap1"], 2: ["traffic"], 3: ["sc"], 4: ["in"], 5: ["out"], 6: []}
    assert twin.compounds_used == ["SOFT"]


def _green_laps(twin, n_laps, start=1, t0=0.0, base=95.0, deg=0.1):
    t = t0
    for n in range(start, start + n_laps):
        lt = base + deg * n
        t += lt
        twin.update_state(LapRecord(t, twin.driver, n, lap_time_s=lt, compound=Compound.HARD, tyre_age_laps=n,
                                    stint=1, fuel_kg=100.0 - 1.7 * n, position=1))
    return t


def test_deltas_to_model_and_stint():
    twin = CarTwin(driver="VER", context=TwinContext(total_laps=57))
    t = _green_laps(twin, 8)
    assert twin.expected_lap_time_s is not None and abs(twin.delta_to_model_s) < 0.5
    twin.update_state(LapRecord(t + 97.0, "VER", 9, lap_time_s=97.0, compound=Compound.HARD, tyre_age_laps=9,
                                stint=1, fuel_kg=100.0 - 1.7 * 9, position=1))
    assert twin.delta_to_model_s > 0.8 and twin.delta_to_stint_s > 1.0


def test_samples_do_not_recompute_models():
    twin = CarTwin(driver="VER", context=TwinContext(total_laps=57))
    t = _green_laps(twin, 6)
    before = {k: v for k, v in twin.state().items() if k != "live"}
    for i in range(50):
        twin.update_state(CarSample(t + 0.1 * i, "VER", 7, speed_kph=300.0, fuel_kg=80.0))
    after = {k: v for k, v in twin.state().items() if k != "live"}
    assert before.pop("fuel_kg") is not None and after.pop("fuel_kg") == 80.0  # the live fuel reading shows
    assert before == after


def test_out_of_order_and_rejected_records_change_nothing():
    twin = CarTwin(driver="VER", context=TwinContext(total_laps=57))
    t = _green_laps(twin, 5)
    before = json.dumps(twin.state())
    assert twin.update_state(LapRecord(t + 95, "VER", 3, lap_time_s=80.0)) is False  # lap already applied
    assert twin.update_state(CarSample(t - 50.0, "VER", 5, speed_kph=1.0)) is False  # older than the last record
    with pytest.raises(ValueError, match="lap_number: 0 is below minimum 1"):
        twin.update_state({"type": "lap", "session_time_s": t + 1, "driver": "VER", "lap_number": 0})
    assert json.dumps(twin.state()) == before


def test_state_is_json_with_a_schema_and_bounded_documented_parameters(raced):
    _, field, _ = raced
    state = field.cars["VER"].state()
    jsonschema.validate(json.loads(json.dumps(state)), car_twin_schema())
    schema = car_twin_schema()
    for name in ("pit_window_ideal_lap", "cliff_risk", "fuel_laps_left", "traffic_gap_s"):
        assert schema["properties"][name]["description"]
    assert schema["properties"]["cliff_risk"]["maximum"] == 1
    with pytest.raises(ValueError, match="traffic_gap_s"):
        CarTwin(driver="VER", traffic_gap_s=9.0)


def test_watchers_see_each_lap_once_and_only_changed_values():
    twin = CarTwin(driver="VER", context=TwinContext(total_laps=57))
    batches = []
    twin.param.watch(lambda *events: batches.append({e.name for e in events}), ["lap", "compound", "team"],
                     onlychanged=False)
    _green_laps(twin, 3)
    assert len(batches) == 3 and all("lap" in b for b in batches)
    assert "compound" in batches[0] and all("compound" not in b for b in batches[1:])  # set once, then unchanged
