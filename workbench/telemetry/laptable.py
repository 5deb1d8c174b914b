"""Lap tables into records: FastF1-shaped ``Laps`` (CSV or DataFrame) and OpenF1-shaped JSON.

FastF1 columns used: Driver, Team, LapNumber, LapTime, Sector1Time..Sector3Time,
Compound, TyreLife, Stint, Position, TrackStatus, PitInTime, PitOutTime, Time
(session time at the end of the lap) and LapStartTime (session time at its start).
Times may be seconds or timedeltas (``0 days 00:01:38.826``). A missing lap time is
taken as the sum of its sectors. The lap's end is ``Time``, else ``LapStartTime``
plus the lap time, else the driver's cumulative lap time from the start (a lap with
no time counts as the field's median for that lap). Without PitInTime / PitOutTime
the pit laps come from stint changes.

Gaps (the tables have none; FastF1 keeps them only in its live timing stream): the
gap to the leader is the car's lap end minus the first lap end of the same lap number
by any car, and the interval is its lap end minus that of the car that crossed the
line just before it on the same lap (0 for the leader), i.e. the gaps at the line
that timing screens show. A lap end is *timed* when it comes from ``Time`` or
``LapStartTime`` or, in a table with neither, from a cumulative sum of lap times all
known from lap 1. Untimed lap ends get no gaps, and neither does a gap that an untimed
car could sit inside (by its Position, or with no Position at all): e.g. after a lap
with no time in a table of lap times only, that driver has no gaps to the flag, and
the car behind it no interval.

FastF1 TrackStatus digits: 1 green, 2 yellow, 4 SC, 5 red, 6 VSC, 7 VSC ending;
a lap gets the worst status it saw.

OpenF1: ``{"laps": [...], "stints": [...], "pit": [...], "drivers": [...]}`` with the
field names of the OpenF1 ``laps``, ``stints``, ``pit`` and ``drivers`` endpoints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from workbench.telemetry.records import Compound, LapRecord, TrackStatus
from workbench.telemetry.schema import normalize_compound

__all__ = ["gaps_at_line", "laps_to_records", "read_fastf1_laps", "read_openf1", "openf1_to_records", "track_status_of"]

_STATUS_RANK = [("5", TrackStatus.RED), ("4", TrackStatus.SC), ("6", TrackStatus.VSC), ("7", TrackStatus.VSC),
                ("2", TrackStatus.YELLOW)]


def track_status_of(value: Any) -> TrackStatus:
    """The worst status in a FastF1 TrackStatus string such as ``"12"`` or ``"4"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return TrackStatus.GREEN
    text = str(int(value)) if isinstance(value, float) else str(value)
    for digit, status in _STATUS_RANK:
        if digit in text:
            return status
    return TrackStatus.GREEN


def _seconds(value: Any, column: str) -> float | None:
    """Seconds from a number, a timedelta or a timedelta string; None when missing."""
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        s = value.total_seconds()
    elif isinstance(value, (int, float)):
        s = float(value)
    elif isinstance(value, str):
        if not value.strip() or value.strip().lower() in ("nat", "nan"):
            return None
        try:
            s = float(value)
        except ValueError:
            import pandas as pd

            try:
                s = pd.to_timedelta(value).total_seconds()
            except ValueError:
                raise ValueError(f"{column}: {value!r} is not seconds or a timedelta") from None
    else:
        raise ValueError(f"{column}: {value!r} is not seconds or a timedelta")
    return None if math.isnan(s) else s


def _int(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _compound(value: Any) -> tuple[Compound | None, str | None]:
    if not isinstance(value, str) or not value.strip():
        return None, None
    try:
        return Compound(normalize_compound(value)), None
    except ValueError:
        return None, None  # UNKNOWN / TEST_UNKNOWN in FastF1: not a compound we can race


def _present(row: dict, column: str) -> bool:
    v = row.get(column)
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).strip() not in ("", "NaT")


