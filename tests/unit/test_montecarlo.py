"""The full-field race model: hand-computed races, live starts, parity and determinism."""

import dataclasses

import numba
import numpy as np
import pytest

from tests.mcrace import build, bundled_obj, exact_plans, quiet, two_car_race
from workbench.strategy.montecarlo import CarState, RaceState, Stop, Strategy, pack, simulate
from workbench.telemetry.records import Compound, TrackStatus

BACKENDS = ("numba", "numpy")

# Lap by lap, by hand (base 100; +0.1 s per tyre lap; +0.03 s/kg from 10 kg, -1 kg per lap;
# HARD +0.5; lap 1 +2 s start loss (+0.5 per grid slot); a stop costs 20 + 2 s,
# 35% on the in-lap and 65% on the out-lap).
AAA_LAPS = [100 + 0.1 + 0.30 + 2.0,               # SOFT, age 1
            100 + 0.2 + 0.27 + 0.35 * 22,         # in-lap
            100 + 0.5 + 0.1 + 0.24 + 0.65 * 22,   # HARD, out-lap
            100 + 0.5 + 0.2 + 0.21,
            100 + 0.5 + 0.3 + 0.18]
BBB_LAPS = [105 + 0.5 + 0.1 + 0.30 + 2.5,         # HARD, grid 2
            105 + 0.5 + 0.2 + 0.27,
            105 + 0.5 + 0.3 + 0.24 + 0.35 * 22,   # in-lap
            105 + 0.1 + 0.21 + 0.65 * 22,         # SOFT out-lap
            105 + 0.2 + 0.18]


