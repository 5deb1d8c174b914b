"""The clean-lap screen of lap tables, and the names of the project's one lap-table reader.

Reading and checking live in `workbench.telemetry.lap_reader` (FastF1 frames, FastF1's CSVs
and the seconds form); `read_fastf1_laps_csv`, `check_lap_table` and `REQUIRED_COLUMNS`
are re-exported here for the callers that import them from this module.
`mark_clean_laps` adds the flags and the fuel correction used by `workbench.twins.calibrate`
and the twins.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from workbench.telemetry.lap_reader import (
    KNOWN_COMPOUNDS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    check_lap_table,
    read_fastf1_laps_csv,
)

__all__ = ["REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "KNOWN_COMPOUNDS", "FuelCorrection", "read_fastf1_laps_csv",
           "check_lap_table", "mark_clean_laps", "is_green_status", "TRAFFIC_GAP_S", "OUTLIER_S"]

TRAFFIC_GAP_S = 1.0  # a lap finished within this of the car ahead ran in dirty air
OUTLIER_S = 2.0  # a lap this far from its stint's median is a mistake, a fight or damage


@dataclasses.dataclass(frozen=True)
class FuelCorrection:
    """Fuel mass effect used to correct lap times: ``corrected = LapTime - mass_effect * fuel``.

    The defaults are generic, not fitted on any race: 100 kg at the start, the burn spread
    evenly over the race distance, 0.03 s/kg (Heilmeier et al. 2020 report 0.017-0.045 s/kg).
    """

    start_kg: float = 100.0
    burn_kg_per_lap: float | None = None  # None: start_kg / race laps
    mass_effect_s_per_kg: float = 0.03

    def __post_init__(self):
        for name, lo, hi in (("start_kg", 0, 150), ("mass_effect_s_per_kg", 0, 0.2)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"{name}: {value} is outside [{lo}, {hi}]")
        if self.burn_kg_per_lap is not None and not 0 <= self.burn_kg_per_lap <= 10:
            raise ValueError(f"burn_kg_per_lap: {self.burn_kg_per_lap} is outside [0, 10]")

    @classmethod
    def from_race(cls, race) -> FuelCorrection:
        """The fuel model of a `RaceDefinition`."""
        f = race.fuel
        return cls(start_kg=f.start_kg, burn_kg_per_lap=f.burn_kg_per_lap, mass_effect_s_per_kg=f.mass_effect_s_per_kg)


def is_green_status(value) -> bool:
    """True when a TrackStatus (FastF1 digit string such as ``"1"``/``"12"``, or a name) is all green."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return True
    text = str(value).strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    return text in ("1", "GREEN", "")


def mark_clean_laps(laps: pd.DataFrame, fuel: FuelCorrection | None = None) -> pd.DataFrame:
    """Add the flags and fuel correction; a lap is ``Clean`` when no flag excludes it.

    Flags: ``PitIn``/``PitOut`` (the stops, from `check_lap_table`), ``PitLane`` (a pass through
    the pit lane, FastF1's PitInTime/PitOutTime, also without a stop), ``Neutralised``
    (TrackStatus not all green: yellow, SC, VSC, red), ``LapOne``, ``Deleted`` (FastF1: deleted by
    the stewards), ``Inaccurate`` (FastF1 ``IsAccurate`` False), ``Traffic`` (within
    `TRAFFIC_GAP_S` of the car ahead at the line, when gaps are known), ``Outlier`` (more than
    `OUTLIER_S` from the stint's median) and ``NoTime``.
    Adds ``FuelKg`` (from the column, else from the lap number) and ``CorrectedLapTime``.
    """
    fuel = fuel or FuelCorrection()
    df = check_lap_table(laps) if "Clean" not in laps.columns else laps.copy()
    n_laps = int(df.LapNumber.max())
    for col in ("PitIn", "PitOut", "PitLane", "Deleted"):
        df[col] = df[col].fillna(False).astype(bool) if col in df.columns else False
    df["Inaccurate"] = ~df["IsAccurate"].fillna(True).astype(bool) if "IsAccurate" in df.columns else False
    status = df["TrackStatus"] if "TrackStatus" in df.columns else pd.Series([None] * len(df), index=df.index)
    df["Neutralised"] = ~status.map(is_green_status).astype(bool)
    df["LapOne"] = df.LapNumber == 1
    df["NoTime"] = df.LapTime.isna()
    df["Traffic"] = False
    if "GapToLeader" in df.columns and "Position" in df.columns:
        ahead = df[["LapNumber", "Position", "GapToLeader"]].rename(columns={"GapToLeader": "GapAhead"})
        ahead = ahead.assign(Position=ahead.Position + 1)
        merged = df[["LapNumber", "Position", "GapToLeader"]].merge(ahead, on=["LapNumber", "Position"], how="left")
        interval = (merged.GapToLeader - merged.GapAhead).to_numpy()
        df["Traffic"] = np.nan_to_num(interval, nan=np.inf) < TRAFFIC_GAP_S
    usable = ~(df.PitIn | df.PitOut | df.PitLane | df.Neutralised | df.LapOne | df.NoTime | df.Deleted
               | df.Inaccurate)
    median = df.LapTime.where(usable).groupby([df.Driver, df.Stint]).transform("median")
    df["Outlier"] = usable & ((df.LapTime - median).abs() > OUTLIER_S)
    df["Clean"] = usable & ~df.Traffic & ~df.Outlier
    if "FuelKg" not in df.columns or df.FuelKg.isna().all():
        burn = fuel.burn_kg_per_lap if fuel.burn_kg_per_lap is not None else fuel.start_kg / n_laps
        df["FuelKg"] = np.maximum(0.0, fuel.start_kg - burn * df.LapNumber)
    df["CorrectedLapTime"] = df.LapTime - fuel.mass_effect_s_per_kg * df.FuelKg
    return df
