"""`predict.predicted_order`: the order at lap K holds unless a pass is confident (issue 14 item 7)."""

import types

import numpy as np
import pandas as pd
import pytest

from workbench.strategy.predict import OWED_STOP_SWAP_CONFIDENCE, SWAP_CONFIDENCE, predict_from_laps, predicted_order
from workbench.strategy.predict_fit import DIFFICULTY_RANGE


def _races(share_b_ahead: float, n: int = 1000):
    """Two cars A, B; B finishes ahead of A in ``share_b_ahead`` of ``n`` races."""
    b_ahead = round(share_b_ahead * n)
    position = np.array([[2, 1]] * b_ahead + [[1, 2]] * (n - b_ahead))
    mean = position.mean(axis=0)
    drivers = ("A", "B") if mean[0] <= mean[1] else ("B", "A")  # predicted_order takes drivers by mean
    return types.SimpleNamespace(drivers=drivers, position=position[:, [0, 1] if drivers[0] == "A" else [1, 0]])


def _places(res, at_k):
    return dict(zip(res.drivers, predicted_order(res, at_k)))


@pytest.mark.parametrize("share", [0.55, 0.70, SWAP_CONFIDENCE])
def test_the_car_ahead_at_k_keeps_its_place_without_a_confident_pass(share):
    assert _places(_races(share), {"A": 1, "B": 2}) == {"A": 1, "B": 2}


@pytest.mark.parametrize("share", [0.90, 0.99])
def test_a_confident_pass_swaps_the_order_at_k(share):
    assert _places(_races(share), {"A": 1, "B": 2}) == {"A": 2, "B": 1}


def test_a_plain_majority_swaps_at_threshold_one_half():
    res = _races(0.70)
    assert dict(zip(res.drivers, predicted_order(res, {"A": 1, "B": 2}, swap_confidence=0.5))) == {"A": 2, "B": 1}


@pytest.mark.parametrize("bad", [0.4, 1.0, 1.5, -0.1])
def test_a_threshold_outside_one_half_to_one_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=rf"swap_confidence: {bad!r} is not in \[0.5, 1\)"):
        predicted_order(_races(0.7), {"A": 1, "B": 2}, swap_confidence=bad)


def test_a_pair_owing_a_mandatory_stop_swaps_at_a_plain_majority():
    res = _races(0.70)  # B ahead in 70 %: below SWAP_CONFIDENCE, above OWED_STOP_SWAP_CONFIDENCE
    at_k = {"A": 1, "B": 2}
    assert dict(zip(res.drivers, predicted_order(res, at_k, owed_stop={("A", "B")}))) == {"A": 2, "B": 1}
    assert dict(zip(res.drivers, predicted_order(res, at_k, owed_stop={("B", "A")}))) == {"A": 1, "B": 2}
    assert OWED_STOP_SWAP_CONFIDENCE < 0.7 < SWAP_CONFIDENCE


@pytest.fixture(scope="module")
def saudi_at_25(shared_data):
    laps = pd.read_csv(shared_data / "real-races" / "2024-saudi-arabian-race-laps.csv")
    return predict_from_laps(laps, 25, runs=100, seed=0, file_race="2024 Saudi Arabian Grand Prix")


def test_owed_stop_pairs_are_a_car_without_its_mandatory_stop_and_one_within_the_pit_loss_behind(saudi_at_25):
    # Saudi Arabia 2024, lap 25: NOR (P3) and HAM (P5) have not stopped (mediums only); LEC, PIA, ALO, RUS
    # stopped under the lap-7 SC. They finished 8th and 9th, behind all four.
    owed = saudi_at_25.pairwise["owed_stop"]
    rule = saudi_at_25.fit["rule_met"]
    assert {("NOR", "LEC"), ("NOR", "PIA"), ("NOR", "ALO"), ("NOR", "RUS"), ("HAM", "PIA"), ("HAM", "RUS")} <= owed
    assert all(not rule[a] and rule[b] and not saudi_at_25.fit["planned_stops"][b] for a, b in owed)
    loss = saudi_at_25.fit["pit_loss_total_s"]
    assert ("NOR", "BOT") not in owed and loss < 30  # BOT is more than a pit loss behind
    place = {r["driver"]: r["predicted_position"] for r in saudi_at_25.drivers}
    assert place["NOR"] > place["LEC"]


def test_where_nobody_passes_a_car_that_met_the_rule_is_planned_no_more_stops(shared_data):
    # Monaco 2024: no on-track pass (overtaking difficulty at the top of its range); everybody changed tyres
    # under the lap-1 red flag and ran to the flag, but the pit hazard planned a second set for each.
    laps = pd.read_csv(shared_data / "real-races" / "2024-monaco-race-laps.csv")
    pred = predict_from_laps(laps, 39, runs=50, seed=0, file_race="2024 Monaco Grand Prix")
    assert pred.fit["overtaking"]["difficulty"] == DIFFICULTY_RANGE[1]
    plans, rule = pred.fit["planned_stops"], pred.fit["rule_met"]
    assert all(not plans[d] for d in plans if rule[d])
    assert [p["compound"] for p in plans["SAR"]] == ["MEDIUM"]  # SAR still owes his mandatory stop, and only that
    bahrain = predict_from_laps(pd.read_csv(shared_data / "real-races" / "2024-bahrain-race-laps.csv"), 28,
                                runs=50, seed=0, file_race="2024 Bahrain Grand Prix")
    assert all(bahrain.fit["planned_stops"][d] for d in ("VER", "LEC", "NOR"))  # passing seen: the hazard plans
