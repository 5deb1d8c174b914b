"""Bad input to `predict_from_laps` / `racetwin predict` gets an error naming the field, the value and the rule."""

import functools
import json
import subprocess
import sys

import pandas as pd
import pytest

from workbench.strategy import predict as predict_module

REAL = "real-races/2024-bahrain-race-laps.csv"
predict_from_laps = functools.partial(predict_module.predict_from_laps, race_name="2024 Bahrain Grand Prix")
sweep = functools.partial(predict_module.sweep, race_name="2024 Bahrain Grand Prix")


@pytest.fixture(scope="module")
def laps(shared_data):
    return pd.read_csv(shared_data / REAL)


@pytest.mark.parametrize("at_lap, message", [
    (0, "at_lap: 0 is not an integer between 1 and 56 (the race has 57 laps (data/event-history.json (2024 Bahrain "
        "Grand Prix)) and must have laps left)"),
    (57, "at_lap: 57 is not an integer between 1 and 56"),
    (-3, "at_lap: -3 is not an integer between 1 and 56"),
    (28.0, "at_lap: 28.0 is not an integer between 1 and 56"),
    (True, "at_lap: True is not an integer"),
])
def test_at_lap_out_of_range(laps, at_lap, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        predict_from_laps(laps, at_lap, runs=10)


def test_at_lap_beyond_the_table(laps):
    with pytest.raises(ValueError, match="at_lap: 30 is beyond the lap table, which ends at lap 20"):
        predict_from_laps(laps[laps.LapNumber <= 20], 30, runs=10)


@pytest.mark.parametrize("column", ["Position", "TyreLife", "Compound"])
def test_missing_column(laps, column):
    with pytest.raises(ValueError, match=f"column '{column}' is missing"):
        predict_from_laps(laps.drop(columns=[column]), 28, runs=10)


def test_bad_cell_names_row_column_value(laps):
    bad = laps.copy()
    bad.loc[5, "TyreLife"] = -1
    with pytest.raises(ValueError, match=r"row 5 TyreLife: -1 is not an integer >= 0"):
        predict_from_laps(bad, 28, runs=10)


def test_runs_and_seed_are_checked(laps):
    with pytest.raises(ValueError, match="runs: 0 is not an integer >= 1"):
        predict_from_laps(laps, 28, runs=0)
    with pytest.raises(ValueError, match="seed: -1 is not an integer >= 0"):
        predict_from_laps(laps, 28, seed=-1)


def test_lap_one_leaves_nothing_to_fit(laps):
    with pytest.raises(ValueError, match="at_lap: 1 leaves no clean lap to fit"):
        predict_from_laps(laps, 1, runs=10)


def test_unknown_race_name(laps):
    with pytest.raises(ValueError, match="race: 'Monaco 1950' is not in data/event-history.json"):
        predict_module.predict_from_laps(laps, 28, runs=10, race_name="Monaco 1950")


def test_sweep_needs_the_finish(laps):
    with pytest.raises(ValueError, match="laps: ends at lap 40, before the finish \\(lap 57, "):
        sweep(laps[laps.LapNumber <= 40], runs=10)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "predict", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.integration  # starts a subprocess
def test_cli_reports_bad_input_with_status_2(shared_data, tmp_path):
    r = _cli(str(shared_data / REAL), "--at-lap", "80")
    assert r.returncode == 2 and "racetwin predict: at_lap: 80 is not an integer between 1 and 56" in r.stderr
    r = _cli(str(tmp_path / "nope.csv"), "--at-lap", "10")
    assert r.returncode == 2 and "nope.csv: no such file" in r.stderr
    r = _cli(str(shared_data / REAL), "--at-lap", "x")
    assert r.returncode == 2 and "--at-lap: 'x' is not an integer" in r.stderr
    short = tmp_path / "short.csv"
    pd.read_csv(shared_data / REAL).drop(columns=["Position"]).to_csv(short, index=False)
    r = _cli(str(short), "--at-lap", "10")
    assert r.returncode == 2 and "column 'Position' is missing" in r.stderr


@pytest.mark.integration  # starts a subprocess
def test_cli_json_and_text(shared_data):
    r = _cli(str(shared_data / REAL), "--at-lap", "43", "--runs", "200", "--seed", "4", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["at_lap"] == 43 and len(obj["predicted"]) == 20 and obj["score"]["mae_positions"] >= 0
    assert obj["retirements_after_k"] == 0
    text = _cli(str(shared_data / REAL), "--at-lap", "43", "--runs", "200", "--seed", "4")
    assert text.returncode == 0 and "score (out of sample: fitted on laps <= 43 only): model spearman" in text.stdout
    assert "actual retirements after lap 43: 0" in text.stdout
