"""OpenF1 JSON into lap records: ``/v1/laps``, ``stints``, ``pit``, ``position``, ``intervals``,
``race_control`` and ``drivers`` as the API returns them.

Input forms: the raw list one endpoint returns (one file each), a folder of such files, a
combined object ``{"laps": [...], "stints": [...], ...}`` (keys are the endpoint names;
``race-control``, ``positions``, ``pits`` also accepted), or one list mixing records of
several endpoints. Each record is recognised by its fields (a list's endpoint by its
first record): laps have ``lap_duration``, stints ``stint_number``, pit ``pit_duration``,
intervals ``gap_to_leader``, race control ``category``/``message``, drivers
``name_acronym``, position ``position`` with a ``date``. Records of other endpoints
(``car_data``, ``location``, ``weather`` ...) are not needed for laps and are left out.

Mapping to the FastF1 lap table (then read by `workbench.telemetry.laptable.laps_to_records`):

- Driver / Team: ``name_acronym`` / ``team_name`` from drivers, else the driver number.
- LapTime and sectors: ``lap_duration``, ``duration_sector_1..3`` (seconds).
- Time (lap end, seconds from the session's first timestamp): the next lap's ``date_start``,
  else ``date_start + lap_duration``.
- Compound, Stint, TyreLife: the stint holding the lap; ``TyreLife = tyre_age_at_start +
  (lap - lap_start) + 1``, FastF1's count (a new set is 1 on its first lap; OpenF1's
  ``tyre_age_at_start`` is 0 for it).
- PitInTime: the lap of a ``/v1/pit`` record; PitOutTime: ``is_pit_out_lap``. The reader's
  stop rule applies (a pass through the pit lane on the same tyres, e.g. behind the safety
  car, is not a stop).
- Position: the driver's last ``/v1/position`` value at or before the lap's end.
- TrackStatus: FastF1 digits of every state the track was in during the lap, from race
  control: safety car (``SAFETY CAR DEPLOYED`` until the lap after ``SAFETY CAR IN THIS LAP``
  ends, or a green/clear flag), virtual safety car (``VIRTUAL SAFETY CAR DEPLOYED`` until
  ``... ENDING``), red flag (flag ``RED`` until ``GREEN``), yellow (a ``YELLOW``/``DOUBLE
  YELLOW`` flag until a ``CLEAR``/``GREEN`` flag of the same scope and sector).
- Gaps: ``/v1/intervals`` at the lap's end (the last sample at most `INTERVAL_MAX_AGE_S`
  before it; ``+1 LAP`` is no gap); otherwise the gaps at the line from the lap ends.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.telemetry.lap_reader import LapTableError
from workbench.telemetry.laptable import laps_to_records
from workbench.telemetry.records import LapRecord

__all__ = ["openf1_to_records", "read_openf1", "load_openf1", "looks_like_openf1", "OpenF1Error", "ENDPOINTS",
           "INTERVAL_MAX_AGE_S"]

ENDPOINTS = ("laps", "stints", "pit", "position", "intervals", "race_control", "drivers")
INTERVAL_MAX_AGE_S = 10.0  # OpenF1 samples intervals about every 4 s
MAX_FILE_BYTES = 200_000_000
_ALIASES = {"race-control": "race_control", "racecontrol": "race_control", "positions": "position",
            "interval": "intervals", "pits": "pit", "lap": "laps", "stint": "stints", "driver": "drivers"}
_GREEN, _YELLOW, _SC, _RED, _VSC = "1", "2", "4", "5", "6"


class OpenF1Error(LapTableError):
    """OpenF1 input that cannot be read; the message names the file or record, the field and the rule."""


def _endpoint_of(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    keys = record.keys()
    if "lap_duration" in keys or "is_pit_out_lap" in keys or "duration_sector_1" in keys:
        return "laps"
    if "stint_number" in keys:
        return "stints"
    if "pit_duration" in keys or "stop_duration" in keys or "lane_duration" in keys:
        return "pit"
    if "gap_to_leader" in keys:
        return "intervals"
    if "category" in keys and "message" in keys:
        return "race_control"
    if "name_acronym" in keys:
        return "drivers"
    if "position" in keys and "date" in keys and "overtaking_driver_number" not in keys:
        return "position"
    return None


def _split(data: Any, source: str) -> dict[str, list[dict]]:
    """Endpoint name -> records, from a combined object or a (possibly mixed) list."""
    out: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
    if isinstance(data, dict):
        if "detail" in data and len(data) <= 2:
            raise OpenF1Error(f"{source}: is an OpenF1 error response ({str(data['detail'])[:80]!r}), not data")
        known = False
        for key, value in data.items():
            name = _ALIASES.get(key, key)
            if name not in out:
                continue
            known = True
            if not isinstance(value, list):
                raise OpenF1Error(f"{source}: {key}: {type(value).__name__} is not a list of OpenF1 records")
            out[name].extend(value)
        if not known:
            raise OpenF1Error(f"{source}: an object without any of the keys {', '.join(ENDPOINTS)}")
        return out
    if not isinstance(data, list):
        raise OpenF1Error(f"{source}: a JSON {type(data).__name__} is not OpenF1 data (a list of records or an "
                          "object of endpoint lists)")
    for i, record in enumerate(data):
        if not isinstance(record, dict):
            raise OpenF1Error(f"{source}: [{i}]: {type(record).__name__} is not an OpenF1 record (an object)")
        name = _endpoint_of(record)
        if name is not None:
            out[name].append(record)
    return out


def _time(value: Any, where: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date; None when missing."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise OpenF1Error(f"{where}: {value!r} is not an ISO 8601 date")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise OpenF1Error(f"{where}: {value[:40]!r} is not an ISO 8601 date") from None
    return dt.timestamp()


def _int(record: dict, field: str, where: str, low: int = 0, required: bool = True) -> int | None:
    value = record.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or int(value) != value \
            or value < low:
        raise OpenF1Error(f"{where}: {field}: {value!r} is not an integer >= {low}")
    return int(value)


def _seconds(record: dict, field: str, where: str) -> float | None:
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise OpenF1Error(f"{where}: {field}: {value!r} is not a number of seconds >= 0")
    return float(value)


def _status_timeline(messages: list[dict]) -> list[tuple[float, str]]:
    """(time, FastF1 status digit) at each change of the track's state, from race control."""
    events = []
    for i, m in enumerate(messages):
        t = _time(m.get("date"), f"race_control[{i}]: date")
        if t is not None:
            events.append((t, i, m))
    events.sort()
    state, yellow, sc_ending = _GREEN, set(), False
    out: list[tuple[float, str]] = []

    def current() -> str:
        return state if state != _GREEN else (_YELLOW if yellow else _GREEN)

    for t, _, m in events:
        text = str(m.get("message") or "").upper()
        flag = str(m.get("flag") or "").upper()
        scope = str(m.get("scope") or "").upper()
        if str(m.get("category") or "") == "SafetyCar" or "SAFETY CAR" in text:
            if "VIRTUAL" in text and "DEPLOYED" in text:
                state = _VSC
            elif "VIRTUAL" in text and "ENDING" in text:
                state = _GREEN
            elif "DEPLOYED" in text:
                state, sc_ending = _SC, False
            elif "IN THIS LAP" in text:
                sc_ending = True  # the SC stays out to the end of this lap: ended by the green flag
        if flag == "RED":
            state = _RED
        elif flag in ("GREEN", "CLEAR"):
            if scope in ("TRACK", "") and (state in (_RED, _VSC) or sc_ending or state == _GREEN):
                state, sc_ending = _GREEN, False
                yellow.clear()
            else:
                yellow.discard((scope, m.get("sector")))
        elif flag in ("YELLOW", "DOUBLE YELLOW"):
            yellow.add((scope, m.get("sector")))
        now = current()
        if not out or out[-1][1] != now:
            out.append((t, now))
    return out


