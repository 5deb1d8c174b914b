"""The model's strategy trends point the right way (common random numbers, modest run counts)."""

import numpy as np

from tests.mcrace import build, bundled_obj, quiet, two_car_race
from workbench.strategy.montecarlo import CarState, NeutralPhase, RaceState, Stop, Strategy, simulate
from workbench.strategy.sweep import candidates, sweep
from workbench.telemetry.records import Compound, TrackStatus


def _noisy_no_events(**compounds_k1):
    """The bundled race with its lap noise but no random SC/VSC or retirements."""
    obj = bundled_obj()
    obj["events"].update(quiet(obj)["events"])
    for name, k1 in compounds_k1.items():
        obj["compounds"][name]["k1_s"] = k1
    return obj


def _fastest(result):
    """The candidate with the lowest median race time."""
    return min(result.ranked, key=lambda c: c.race_time_quantiles_s["p50"])


def _one_stop_soft_to_hard(race):
    return [Strategy((Stop(lap, Compound.HARD),)) for lap in range(8, 50)]


def test_higher_degradation_means_an_earlier_best_stop():
    laps = {}
    for k1 in (0.10, 0.25):
        race = build(_noisy_no_events(SOFT=k1))
        res = sweep(race, "VER", strategies=_one_stop_soft_to_hard(race), runs_per_candidate=60, seed=2)
        laps[k1] = _fastest(res).pit_lap
    assert laps[0.25] < laps[0.10] - 5, laps


def test_higher_pit_loss_means_fewer_stops():
    best_stops = {}
    for loss in (12.0, 60.0):
        obj = _noisy_no_events(SOFT=0.2, MEDIUM=0.2, HARD=0.2)
        obj["track"]["pit_loss_green_s"] = loss
        race = build(obj)
        cands = candidates(race, RaceState.grid(race), "VER", lap_step=3, two_stop_lap_step=5)
        res = sweep(race, "VER", strategies=cands, runs_per_candidate=30, seed=3)
        best_stops[loss] = len(_fastest(res).strategy.stops)
    assert best_stops == {12.0: 2, 60.0: 1}


def test_safety_car_at_the_right_moment_makes_stopping_now_better():
    race = build(_noisy_no_events())
    now, later = Strategy((Stop(20, Compound.HARD),)), Strategy((Stop(30, Compound.HARD),))
    gain = {}
    for events in ((), (NeutralPhase(TrackStatus.SC, 20, 22),)):
        res = sweep(race, "VER", strategies=[now, later], runs_per_candidate=200, seed=4, events=events)
        t = {c.pit_lap: c.race_time_quantiles_s["p50"] for c in res.ranked}
        gain[bool(events)] = t[30] - t[20]  # > 0: stopping on lap 20 is faster
    assert gain[True] > 5.0 and gain[True] > gain[False] + 5.0, gain


def test_faster_car_overtakes_more_often_on_an_easy_track():
    p_win = {}
    for difficulty in (0.1, 0.9):
        obj = two_car_race(overtaking_difficulty=difficulty, laps=25)
        obj["cars"][0]["pace_delta_s"] = 0.5
        obj["cars"][1]["pace_delta_s"] = 0.0
        for car in obj["cars"]:
            car["lap_noise_s"] = 0.3
        race = build(obj)
        both = frozenset({Compound.SOFT, Compound.HARD})
        state = RaceState(5, (CarState("AAA", 0.0, Compound.HARD, 3, 1, both, 5.0),
                              CarState("BBB", 0.6, Compound.HARD, 3, 1, both, 5.0)))
        res = simulate(race, state, {"AAA": Strategy(), "BBB": Strategy()}, runs=400, seed=5)
        p_win[difficulty] = float(np.mean(res.position[:, 1] == 1))
    assert p_win[0.1] > p_win[0.9] + 0.2, p_win
    assert p_win[0.1] > 0.8
