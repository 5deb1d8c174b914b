"""Race-model fidelity: the grid start, pit stops under SC, and the expressive power added for
reproducing real races (degradation factors, used sets, DRS, mid-lap SC/VSC, retirements,
deterministic mode, one-compound wet strategies)."""

import copy
import dataclasses

import numpy as np
import pytest

from tests.mcrace import AAA_LAPS, build, bundled_obj, exact_plans, quiet, two_car_race
from workbench.race import reference
from workbench.strategy.montecarlo import (
    CarState,
    NeutralPhase,
    RaceState,
    Retirement,
    Stop,
    Strategy,
    apply_stints,
    pack,
    parse_events,
    simulate,
)
from workbench.telemetry import TelemetryValidationError
from workbench.telemetry.records import Compound, TrackStatus

BACKENDS = ("numba", "numpy")


def _reversed(obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    obj["cars"] = obj["cars"][::-1]
    return obj


# -- bug (1): the lap-1 running order was the order of cars in the file -------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_identical_cars_finish_in_grid_order_whatever_the_file_order(backend):
    """Identical cars, identical plans, no passing: the grid order must survive the race.
    Before the fix every car started at gap 0 with ties broken by file index, so the car
    listed first led lap 1 whatever its grid slot."""
    obj = quiet(bundled_obj())
    obj["track"]["overtaking_difficulty"] = 1.0
    for car in obj["cars"]:
        car["pace_delta_s"] = 0.0
        car["degradation_factor"] = 1.0  # the fitted bundled race has per-car wear: make the cars identical
        car["strategy"] = [{"compound": "SOFT", "laps": 20}, {"compound": "HARD", "laps": 37}]
    by_grid = [c["driver"] for c in sorted(obj["cars"], key=lambda c: c["grid"])]
    for variant in (obj, _reversed(obj)):
        race = build(variant)
        res = simulate(race, strategies=exact_plans(race), runs=2, seed=4, backend=backend)
        assert res.finishing_order(0) == by_grid


@pytest.mark.parametrize("backend", BACKENDS)
def test_reversing_the_car_list_does_not_change_a_race(backend):
    """The bundled race without random draws: the same race whichever order the file lists the cars."""
    obj = quiet(bundled_obj())
    obj["track"]["overtaking_difficulty"] = 1.0
    results = []
    for variant in (obj, _reversed(obj)):
        race = build(variant)
        res = simulate(race, strategies=exact_plans(race), runs=1, seed=2, backend=backend)
        results.append({d: (int(res.position[0, i]), float(res.race_time_s[0, i])) for i, d in enumerate(res.drivers)})
    assert results[0].keys() == results[1].keys()
    for d in results[0]:
        assert results[0][d][0] == results[1][d][0]
        assert results[0][d][1] == pytest.approx(results[1][d][1], abs=1e-9)


def test_grid_state_spaces_cars_by_slot(race):
    grid = RaceState.grid(race)
    gaps = {c.driver: c.gap_to_leader_s for c in grid.cars}
    by_slot = sorted(race.cars, key=lambda e: e.grid)
    assert [gaps[e.driver] for e in by_slot] == sorted(gaps.values())
    assert gaps[by_slot[0].driver] == 0.0 and len(set(gaps.values())) == len(gaps)


# -- bug (2): under SC a car queued behind a car that was in the pit lane --------------------

def _sc_stop_race():
    obj = two_car_race(overtaking_difficulty=1.0)
    obj["cars"][1]["pace_delta_s"] = 0.0  # BBB as fast as AAA, 0.5 s behind after lap 1
    return build(obj)


def test_a_stop_under_sc_hands_the_place_to_the_car_behind():
    """AAA leads and pits under the SC of laps 2-3; BBB stays out. At the end of lap 2 BBB,
    which did not stop, must be ahead. Before the fix BBB queued behind AAA in the pit lane."""
    race = _sc_stop_race()
    plans = {"AAA": Strategy((Stop(2, Compound.HARD),)), "BBB": Strategy((Stop(4, Compound.SOFT),))}
    packed = pack(race, None, plans, [NeutralPhase(TrackStatus.SC, 2, 3)])
    pos, t, stops = np.zeros((1, 2), dtype=np.int64), np.zeros((1, 2)), np.zeros((1, 2), dtype=np.int64)
    trace = {}
    reference.run_races(0, 0, 1, *packed.kernel_args(), pos, t, stops, trace=trace)
    end = trace["lap_end_s"]  # [car, lap - 1]
    assert end[0, 0] < end[1, 0]  # AAA leads after lap 1
    assert end[1, 1] < end[0, 1] - 1.0  # after the stop under SC, BBB is clearly ahead


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stop_under_sc_costs_the_race_when_the_rival_need_not_stop(backend):
    race = _sc_stop_race()
    plans = {"AAA": Strategy((Stop(2, Compound.HARD),), wet_race=True), "BBB": Strategy((), wet_race=True)}
    res = simulate(race, strategies=plans, events=[NeutralPhase(TrackStatus.SC, 2, 3)], runs=1, backend=backend)
    assert res.finishing_order(0) == ["BBB", "AAA"]


# -- race-definition fields: degradation factor, used sets, DRS gain -------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_degradation_factor_multiplies_the_wear(backend):
    obj = two_car_race()
    obj["cars"][0]["degradation_factor"] = 2.0
    race = build(obj)
    res = simulate(race, strategies=exact_plans(race), runs=1, backend=backend)
    # AAA's tyre ages: SOFT 1, 2 then HARD 1, 2, 3 at 0.1 s/lap: 0.9 s of wear, now twice that
    assert res.race_time_s[0, 0] == pytest.approx(sum(AAA_LAPS) + 0.9, abs=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_used_sets_start_at_their_age(backend):
    race = build(two_car_race())
    race, plans = apply_stints(race, {"AAA": [{"compound": "SOFT", "laps": 2, "tyre_age_laps": 2},
                                              {"compound": "HARD", "laps": 3, "tyre_age_laps": 3}],
                                      "BBB": [{"compound": "HARD", "laps": 3}, {"compound": "SOFT", "laps": 2}]})
    assert RaceState.grid(race).car("AAA").tyre_age_laps == 2
    assert plans["AAA"].stops == (Stop(2, Compound.HARD, 3),)
    res = simulate(race, strategies=plans, runs=1, backend=backend)
    # two laps at +0.2 s (SOFT 3, 4 instead of 1, 2), three at +0.3 s (HARD 4-6 instead of 1-3)
    assert res.race_time_s[0, 0] == pytest.approx(sum(AAA_LAPS) + 0.4 + 0.9, abs=1e-9)


def test_race_definition_used_sets_reach_the_kernel():
    obj = two_car_race()
    obj["cars"][0]["strategy"][1]["tyre_age_laps"] = 3
    race = build(obj)
    packed = pack(race)
    assert packed.pit_age[0, 0] == 3 and packed.pit_age[1, 0] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_drs_gain_applies_within_one_second_on_green_laps(backend):
    both = frozenset({Compound.SOFT, Compound.HARD})

    def run(gain):
        obj = two_car_race(overtaking_difficulty=1.0, drs_gain_s=gain)
        obj["cars"][1]["pace_delta_s"] = 0.5  # BBB 0.5 s a lap slower, 0.9 s behind at the line
        race = build(obj)
        state = RaceState(3, (CarState("AAA", 0.0, Compound.HARD, 1, 1, both, 7.0),
                              CarState("BBB", 0.9, Compound.HARD, 1, 1, both, 7.0)))
        return simulate(race, state, {"AAA": Strategy(), "BBB": Strategy()}, runs=1, backend=backend).race_time_s[0]

    without, with_drs = run(0.0), run(0.3)
    assert with_drs[0] == pytest.approx(without[0], abs=1e-9)
    # lap 4: 0.9 s behind, DRS; lap 5: 0.9 + 0.5 - 0.3 = 1.1 s behind, no DRS
    assert with_drs[1] == pytest.approx(without[1] - 0.3, abs=1e-9)


def test_drs_gain_needs_drs_zones():
    race = build(two_car_race(drs=False, drs_gain_s=0.3))
    from workbench.kernels import layout as L
    assert pack(race).track[L.DRS_GAIN_S] == 0.0


# -- events: retirements and a neutralisation that starts mid-lap ----------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_forced_retirement(backend):
    race = build(two_car_race())
    events = parse_events([{"kind": "RETIREMENT", "driver": "AAA", "lap": 3}], race.track.laps, race.drivers)
    assert events == [Retirement("AAA", 3)]
    res = simulate(race, strategies=exact_plans(race), events=events, runs=2, backend=backend)
    assert list(res.position[:, 0]) == [2, 2] and np.isnan(res.race_time_s[:, 0]).all()


@pytest.mark.parametrize("kind", [TrackStatus.SC, TrackStatus.VSC])
@pytest.mark.parametrize("backend", BACKENDS)
def test_neutralisation_from_mid_lap_costs_part_of_a_lap(backend, kind):
    race = build(two_car_race())
    plans = exact_plans(race)

    def leader_time(events):
        return simulate(race, strategies=plans, events=events, runs=1, backend=backend).race_time_s[0, 0]

    green = leader_time([])
    full = leader_time([NeutralPhase(kind, 4, 4)])
    half = leader_time([NeutralPhase(kind, 4, 4, 0.5)])
    assert green < half < full
    assert half == pytest.approx((green + full) / 2, abs=0.05)  # fuel burn differs slightly after the lap


def test_event_file_errors_name_the_field():
    cases = [
        ([{"kind": "SC", "first_lap": 3, "last_lap": 4, "start_fraction": 1.0}],
         "events[0].start_fraction: 1.0 is not a number with 0 <= f < 1"),
        ([{"kind": "GREEN", "first_lap": 3, "last_lap": 4, "start_fraction": 0.5}], "events[0]: "),
        ([{"kind": "RETIREMENT", "driver": "XXX", "lap": 3}], "events[0].driver: 'XXX' is not in the race"),
        ([{"kind": "RETIREMENT", "driver": "AAA", "lap": 9}], "events[0].lap: 9 is not a lap between 1 and 5"),
        ([{"kind": "RETIREMENT", "driver": "AAA", "lap": 2}, {"kind": "RETIREMENT", "driver": "AAA", "lap": 3}],
         "events[1].driver: 'AAA' already retires"),
        ([{"kind": "RED", "first_lap": 3, "last_lap": 4}], "events[0].kind: 'RED' is not one of SC, VSC, GREEN"),
    ]
    for obj, message in cases:
        with pytest.raises(TelemetryValidationError) as info:
            parse_events(obj, 5, ("AAA", "BBB"))
        assert str(info.value).startswith(message), str(info.value)


# -- deterministic mode -----------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_deterministic_mode_is_one_race_whatever_the_seed_and_file_order(race, backend):
    a = simulate(race, runs=3, seed=1, backend=backend, deterministic=True)
    b = simulate(race, runs=1, seed=99, backend=backend, deterministic=True)
    assert (a.position == a.position[0]).all() and np.allclose(a.race_time_s, a.race_time_s[0], atol=1e-9)
    assert list(a.position[0]) == list(b.position[0])
    assert not np.isnan(a.race_time_s).any()  # no random retirements
    flipped = build(_reversed(bundled_obj()))
    c = simulate(flipped, runs=1, seed=5, backend=backend, deterministic=True)
    assert c.finishing_order(0) == a.finishing_order(0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_deterministic_pass_is_a_threshold_on_the_pace_margin(backend):
    both = frozenset({Compound.SOFT, Compound.HARD})
    obj = two_car_race(overtaking_difficulty=0.0, drs=False)
    obj["cars"][1]["pace_delta_s"] = -1.0  # BBB 1 s a lap faster, 0.5 s behind
    race = build(obj)
    state = RaceState(3, (CarState("AAA", 0.0, Compound.HARD, 1, 1, both, 7.0),
                          CarState("BBB", 0.5, Compound.HARD, 1, 1, both, 7.0)))
    plans = {"AAA": Strategy(), "BBB": Strategy()}

    def order(threshold):
        return simulate(race, state, plans, runs=1, backend=backend, deterministic=True,
                        pass_threshold_s=threshold).finishing_order(0)

    assert order(0.4) == ["BBB", "AAA"]  # margin 0.5 s at the line > 0.4: passes
    assert order(0.6) == ["AAA", "BBB"]  # never enough
    with pytest.raises(TelemetryValidationError, match="pass_threshold_s: -1.0 is not a number >= 0"):
        order(-1.0)


# -- one-compound strategies in a wet race -----------------------------------------------------

def test_one_compound_strategy_is_legal_in_a_wet_race():
    obj = two_car_race()
    obj["compounds"]["INTERMEDIATE"] = {"offset_s": 4.0, "model": "linear", "k1_s": 0.05, "k2_s": 0.0}
    race = build(obj)
    race2, plans = apply_stints(race, {"AAA": [{"compound": "INTERMEDIATE", "laps": 2},
                                               {"compound": "SOFT", "laps": 3}],
                                       "BBB": [{"compound": "HARD", "laps": 5}]})
    assert plans["BBB"] == Strategy((), wet_race=True)
    res = simulate(race2, strategies=plans, runs=1)
    assert res.stops[0].tolist() == [1, 0]
    with pytest.raises(TelemetryValidationError, match="two-dry-compound rule"):
        apply_stints(race, {"BBB": [{"compound": "HARD", "laps": 5}]})


def test_start_compound_of_a_strategies_file_is_used():
    race = build(two_car_race())
    race2, plans = apply_stints(race, {"BBB": [{"compound": "SOFT", "laps": 2}, {"compound": "HARD", "laps": 3}]})
    assert RaceState.grid(race2).car("BBB").compound is Compound.SOFT
    assert dataclasses.replace(race2, cars=race.cars) == race  # nothing else changed


# -- every backend agrees on the new inputs ------------------------------------------------------

def featureful_case():
    """The bundled race with every new input in use (shared with the Mojo parity test)."""
    obj = bundled_obj()
    obj["track"]["drs_gain_s"] = 0.25
    for i, car in enumerate(obj["cars"]):
        car["degradation_factor"] = 0.8 + 0.05 * i
        car["strategy"][0]["tyre_age_laps"] = i % 3
        car["strategy"][-1]["tyre_age_laps"] = (i + 1) % 4
    race = build(obj)
    events = [NeutralPhase(TrackStatus.SC, 20, 23, 0.4), NeutralPhase(TrackStatus.VSC, 40, 41, 0.7),
              Retirement(race.cars[3].driver, 30)]
    return race, events


@pytest.mark.parametrize("deterministic", [False, True])
def test_numba_and_numpy_agree_with_every_new_input(deterministic):
    race, events = featureful_case()
    a = simulate(race, events=events, runs=60, seed=7, backend="numba", deterministic=deterministic)
    b = simulate(race, events=events, runs=60, seed=7, backend="numpy", deterministic=deterministic)
    assert (a.position == b.position).all() and (a.stops == b.stops).all()
    np.testing.assert_allclose(a.race_time_s, b.race_time_s, rtol=0, atol=1e-9)
    assert np.isnan(a.race_time_s[:, 3]).all()  # the forced retirement
    assert (a.position[:, 3] > (~np.isnan(a.race_time_s)).sum(axis=1)).all()  # classified behind the finishers