def _statuses_between(timeline: list[tuple[float, str]], times: list[float], start: float, end: float) -> str:
    """FastF1 digits of the states during [start, end]."""
    i = bisect.bisect_right(times, start) - 1
    digits = {timeline[i][1] if i >= 0 else _GREEN}
    j = i + 1
    while j < len(timeline) and timeline[j][0] < end:
        digits.add(timeline[j][1])
        j += 1
    return "".join(sorted(digits))


def _last_at(series: dict[int, tuple[list[float], list[Any]]], driver: int, t: float,
             max_age: float | None = None) -> Any:
    times, values = series.get(driver, ([], []))
    i = bisect.bisect_right(times, t + 1e-6) - 1
    if i < 0 or (max_age is not None and t - times[i] > max_age):
        return None
    return values[i]


def _gap(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value) and value >= 0 else None


def openf1_to_records(data: Any, source: str = "openf1") -> list[LapRecord]:
    """OpenF1 endpoint data (a combined object, one endpoint's list, or a mixed list) → `LapRecord` s.

    Raises
    ------
    OpenF1Error
        One short line naming the record, the field, the value and the rule (the data is not echoed).
    """
    parts = _split(data, source)
    laps = parts["laps"]
    if not laps:
        found = [name for name in ENDPOINTS if parts[name]]
        raise OpenF1Error(f"{source}: holds no OpenF1 laps (found: {', '.join(found) or 'nothing'}); the lap "
                          "records of /v1/laps are needed")
    drivers = {}
    for i, d in enumerate(parts["drivers"]):
        drivers[_int(d, "driver_number", f"drivers[{i}]", 0)] = d
    stints: dict[int, list[dict]] = {}
    for i, s in enumerate(parts["stints"]):
        where = f"stints[{i}]"
        num = _int(s, "driver_number", where)
        _int(s, "lap_start", where, 1)
        _int(s, "lap_end", where, 1)
        _int(s, "tyre_age_at_start", where, 0, required=False)
        stints.setdefault(num, []).append(s)
    pits = set()
    for i, p in enumerate(parts["pit"]):
        pits.add((_int(p, "driver_number", f"pit[{i}]"), _int(p, "lap_number", f"pit[{i}]", 1)))
    parsed = []
    starts: list[float] = []
    for i, lap in enumerate(laps):
        where = f"laps[{i}]"
        num, n = _int(lap, "driver_number", where), _int(lap, "lap_number", where, 1)
        start = _time(lap.get("date_start"), f"{where}: date_start")
        dur = _seconds(lap, "lap_duration", where)
        sectors = [_seconds(lap, f"duration_sector_{k}", where) for k in (1, 2, 3)]
        parsed.append((num, n, start, dur, sectors, bool(lap.get("is_pit_out_lap"))))
        if start is not None:
            starts.append(start)
    positions: dict[int, tuple[list[float], list[Any]]] = {}
    for i, p in enumerate(sorted(parts["position"], key=lambda r: str(r.get("date")))):
        t = _time(p.get("date"), f"position[{i}]: date")
        if t is not None:
            times, values = positions.setdefault(_int(p, "driver_number", f"position[{i}]"), ([], []))
            times.append(t)
            values.append(_int(p, "position", f"position[{i}]", 1))
    intervals: dict[int, tuple[list[float], list[Any]]] = {}
    for i, g in enumerate(sorted(parts["intervals"], key=lambda r: str(r.get("date")))):
        t = _time(g.get("date"), f"intervals[{i}]: date")
        if t is not None:
            times, values = intervals.setdefault(_int(g, "driver_number", f"intervals[{i}]"), ([], []))
            times.append(t)
            values.append((g.get("gap_to_leader"), g.get("interval")))
    timeline = _status_timeline(parts["race_control"])
    t0 = min([*starts, *(t for t, _ in timeline)], default=None)
    next_start = {(num, n): start for num, n, start, *_ in parsed}
    rows, ends = [], {}
    for num, n, start, dur, sectors, out_lap in parsed:
        info = drivers.get(num, {})
        driver = str(info.get("name_acronym") or num)
        row: dict[str, Any] = {"Driver": driver, "Team": info.get("team_name"), "LapNumber": n, "LapTime": dur,
                               "Sector1Time": sectors[0], "Sector2Time": sectors[1], "Sector3Time": sectors[2],
                               "PitInTime": 0.0 if (num, n) in pits else None,
                               "PitOutTime": 0.0 if out_lap else None}
        stint = next((s for s in stints.get(num, []) if s["lap_start"] <= n <= s["lap_end"]), None)
        if stint is not None:
            row.update(Compound=stint.get("compound"), Stint=stint.get("stint_number"),
                       TyreLife=(stint.get("tyre_age_at_start") or 0) + n - stint["lap_start"] + 1)
        end = next_start.get((num, n + 1))
        if end is None and start is not None and dur is not None:
            end = start + dur
        if end is not None and t0 is not None:
            row["Time"] = end - t0
            ends[(driver, n)] = end
            if positions:
                row["Position"] = _last_at(positions, num, end)
            if timeline:
                lap_start = start if start is not None else end - (dur or 0.0)
                row["TrackStatus"] = _statuses_between(timeline, [t for t, _ in timeline], lap_start, end)
        rows.append((num, row))
    records = laps_to_records([row for _, row in rows])
    if not intervals:
        return records
    number = {row["Driver"]: num for num, row in rows}
    out = []
    for r in records:
        end = ends.get((r.driver, r.lap_number))
        sample = _last_at(intervals, number[r.driver], end, INTERVAL_MAX_AGE_S) if end is not None else None
        if sample is not None:
            gap, interval = sample
            leader = gap is None and interval is None
            r = dataclasses.replace(r, gap_to_leader_s=0.0 if leader else _gap(gap),
                                    interval_s=0.0 if leader else _gap(interval))
        out.append(r)
    return out