@pytest.mark.parametrize("backend", BACKENDS)
def test_deterministic_race_matches_hand_computation(backend):
    race = build(two_car_race())
    res = simulate(race, strategies=exact_plans(race), runs=3, seed=1, backend=backend)
    assert sum(AAA_LAPS) == pytest.approx(527.6) and sum(BBB_LAPS) == pytest.approx(553.1)
    for run in range(3):  # no randomness left: every race is the same
        assert res.race_time_s[run] == pytest.approx([sum(AAA_LAPS), sum(BBB_LAPS)], abs=1e-9)
        assert list(res.position[run]) == [1, 2] and list(res.stops[run]) == [1, 1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_faster_car_is_held_at_min_gap_where_passing_is_impossible(backend):
    obj = two_car_race(overtaking_difficulty=1.0)
    obj["cars"][1]["pace_delta_s"] = -3.0
    race = build(obj)
    both = frozenset({Compound.SOFT, Compound.HARD})
    state = RaceState(3, (CarState("AAA", 0.0, Compound.HARD, 1, 1, both, 7.0),
                          CarState("BBB", 0.5, Compound.HARD, 1, 1, both, 7.0)))
    res = simulate(race, state, {"AAA": Strategy(), "BBB": Strategy()}, runs=1, seed=0, backend=backend)
    # BBB is 3 s a lap faster but can never pass: it crosses the line min_gap behind AAA.
    assert res.race_time_s[0, 0] == pytest.approx((100.5 + 0.2 + 0.21) + (100.5 + 0.3 + 0.18), abs=1e-9)
    assert res.race_time_s[0, 1] == pytest.approx(res.race_time_s[0, 0] + 0.4, abs=1e-9)
    assert list(res.position[0]) == [1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_live_state_continues_the_race_exactly(backend):
    race = build(two_car_race())
    after4 = RaceState(4, (
        CarState("AAA", 0.0, Compound.HARD, 2, 1, frozenset({Compound.SOFT, Compound.HARD}), 6.0),
        CarState("BBB", sum(BBB_LAPS[:4]) - sum(AAA_LAPS[:4]), Compound.SOFT, 1, 1,
                 frozenset({Compound.SOFT, Compound.HARD}), 6.0)))
    res = simulate(race, after4, runs=1, backend=backend)
    assert res.race_time_s[0] == pytest.approx([AAA_LAPS[4], sum(BBB_LAPS) - sum(AAA_LAPS[:4])], abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_safety_car_in_the_state_bunches_the_field(backend):
    obj = two_car_race()
    obj["cars"][1]["pace_delta_s"] = 0.0
    race = build(obj)
    cars = (CarState("AAA", 0.0, Compound.HARD, 1, 1, frozenset({Compound.SOFT, Compound.HARD}), 8.0),
            CarState("BBB", 20.0, Compound.HARD, 1, 0, frozenset({Compound.HARD}), 8.0))
    plans = {"BBB": Strategy((Stop(4, Compound.SOFT),))}
    green = simulate(race, RaceState(1, cars), plans, runs=1, backend=backend)
    sc = simulate(race, RaceState(1, cars, TrackStatus.SC, 2), plans, runs=1, backend=backend)
    gap_green = green.race_time_s[0, 1] - green.race_time_s[0, 0]
    gap_sc = sc.race_time_s[0, 1] - sc.race_time_s[0, 0]
    assert gap_green > 20.0 and gap_sc < 10.0 + 22.0  # 20 s -> 6 s -> 1.8 s, then the stop


def test_numba_and_numpy_agree_race_by_race(race):
    a = simulate(race, runs=400, seed=9, backend="numba")
    b = simulate(race, runs=400, seed=9, backend="numpy")
    assert np.array_equal(a.position, b.position) and np.array_equal(a.stops, b.stops)
    assert np.array_equal(np.isnan(a.race_time_s), np.isnan(b.race_time_s))
    assert np.nanmax(np.abs(a.race_time_s - b.race_time_s)) < 1e-9


def test_numba_and_numpy_agree_from_a_live_state_under_sc(race):
    grid = RaceState.grid(race)
    cars = tuple(dataclasses.replace(c, gap_to_leader_s=2.5 * i, tyre_age_laps=20)
                 for i, c in enumerate(sorted(grid.cars, key=lambda c: c.position)))
    state = RaceState(20, cars, TrackStatus.SC, 3)
    a = simulate(race, state, runs=300, seed=4, backend="numba")
    b = simulate(race, state, runs=300, seed=4, backend="numpy")
    assert np.array_equal(a.position, b.position)
    assert np.nanmax(np.abs(a.race_time_s - b.race_time_s)) < 1e-9


def test_position_distributions_agree_statistically(race):
    # different races (seeds) of the same model: distributions agree within sampling error
    a = simulate(race, runs=3000, seed=1, backend="numba")
    b = simulate(race, runs=1500, seed=2, backend="numpy")
    for driver in ("VER", "LEC", "HAM", "ZHO"):
        pa, pb = a.position_distribution(driver), b.position_distribution(driver)
        se = np.sqrt(pa * (1 - pa) / 3000 + pb * (1 - pb) / 1500)
        assert np.all(np.abs(pa - pb) <= 5 * se + 1e-3), driver
    assert abs(np.isnan(a.race_time_s).mean() - race.events.retirement_p) < 0.02


def test_same_seed_same_results_for_any_thread_count_and_split(race):
    full = simulate(race, runs=256, seed=5)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(race, runs=256, seed=5)
    finally:
        numba.set_num_threads(before)
    first, second = simulate(race, runs=100, seed=5), simulate(race, runs=156, seed=5, sim0=100)
    assert np.array_equal(full.position, one.position) and np.array_equal(full.race_time_s, one.race_time_s,
                                                                          equal_nan=True)
    assert np.array_equal(full.position, np.vstack([first.position, second.position]))
    assert not np.array_equal(full.position, simulate(race, runs=256, seed=6).position)


def test_model_is_realistic_on_the_bundled_race(race):
    res = simulate(race, runs=2000, seed=3)
    ver = res.position_distribution("VER")
    assert ver[0] > 0.6  # the fastest car from pole usually wins
    finished = res.race_time_s[~np.isnan(res.race_time_s)]
    assert 5300 < np.median(finished) < 5900  # 2024 Bahrain: winner 5504 s, 57 laps
    assert np.all(np.sort(res.position, axis=1) == np.arange(1, 21))


def test_retirements_follow_the_probability():
    obj = bundled_obj()
    obj["events"]["retirement_p"] = 0.5
    res = simulate(build(obj), runs=1000, seed=8)
    retired = np.isnan(res.race_time_s)
    assert 0.45 < retired.mean() < 0.55
    # retired cars are classified behind every finisher
    for run in range(50):
        assert res.position[run][retired[run]].min(initial=99) > res.position[run][~retired[run]].max()


def test_quiet_bundled_race_is_the_same_every_run():
    obj = quiet(bundled_obj())
    obj["track"]["overtaking_difficulty"] = 1.0  # no passing: no overtaking draws either
    race = build(obj)
    res = simulate(race, strategies=exact_plans(race), runs=20, seed=1)
    assert np.all(res.race_time_s == res.race_time_s[0])
    assert np.all(res.position == res.position[0])


def test_pack_layout_is_consistent(race):
    packed = pack(race)
    assert packed.drivers == tuple(race.drivers)
    assert packed.pit_lap.shape == packed.pit_compound.shape and packed.pit_lap.shape[0] == 20
    assert packed.forced_status[0] == 0 and (packed.forced_status[1:] == -1).all()
