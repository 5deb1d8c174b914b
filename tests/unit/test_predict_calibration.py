"""The live prediction uses each car's real state and is calibrated against the simulator itself (issue 19 item 2).

Both tests draw races from the simulator (`TelemetrySimulator` / the Monte Carlo engine on the bundled
race definition), so the truth is known: a prediction fitted from the laps of one race must give
probabilities that match how often the simulator's races actually end that way.
"""

import pytest

from workbench.bench.harness import live_session
from workbench.strategy.live_predict import predict_session
from workbench.strategy.montecarlo import RaceState, simulate
from workbench.strategy.predict_calibration import binned_calibration, calibration_outcomes

SEEDS = 16  # simulated races in the calibration (about 2 s each)


@pytest.fixture(scope="module")
def outcomes(race):
    """Predicted P(win), P(podium) at lap 20 and what happened, per car of each of SEEDS simulated races."""
    return calibration_outcomes(race, seeds=SEEDS, at_lap=20, runs=400)


@pytest.mark.parametrize("event", ["win", "podium"])
def test_predicted_probabilities_match_observed_frequencies(outcomes, event):
    """Cars binned by predicted probability: the number that won (reached the podium) in each bin is
    the sum of their predicted probabilities within 3 binomial standard deviations (+1 for small bins)."""
    rows = binned_calibration(outcomes, event)
    assert sum(r["cars"] for r in rows) == len(outcomes)
    for r in rows:
        print(r)
        assert abs(r["observed"] - r["expected"]) <= 3 * r["sd"] + 1, r


@pytest.fixture(scope="module")
def seed3(race):
    """The situation of issue 19: seed 3 after lap 10, HUL P18 having stopped once, on hards."""
    session = live_session(race, "VER", 10, seed=3)
    return session, predict_session(session, runs=2000, seed=0)


def test_a_car_that_has_stopped_is_given_its_own_stops_to_go(seed3):
    _, out = seed3
    rows = {r["driver"]: r for r in out["predicted"]}
    hul = rows["HUL"]
    assert hul["stops_made"] == 1 and hul["compound"] == "HARD" and hul["two_compound_rule_met"]
    stopped = [r["predicted_remaining_stops"] for r in rows.values() if r["stops_made"] >= 1]
    not_yet = [r["predicted_remaining_stops"] for r in rows.values() if r["stops_made"] == 0]
    assert stopped and not_yet
    assert max(stopped) < min(not_yet)  # every car that has stopped has fewer stops to go
    assert all(not r["two_compound_rule_met"] for r in rows.values() if r["stops_made"] == 0)


def test_seed3_prediction_against_the_simulators_own_races_from_that_state(race, seed3):
    """From the hub's true state, 4000 races of the true race definition: HUL (P18, once stopped) cannot
    win in them, and the prediction, fitted from 10 laps, says the same; the leader's P(win) is close."""
    session, out = seed3
    truth = simulate(race, RaceState.from_session(session), runs=4000, seed=11)
    rows = {r["driver"]: r for r in out["predicted"]}
    for d in ("VER", "HUL", "PER", "NOR"):
        p = truth.position_distribution(d)
        print(f"{d}: predicted P(win) {rows[d]['p_win']:.3f} P(podium) {rows[d]['p_podium']:.3f}; simulator "
              f"{p[0]:.3f} / {p[:3].sum():.3f}")
    p_hul = truth.position_distribution("HUL")
    assert p_hul[0] < 0.01 and rows["HUL"]["p_win"] < 0.02  # was 0.52 in issue 19, 0.31 before the pace prior
    assert rows["HUL"]["p_podium"] < 0.1
    p_ver = truth.position_distribution("VER")[0]
    assert abs(rows["VER"]["p_win"] - p_ver) < 0.1