def _load_json(path: Path) -> Any:
    size = path.stat().st_size
    if size == 0:
        raise OpenF1Error(f"{path}: is empty")
    if size > MAX_FILE_BYTES:
        raise OpenF1Error(f"{path}: {size} bytes is above the limit of {MAX_FILE_BYTES}")
    raw = path.read_bytes()
    if b"\0" in raw[:8192]:
        raise OpenF1Error(f"{path}: is binary, not OpenF1 JSON")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise OpenF1Error(f"{path}: is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise OpenF1Error(f"{path}: is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise OpenF1Error(f"{path}: is nested too deeply") from None


def load_openf1(path: str | Path) -> dict[str, list[dict]]:
    """The OpenF1 records of a file or of a folder of ``*.json`` files, by endpoint.

    Raises
    ------
    OpenF1Error
        ``FILE: why`` for a missing, empty, binary or malformed file.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
        if not files:
            raise OpenF1Error(f"{path}: a folder without *.json files")
    elif path.is_file():
        files = [path]
    else:
        raise OpenF1Error(f"path: {str(path)!r} is not a file or a folder")
    merged: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
    for f in files:
        data = _load_json(f)
        if isinstance(data, list) and data and _endpoint_of(data[0]) is None:
            name = _ALIASES.get(f.stem.lower(), f.stem.lower())
            if name not in merged:
                continue  # another endpoint's file (car_data, weather ...): not needed for laps
        for name, records in _split(data, str(f)).items():
            merged[name].extend(records)
    return merged


def read_openf1(path: str | Path) -> list[LapRecord]:
    """An OpenF1 JSON file or a folder of endpoint files (see the module notes) → `LapRecord` s."""
    data = load_openf1(path)
    return openf1_to_records(data, source=str(path))


def looks_like_openf1(data: Any) -> bool:
    """True for a combined object with an endpoint key, or a list whose first record is an OpenF1 record."""
    if isinstance(data, dict):
        return any(_ALIASES.get(k, k) in ENDPOINTS for k in data) and "type" not in data
    return isinstance(data, list) and bool(data) and _endpoint_of(data[0]) is not None