def laps_to_records(rows: Iterable[dict[str, Any]]) -> list[LapRecord]:
    """FastF1-shaped lap rows (dicts) → `LapRecord` s in session-time order.

    Raises
    ------
    ValueError
        Naming the row, the column and the value when a required column is missing or bad.
    """
    rows = list(rows)
    for i, row in enumerate(rows):
        for col in ("Driver", "LapNumber"):
            if not _present(row, col):
                raise ValueError(f"row {i}: {col}: {row.get(col)!r} is missing but the column is required")
    by_driver: dict[str, list[dict]] = {}
    for row in rows:
        by_driver.setdefault(str(row["Driver"]), []).append(row)
    lap_s: dict[tuple[str, int], float | None] = {}
    for drv, laps in by_driver.items():
        for row in laps:
            t = _seconds(row.get("LapTime"), "LapTime")
            if t is None:
                parts = [_seconds(row.get(f"Sector{k}Time"), f"Sector{k}Time") for k in (1, 2, 3)]
                t = sum(parts) if all(p is not None for p in parts) else None
            lap_s[(drv, int(row["LapNumber"]))] = t
    medians: dict[int, float] = {}
    for (_, n), t in lap_s.items():
        if t is not None:
            medians.setdefault(n, []).append(t)  # type: ignore[arg-type]
    medians = {n: sorted(v)[len(v) // 2] for n, v in medians.items()}  # type: ignore[misc]
    session_clock = any(_present(row, "Time") or _present(row, "LapStartTime") for row in rows)
    fields: list[dict[str, Any]] = []
    timed: list[bool] = []
    for drv, laps in by_driver.items():
        laps.sort(key=lambda r: int(r["LapNumber"]))
        elapsed = 0.0
        chain = True  # every lap 1..n of this driver has a time: the cumulative sum is the lap end
        stints = [_int(r.get("Stint")) for r in laps]
        for k, row in enumerate(laps):
            n = int(row["LapNumber"])
            t = lap_s[(drv, n)]
            elapsed += t if t is not None else medians.get(n, 0.0)
            chain = chain and t is not None and n == k + 1
            if _present(row, "Time"):
                end, is_timed = _seconds(row.get("Time"), "Time"), True
            elif _present(row, "LapStartTime") and t is not None:
                end, is_timed = _seconds(row.get("LapStartTime"), "LapStartTime") + t, True  # type: ignore[operator]
            else:
                end, is_timed = elapsed, chain and not session_clock
            compound, _ = _compound(row.get("Compound"))
            if "PitInTime" in row or "PitOutTime" in row:
                pit_in, pit_out = _present(row, "PitInTime"), _present(row, "PitOutTime")
            else:
                nxt = stints[k + 1] if k + 1 < len(laps) else None
                prev = stints[k - 1] if k > 0 else None
                pit_in = nxt is not None and stints[k] is not None and nxt > stints[k]
                pit_out = prev is not None and stints[k] is not None and stints[k] > prev
            position = _int(row.get("Position"))
            sectors = [_seconds(row.get(f"Sector{j}Time"), f"Sector{j}Time") for j in (1, 2, 3)]
            timed.append(is_timed)
            fields.append(dict(
                session_time_s=round(end, 3), driver=drv, lap_number=n,
                position=position if position and 1 <= position <= 30 else None,
                lap_time_s=round(t, 3) if t is not None and t > 0 else None,
                sector1_time_s=sectors[0] if sectors[0] else None, sector2_time_s=sectors[1] if sectors[1] else None,
                sector3_time_s=sectors[2] if sectors[2] else None, compound=compound,
                tyre_age_laps=_int(row.get("TyreLife")), stint=stints[k], pit_in=pit_in, pit_out=pit_out,
                track_status=track_status_of(row.get("TrackStatus")),
                team=str(row["Team"]) if _present(row, "Team") else None))
    by_lap: dict[int, list[int]] = {}
    for i, f in enumerate(fields):
        by_lap.setdefault(f["lap_number"], []).append(i)
    for idx in by_lap.values():
        cars = [(fields[i]["session_time_s"], timed[i], fields[i]["position"]) for i in idx]
        for i, (gap, interval) in zip(idx, gaps_at_line(cars)):
            fields[i].update(gap_to_leader_s=gap, interval_s=interval)
    out = [LapRecord(**f) for f in fields]
    out.sort(key=lambda r: (r.session_time_s, r.position or 99))
    return out


def gaps_at_line(cars: Sequence[tuple[float, bool, int | None]]) -> list[tuple[float | None, float | None]]:
    """Gap to the leader and interval to the car ahead at the line, for the cars that completed one lap number.

    Parameters
    ----------
    cars : sequence of (float, bool, int or None)
        Per car: the session time at the end of the lap (s), whether that time is measured
        (timed) rather than estimated, and the car's Position at the end of the lap if known.

    Returns
    -------
    list of (float or None, float or None)
        Per car, in the order given: (gap to the leader, interval to the car ahead), rounded
        to ms; the leader has gap and interval 0. None for an untimed car, and for a gap
        that an untimed car could sit inside: ahead of the first timed car, or between a car
        and the timed car before it (by Position; an untimed car without a Position could be
        anywhere).

    Raises
    ------
    ValueError
        When a lap end is not a finite number.
    """
    for i, (end, _, _) in enumerate(cars):
        if not isinstance(end, (int, float)) or not math.isfinite(end):
            raise ValueError(f"cars[{i}]: lap end {end!r} is not a finite number of seconds")
    order = sorted((i for i, c in enumerate(cars) if c[1]), key=lambda i: cars[i][0])
    untimed = [c[2] for c in cars if not c[1]]

    def hidden(ahead: int | None, behind: int | None) -> bool:
        """Could an untimed car be between positions ``ahead`` (None: the front) and ``behind``?"""
        for p in untimed:
            if p is None or behind is None or ((ahead is None or p > ahead) and p < behind):
                return True
        return False

    out: list[tuple[float | None, float | None]] = [(None, None)] * len(cars)
    if not order:
        return out
    first = order[0]
    leader_known = not hidden(None, cars[first][2])
    for k, i in enumerate(order):
        end, _, pos = cars[i]
        gap = round(end - cars[first][0], 3) if leader_known else None
        if k == 0:
            interval = 0.0 if leader_known else None
        else:
            j = order[k - 1]
            interval = None if hidden(cars[j][2], pos) else round(end - cars[j][0], 3)
        out[i] = (gap, interval)
    return out


def read_fastf1_laps(path: str | Path) -> list[LapRecord]:
    """A FastF1-shaped lap CSV → `LapRecord` s (see the module notes)."""
    import pandas as pd

    frame = pd.read_csv(path)
    frame = frame.astype(object).where(frame.notna(), None)
    return laps_to_records(frame.to_dict("records"))


def openf1_to_records(data: dict[str, Any]) -> list[LapRecord]:
    """OpenF1-shaped ``laps`` + ``stints`` + ``pit`` (+ ``drivers``) → `LapRecord` s."""
    import pandas as pd

    drivers = {d["driver_number"]: d for d in data.get("drivers", [])}
    stints = data.get("stints", [])
    pits = {(p["driver_number"], p["lap_number"]) for p in data.get("pit", [])}
    starts = [pd.Timestamp(lap["date_start"]) for lap in data["laps"] if lap.get("date_start")]
    t0 = min(starts) if starts else None
    rows = []
    for lap in data["laps"]:
        num, n = lap["driver_number"], lap["lap_number"]
        stint = next((s for s in stints if s["driver_number"] == num and s["lap_start"] <= n <= s["lap_end"]), None)
        info = drivers.get(num, {})
        row = {"Driver": info.get("name_acronym", str(num)), "Team": info.get("team_name"), "LapNumber": n,
               "LapTime": lap.get("lap_duration"), "Sector1Time": lap.get("duration_sector_1"),
               "Sector2Time": lap.get("duration_sector_2"), "Sector3Time": lap.get("duration_sector_3"),
               "PitInTime": 1 if (num, n) in pits else None, "PitOutTime": 1 if lap.get("is_pit_out_lap") else None}
        if stint is not None:
            row.update(Compound=stint.get("compound"), Stint=stint.get("stint_number"),
                       TyreLife=(stint.get("tyre_age_at_start") or 0) + n - stint["lap_start"])
        if t0 is not None and lap.get("date_start") and lap.get("lap_duration") is not None:
            row["Time"] = (pd.Timestamp(lap["date_start"]) - t0).total_seconds() + lap["lap_duration"]
        rows.append(row)
    return laps_to_records(rows)


def read_openf1(path: str | Path) -> list[LapRecord]:
    """An OpenF1-shaped JSON file (see the module notes) → `LapRecord` s."""
    with open(path) as f:
        return openf1_to_records(json.load(f))
