"""OpenF1 JSON as the API returns it becomes the same lap records as the FastF1 table.

The inputs are built here, not downloaded (tests need no network): the record shapes and
field names are those of the OpenF1 documentation's sample outputs for ``/v1/laps``,
``/v1/stints``, ``/v1/pit``, ``/v1/position``, ``/v1/intervals``, ``/v1/race_control``
and ``/v1/drivers`` (openf1.org, API endpoints; repository br-g/openf1,
documentation/includes/_api_endpoints.md), and the values come from the shared real
lap tables (2024 Bahrain and Saudi Arabian GPs): lap and sector times, stints, stops,
positions at the line and the gaps at the line that `read_fastf1_laps` computes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from workbench.telemetry.laptable import openf1_to_records as openf1_via_laptable
from workbench.telemetry.laptable import read_fastf1_laps
from workbench.telemetry.openf1 import OpenF1Error, openf1_to_records, read_openf1
from workbench.telemetry.records import TrackStatus
from workbench.telemetry.sources import file_kind
from workbench.telemetry.summary import summarize

T0 = datetime(2024, 3, 2, 15, 3, 0, tzinfo=UTC).timestamp()
SESSION = {"meeting_key": 1229, "session_key": 9472}


def iso(t: float) -> str:
    return datetime.fromtimestamp(round(t, 6), tz=UTC).isoformat()


def openf1_from_table(csv, drivers_csv) -> dict[str, list[dict]]:
    """The seven endpoints' records for a race, from a FastF1-shaped table (see the module notes)."""
    table = pd.read_csv(csv)
    records = read_fastf1_laps(csv)
    end = {(r.driver, r.lap_number): r.session_time_s for r in records}
    numbers = {d: 1 + i for i, d in enumerate(sorted(table.Driver.unique()))}
    teams = pd.read_csv(drivers_csv).set_index("driver").team.to_dict()
    out: dict[str, list[dict]] = {k: [] for k in ("drivers", "laps", "stints", "pit", "position", "intervals")}
    for d, n in numbers.items():
        out["drivers"].append({"broadcast_name": d, "country_code": "", "driver_number": n, "first_name": d,
                               "full_name": d, "headshot_url": None, "last_name": d, "name_acronym": d,
                               "team_colour": "3671C6", "team_name": teams.get(d), **SESSION})
    for (d, stint), grp in table.groupby(["Driver", "Stint"]):
        out["stints"].append({"compound": grp.Compound.iloc[0], "driver_number": numbers[d],
                              "lap_end": int(grp.LapNumber.max()), "lap_start": int(grp.LapNumber.min()),
                              "stint_number": int(stint), "tyre_age_at_start": int(grp.TyreLife.iloc[0]) - 1,
                              **SESSION})
    last_position: dict[str, int] = {}
    for row in table.itertuples():
        n = numbers[row.Driver]
        lap = int(row.LapNumber)
        start = T0 + end.get((row.Driver, lap - 1), 0.0)

        def sec(v):
            return None if pd.isna(v) else float(v)

        out["laps"].append({"date_start": iso(start), "driver_number": n, "duration_sector_1": sec(row.Sector1Time),
                            "duration_sector_2": sec(row.Sector2Time), "duration_sector_3": sec(row.Sector3Time),
                            "i1_speed": 290, "i2_speed": 270, "is_pit_out_lap": lap > 1 and bool(
                                (table.Driver == row.Driver).any() and row.Stint > table[
                                    (table.Driver == row.Driver) & (table.LapNumber == lap - 1)].Stint.max()),
                            "lap_duration": sec(row.LapTime), "lap_number": lap, "segments_sector_1": None,
                            "segments_sector_2": None, "segments_sector_3": None, "st_speed": 310, **SESSION})
        t_end = T0 + end[(row.Driver, lap)]
        if not pd.isna(row.Position) and last_position.get(row.Driver) != int(row.Position):
            last_position[row.Driver] = int(row.Position)
            out["position"].append({"date": iso(t_end), "driver_number": n, "position": int(row.Position),
                                    **SESSION})
    for r in records:
        if r.gap_to_leader_s is not None:
            out["intervals"].append({"date": iso(T0 + r.session_time_s - 1.0), "driver_number": numbers[r.driver],
                                     "gap_to_leader": None if r.gap_to_leader_s == 0 else r.gap_to_leader_s,
                                     "interval": None if r.gap_to_leader_s == 0 else r.interval_s, **SESSION})
    nxt = table.groupby("Driver").Stint.shift(-1)
    for row in table[nxt > table.Stint].itertuples():
        out["pit"].append({"date": iso(T0 + end[(row.Driver, int(row.LapNumber))] + 5), "driver_number":
                           numbers[row.Driver], "lap_number": int(row.LapNumber), "pit_duration": 23.4, **SESSION})
    return out


@pytest.fixture(scope="module")
def bahrain(shared_data):
    base = shared_data / "real-races" / "2024-bahrain-race"
    return openf1_from_table(f"{base}-laps.csv", f"{base}-drivers.csv"), read_fastf1_laps(f"{base}-laps.csv")


