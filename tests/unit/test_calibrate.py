"""`racetwin calibrate`: fitted degradation recovers a simulator's truth; the model beats naive on the real race."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.racedef import CompoundModel
from workbench.telemetry.records import Compound
from workbench.twins.calibrate import backtest_predictions, calibrate, priors_from_race
from workbench.twins.lap_table import FuelCorrection, mark_clean_laps, read_fastf1_laps_csv
from workbench.twins.tyre_model import features

REAL = "real-races/2024-bahrain-race-laps.csv"
AGES = np.array([5, 10, 15, 20])


def _truth_race(race):
    compounds = dict(race.compounds)
    compounds[Compound.SOFT] = CompoundModel(offset_s=0.0, model="quadratic", k1_s=0.04, k2_s=0.004)
    compounds[Compound.HARD] = CompoundModel(offset_s=-0.3, model="logarithmic", k1_s=0.9, k2_s=0.0)
    return dataclasses.replace(race, compounds=compounds)


@pytest.mark.parametrize("seed", [1, 2])
def test_fitted_degradation_recovers_the_simulators_truth(race, seed):
    truth = _truth_race(race)
    laps = TelemetrySimulator(truth, seed=seed).laps_frame()
    report = calibrate(laps, fuel=FuelCorrection.from_race(truth))  # generic priors: the truth is not given
    for compound, model in truth.compounds.items():
        if compound.value not in report["compounds"]:
            continue
        fit = report["compounds"][compound.value]
        assert fit["model"] == model.model
        coef = [fit["k1_s"], fit.get("k2_s", 0.0)][:features(model.model, [1]).shape[1]]
        fitted = features(model.model, AGES) @ np.array(coef)
        np.testing.assert_allclose(fitted, model.degradation_s(AGES), atol=0.25)
    assert report["compounds"]["HARD"]["n_laps"] > 300


def test_model_beats_naive_on_the_real_race(shared_data):
    report = calibrate(read_fastf1_laps_csv(shared_data / REAL))
    b = report["backtest"]
    assert b["n"] > 3000
    assert b["mae_s"] < b["naive_mae_s"] - 0.01
    assert b["mae_s"] < 0.35
    # the chosen models are sensible wear: positive, within what Pirelli tyres do at Bahrain
    for compound in ("SOFT", "HARD"):
        m = report["compounds"][compound]
        assert 0.5 < m["degradation_at_max_age_s"] < 5.0 and m["degradation_at_max_age_sd_s"] < 0.5


def test_backtest_uses_only_earlier_laps(shared_data):
    """Changing every lap after lap 30 must not change any prediction made at k <= 30."""
    laps = mark_clean_laps(read_fastf1_laps_csv(shared_data / REAL))
    scrambled = laps.copy()
    late = scrambled.LapNumber > 30
    for col in ("LapTime", "CorrectedLapTime"):
        scrambled.loc[late, col] = scrambled.loc[late, col] + 5.0
    a, b = backtest_predictions(laps), backtest_predictions(scrambled)
    a, b = a[a.k <= 30].reset_index(drop=True), b[b.k <= 30].reset_index(drop=True)
    assert len(a) > 1000
    np.testing.assert_array_equal(a.Predicted.to_numpy(), b.Predicted.to_numpy())
    assert not np.array_equal(a.Actual.to_numpy(), b.Actual.to_numpy())  # targets past lap 30 did change


def test_race_priors_are_used(shared_data, race):
    priors = priors_from_race(race)
    assert set(priors) == {"SOFT", "MEDIUM", "HARD"}
    report = calibrate(read_fastf1_laps_csv(shared_data / REAL), priors=priors, fuel=FuelCorrection.from_race(race))
    assert report["compounds"]["HARD"]["prior"].startswith("race definition")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "calibrate", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.integration  # starts a subprocess
def test_cli_json_and_text(shared_data):
    result = _cli(str(shared_data / REAL), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["compounds"]) == {"SOFT", "HARD"}
    assert {"mae_s", "n", "naive_mae_s"} <= set(report["backtest"])
    assert report["backtest"]["mae_s"] < report["backtest"]["naive_mae_s"]
    text = _cli(str(shared_data / REAL)).stdout
    assert "backtest (laps k..k+4 from laps before k): model MAE" in text and "HARD" in text


@pytest.mark.integration  # starts a subprocess
def test_cli_one_table_scores_the_cross_race_pace_model_out_of_sample(shared_data, tmp_path):
    """Belgium 2024, where this race's own degradation fit loses to the naive predictor (0.459 vs 0.403 s):
    the bundled cross-race parameters, fitted on the seven other races, beat it (0.408 vs 0.409 s)."""
    named = shared_data / "real-races/2024-belgian-race-laps.csv"
    report = json.loads(_cli(str(named), "--json").stdout)
    pace = report["pace_backtest"]
    assert pace["out_of_sample"] is True and pace["winner"] == "model", pace
    assert pace["model_mae_s"] < pace["naive_mae_s"] and pace["laps_scored"] > 2000
    fitted_on = pace["params"]["source"].split(", ")
    assert len(fitted_on) == 7 and "2024 Belgian Grand Prix" not in fitted_on
    assert "out of sample: parameters fitted on 7 other races, not on 2024 Belgian Grand Prix" in pace["note"]
    text = _cli(str(named)).stdout.splitlines()
    assert text[-1].startswith("cross-race pace model backtest (laps k..k+4 from laps before k): model MAE 0.408 s")
    unnamed = tmp_path / "laps.csv"  # the same table under a name that names no race: cannot promise out of sample
    unnamed.write_bytes(named.read_bytes())
    pace = json.loads(_cli(str(unnamed), "--laps", "44", "--json").stdout)["pace_backtest"]
    assert pace["out_of_sample"] is None and len(pace["params"]["source"].split(", ")) == 8
    assert "race not identified" in pace["note"] and "in sample" in pace["note"]
    later = tmp_path / "2026-belgian-race-laps.csv"  # a race after the bundled history: named by its file
    later.write_bytes(named.read_bytes())
    pace = json.loads(_cli(str(later), "--laps", "44", "--json").stdout)["pace_backtest"]
    assert pace["out_of_sample"] is True and len(pace["params"]["source"].split(", ")) == 8
    assert "out of sample: parameters fitted on 8 other races, not on 2026 Belgian Grand Prix" in pace["note"]


def _one_line_error(result, *needles):
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("racetwin calibrate: ")
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.integration  # starts a subprocess
def test_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Driver,LapNumber\nVER,1\n")
    _one_line_error(_cli(str(bad)), f"{bad}", "column 'LapTime' is missing")
    _one_line_error(_cli(str(tmp_path / "none.csv")), f"{tmp_path / 'none.csv'}: is not a file")


@pytest.mark.integration  # starts a subprocess
@pytest.mark.parametrize("name,content,why", [
    ("empty.csv", b"", "is empty"),
    ("blank.csv", b"\n\n  \n", "is empty"),
    ("binary.csv", bytes(range(256)) * 4, "is a binary file, not a CSV lap table"),
    ("laps.json", b'{"Driver": "VER", "LapNumber": 1}', "is JSON, not a CSV lap table"),
    ("array.csv", b'  [{"Driver": "VER"}]', "is JSON, not a CSV lap table"),
    ("latin1.csv", "Driver,LapNumber\nP\xe9rez,1\n".encode("latin-1"), "is not UTF-8 text"),
])
def test_cli_unreadable_files_give_one_line_naming_the_file(tmp_path, name, content, why):
    path = tmp_path / name
    path.write_bytes(content)
    _one_line_error(_cli(str(path)), f"racetwin calibrate: {path}: {why}")


@pytest.mark.integration  # starts a subprocess
def test_cli_folder_without_tables(tmp_path):
    _one_line_error(_cli(str(tmp_path)), f"{tmp_path}: folder holds no *-laps.csv lap table")


@pytest.mark.integration  # starts a subprocess
def test_cli_race_distance_is_never_assumed(shared_data, tmp_path):
    named = shared_data / "real-races/2024-belgian-race-laps.csv"  # no lapped finisher: no chequered flag
    result = _cli(str(named))  # the file name names the race: its distance from data/event-history.json
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("race distance 44 laps (data/event-history.json (2024 Belgian Grand Prix))")
    _one_line_error(_cli(str(named), "--laps", "30"), "30 laps from --laps 30 disagrees with 44 from "
                    "data/event-history.json (2024 Belgian Grand Prix)")
    belgium = tmp_path / "laps.csv"  # the same table under a name that names no race
    belgium.write_bytes(named.read_bytes())
    _one_line_error(_cli(str(belgium)), "race distance: unknown", "give --laps N")
    result = _cli(str(belgium), "--laps", "44")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("race distance 44 laps (--laps 44)")
    _one_line_error(_cli(str(belgium), "--laps", "30"), "the lap table reaches lap 44, beyond the race distance of 30")
    cut = tmp_path / "bahrain-30-laps.csv"  # a table cut at lap 30 is not a 30-lap race
    read_fastf1_laps_csv(shared_data / REAL).query("LapNumber <= 30").to_csv(cut, index=False)
    _one_line_error(_cli(str(cut)), "ends at lap 30 without showing the chequered flag")
    report = json.loads(_cli(str(cut), "--laps", "57", "--json").stdout)
    assert report["race_laps"] == 57 and report["race_laps_source"] == "--laps 57"


@pytest.mark.integration  # starts a subprocess
def test_cli_leave_one_race_out_table(shared_data):
    tables = [str(shared_data / f"real-races/2024-{s}-race-laps.csv") for s in ("bahrain", "belgian")]
    report = json.loads(_cli(*tables, "--json").stdout)
    assert [r["race"] for r in report["races"]] == ["2024-bahrain", "2024-belgian"]
    for row in report["races"]:
        assert {"laps_scored", "model_mae_s", "naive_mae_s", "winner", "params"} <= set(row)
        assert row["race"] not in row["params"]["source"]
    assert report["out_of_sample"] is True and set(report["mean"]) == {"model_mae_s", "naive_mae_s", "winner"}
    text = _cli(*tables).stdout.splitlines()
    assert text[0].startswith("leave-one-race-out backtest, out-of-sample")
    assert text[2].split()[:2] == ["2024-bahrain", str(report["races"][0]["laps_scored"])]
    assert text[4].split()[0] == "mean"
    _one_line_error(_cli(*tables, "--laps", "57"), "--laps: applies to one lap table")
