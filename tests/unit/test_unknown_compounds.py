"""A lap whose tyre the timing did not report (FastF1's 'UNKNOWN', an empty cell) takes its stint's compound,
and says so.

Data: ../shared/data/real-races/2024-bahrain-race-laps.csv (TracingInsights/2024, MIT), a few cells blanked.
"""

import subprocess
import sys

import pandas as pd
import pytest

from workbench.telemetry.lap_reader import LapTableError, check_lap_table, fill_unknown_compounds

REAL = "real-races/2024-bahrain-race-laps.csv"


@pytest.fixture(scope="module")
def bahrain(shared_data):
    return pd.read_csv(shared_data / REAL)


def _rows(laps, driver, laps_numbers):
    return laps.index[(laps.Driver == driver) & laps.LapNumber.isin(laps_numbers)]


def test_unknown_and_empty_cells_take_the_stints_compound(bahrain):
    laps = bahrain.copy()
    unknown, empty = _rows(laps, "VER", [5, 6]), _rows(laps, "HAM", [30])
    laps.loc[unknown, "Compound"] = "UNKNOWN"
    laps.loc[empty, "Compound"] = None
    checked = check_lap_table(laps, source="t.csv")
    reference = check_lap_table(bahrain, source="t.csv")
    pd.testing.assert_frame_equal(checked, reference)  # every lap back to its real compound
    notes = checked.attrs["lap_table_notes"]
    assert notes == [  # one per stint, by driver
        f"t.csv: Compound of row {empty[0]} (HAM stint 2) is empty: taken as HARD, the stint's other laps' compound",
        f"t.csv: Compound of rows {unknown[0]}, {unknown[1]} (VER stint 1) is 'UNKNOWN': taken as SOFT, the stint's "
        "other laps' compound"]
    assert reference.attrs["lap_table_notes"] == []  # nothing to say about a complete table


def test_a_stint_with_no_known_lap_takes_the_fields_compound_and_says_it_is_a_guess(bahrain):
    laps = bahrain.copy()
    first_stint = laps.index[(laps.Driver == "SAR") & (laps.Stint == 1)]
    laps.loc[first_stint, "Compound"] = "TEST_UNKNOWN"
    checked = check_lap_table(laps)
    # laps 1-10: 189 of the other cars' laps on SOFT, 11 on HARD (SAR's real compound was SOFT)
    assert set(checked.loc[(checked.Driver == "SAR") & (checked.Stint == 1), "Compound"]) == {"SOFT"}
    [note] = checked.attrs["lap_table_notes"]
    assert "(SAR stint 1) is 'TEST_UNKNOWN': taken as SOFT, a guess" in note


def test_unknown_with_nothing_to_take_is_refused_naming_the_row():
    laps = pd.DataFrame({"Driver": ["VER", "VER"], "LapNumber": [1, 2], "LapTime": [95.0, 94.0],
                         "Compound": ["UNKNOWN", "UNKNOWN"], "Stint": [1, 1], "TyreLife": [1, 2]})
    with pytest.raises(LapTableError, match=r"t.csv: row 0 Compound: 'UNKNOWN' is not one of SOFT, MEDIUM, HARD, "
                                            r"INTERMEDIATE, WET \(and no lap of its stint, nor another car"):
        check_lap_table(laps, source="t.csv")
    bad = laps.assign(Compound=["SOFT", "PURPLE"])  # not unknown: a wrong value, never replaced
    with pytest.raises(LapTableError, match=r"row 1 Compound: 'PURPLE' is not one of SOFT, MEDIUM, HARD, "
                                            r"INTERMEDIATE, WET$"):
        check_lap_table(bad, source="t.csv")


def test_a_stint_naming_two_compounds_is_not_guessed():
    table = pd.DataFrame({"Driver": ["VER"] * 3, "Stint": [1, 1, 1], "Compound": ["SOFT", "UNKNOWN", "HARD"],
                          "LapNumber": [1, 2, 3]})
    assert fill_unknown_compounds(table) == []
    assert list(table.Compound) == ["SOFT", "UNKNOWN", "HARD"]


@pytest.mark.integration  # starts a subprocess
def test_predict_says_what_it_filled_on_stderr_and_goes_on(bahrain, tmp_path):
    laps = bahrain.copy()
    laps.loc[_rows(laps, "VER", [5, 6]), "Compound"] = "UNKNOWN"
    path = tmp_path / "2024-bahrain-race-laps.csv"
    laps.to_csv(path, index=False)
    r = subprocess.run([sys.executable, "-m", "workbench", "predict", str(path), "--at-lap", "20", "--runs", "20"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(f"racetwin predict: note: {path}: Compound of rows ") and "(VER stint 1)" in r.stderr
    assert r.stdout.startswith("Prediction from the end of lap 20 of 57")
