"""FastF1 ``Laps`` frames and the CSVs FastF1 writes give what the seconds table gives.

The FastF1-shaped frame is built here from the shared 2024 Bahrain lap table (real laps,
times in seconds): times become ``timedelta64[ns]`` with ``NaT`` where the source has none,
the integer columns become floats (as FastF1 has them), TrackStatus a string, ``Time`` the
session time at the lap's end where every lap before is timed (NaT elsewhere),
``PitInTime``/``PitOutTime`` on the in- and out-laps of each stop, ``Deleted`` False and
``IsAccurate`` False on lap 1, in/out laps and laps without a time (FastF1's rule). It is
not a FastF1 download (the tests need no network).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.strategy.predict import predict_from_laps
from workbench.telemetry.lap_reader import LapTableError, check_lap_table, normalize_lap_table, read_lap_table
from workbench.telemetry.laptable import laps_to_records, read_fastf1_laps
from workbench.twins.calibrate import calibrate
from workbench.twins.lap_table import mark_clean_laps, read_fastf1_laps_csv

REAL = "real-races/2024-bahrain-race-laps.csv"
K = 29  # no car enters the pits on lap 29 (see test_k_has_no_pit_entry)
RUNS = 300


def fastf1_frame(seconds: pd.DataFrame) -> pd.DataFrame:
    """The seconds table as FastF1 ``session.laps`` holds it (dtypes, NaT, pit times)."""
    df = seconds.sort_values(["Driver", "LapNumber"], ignore_index=True)
    td = {c: pd.to_timedelta(df[c], unit="s") for c in ("LapTime", "Sector1Time", "Sector2Time", "Sector3Time")}
    lap_s = df.LapTime.fillna(df.Sector1Time + df.Sector2Time + df.Sector3Time)  # the timing's lap end
    complete = lap_s.notna().groupby(df.Driver).cummin() & (df.LapNumber == df.groupby("Driver").cumcount() + 1)
    end = lap_s.groupby(df.Driver).cumsum().where(complete)
    time = pd.to_timedelta(end + 3600.0, unit="s")  # FastF1 session time: the race starts ~1 h in
    nxt, prev = df.groupby("Driver").Stint.shift(-1), df.groupby("Driver").Stint.shift(1)
    pit_in, pit_out = (nxt > df.Stint).to_numpy(), (prev < df.Stint).to_numpy()
    # a pit time exists even where the lap's end is unknown (the stop itself was timed)
    rough = pd.to_timedelta(df.LapTime.fillna(95.0).groupby(df.Driver).cumsum() + 3600.0, unit="s")
    frame = pd.DataFrame({
        "Time": time, "Driver": df.Driver, "DriverNumber": df.Driver.map(lambda d: str(abs(hash(d)) % 99)),
        "LapTime": td["LapTime"], "LapNumber": df.LapNumber.astype(float), "Stint": df.Stint.astype(float),
        "PitOutTime": rough.where(pit_out), "PitInTime": rough.where(pit_in),
        "Sector1Time": td["Sector1Time"], "Sector2Time": td["Sector2Time"], "Sector3Time": td["Sector3Time"],
        "Compound": df.Compound, "TyreLife": df.TyreLife.astype(float), "FreshTyre": True, "Team": df.Team,
        "LapStartTime": time - td["LapTime"], "TrackStatus": df.TrackStatus.astype(str),
        "Position": df.Position.astype(float), "Deleted": False, "DeletedReason": "",
        "FastF1Generated": False,
        "IsAccurate": ~((df.LapNumber == 1) | pit_in | pit_out | df.LapTime.isna()).to_numpy()})
    frame["PitOutTime"] = frame["PitOutTime"].astype("timedelta64[ns]")
    frame["PitInTime"] = frame["PitInTime"].astype("timedelta64[ns]")
    return frame


@pytest.fixture(scope="module")
def seconds_csv(shared_data):
    return shared_data / REAL


@pytest.fixture(scope="module")
def frame(seconds_csv):
    return fastf1_frame(pd.read_csv(seconds_csv))


def test_the_frame_is_fastf1_shaped(frame):
    assert str(frame.LapTime.dtype) == "timedelta64[ns]" and frame.LapTime.isna().sum() > 0
    assert str(frame.Time.dtype) == "timedelta64[ns]" and str(frame.PitInTime.dtype) == "timedelta64[ns]"
    assert frame.LapNumber.dtype == float and frame.PitInTime.notna().sum() == 43


def test_k_has_no_pit_entry(frame):
    # at a lap K where a car enters the pits the FastF1 frame knows more than the seconds table
    # (PitInTime on lap K, the stint change only on lap K+1), so the comparison uses a K without one
    assert not frame[(frame.LapNumber == K) & frame.PitInTime.notna()].shape[0]


def test_checked_tables_are_identical(frame, seconds_csv):
    from_seconds = read_fastf1_laps_csv(seconds_csv)
    from_frame = check_lap_table(frame)
    cols = ["Driver", "LapNumber", "LapTime", "Compound", "Stint", "TyreLife", "Position", "PitIn", "PitOut"]
    pd.testing.assert_frame_equal(from_frame[cols], from_seconds[cols], check_dtype=False)
    clean_s, clean_f = mark_clean_laps(from_seconds), mark_clean_laps(from_frame)
    assert clean_s.Clean.sum() == clean_f.Clean.sum() == 998
    assert clean_f.PitLane.sum() == 86 and clean_f.PitIn.sum() == 43


def test_calibrate_frame_csv_and_seconds_agree(frame, seconds_csv, tmp_path):
    path = tmp_path / "fastf1.csv"
    frame.to_csv(path)  # as FastF1 users save it: index column, timedelta strings, empty NaT
    assert "0 days 01:" in path.read_text()[:2000]
    from_seconds = calibrate(read_fastf1_laps_csv(seconds_csv))
    from_frame = calibrate(frame)
    assert from_frame == from_seconds
    assert calibrate(read_fastf1_laps_csv(path)) == from_seconds
    for name, rep in (("seconds CSV", from_seconds), ("FastF1 frame", from_frame)):
        print(f"\ncalibrate, {name}: backtest {rep['backtest']['mae_s']} s (naive {rep['backtest']['naive_mae_s']} s), "
              + ", ".join(f"{c} k1 {m['k1_s']}" for c, m in rep["compounds"].items()))


def test_predict_frame_csv_and_seconds_agree(frame, seconds_csv, tmp_path):
    path = tmp_path / "fastf1.csv"
    frame.to_csv(path)
    seconds = predict_from_laps(pd.read_csv(seconds_csv), K, runs=RUNS, seed=3)
    from_frame = predict_from_laps(frame, K, runs=RUNS, seed=3)
    from_csv = predict_from_laps(pd.read_csv(path), K, runs=RUNS, seed=3)
    assert from_frame.drivers == seconds.drivers and from_csv.drivers == seconds.drivers
    assert from_frame.score == seconds.score
    print(f"\npredict at lap {K}: seconds {seconds.score}\n                  frame   {from_frame.score}")


def test_records_from_the_frame_match_the_seconds_table(frame, seconds_csv):
    a, b = laps_to_records(frame), read_fastf1_laps(seconds_csv)
    key = lambda r: (r.driver, r.lap_number)  # noqa: E731
    # the frame's session clock starts 3600 s earlier; everything else is the same
    for x, y in zip(sorted(a, key=key), sorted(b, key=key)):
        assert (x.lap_time_s, x.position, x.stint, x.pit_in, x.pit_out, x.compound, x.gap_to_leader_s) == (
            y.lap_time_s, y.position, y.stint, y.pit_in, y.pit_out, y.compound, y.gap_to_leader_s)


def test_nanoseconds_and_milliseconds_are_refused_not_guessed(frame):
    ns = frame.assign(LapTime=frame.LapTime.astype("int64"))  # NaT becomes a huge negative number
    ns = ns[frame.LapTime.notna()].reset_index(drop=True)
    with pytest.raises(LapTableError, match=r"laps: row 0 LapTime: 103888000000 cannot be seconds \(a lap or "
                                            r"sector is at most 10800 s\); numbers are read as seconds"):
        check_lap_table(ns)
    ms = frame.assign(Time=frame.Time.dt.total_seconds() * 1000)
    with pytest.raises(LapTableError, match=r"row 0 Time: 3703888.0 cannot be seconds \(a session time"):
        predict_from_laps(ms, K, runs=10)


def test_sc_through_the_pit_lane_is_not_a_stop():
    """FastF1 issue #717: the SC leads the field through the pit lane; FastF1 starts a stint for everyone."""
    rows = []
    for d, changes in (("AAA", False), ("BBB", True)):
        for n in range(1, 9):
            after = n >= 5
            rows.append({"Driver": d, "LapNumber": float(n), "LapTime": pd.Timedelta(seconds=95 + 0.1 * n),
                         "Stint": 2.0 if after else 1.0, "Compound": "HARD" if changes and after else "MEDIUM",
                         "TyreLife": float(n - 4 if changes and after else n + 2),
                         "Position": 1.0 if d == "AAA" else 2.0,
                         "TrackStatus": "4" if n in (4, 5) else "1",
                         "PitInTime": pd.Timedelta(seconds=3600 + 95 * n) if n == 4 else pd.NaT,
                         "PitOutTime": pd.Timedelta(seconds=3620 + 95 * n) if n == 5 else pd.NaT})
    table = normalize_lap_table(pd.DataFrame(rows))
    aaa, bbb = table[table.Driver == "AAA"], table[table.Driver == "BBB"]
    assert not aaa.PitIn.any() and not aaa.PitOut.any() and set(aaa.Stint) == {1.0}
    assert aaa.PitLane.sum() == 2  # but laps 4 and 5 went through the pit lane: never clean
    assert bbb.PitIn.tolist() == [False, False, False, True, False, False, False, False]
    assert bbb.PitOut.sum() == 1 and bbb.Stint.tolist() == [1.0] * 4 + [2.0] * 4
    records = laps_to_records(rows)
    assert sum(r.pit_in for r in records) == 1 and {r.stint for r in records if r.driver == "AAA"} == {1}


