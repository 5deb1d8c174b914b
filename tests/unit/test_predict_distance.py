"""The race distance is never assumed, and a lapped car is a finisher, not a retirement (issue 14 items 4, 5)."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from workbench.strategy.predict import (
    chequered_flag_lap,
    identify_race,
    predict_from_laps,
    race_distance,
    race_from_file_name,
)
from workbench.strategy.racedef import bundled_race

REAL = "real-races/2024-{}-race-laps.csv"


@pytest.fixture(scope="module")
def bahrain(shared_data):
    return pd.read_csv(shared_data / REAL.format("bahrain"))


@pytest.mark.parametrize("race, flag", [("bahrain", 57), ("saudi-arabian", 50), ("australian", 58),
                                        ("japanese", 53), ("monaco", 78), ("canadian", None), ("british", 52),
                                        ("belgian", None)])  # Belgium 2024: no lapped finisher; Canada: one
def test_the_chequered_flag_is_read_from_a_lapped_car_that_took_it(shared_data, race, flag):
    assert chequered_flag_lap(pd.read_csv(shared_data / REAL.format(race))) == flag


def test_a_table_cut_at_a_lap_number_shows_no_flag(bahrain):
    assert chequered_flag_lap(bahrain[bahrain.LapNumber <= 40]) is None


def test_distance_sources_in_order_and_disagreement_is_an_error(bahrain):
    cut = bahrain[bahrain.LapNumber <= 30]
    assert race_distance(cut, race_laps=57).source == "--laps 57"
    assert race_distance(bahrain).source.startswith("the lap table (chequered flag at lap 57")
    entry, how = identify_race("2024 Bahrain Grand Prix", None)
    assert race_distance(cut, entry=entry).laps == 57 and how == "--race-name"
    with pytest.raises(ValueError, match="race distance: unknown; the lap table ends at lap 30 without showing "
                                         "the chequered flag"):
        race_distance(cut)
    with pytest.raises(ValueError, match="race distance: 60 laps from --laps 60 disagrees with 57 from "
                                         "data/event-history.json"):
        race_distance(bahrain, race_laps=60, entry=entry)
    with pytest.raises(ValueError, match="laps: the lap table reaches lap 30, beyond the race distance of 20 laps"):
        race_distance(cut, race_laps=20)


def test_a_race_definition_is_not_a_silent_distance_for_another_table(bahrain):
    short = bahrain[bahrain.LapNumber <= 30]
    pred = predict_from_laps(short, 20, runs=50, seed=1, race_laps=44)  # a 44-lap race cut at 30
    assert pred.race_laps == 44 and pred.distance_source == "--laps 44"
    assert pred.fit["race"]["name"] is None and "whole history" in pred.fit["events_from"]
    with pytest.raises(ValueError, match="disagrees"):
        predict_from_laps(short, 20, runs=50, race_laps=44, track=bundled_race())


def test_file_names_name_races():
    assert race_from_file_name("x/2024-saudi-arabian-race-laps.csv") == "2024 Saudi Arabian Grand Prix"
    assert race_from_file_name("2024-bahrain-race-laps.csv") == "2024 Bahrain Grand Prix"
    assert race_from_file_name("laps.csv") is None and race_from_file_name("2024-atlantis-laps.csv") is None


def test_priors_not_fitted_are_listed(bahrain):
    pred = predict_from_laps(bahrain, 28, runs=50, seed=1)
    priors = pred.fit["priors"]
    assert {"pit_loss_total_s", "drs", "min_gap_s", "sc_lap_time_factor"} <= set(priors)
    assert priors["drs"]["from"].startswith("prior: the bundled race definition")
    assert "overtaking" in pred.fit and 0 < pred.fit["overtaking"]["difficulty"] < 1


def test_a_lapped_car_is_classified_not_retired(bahrain):
    """SAR finished 2 laps down (55 laps); at lap 56 he has no lap 56 but was still running."""
    pred = predict_from_laps(bahrain, 56, runs=200, seed=1)
    sar = next(r for r in pred.drivers if r["driver"] == "SAR")
    assert not sar["retired_at_k"] and sar["p_retired"] < 0.1
    assert pred.actual["position"]["SAR"] == 20 and "SAR" not in pred.actual["retired"]
    assert sar["predicted_position"] == 20  # a lap down on everybody: last, as classified
    # a car that really stopped early is still out
    cut = bahrain[~((bahrain.Driver == "HAM") & (bahrain.LapNumber > 30))]
    ham = next(r for r in predict_from_laps(cut, 56, runs=50, seed=1).drivers if r["driver"] == "HAM")
    assert ham["retired_at_k"] and ham["p_retired"] == 1.0


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "predict", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.integration  # starts a subprocess
def test_cli_at_lap_with_laps_on_an_unnamed_table(shared_data, tmp_path):
    """`racetwin predict LAPS.csv --at-lap K --laps N` works exactly like that, on a table named nothing."""
    laps = pd.read_csv(shared_data / REAL.format("belgian"))
    path = tmp_path / "laps.csv"
    laps.to_csv(path, index=False)
    r = _cli(str(path), "--at-lap", "30")
    assert r.returncode == 2 and r.stderr.startswith("racetwin predict: race distance: unknown")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _cli(str(path), "--at-lap", "30", "--laps", "44", "--runs", "100", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["race_laps"] == 44 and obj["race_laps_source"] == "--laps 44" and obj["score"] is not None
    r = _cli(str(path), "--at-lap", "30", "--laps", "44", "--runs", "100")
    assert "race distance: 44 laps, from --laps 44" in r.stdout and "(priors)" in r.stdout


@pytest.mark.integration  # starts a subprocess
def test_cli_a_race_after_the_history_keeps_its_circuit_and_needs_its_distance(shared_data, tmp_path):
    """A 2026 table (the 2024 Belgian laps stand in): the circuit's SC/VSC history and the season's compound steps,
    the distance from --laps or the flag only, never from the 2025 race of the same name."""
    path = tmp_path / "2026-belgian-race-laps.csv"
    path.write_bytes((shared_data / REAL.format("belgian")).read_bytes())
    r = _cli(str(path), "--at-lap", "30")  # Belgium 2024 shows no flag, and the 2025 race's 44 laps are not taken
    assert r.returncode == 2 and r.stderr.startswith("racetwin predict: race distance: unknown"), r.stderr
    r = _cli(str(path), "--at-lap", "30", "--laps", "44", "--runs", "50", "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)["fit"]
    assert fit["race"]["name"] == "2026 Belgian Grand Prix"
    assert "a race after the history (the circuit of the 2025 Belgian Grand Prix)" in fit["race"]["identified_by"]
    assert "the circuit's (2025 Belgian Grand Prix and earlier)" in fit["events_from"]
    assert fit["compound_steps"]["steps"] is not None and "2024 Belgian Grand Prix" in str(fit["compound_steps"])


@pytest.mark.integration  # starts a subprocess
def test_cli_says_a_sprint_table_is_simulated_with_grand_prix_rules(shared_data, tmp_path):
    """A sprint has no mandatory stop; the model owes every car one. Not silent: the file name's session is said."""
    laps = pd.read_csv(shared_data / REAL.format("belgian"))
    path = tmp_path / "2024-belgian-sprint-laps.csv"
    laps[laps.LapNumber <= 15].to_csv(path, index=False)
    r = _cli(str(path), "--at-lap", "10", "--laps", "15", "--runs", "20")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(f"racetwin predict: note: {path}: the file name says 'sprint', not the Grand Prix")
    assert "not identified" in r.stdout  # a sprint is never taken for the race of its weekend


