"""Strategy sweep: legal candidates, summaries, ranking and backends."""

import dataclasses

import numpy as np
import pytest

from workbench.strategy.montecarlo import RaceState, Stop, Strategy, check_strategy
from workbench.strategy.sweep import candidates, sweep
from workbench.telemetry.records import Compound
from workbench.telemetry.schema import TelemetryValidationError


def test_candidates_from_the_grid_are_legal_one_and_two_stop_plans(race):
    state = RaceState.grid(race)
    cands = candidates(race, state, "LEC", lap_step=3, two_stop_lap_step=6)
    car = state.car("LEC")
    assert {len(c.stops) for c in cands} == {1, 2}  # from the grid a stop is compulsory
    for c in cands:
        check_strategy(race, car, c, 0)
        assert len({car.compound, *(s.compound for s in c.stops)}) >= 2
        # the start set may be used (tyre_age_laps > 0): it is not ended before it is 5 laps old
        assert all(5 - car.tyre_age_laps <= s.lap <= race.track.laps - 5 for s in c.stops)
        assert all(b.lap - a.lap >= 5 for a, b in zip(c.stops, c.stops[1:]))
    assert len(set(cands)) == len(cands)


def test_candidates_include_no_stop_once_two_compounds_are_used(race):
    grid = RaceState.grid(race)
    lec = dataclasses.replace(grid.car("LEC"), compound=Compound.HARD, tyre_age_laps=10, stops_made=1,
                              compounds_used=frozenset({Compound.SOFT, Compound.HARD}))
    state = RaceState(30, tuple(lec if c.driver == "LEC" else c for c in grid.cars))
    cands = candidates(race, state, "LEC", max_stops=1)
    assert Strategy() in cands
    assert all(s.stops[0].lap > 30 for s in cands if s.stops)


def test_sweep_summaries_are_consistent_and_ranked(race):
    state = RaceState.grid(race)
    cands = candidates(race, state, "PER", lap_step=6, two_stop_lap_step=12)
    seen = []
    res = sweep(race, "PER", strategies=cands, runs_per_candidate=40, seed=1,
                progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(cands), len(cands))
    assert res.current_position == 5 and res.target_position == 5
    points = [c.expected_points for c in res.ranked]
    assert points == sorted(points, reverse=True)
    for c in res.ranked:
        assert sum(c.position_p) == pytest.approx(1.0)
        assert 0 <= c.p_gain <= c.success_probability <= 1
        q = c.race_time_quantiles_s
        assert q["p10"] <= q["p50"] <= q["p90"]
    rows = np.array(res.seed_rows())
    assert rows.shape == (len(cands), 4)
    assert list(rows[0]) == [res.best.pit_lap, res.best.mean_position, res.best.success_probability,
                             res.best.race_time_quantiles_s["p50"]]
    assert res.to_json()["candidates"][0]["label"] == res.best.strategy.label


def test_sweep_is_the_same_on_numba_and_numpy(race):
    cands = candidates(race, RaceState.grid(race), "HAM", lap_step=8, two_stop_lap_step=16)
    a = sweep(race, "HAM", strategies=cands, runs_per_candidate=25, seed=2)
    b = sweep(race, "HAM", strategies=cands, runs_per_candidate=25, seed=2, backend="numpy")
    assert [c.to_json() for c in a.ranked] == [c.to_json() for c in b.ranked]


def test_common_random_numbers_make_identical_candidates_identical(race):
    s = Strategy((Stop(20, Compound.HARD),))
    res = sweep(race, "NOR", strategies=[s, s], runs_per_candidate=50, seed=3)
    assert res.ranked[0].to_json() == res.ranked[1].to_json()


def test_target_position_sets_success(race):
    s = [Strategy((Stop(20, Compound.HARD),))]
    easy = sweep(race, "NOR", strategies=s, runs_per_candidate=100, seed=3, target_position=20)
    hard = sweep(race, "NOR", strategies=s, runs_per_candidate=100, seed=3, target_position=1)
    assert easy.best.success_probability == 1.0 and hard.best.success_probability < 0.2


@pytest.mark.parametrize("kwargs,error,message", [
    ({"runs_per_candidate": 0}, ValueError, "runs_per_candidate: 0 is not an integer >= 1"),
    ({"strategies": [Strategy((Stop(10, Compound.SOFT),))]}, TelemetryValidationError,
     "strategies[0].stops: .* breaks the two-dry-compound rule"),
    ({"strategies": []}, ValueError, "strategies: no legal candidate"),
])
def test_bad_sweep_input_is_named(race, kwargs, error, message):
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        sweep(race, "VER", **kwargs)


@pytest.mark.parametrize("kwargs,message", [
    ({"lap_step": 0}, "lap_step: 0 is not an integer >= 1"),
    ({"min_stint_laps": 0}, "min_stint_laps: 0 is not an integer >= 1"),
    ({"max_stops": 3}, "max_stops: 3 is not 1 or 2"),
])
def test_bad_candidate_grid_is_named(race, kwargs, message):
    with pytest.raises(ValueError, match=message):
        candidates(race, RaceState.grid(race), "VER", **kwargs)