def _key(r):
    return (r.driver, r.lap_number)


def test_the_seven_endpoints_give_the_fastf1_records(bahrain):
    data, expected = bahrain
    data = {**data, "race_control": [
        {"category": "Flag", "date": iso(T0 - 60), "driver_number": None, "flag": "GREEN", "lap_number": 1,
         "message": "GREEN LIGHT - PIT EXIT OPEN", "scope": "Track", "sector": None, **SESSION}]}
    got = sorted(openf1_to_records(data), key=_key)
    assert len(got) == len(expected) == 1129
    for a, b in zip(got, sorted(expected, key=_key)):
        assert (a.driver, a.lap_number, a.lap_time_s, a.sector2_time_s, a.compound, a.stint, a.tyre_age_laps,
                a.pit_in, a.pit_out, a.position, a.team) == (
            b.driver, b.lap_number, b.lap_time_s, b.sector2_time_s, b.compound, b.stint, b.tyre_age_laps,
            b.pit_in, b.pit_out, b.position, b.team)
        assert a.track_status is TrackStatus.GREEN  # race control here: only the green light (yellows: below)
        assert a.session_time_s == pytest.approx(b.session_time_s + 60, abs=2e-3)  # t0: the green light
        if b.gap_to_leader_s is not None:  # the intervals endpoint's value
            assert (a.gap_to_leader_s, a.interval_s) == (b.gap_to_leader_s, b.interval_s)
    assert sum(r.pit_in for r in got) == 43


def test_tyre_life_is_fastf1s_count(bahrain):
    data, _ = bahrain
    ver = {r.lap_number: r for r in openf1_to_records(data) if r.driver == "VER"}
    assert ver[1].tyre_age_laps == 4  # used softs from qualifying: OpenF1 tyre_age_at_start 3
    stint = {"driver_number": 1, "stint_number": 1, "lap_start": 1, "lap_end": 2, "compound": "HARD",
             "tyre_age_at_start": 0}
    laps = [{"driver_number": 1, "lap_number": n, "lap_duration": 95.0, "is_pit_out_lap": False} for n in (1, 2)]
    assert [r.tyre_age_laps for r in openf1_to_records({"laps": laps, "stints": [stint]})] == [1, 2]  # new set


def test_one_file_each_a_folder_a_combined_object_and_a_list(bahrain, tmp_path):
    data, expected = bahrain
    folder = tmp_path / "openf1"
    folder.mkdir()
    for name, records in data.items():
        (folder / f"{name}.json").write_text(json.dumps(records))
    (folder / "weather.json").write_text(json.dumps([{"air_temperature": 18.5, "date": iso(T0)}]))
    combined = tmp_path / "race.json"
    combined.write_text(json.dumps(data, indent=1))
    want = openf1_to_records(data)
    assert len(want) == 1129
    for source in (folder, combined):
        assert file_kind(source) == "openf1-json"
        assert read_openf1(source) == want
    # the raw list of /v1/laps alone: laps without names, stints or positions, still records
    only_laps = openf1_to_records(data["laps"])
    assert len(only_laps) == 1129 and only_laps[0].driver.isdigit() and openf1_via_laptable(data["laps"])
    raw = tmp_path / "laps.json"
    raw.write_text(json.dumps(data["laps"]))
    assert file_kind(raw) == "openf1-json"
    s = summarize(raw)
    assert s["kind"] == "openf1-json" and s["records"] == {"lap": 1129} and s["rejected"] == 0
    # one list mixing endpoints (concatenated responses)
    mixed = [*data["drivers"], *data["laps"], *data["stints"]]
    assert {r.driver for r in openf1_to_records(mixed)} == {r.driver for r in expected}


def _sc_race(shared_data):
    base = shared_data / "real-races" / "2024-saudi-arabian-race"
    data = openf1_from_table(f"{base}-laps.csv", f"{base}-drivers.csv")
    table = pd.read_csv(f"{base}-laps.csv")
    return data, table


