"""FastF1- and OpenF1-shaped lap tables become valid LapRecords."""

import pytest

from workbench.telemetry.laptable import (
    gaps_at_line,
    laps_to_records,
    openf1_to_records,
    read_fastf1_laps,
    track_status_of,
)
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
        "VER", "Red Bull Racing", 97.3, Compound.SOFT, 4, True)  # FastF1's TyreLife: age at start + 1
    assert (b.session_time_s, b.compound, b.stint, b.pit_out) == (193.3, Compound.HARD, 2, True)


def _by(records):
    return {(r.driver, r.lap_number): (r.gap_to_leader_s, r.interval_s) for r in records}


def test_gaps_from_cumulative_lap_times():
    # A: 90, 91, 90 -> ends 90, 181, 271; B: 91, 90, 92 -> 91, 181.5 (90.5), 273.5; C: 95, 89, 89 -> 95, 184, 273
    rows = [{"Driver": d, "LapNumber": n + 1, "LapTime": t, "Position": p}
            for d, times, pos in (("A", (90, 91, 90), (1, 1, 1)), ("B", (91, 90.5, 92), (2, 2, 3)),
                                  ("C", (95, 89, 89), (3, 3, 2)))
            for n, (t, p) in enumerate(zip(times, pos))]
    gaps = _by(laps_to_records(rows))
    assert gaps[("A", 1)] == (0.0, 0.0) and gaps[("B", 1)] == (1.0, 1.0) and gaps[("C", 1)] == (5.0, 4.0)
    assert gaps[("B", 2)] == (0.5, 0.5) and gaps[("C", 2)] == (3.0, 2.5)
    assert gaps[("C", 3)] == (2.0, 2.0) and gaps[("B", 3)] == (2.5, 0.5)  # C passed B on lap 3


def test_gaps_from_session_time_columns_win_over_summed_lap_times():
    # Time is the session time at the lap's end; LapStartTime + LapTime when Time is missing
    rows = [{"Driver": "A", "LapNumber": 1, "LapTime": 100.0, "Time": 3700.0},
            {"Driver": "B", "LapNumber": 1, "LapTime": 99.0, "Time": 3701.25},
            {"Driver": "C", "LapNumber": 1, "LapTime": 98.0, "LapStartTime": 3605.0}]
    records = laps_to_records(rows)
    assert [r.driver for r in records] == ["A", "B", "C"]
    gaps = _by(records)
    assert gaps == {("A", 1): (0.0, 0.0), ("B", 1): (1.25, 1.25), ("C", 1): (3.0, 1.75)}


def test_no_gaps_where_an_untimed_car_could_be():
    # B has no lap-2 time: its end is an estimate, so B has no gaps from lap 2 on, and C (behind B by
    # Position) no interval; A ahead of B keeps everything
    rows = [{"Driver": d, "LapNumber": n, "LapTime": t, "Position": p}
            for d, p, times in (("A", 1, (90, 90, 90)), ("B", 2, (91, None, 90)), ("C", 3, (92, 90, 90)))
            for n, t in enumerate(times, start=1)]
    gaps = _by(laps_to_records(rows))
    assert gaps[("B", 1)] == (1.0, 1.0) and gaps[("B", 2)] == (None, None) and gaps[("B", 3)] == (None, None)
    assert gaps[("C", 2)] == (2.0, None) and gaps[("C", 3)] == (2.0, None) and gaps[("A", 3)] == (0.0, 0.0)
    # a lap time from its sectors keeps the chain
    rows[4].update(Sector1Time=30.0, Sector2Time=31.0, Sector3Time=30.0)
    assert _by(laps_to_records(rows))[("B", 3)] == (2.0, 2.0)  # 91 + 91 + 90 behind 3 x 90


def test_gaps_at_line_rules():
    assert gaps_at_line([(10.0, True, 1), (11.5, True, 2)]) == [(0.0, 0.0), (1.5, 1.5)]
    # an untimed car without a Position could lead: no gaps to the leader, no intervals
    assert gaps_at_line([(10.0, True, 1), (11.5, True, 2), (10.5, False, None)]) == [(None, None)] * 3
    # an untimed P1: the first timed car is not the leader, its follower's interval still holds
    assert gaps_at_line([(11.0, True, 2), (11.5, True, 3), (9.0, False, 1)]) == [(None, None), (None, 0.5),
                                                                                 (None, None)]
    assert gaps_at_line([]) == []
    with pytest.raises(ValueError, match=r"cars\[1\]: lap end nan is not a finite number of seconds"):
        gaps_at_line([(10.0, True, 1), (float("nan"), True, 2)])


def test_bahrain_2024_gaps_at_the_line(shared_data):
    laps = read_fastf1_laps(shared_data / "real-races" / "2024-bahrain-race-laps.csv")
    assert all(r.gap_to_leader_s is None or r.gap_to_leader_s >= 0 for r in laps)
    assert all(r.interval_s is None or r.interval_s >= 0 for r in laps)
    leaders = [r for r in laps if r.position == 1]
    assert len(leaders) == 57 and all(r.gap_to_leader_s == 0.0 and r.interval_s == 0.0 for r in leaders)
    # only Bottas lost his timing (lap 31 has no lap time: the long stop), so only he lacks gaps from then on
    assert {(r.driver, r.lap_number) for r in laps if r.gap_to_leader_s is None} == {
        ("BOT", n) for n in range(31, 57)}
    lap30 = sorted((r for r in laps if r.lap_number == 30), key=lambda r: r.gap_to_leader_s)
    assert [r.position for r in lap30] == list(range(1, 21))  # the order of the gaps is the timing order
    # the gaps at the flag are the official classification's (F1 results, 2024 Bahrain GP)
    final = {r.driver: r.gap_to_leader_s for r in laps if r.lap_number == 57}
    assert final == {"VER": 0.0, "PER": 22.457, "SAI": 25.11, "LEC": 39.669, "RUS": 46.788, "NOR": 48.458,
                     "HAM": 50.324, "PIA": 56.082, "ALO": 74.887, "STR": 93.216}
