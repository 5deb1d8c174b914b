"""FastF1- and OpenF1-shaped lap tables become valid LapRecords."""

import pytest

from workbench.telemetry.laptable import laps_to_records, openf1_to_records, read_fastf1_laps, track_status_of
from workbench.telemetry.records import Compound, TrackStatus
from workbench.telemetry.schema import to_wire, validate


def test_bahrain_2024_race_imports_every_lap(shared_data):
    laps = read_fastf1_laps(shared_data / "real-races" / "2024-bahrain-race-laps.csv")
    assert len(laps) == 1129
    assert len({r.driver for r in laps}) == 20
    assert all(validate(to_wire(r)) == r for r in laps)
    assert [r.session_time_s for r in laps] == sorted(r.session_time_s for r in laps)
    ver = [r for r in laps if r.driver == "VER"]
    assert [r.lap_number for r in ver] == list(range(1, 58))
    assert ver[-1].position == 1 and ver[0].compound is Compound.SOFT
    assert sum(r.pit_in for r in ver) == 2 and sum(r.pit_out for r in ver) == 2  # VER stopped twice
    assert ver[-1].session_time_s == pytest.approx(sum(r.lap_time_s for r in ver), abs=0.01)


def test_timedelta_strings_pit_times_and_time_column():
    rows = [{"Driver": "HAM", "Team": "Mercedes", "LapNumber": 1, "LapTime": "0 days 00:01:38.826000",
             "Sector1Time": "0 days 00:00:31.419000", "Compound": "soft", "Stint": 1, "TyreLife": 3,
             "Position": 4, "TrackStatus": "14", "PitInTime": "0 days 01:01:00", "Time": "0 days 00:01:40"},
            {"Driver": "HAM", "LapNumber": 2, "LapTime": 99.5, "Stint": 2, "PitOutTime": "0 days 01:01:25",
             "PitInTime": None, "Time": 199.5}]
    a, b = laps_to_records(rows)
    assert (a.lap_time_s, a.sector1_time_s, a.session_time_s, a.track_status) == (98.826, 31.419, 100.0,
                                                                                  TrackStatus.SC)
    assert a.pit_in and not a.pit_out and b.pit_out and not b.pit_in
    assert a.compound is Compound.SOFT and a.team == "Mercedes"


@pytest.mark.parametrize("value,status", [("1", TrackStatus.GREEN), ("12", TrackStatus.YELLOW),
                                          ("6", TrackStatus.VSC), ("145", TrackStatus.RED), (None, TrackStatus.GREEN),
                                          (4.0, TrackStatus.SC)])
def test_track_status_digits(value, status):
    assert track_status_of(value) is status


def test_bad_rows_name_the_column_and_value():
    with pytest.raises(ValueError, match=r"row 0: Driver: None is missing"):
        laps_to_records([{"LapNumber": 1}])
    with pytest.raises(ValueError, match=r"LapTime: 'fast' is not seconds or a timedelta"):
        laps_to_records([{"Driver": "VER", "LapNumber": 1, "LapTime": "fast"}])


def test_openf1_laps_stints_and_pits():
    data = {
        "drivers": [{"driver_number": 1, "name_acronym": "VER", "team_name": "Red Bull Racing"}],
        "laps": [{"driver_number": 1, "lap_number": 1, "lap_duration": 97.3, "duration_sector_1": None,
                  "duration_sector_2": 41.3, "duration_sector_3": 23.6, "date_start": "2024-03-02T15:03:00+00:00",
                  "is_pit_out_lap": False},
                 {"driver_number": 1, "lap_number": 2, "lap_duration": 96.0, "duration_sector_1": 31.0,
                  "duration_sector_2": 41.0, "duration_sector_3": 24.0, "date_start": "2024-03-02T15:04:37.3+00:00",
                  "is_pit_out_lap": True}],
        "stints": [{"driver_number": 1, "stint_number": 1, "lap_start": 1, "lap_end": 1, "compound": "SOFT",
                    "tyre_age_at_start": 3},
                   {"driver_number": 1, "stint_number": 2, "lap_start": 2, "lap_end": 2, "compound": "HARD",
                    "tyre_age_at_start": 0}],
        "pit": [{"driver_number": 1, "lap_number": 1, "pit_duration": 23.1}],
    }
    a, b = openf1_to_records(data)
    assert (a.driver, a.team, a.session_time_s, a.compound, a.tyre_age_laps, a.pit_in) == (
        "VER", "Red Bull Racing", 97.3, Compound.SOFT, 3, True)
    assert (b.session_time_s, b.compound, b.stint, b.pit_out) == (193.3, Compound.HARD, 2, True)