def test_race_control_gives_sc_vsc_red_and_yellow(shared_data):
    data, table = _sc_race(shared_data)
    expected = {(r.driver, r.lap_number): r for r in read_fastf1_laps(
        shared_data / "real-races" / "2024-saudi-arabian-race-laps.csv")}
    leader = [r for r in expected.values() if r.position == 1]
    sc_laps = sorted(r.lap_number for r in leader if r.track_status is TrackStatus.SC)
    assert sc_laps  # Saudi Arabia 2024: a safety car
    lead = {r.lap_number: r for r in leader}
    first, last = sc_laps[0], sc_laps[-1]
    start_of = {n: lead[n].session_time_s - (lead[n].lap_time_s or 0) for n in lead}

    def rc(t, category, message, flag=None, scope="Track", sector=None):
        return {"category": category, "date": iso(T0 + t), "driver_number": None, "flag": flag,
                "lap_number": None, "message": message, "scope": scope, "sector": sector, **SESSION}

    y_lap = first - 3
    data["race_control"] = [
        rc(start_of[y_lap] + 20, "Flag", "YELLOW IN TRACK SECTOR 7", "YELLOW", "Sector", 7),
        rc(start_of[y_lap] + 40, "Flag", "CLEAR IN TRACK SECTOR 7", "CLEAR", "Sector", 7),
        rc(start_of[first] + 30, "SafetyCar", "SAFETY CAR DEPLOYED"),
        rc(start_of[last] + 10, "SafetyCar", "SAFETY CAR IN THIS LAP"),
        rc(lead[last].session_time_s - 1, "Flag", "TRACK CLEAR", "CLEAR"),
        rc(start_of[last + 5] + 10, "SafetyCar", "VIRTUAL SAFETY CAR DEPLOYED"),
        rc(start_of[last + 5] + 40, "SafetyCar", "VIRTUAL SAFETY CAR ENDING"),
        rc(start_of[last + 8] + 10, "Flag", "RED FLAG", "RED"),
        rc(start_of[last + 8] + 50, "Flag", "GREEN LIGHT - PIT EXIT OPEN", "GREEN"),
    ]
    got = {(r.driver, r.lap_number): r for r in openf1_to_records(data)}
    ldr = next(d for (d, n), r in expected.items() if n == last + 8 and r.position == 1)
    status = {n: got[(ldr, n)].track_status for n in range(first - 4, last + 10)}
    assert status[y_lap] is TrackStatus.YELLOW and status[y_lap + 1] is TrackStatus.GREEN
    assert all(status[n] is TrackStatus.SC for n in range(first, last + 1))
    assert status[last + 1] is TrackStatus.GREEN and status[last + 5] is TrackStatus.VSC
    assert status[last + 6] is TrackStatus.GREEN and status[last + 8] is TrackStatus.RED
    assert status[last + 9] is TrackStatus.GREEN


@pytest.mark.parametrize("content,needle", [
    (b"", "is empty"),
    (b"\0\1\2binary", "is binary, not OpenF1 JSON"),
    (b'[{"lap_number": 1,', "is not valid JSON (Expecting property name enclosed in double quotes at line 1"),
    (b'"laps"', "a JSON str is not OpenF1 data"),
    (b'{"detail": "No results found."}', "is an OpenF1 error response ('No results found.'), not data"),
    (b'{"weather": []}', "an object without any of the keys laps, stints"),
    (b'[{"driver_number": 1, "stint_number": 1, "lap_start": 1, "lap_end": 3}]', "holds no OpenF1 laps "
                                                                                  "(found: stints)"),
    (b'[{"driver_number": 1, "lap_number": 0, "lap_duration": 95.1}]', "laps[0]: lap_number: 0 is not an integer "
                                                                       ">= 1"),
    (b'[{"driver_number": 1, "lap_number": 1, "lap_duration": "1:35.1"}]', "laps[0]: lap_duration: '1:35.1' is "
                                                                          "not a number of seconds >= 0"),
    (b'{"laps": [{"driver_number": 1, "lap_number": 1, "date_start": "yesterday"}]}', "laps[0]: date_start: "
                                                                                       "'yesterday' is not an ISO"),
])
def test_errors_are_one_short_line_without_the_data(tmp_path, content, needle):
    path = tmp_path / "o.json"
    path.write_bytes(content)
    with pytest.raises(OpenF1Error) as info:
        read_openf1(path)
    message = str(info.value)
    assert needle in message and "\n" not in message and len(message) < 250


def test_a_big_bad_file_is_not_echoed(tmp_path):
    path = tmp_path / "laps.json"
    path.write_text(json.dumps([{"driver_number": 1, "lap_number": n, "lap_duration": 90.0 + n % 7,
                                 "date_start": "2024-03-02T15:03:00+00:00", "is_pit_out_lap": False}
                                for n in range(1, 5000)] + [{"driver_number": "x", "lap_number": 1,
                                                             "lap_duration": 1.0}]))
    assert path.stat().st_size > 400_000
    s = summarize(path)
    assert s["rejected"] == 1 and s["kind"] == "openf1-json"
    (reason, examples), = s["reject_examples"].items()
    assert examples == [f"{path}: laps[4999]: driver_number: 'x' is not an integer >= 0"] or \
        examples == ["laps[4999]: driver_number: 'x' is not an integer >= 0"]


@pytest.mark.integration  # starts a subprocess
def test_racetwin_decode_reads_an_openf1_folder(bahrain, tmp_path):
    import subprocess
    import sys

    data, _ = bahrain
    folder = tmp_path / "openf1"
    folder.mkdir()
    for name, records in data.items():
        (folder / f"{name}.json").write_text(json.dumps(records))
    out = subprocess.run([sys.executable, "-m", "workbench", "decode", str(folder), "--json"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["kind"] == "openf1-json" and summary["records"]["lap"] == 1129 and summary["rejected"] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    out = subprocess.run([sys.executable, "-m", "workbench", "decode", str(tmp_path / "nope")], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 2 and "is not a file or an OpenF1 folder" in out.stderr and "Traceback" not in out.stderr