@pytest.mark.integration  # starts a subprocess
def test_cli_sweep_uses_the_real_distance(shared_data):
    r = _cli(str(shared_data / REAL.format("saudi-arabian")), "--sweep", "--runs", "50", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["sweep"]
    assert [row["at_lap"] for row in rows] == [12, 25, 38]  # 25/50/75 % of 50 laps, not of Bahrain's 57
    assert {row["race_laps"] for row in rows} == {50}


@pytest.mark.integration  # starts a subprocess
def test_cli_race_by_catalogue_name(shared_data):
    path = str(shared_data / REAL.format("monaco"))
    r = _cli(path, "--at-lap", "40", "--race", "monaco-2024", "--runs", "50", "--json")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["race_laps"] == 78 and obj["race_laps_source"] == "race definition '2024 Monaco Grand Prix'"
    assert obj["fit"]["overtaking"]["from"].startswith("the laps")  # offline: the definition is not a prior
    r = _cli(path, "--at-lap", "40", "--race", "atlantis-2024")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "atlantis-2024" in r.stderr
    r = _cli(path, "--at-lap", "40", "--race", "bahrain-2024")  # the wrong race: 57 laps
    assert r.returncode == 2 and "beyond the race distance of 57 laps" in r.stderr  # the table reaches lap 78
