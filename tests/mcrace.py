"""Small race definitions for the Monte Carlo tests, built from the bundled one."""

from __future__ import annotations

import copy
import json

from workbench.paths import bundled_data_dir
from workbench.strategy.racedef import parse_race_definition


def bundled_obj() -> dict:
    return json.loads((bundled_data_dir() / "bahrain-2024.race.json").read_text())


def quiet(obj: dict) -> dict:
    """No noise, no random events, no retirements, fixed standstills."""
    obj = copy.deepcopy(obj)
    obj["track"].update(start_sigma_s=0.0, pit_standstill_sigma_log=0.0)
    obj["events"].update(sc_phases_p=[1.0], sc_length_laps_p=[1.0], vsc_phases_p=[1.0], vsc_length_laps_p=[1.0],
                         retirement_p=0.0)
    for car in obj["cars"]:
        car["lap_noise_s"] = 0.0
    return obj


# AAA's laps in `two_car_race` with its planned stints, by hand: base 100; +0.1 s per tyre lap;
# +0.03 s/kg from 10 kg, -1 kg per lap; HARD +0.5; lap 1 +2 s start loss; a stop costs 20 + 2 s,
# 35% on the in-lap and 65% on the out-lap.
AAA_LAPS = [100 + 0.1 + 0.30 + 2.0,               # SOFT, age 1
            100 + 0.2 + 0.27 + 0.35 * 22,         # in-lap
            100 + 0.5 + 0.1 + 0.24 + 0.65 * 22,   # HARD, out-lap
            100 + 0.5 + 0.2 + 0.21,
            100 + 0.5 + 0.3 + 0.18]


def two_car_race(**track) -> dict:
    """A noise-free 5-lap race of two cars whose result is easy to compute by hand."""
    obj = quiet(bundled_obj())
    obj["track"].update(laps=5, base_lap_time_s=100.0, pit_loss_green_s=20.0, pit_standstill_median_s=2.0,
                        start_loss_s=2.0, start_loss_per_grid_slot_s=0.5, min_gap_s=0.4, overtaking_difficulty=1.0)
    obj["track"].update(track)
    obj["fuel"] = {"start_kg": 10.0, "burn_kg_per_lap": 1.0, "mass_effect_s_per_kg": 0.03}
    extra = obj["track"]["laps"] - 5  # a longer race: the last stints run to the flag
    obj["compounds"] = {"SOFT": {"offset_s": 0.0, "model": "linear", "k1_s": 0.1, "k2_s": 0.0},
                        "HARD": {"offset_s": 0.5, "model": "linear", "k1_s": 0.1, "k2_s": 0.0}}
    base = {"team": "T", "lap_noise_s": 0.0}
    obj["cars"] = [
        {**base, "driver": "AAA", "number": 1, "grid": 1, "pace_delta_s": 0.0,
         "strategy": [{"compound": "SOFT", "laps": 2}, {"compound": "HARD", "laps": 3 + extra}]},
        {**base, "driver": "BBB", "number": 2, "grid": 2, "pace_delta_s": 5.0,
         "strategy": [{"compound": "HARD", "laps": 3}, {"compound": "SOFT", "laps": 2 + extra}]},
    ]
    return obj


def build(obj: dict):
    return parse_race_definition(obj)


def exact_plans(race):
    """Every car follows its race-definition plan exactly (no random stop laps)."""
    from workbench.strategy.montecarlo import strategies_from_stints

    return strategies_from_stints(race, {c.driver: [{"compound": s.compound.value, "laps": s.laps}
                                                    for s in c.strategy] for c in race.cars})
