"""Fuel: burn from telemetry, else the model; laps of fuel; lift-and-coast need."""

import pytest

from workbench.twins.fuel_model import FUEL_MARGIN_KG, estimate_fuel


def test_burn_from_consecutive_green_laps():
    readings = [(1, 98.2), (2, 96.4), (3, 94.6), (5, 90.0)]  # lap 4 missing: 3->5 is not used
    est = estimate_fuel(readings, 5, 57, 90.0, 100.0, 1.75)
    assert est.source == "telemetry" and est.burn_kg_per_lap == pytest.approx(1.8)
    assert est.laps_of_fuel == pytest.approx(50.0) and est.laps_to_go == 52
    # 52 laps * 1.8 + margin - 90 kg = 4.6 kg short: save it over the laps to go
    assert est.lift_and_coast_needed
    assert est.lift_and_coast_kg_per_lap == pytest.approx((52 * 1.8 + FUEL_MARGIN_KG - 90.0) / 52)


def test_model_when_no_fuel_telemetry():
    est = estimate_fuel([], 10, 57, None, 100.0, 1.75)
    assert est.source == "model" and est.fuel_kg == pytest.approx(82.5) and est.burn_kg_per_lap == 1.75
    assert not est.lift_and_coast_needed and est.to_dict()["lift_and_coast_kg_per_lap"] == 0.0


def test_enough_fuel_needs_no_lift_and_coast():
    est = estimate_fuel([(1, 98.0), (2, 96.5), (3, 95.0)], 3, 10, 95.0, 100.0, 1.75)
    assert est.lift_and_coast_kg_per_lap == 0.0 and est.laps_of_fuel == pytest.approx(95 / 1.5)
