"""Lap tables into records: FastF1-shaped ``Laps`` (frame, rows or CSV) and OpenF1 JSON.

The table itself is read by the project's one lap-table reader,
`workbench.telemetry.lap_reader` (FastF1 timedeltas and their CSV strings, ``NaT``,
PitInTime/PitOutTime, Deleted, IsAccurate, or seconds; pit stops from the pit times and
the tyres, not from stint changes alone). This module turns its rows into `LapRecord` s.
Columns used: Driver, Team, LapNumber, LapTime, Sector1Time..Sector3Time, Compound,
TyreLife, Stint, Position, TrackStatus, PitIn/PitOut (from the reader), Time (session
time at the end of the lap) and LapStartTime (session time at its start). A missing lap
time is taken as the sum of its sectors. The lap's end is ``Time``, else ``LapStartTime``
plus the lap time, else the driver's previous lap end plus this lap's time (from the start:
the cumulative lap time; a lap with no time counts as the field's median for that lap).

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

OpenF1 JSON is read by `workbench.telemetry.openf1` (re-exported here as `read_openf1`
and `openf1_to_records`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.telemetry.lap_reader import normalize_lap_table, read_lap_table
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


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def laps_to_records(rows: Iterable[dict[str, Any]] | pd.DataFrame) -> list[LapRecord]:
    """FastF1-shaped lap rows (dicts or a frame, any form `normalize_lap_table` accepts) → `LapRecord` s.

    Records come in session-time order.

    Raises
    ------
    ValueError
        Naming the row, the column and the value when a required column is missing or bad.
    """
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    raw = frame.reset_index(drop=True).astype(object)
    raw = raw.where(raw.notna(), None).to_dict("records")
    for i, row in enumerate(raw):
        for col in ("Driver", "LapNumber"):
            if not _present(row, col):
                raise ValueError(f"row {i}: {col}: {row.get(col)!r} is missing but the column is required")
    if not raw:
        return []
    table = normalize_lap_table(frame, source="laps")
    table = table.astype(object).where(table.notna(), None)
    rows = table.to_dict("records")
    by_driver: dict[str, list[dict]] = {}
    for row in rows:
        by_driver.setdefault(str(row["Driver"]), []).append(row)
    lap_s: dict[tuple[str, int], float | None] = {}
    for drv, laps in by_driver.items():
        for row in laps:
            t = _num(row.get("LapTime"))
            if t is None:
                parts = [_num(row.get(f"Sector{k}Time")) for k in (1, 2, 3)]
                t = sum(parts) if all(p is not None for p in parts) else None  # type: ignore[misc]
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
        end = 0.0  # the previous lap's end: an estimated end continues from it, on the same clock
        chain = True  # every lap 1..n of this driver has a time: the cumulative sum is the lap end
        for k, row in enumerate(laps):
            n = int(row["LapNumber"])
            t = lap_s[(drv, n)]
            chain = chain and t is not None and n == k + 1
            if _present(row, "Time"):
                end, is_timed = float(row["Time"]), True
            elif _present(row, "LapStartTime") and t is not None:
                end, is_timed = float(row["LapStartTime"]) + t, True
            else:
                end, is_timed = end + (t if t is not None else medians.get(n, 0.0)), chain and not session_clock
            compound, _ = _compound(row.get("Compound"))
            position = _int(row.get("Position"))
            sectors = [_num(row.get(f"Sector{j}Time")) for j in (1, 2, 3)]
            timed.append(is_timed)
            fields.append(dict(
                session_time_s=round(end, 3), driver=drv, lap_number=n,
                position=position if position and 1 <= position <= 30 else None,
                lap_time_s=round(t, 3) if t is not None and t > 0 else None,
                sector1_time_s=sectors[0] if sectors[0] else None, sector2_time_s=sectors[1] if sectors[1] else None,
                sector3_time_s=sectors[2] if sectors[2] else None, compound=compound,
                tyre_age_laps=_int(row.get("TyreLife")), stint=_int(row.get("Stint")),
                pit_in=bool(row.get("PitIn")), pit_out=bool(row.get("PitOut")),
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
    """A lap-table CSV (FastF1's ``to_csv`` or the seconds form) → `LapRecord` s (see the module notes)."""
    return laps_to_records(read_lap_table(path))


def openf1_to_records(data: Any) -> list[LapRecord]:
    """OpenF1 endpoint data → `LapRecord` s; see `workbench.telemetry.openf1.openf1_to_records`."""
    from workbench.telemetry.openf1 import openf1_to_records as convert

    return convert(data)


def read_openf1(path: str | Path) -> list[LapRecord]:
    """An OpenF1 JSON file or folder → `LapRecord` s; see `workbench.telemetry.openf1.read_openf1`."""
    from workbench.telemetry.openf1 import read_openf1 as read

    return read(path)
