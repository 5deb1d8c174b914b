"""The what-if engine: common random numbers, chunking that changes nothing, scenarios that move the numbers,
and bad inputs named by field, value and rule."""

import numpy as np
import pytest

from workbench.strategy.montecarlo import Stop
from workbench.strategy.whatif import Scenario, adjusted_race, parse_stops, run_whatif
from workbench.telemetry.records import Compound
from workbench.telemetry.schema import TelemetryValidationError


def test_no_change_gives_the_baseline_exactly(race):
    res = run_whatif(race, "VER", Scenario(), runs=300, seed=4, backend="numpy", chunks=3)
    assert np.array_equal(res.baseline_position, res.scenario_position)
    assert res.summary()["delta"] == {"mean_position": 0.0, "expected_points": 0.0, "p_points": 0.0}


def test_chunking_does_not_change_any_number(race):
    a = run_whatif(race, "VER", Scenario(sc_from_lap=20), runs=200, seed=1, backend="numpy", chunks=1)
    b = run_whatif(race, "VER", Scenario(sc_from_lap=20), runs=200, seed=1, backend="numpy", chunks=7)
    assert np.array_equal(a.scenario_position, b.scenario_position)
    assert np.array_equal(a.baseline_time_s, b.baseline_time_s, equal_nan=True)


def test_progress_is_reported_per_chunk(race):
    calls = []
    run_whatif(race, "VER", Scenario(), runs=100, seed=0, backend="numpy", chunks=4,
               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 8) for k in range(1, 9)]


def test_a_heavier_pit_loss_and_degradation_cost_race_time(race):
    res = run_whatif(race, "VER", Scenario(pit_loss_delta_s=10.0, degradation_scale=2.0), runs=300, seed=2,
                     backend="numpy")
    s = res.summary()
    assert s["scenario"]["median_race_time_s"] > s["baseline"]["median_race_time_s"] + 10
    assert "pit loss +10.0 s" in res.description and "degradation x2" in res.description


def test_our_stops_and_a_rival_stop_are_applied(race):
    res = run_whatif(race, "VER", Scenario(stops=parse_stops("20", "HARD"), rival_stops_now="LEC"), runs=200,
                     backend="numpy")
    assert res.description == "our stops L20 HARD; LEC stops now"
    assert not np.array_equal(res.baseline_time_s, res.scenario_time_s, equal_nan=True)


def test_parse_stops():
    assert parse_stops("18, 36", "hard; medium") == (Stop(18, Compound.HARD), Stop(36, Compound.MEDIUM))
    assert parse_stops("", "") == ()


@pytest.mark.parametrize("scenario,message", [
    (Scenario(sc_from_lap=99), "sc_from_lap: 99 is not between 1 and 56"),
    (Scenario(rival_stops_now="XXX"), "rival_stops_now: 'XXX' is not a driver of the race"),
    (Scenario(rival_stops_now="VER"), "rival_stops_now: 'VER' is our own car"),
    (Scenario(stops=(Stop(10, Compound.SOFT),)), "strategy.stops"),
])
def test_bad_scenarios_are_named(race, scenario, message):
    with pytest.raises(TelemetryValidationError, match=message.replace("(", r"\(")):
        run_whatif(race, "VER", scenario, runs=10, backend="numpy")


def test_bad_inputs_are_named(race):
    with pytest.raises(TelemetryValidationError, match=r"pit_laps\[0\]: 'x' is not a lap number"):
        parse_stops("x", "HARD")
    with pytest.raises(TelemetryValidationError, match="compounds: 'HARD' does not name one compound per pit lap"):
        parse_stops("10, 20", "HARD")
    with pytest.raises(TelemetryValidationError, match=r"degradation_scale: 9.0 is not between 0 and 5"):
        adjusted_race(race, degradation_scale=9.0)
