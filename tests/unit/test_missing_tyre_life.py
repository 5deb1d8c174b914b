"""A lap with no TyreLife (FastF1 leaves it empty for a stint whose tyre data the timing did not send) gets its set's
age from the stint, and says so.

Seen in a real table: the 2026 Barcelona Grand Prix as FastF1 writes it (BEA's third stint, 21 laps on a used SOFT
with ``TyreLife`` empty and ``FreshTyre`` False) made every command refuse the whole race.
Data here: ../shared/data/real-races/2024-bahrain-race-laps.csv (TracingInsights/2024, MIT), a few cells blanked.
"""

import subprocess
import sys

import pandas as pd
import pytest

from workbench.telemetry.lap_reader import LapTableError, check_lap_table, fill_missing_tyre_life

REAL = "real-races/2024-bahrain-race-laps.csv"


@pytest.fixture(scope="module")
def bahrain(shared_data):
    return pd.read_csv(shared_data / REAL)


def _rows(laps, driver, lap_numbers):
    return laps.index[(laps.Driver == driver) & laps.LapNumber.isin(lap_numbers)]


def test_missing_ages_are_counted_from_the_stints_known_laps(bahrain):
    laps = bahrain.copy()
    blank = _rows(laps, "VER", [20, 21, 22])  # inside VER's second stint
    laps.loc[blank, "TyreLife"] = None
    checked = check_lap_table(laps, source="t.csv")
    reference = check_lap_table(bahrain, source="t.csv")
    pd.testing.assert_frame_equal(checked, reference)  # every lap back to its real age
    [note] = checked.attrs["lap_table_notes"]
    age = int(bahrain.loc[blank[0], "TyreLife"])
    assert note.startswith(f"t.csv: TyreLife of rows {blank[0]}, {blank[1]}, {blank[2]} (VER stint 2) is missing: "
                           f"taken as {age}..{age + 2}, from the stint's lap ")


def test_a_stint_with_no_age_is_taken_as_a_new_set_and_called_a_guess(bahrain):
    laps = bahrain.copy()
    stint = laps.index[(laps.Driver == "HAM") & (laps.Stint == 3)]
    laps.loc[stint, "TyreLife"] = None
    checked = check_lap_table(laps)
    ages = checked.loc[(checked.Driver == "HAM") & (checked.Stint == 3), "TyreLife"].tolist()
    assert ages == list(range(1, len(stint) + 1))  # one lap older every lap, from 1
    [note] = checked.attrs["lap_table_notes"]
    assert "(HAM stint 3) is missing: taken as 1.." in note and "a guess" in note


def test_fresh_tyre_decides_what_the_note_says():
    base = pd.DataFrame({"Driver": ["BEA"] * 3, "LapNumber": [40, 41, 42], "Stint": [3, 3, 3],
                         "TyreLife": [None, None, None]})
    used, new = base.copy(), base.copy()
    [used_note] = fill_missing_tyre_life(used, fresh=pd.Series([False] * 3))
    [new_note] = fill_missing_tyre_life(new, fresh=pd.Series(["True"] * 3))
    assert list(used.TyreLife) == list(new.TyreLife) == [1, 2, 3]
    assert "FreshTyre says a used set, of unknown age" in used_note and "a guess" in used_note
    assert "a new set (FreshTyre says so)" in new_note and "guess" not in new_note


def test_a_wrong_age_is_still_refused_naming_the_row(bahrain):
    laps = bahrain.head(30).copy()
    laps.loc[3, "TyreLife"] = -2
    with pytest.raises(LapTableError, match=r"t.csv: row 3 TyreLife: -2(\.0)? is not an integer >= 0"):
        check_lap_table(laps, source="t.csv")
    laps = bahrain.head(30).copy()
    laps["LapNumber"] = laps["LapNumber"].astype(object)
    laps.loc[4, "LapNumber"] = None  # no lap number: the row cannot be placed, refused before any age is filled
    laps.loc[5, "TyreLife"] = None
    with pytest.raises(LapTableError, match=r"t.csv: row 4 LapNumber: None is not an integer >= 1"):
        check_lap_table(laps, source="t.csv")


@pytest.mark.integration  # starts a subprocess
def test_predict_says_what_it_filled_on_stderr_and_goes_on(bahrain, tmp_path):
    laps = bahrain.copy()
    laps.loc[_rows(laps, "LEC", [3, 4]), "TyreLife"] = None
    path = tmp_path / "2024-bahrain-race-laps.csv"
    laps.to_csv(path, index=False)
    r = subprocess.run([sys.executable, "-m", "workbench", "predict", str(path), "--at-lap", "20", "--runs", "20"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith(f"racetwin predict: note: {path}: TyreLife of rows ") and "(LEC stint 1)" in r.stderr
    assert r.stdout.startswith("Prediction from the end of lap 20 of 57")
