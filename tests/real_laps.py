"""Test helper: the real 2024 Bahrain lap table as `LapRecord` s, in session-time order.

The table has no session times or gaps, so both come from cumulative lap times (a missing
lap time counts as the driver's median for timing, and stays unknown in the record).
In/out laps come from stint boundaries; TrackStatus digits map as in FastF1
(1 green, 2 yellow, 4 SC, 5 red, 6/7 VSC; the most severe wins).
"""

from __future__ import annotations

import numpy as np

from workbench.telemetry.records import Compound, LapRecord, TrackStatus
from workbench.twins.lap_table import mark_clean_laps, read_fastf1_laps_csv

_SEVERITY = (("5", TrackStatus.RED), ("4", TrackStatus.SC), ("6", TrackStatus.VSC), ("7", TrackStatus.VSC),
             ("2", TrackStatus.YELLOW))


def track_status(value) -> TrackStatus:
    text = str(value)
    for digit, status in _SEVERITY:
        if digit in text:
            return status
    return TrackStatus.GREEN


def real_lap_records(path) -> list[LapRecord]:
    laps = mark_clean_laps(read_fastf1_laps_csv(path))
    timing = laps.LapTime.fillna(laps.groupby("Driver").LapTime.transform("median"))
    laps = laps.assign(Time=timing.groupby(laps.Driver).cumsum())
    leader = laps.groupby("LapNumber").Time.transform("min")
    records = []
    for row in laps.itertuples():
        ahead = laps[(laps.LapNumber == row.LapNumber) & (laps.Position == row.Position - 1)]
        interval = float(row.Time - ahead.Time.iloc[0]) if len(ahead) else (0.0 if row.Position == 1 else None)
        records.append(LapRecord(
            session_time_s=round(float(row.Time), 3), driver=row.Driver, lap_number=int(row.LapNumber),
            position=int(row.Position), lap_time_s=None if np.isnan(row.LapTime) else float(row.LapTime),
            gap_to_leader_s=round(float(row.Time - leader[row.Index]), 3), interval_s=interval,
            compound=Compound(row.Compound), tyre_age_laps=int(row.TyreLife), stint=int(row.Stint),
            pit_in=bool(row.PitIn), pit_out=bool(row.PitOut), track_status=track_status(row.TrackStatus),
            team=row.Team))
    records.sort(key=lambda r: (r.session_time_s, r.position))
    return records
