"""Pit window: the best stop lap, the two-dry-compound rule, available sets, bad input."""

import numpy as np
import pytest

from workbench.twins.pit_window import _split, pit_window

DEG = {"SOFT": lambda a: 0.11 * np.asarray(a, dtype=float), "MEDIUM": lambda a: 0.09 * np.asarray(a, dtype=float),
       "HARD": lambda a: 0.07 * np.asarray(a, dtype=float)}
OFF = {"SOFT": 0.0, "MEDIUM": 0.3, "HARD": 0.6}


def _brute_one_stop(lap, total, age, c1, pit_loss):
    left = total - lap
    costs = []
    for j in range(1, left):
        stay = sum(0.11 * (age + i) for i in range(1, j + 1))
        new = sum(OFF[c1] + DEG[c1](i) for i in range(1, left - j + 1))
        costs.append(stay + pit_loss + new)
    return lap + 1 + int(np.argmin(costs)), min(costs)


def test_one_stop_to_go_matches_brute_force():
    # on SOFT with HARD already used: one more stop is the plan; compare with a brute-force search
    w = pit_window(30, 57, "SOFT", 5, {"SOFT": DEG["SOFT"], "HARD": DEG["HARD"]}, OFF, 22.0, {"SOFT", "HARD"},
                   available_sets={"HARD": 1})
    ideal, cost = _brute_one_stop(30, 57, 5, "HARD", 22.0)
    assert (w.ideal_lap, w.compound, w.stops_to_go) == (ideal, "HARD", 1)
    assert w.cost_s == pytest.approx(cost)
    assert w.earliest_lap <= w.ideal_lap <= w.latest_lap


def test_no_stop_when_rule_met_and_stopping_does_not_pay():
    w = pit_window(50, 57, "HARD", 20, DEG, OFF, 22.0, {"SOFT", "HARD"})
    assert w.ideal_lap is None and w.stops_to_go == 0


def test_two_compound_rule_forces_a_stop_onto_another_compound():
    w = pit_window(50, 57, "HARD", 20, DEG, OFF, 22.0, {"HARD"}, available_sets={"HARD": 3, "SOFT": 1})
    assert w.ideal_lap is not None and w.compound == "SOFT"
    none_left = pit_window(50, 57, "HARD", 20, DEG, OFF, 22.0, {"HARD"}, available_sets={"HARD": 3})
    assert none_left.ideal_lap is None and none_left.cost_s == float("inf")


def test_window_widens_with_tolerance_and_steeper_wear_pits_earlier():
    narrow = pit_window(5, 57, "SOFT", 6, DEG, OFF, 22.0, {"SOFT"}, tolerance_s=0.2)
    wide = pit_window(5, 57, "SOFT", 6, DEG, OFF, 22.0, {"SOFT"}, tolerance_s=3.0)
    assert wide.earliest_lap <= narrow.earliest_lap and wide.latest_lap >= narrow.latest_lap
    steep = dict(DEG, SOFT=lambda a: 0.3 * np.asarray(a, dtype=float))
    assert pit_window(5, 57, "SOFT", 6, steep, OFF, 22.0, {"SOFT"}).ideal_lap < narrow.ideal_lap


def test_split_matches_brute_force_convex_or_not():
    rng = np.random.default_rng(0)
    for convex in (True, False):
        for _ in range(50):
            n = int(rng.integers(3, 60))
            inc = [np.sort(rng.uniform(0, 1, n)) if convex else rng.uniform(-1, 1, n) for _ in range(2)]
            s1, s2 = (np.concatenate([[0.0], np.cumsum(i)]) for i in inc)
            brute = [min((s1[m] + s2[r - m] for m in range(1, r)), default=np.inf) for r in range(n + 1)]
            np.testing.assert_allclose(_split(s1, s2, n), brute)


def test_edges_and_bad_input():
    assert pit_window(56, 57, "SOFT", 3, DEG, OFF, 22.0, {"SOFT"}) is None  # one lap left
    assert pit_window(10, 57, "INTERMEDIATE", 3, DEG, OFF, 22.0, set()) is None
    with pytest.raises(ValueError, match=r"lap: 60 is outside \[0, total_laps=57\]"):
        pit_window(60, 57, "SOFT", 3, DEG, OFF, 22.0, set())
    with pytest.raises(ValueError, match="tyre_age_laps: -1 is below minimum 0"):
        pit_window(10, 57, "SOFT", -1, DEG, OFF, 22.0, set())
    with pytest.raises(ValueError, match="pit_loss_s: -2 is below minimum 0"):
        pit_window(10, 57, "SOFT", 1, DEG, OFF, -2, set())
