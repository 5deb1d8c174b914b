"""OpenF1 JSON into lap records (see `openf1_to_records`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workbench.telemetry.laptable import laps_to_records
from workbench.telemetry.records import LapRecord

__all__ = ["openf1_to_records", "read_openf1"]


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
