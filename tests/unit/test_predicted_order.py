"""`predict.predicted_order`: the order at lap K holds unless a pass is confident (issue 14 item 7)."""

import types

import numpy as np
import pytest

from workbench.strategy.predict import SWAP_CONFIDENCE, predicted_order


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
