"""The FastF1 lap-table reader and the clean-lap screen."""

import pandas as pd
import pytest

from workbench.twins.lap_table import FuelCorrection, is_green_status, mark_clean_laps, read_fastf1_laps_csv

REAL = "real-races/2024-bahrain-race-laps.csv"


def test_real_race_screen(shared_data):
    laps = mark_clean_laps(read_fastf1_laps_csv(shared_data / REAL))
    assert len(laps) == 1129
    # pit stops from stint boundaries: 20 drivers, 43 stops (17 two-stoppers, 3 three-stoppers)
    assert laps.PitIn.sum() == 43 and laps.PitOut.sum() == 43
    assert not laps[laps.Clean].Neutralised.any() and not laps[laps.Clean].LapOne.any()
    assert laps.Clean.sum() == 998
    bot31 = laps[(laps.Driver == "BOT") & (laps.LapNumber == 31)].iloc[0]
    assert bot31.NoTime and not bot31.Clean
    # fuel from the lap number: 100 kg spread over 57 laps
    assert laps.FuelKg.max() == pytest.approx(100 - 100 / 57)


def test_green_status_forms():
    assert is_green_status("1") and is_green_status(1) and is_green_status("GREEN") and is_green_status(None)
    assert not any(is_green_status(s) for s in ("12", "4", 6, "SC", "VSC", "YELLOW"))


def test_traffic_from_gaps_and_given_fuel():
    rows = [{"Driver": d, "LapNumber": n, "LapTime": 90.0 + 0.1 * n, "Compound": "HARD", "Stint": 1,
             "TyreLife": n, "Position": p, "GapToLeader": gap * n, "FuelKg": 100.0 - n}
            for n in range(1, 6) for d, p, gap in (("AAA", 1, 0.0), ("BBB", 2, 0.5), ("CCC", 3, 1.0))]
    laps = mark_clean_laps(pd.DataFrame(rows), FuelCorrection(mass_effect_s_per_kg=0.1))
    bbb = laps[laps.Driver == "BBB"].set_index("LapNumber")
    assert bbb.Traffic.tolist() == [True, False, False, False, False]  # 0.5 s, then 1.0, 1.5 ... behind
    assert bbb.CorrectedLapTime[3] == pytest.approx(90.3 - 0.1 * 97)


@pytest.mark.parametrize("change,message", [
    ({"drop": "TyreLife"}, "column 'TyreLife' is missing"),
    ({"LapNumber": 0}, "row 0 LapNumber: 0 is not an integer >= 1"),
    ({"TyreLife": 1.5}, "row 0 TyreLife: 1.5 is not an integer >= 0"),
    ({"LapTime": "fast"}, "row 0 LapTime: 'fast' is not seconds or a timedelta"),
    ({"LapTime": -3.0}, "row 0 LapTime: -3.0 is not a number >= 0"),
    ({"LapTime": 95_123_000_000}, "row 0 LapTime: 95123000000 cannot be seconds"),
    ({"Compound": "SUPERSOFT"}, "row 0 Compound: 'SUPERSOFT' is not one of SOFT, MEDIUM, HARD"),
])
def test_bad_tables_are_refused_naming_row_field_value(tmp_path, change, message):
    row = {"Driver": "VER", "LapNumber": 1, "LapTime": 95.0, "Compound": "SOFT", "Stint": 1, "TyreLife": 1}
    if "drop" in change:
        del row[change["drop"]]
    else:
        row.update(change)
    path = tmp_path / "laps.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=message):
        read_fastf1_laps_csv(path)


def test_missing_file_and_bad_fuel():
    with pytest.raises(ValueError, match="path: '/nonexistent.csv' is not a file"):
        read_fastf1_laps_csv("/nonexistent.csv")
    with pytest.raises(ValueError, match=r"mass_effect_s_per_kg: 0.5 is outside \[0, 0.2\]"):
        FuelCorrection(mass_effect_s_per_kg=0.5)
