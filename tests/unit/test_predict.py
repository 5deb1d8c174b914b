"""Race prediction from lap K on the real 2024 Bahrain GP: beats the naive order, no leakage, deterministic."""

import functools

import numpy as np
import pandas as pd
import pytest

from workbench.strategy import predict as predict_module
from workbench.strategy.predict import actual_classification, known_laps

REAL = "real-races/2024-bahrain-race-laps.csv"
NAME = "2024 Bahrain Grand Prix"  # dates the event history; its entry also gives the distance, 57 laps
RUNS = 1000
predict_from_laps = functools.partial(predict_module.predict_from_laps, race_name=NAME)
sweep = functools.partial(predict_module.sweep, race_name=NAME)


@pytest.fixture(scope="module")
def laps(shared_data):
    return pd.read_csv(shared_data / REAL)


@pytest.fixture(scope="module")
def swept(laps):
    return {row["at_lap"]: row for row in sweep(laps, runs=RUNS, seed=1)}


def test_sweep_scores_25_50_75_percent_of_the_race(swept):
    assert sorted(swept) == [14, 28, 43]  # round(0.25, 0.5, 0.75 x 57)
    for row in swept.values():
        for key in ("spearman", "mae_positions", "naive_spearman", "naive_mae_positions"):
            assert np.isfinite(row[key])
        assert row["retirements_after_k"] == 0  # everybody was classified in Bahrain 2024


def test_model_beats_the_naive_order_at_half_distance(swept):
    row = swept[28]  # 50 % of 57 laps
    assert row["mae_positions"] < row["naive_mae_positions"]
    assert row["spearman"] > row["naive_spearman"]


def test_model_is_not_worse_than_the_naive_order_at_three_quarters_distance(swept):
    # With SWAP_CONFIDENCE the order at lap 43 holds unless a pass is confident: a tie with the naive
    # order here (0.60 / 0.60 in docs/predict.md); the majority rule won by swapping a near coin toss.
    row = swept[43]
    assert row["mae_positions"] <= row["naive_mae_positions"]
    assert row["spearman"] >= row["naive_spearman"]


def test_actual_classification_is_the_last_laps_positions(laps):
    actual = actual_classification(laps)
    assert actual["order"][:3] == ["VER", "PER", "SAI"]
    assert actual["retired"] == {}
    last = laps.sort_values("LapNumber").groupby("Driver").tail(1)
    assert {r.Driver: int(r.Position) for r in last.itertuples()} == actual["position"]


def test_a_car_that_stops_early_is_classified_last_as_retired(laps):
    cut = laps[~((laps.Driver == "HAM") & (laps.LapNumber > 30))]
    actual = actual_classification(cut)
    assert actual["order"][-1] == "HAM" and actual["retired"] == {"HAM": 30}
    assert actual["order"][:9] == ["VER", "PER", "SAI", "LEC", "RUS", "NOR", "PIA", "ALO", "STR"]
    pred = predict_from_laps(cut, 20, runs=200, seed=3)
    assert pred.retirements_after_k == 1
    assert predict_from_laps(cut, 40, runs=200, seed=3).retirements_after_k == 0
    assert next(r for r in predict_from_laps(cut, 40, runs=200, seed=3).drivers if r["driver"] == "HAM")[
        "p_retired"] == 1.0


def _scrambled_after(laps: pd.DataFrame, at_lap: int) -> pd.DataFrame:
    """Every row after ``at_lap`` changed: lap times, positions, compounds, stints and tyre ages."""
    out = laps.copy()
    late = out.LapNumber > at_lap
    rng = np.random.default_rng(7)
    out.loc[late, "LapTime"] = rng.uniform(85, 130, late.sum())
    out.loc[late, "Position"] = rng.permutation(out.loc[late, "Position"].to_numpy())
    out.loc[late, "Compound"] = "MEDIUM"
    out.loc[late, "Stint"] = out.loc[late, "Stint"] + 1
    out.loc[late, "TyreLife"] = out.loc[late, "TyreLife"] + 3
    out.loc[late, "TrackStatus"] = 4
    return out


@pytest.mark.parametrize("at_lap", [14, 28])
def test_no_row_after_lap_k_changes_the_prediction(laps, at_lap):
    base = predict_from_laps(laps, at_lap, runs=300, seed=5)
    scrambled = predict_from_laps(_scrambled_after(laps, at_lap), at_lap, runs=300, seed=5)
    truncated = predict_from_laps(known_laps(laps, at_lap), at_lap, runs=300, seed=5)
    assert scrambled.drivers == base.drivers == truncated.drivers
    assert scrambled.fit == base.fit == truncated.fit
    assert truncated.actual is None and truncated.score is None  # no finish, no score
    assert base.score is not None


def test_same_seed_same_prediction_other_seed_other_draws(laps):
    a = predict_from_laps(laps, 28, runs=300, seed=11)
    b = predict_from_laps(laps, 28, runs=300, seed=11)
    c = predict_from_laps(laps, 28, runs=300, seed=12)
    assert a.to_json() == b.to_json()
    assert a.drivers != c.drivers


def test_table_and_json_carry_the_documented_fields(laps):
    pred = predict_from_laps(laps, 43, runs=200, seed=2)
    table = pred.table()
    assert list(table.columns) == ["driver", "position_at_k", "predicted_position", "mean_position", "mode_position",
                                   "p_win", "p_podium", "p_points", "p_retired", "stops_made",
                                   "predicted_remaining_stops", "actual_position"]
    assert list(table.predicted_position) == list(range(1, 21))
    assert len(table) == 20
    obj = pred.to_json()
    assert {"driver", "mean_position", "p_win", "p_podium", "p_points"} <= set(obj["predicted"][0])
    assert obj["actual"][0] == {"driver": "VER", "position": 1, "retired": False}
    assert set(obj["score"]) == {"spearman", "mae_positions", "naive_spearman", "naive_mae_positions"}
    assert obj["retirements_after_k"] == 0
    for row in obj["predicted"]:
        p = row["p_win"], row["p_podium"], row["p_points"]
        assert 0 <= p[0] <= p[1] <= p[2] <= 1


def test_a_safety_car_out_at_lap_k_carries_into_the_state(laps):
    assert predict_from_laps(laps, 28, runs=50, seed=1).fit["track_status_at_k"] == "GREEN"
    sc = laps.copy()
    sc.loc[sc.LapNumber == 28, "TrackStatus"] = 4
    assert predict_from_laps(sc, 28, runs=50, seed=1).fit["track_status_at_k"] == "SC"
    sc.loc[sc.LapNumber == 28, "TrackStatus"] = 16
    assert predict_from_laps(sc, 28, runs=50, seed=1).fit["track_status_at_k"] == "VSC"


def test_a_compound_raced_but_with_no_clean_lap_yet_gets_the_generic_prior(shared_data):
    """Britain 2024 at lap 20: a car has just gone out on intermediates (no clean INTERMEDIATE lap by K).

    Raised before: ``state.cars[14].compound: 'INTERMEDIATE' has no model in the race definition``.
    """
    britain = pd.read_csv(shared_data / "real-races/2024-british-race-laps.csv")
    at_k = britain[britain.LapNumber == 20]
    assert "INTERMEDIATE" in set(at_k.Compound)
    pred = predict_module.predict_from_laps(britain, 20, runs=50, seed=1, race_name="2024 British Grand Prix")
    inter = pred.fit["compounds"]["INTERMEDIATE"]
    assert inter["note"] == "no lap yet: generic prior" and inter["offset_s"] > 0
    assert len(pred.drivers) == britain.Driver.nunique()
