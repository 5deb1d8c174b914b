"""`racetwin calibrate`: fitted degradation recovers a simulator's truth; the model beats naive on the real race."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.strategy.racedef import CompoundModel
from workbench.telemetry.records import Compound
from workbench.telemetry.simulator import TelemetrySimulator
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


def test_cli_json_and_text(shared_data):
    result = _cli(str(shared_data / REAL), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["compounds"]) == {"SOFT", "HARD"}
    assert {"mae_s", "n", "naive_mae_s"} <= set(report["backtest"])
    assert report["backtest"]["mae_s"] < report["backtest"]["naive_mae_s"]
    text = _cli(str(shared_data / REAL)).stdout
    assert "backtest (laps k..k+4 from laps before k): model MAE" in text and "HARD" in text


def test_cli_bad_input(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Driver,LapNumber\nVER,1\n")
    result = _cli(str(bad))
    assert result.returncode == 2 and "column 'LapTime' is missing" in result.stderr
    result = _cli(str(tmp_path / "none.csv"))
    assert result.returncode == 2 and "is not a file" in result.stderr