def test_a_pit_entry_on_the_last_known_lap_is_a_pit_in():
    rows = [{"Driver": "AAA", "LapNumber": n, "LapTime": 95.0, "Stint": 1, "Compound": "SOFT", "TyreLife": n,
             "PitInTime": "0 days 01:10:00" if n == 3 else None, "PitOutTime": None} for n in (1, 2, 3)]
    assert normalize_lap_table(rows).PitIn.tolist() == [False, False, True]


def test_deleted_and_inaccurate_laps_are_not_clean():
    rows = [{"Driver": "AAA", "LapNumber": n, "LapTime": 95.0 + 0.01 * n, "Stint": 1, "Compound": "SOFT",
             "TyreLife": n, "Deleted": "True" if n == 4 else "False", "IsAccurate": n != 6} for n in range(1, 9)]
    laps = mark_clean_laps(pd.DataFrame(rows))
    assert laps.set_index("LapNumber").Clean[[2, 3, 4, 5, 6, 7]].tolist() == [True, True, False, True, False, True]


@pytest.mark.parametrize("content,needle", [
    (b"", "is empty"),
    (b"\x89PNG\r\n\x1a\n\0\0\0", "is binary, not a CSV lap table"),
    (b'[{"lap_number": 1, "driver_number": 1}]', "is JSON, not a CSV lap table"),
    (b'{"laps": []}', "is JSON, not a CSV lap table"),
    (b"Driver,LapNumber\nVER,1\nVER,2,3\n", "line 3 has 3 fields, the header 2"),
    (b"Driver,LapNumber\n", "has a header but no rows"),
])
def test_bad_files_are_one_short_line(tmp_path, content, needle):
    path = tmp_path / "laps.csv"
    path.write_bytes(content)
    with pytest.raises(LapTableError) as info:
        read_lap_table(path)
    message = str(info.value)
    assert message == f"{path}: {needle}" or (message.startswith(f"{path}: {needle}") and len(message) < 200)
    assert "\n" not in message and "Traceback" not in message


def test_timedelta_strings_in_every_form():
    rows = [{"Driver": "A", "LapNumber": 1, "LapTime": lap} for lap in
            ("0 days 00:01:35.123000", "00:01:35.123", "95.123", 95.123, np.timedelta64(95123, "ms"))]
    for i, row in enumerate(rows):
        row["LapNumber"] = i + 1
    assert normalize_lap_table(rows).LapTime.tolist() == [95.123] * 5
    with pytest.raises(LapTableError, match=r"laps: row 1 LapTime: True is not seconds or a timedelta"):
        normalize_lap_table([{"LapTime": 1.0}, {"LapTime": True}])
