"""A thin reader of FastF1-shaped lap tables for the tyre model, and the clean-lap screen.

`read_fastf1_laps_csv` reads only the columns the twins' models need (FastF1 ``Laps``
names; times in seconds) and checks them; `mark_clean_laps` adds the flags and the fuel
correction used by `workbench.twins.calibrate` and the twins. The telemetry issue's
full importer (lap table -> `LapRecord` s) can replace the reader; the screen stays.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["REQUIRED_COLUMNS", "FuelCorrection", "read_fastf1_laps_csv", "check_lap_table", "mark_clean_laps",
           "is_green_status", "TRAFFIC_GAP_S", "OUTLIER_S"]

REQUIRED_COLUMNS = ("Driver", "LapNumber", "LapTime", "Compound", "Stint", "TyreLife")
OPTIONAL_COLUMNS = ("Team", "Position", "TrackStatus", "PitIn", "PitOut", "FuelKg", "GapToLeader", "Time")
DRY_COMPOUNDS = ("SOFT", "MEDIUM", "HARD")
KNOWN_COMPOUNDS = (*DRY_COMPOUNDS, "INTERMEDIATE", "WET")
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


def _plain(value):
    """A numpy scalar as the Python value, for error messages."""
    return value.item() if hasattr(value, "item") else value


def check_lap_table(laps: pd.DataFrame, source: str = "laps") -> pd.DataFrame:
    """Check the columns the models need; return a copy sorted by Driver, LapNumber.

    Raises
    ------
    ValueError
        Naming the column, the row, the value and the rule broken.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in laps.columns]
    if missing:
        raise ValueError(f"{source}: column {missing[0]!r} is missing; a lap table needs {', '.join(REQUIRED_COLUMNS)}")
    if laps.empty:
        raise ValueError(f"{source}: has no rows")
    keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in laps.columns]
    out = laps[keep].copy()
    out["Driver"] = out["Driver"].astype(str)
    out["Compound"] = out["Compound"].astype(str).str.upper()
    for col, lo, integer in (("LapNumber", 1, True), ("Stint", 1, True), ("TyreLife", 0, True), ("LapTime", 0, False)):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() & out[col].notna()
        if col != "LapTime":
            bad |= out[col].isna()
        bad |= values < lo
        if integer:
            bad |= values.notna() & (values != values.round())
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            rule = f"is not {'an integer' if integer else 'a number'} >= {lo}"
            raise ValueError(f"{source}: row {i} {col}: {_plain(laps[col].iloc[i])!r} {rule}")
        out[col] = values.astype(int) if integer else values.astype(float)
    unknown = ~out["Compound"].isin(KNOWN_COMPOUNDS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ValueError(f"{source}: row {i} Compound: {_plain(laps['Compound'].iloc[i])!r} is not one of "
                         f"{', '.join(KNOWN_COMPOUNDS)}")
    dup = out.duplicated(["Driver", "LapNumber"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(f"{source}: row {i} LapNumber: {out['LapNumber'].iloc[i]} repeats a lap of driver "
                         f"{out['Driver'].iloc[i]!r}")
    return out.sort_values(["Driver", "LapNumber"], ignore_index=True)


def read_fastf1_laps_csv(path: str | Path) -> pd.DataFrame:
    """Read a FastF1-shaped lap table (CSV, times in seconds) and check it with `check_lap_table`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: {str(path)!r} is not a file")
    return check_lap_table(pd.read_csv(path), source=str(path))


def mark_clean_laps(laps: pd.DataFrame, fuel: FuelCorrection | None = None) -> pd.DataFrame:
    """Add the flags and fuel correction; a lap is ``Clean`` when no flag excludes it.

    Flags: ``PitIn``/``PitOut`` (from the columns, else from stint boundaries),
    ``Neutralised`` (TrackStatus not all green: yellow, SC, VSC, red), ``LapOne``,
    ``Traffic`` (within `TRAFFIC_GAP_S` of the car ahead at the line, when gaps are known),
    ``Outlier`` (more than `OUTLIER_S` from the stint's median) and ``NoTime``.
    Adds ``FuelKg`` (from the column, else from the lap number) and ``CorrectedLapTime``.
    """
    fuel = fuel or FuelCorrection()
    df = check_lap_table(laps) if "Clean" not in laps.columns else laps.copy()
    n_laps = int(df.LapNumber.max())
    by_stint = df.groupby(["Driver", "Stint"]).LapNumber
    last_stint = df.groupby("Driver").Stint.transform("max")
    if "PitIn" not in df.columns:
        df["PitIn"] = (df.LapNumber == by_stint.transform("max")) & (df.Stint < last_stint)
    if "PitOut" not in df.columns:
        df["PitOut"] = (df.LapNumber == by_stint.transform("min")) & (df.Stint > 1)
    df["PitIn"] = df["PitIn"].fillna(False).astype(bool)
    df["PitOut"] = df["PitOut"].fillna(False).astype(bool)
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
    usable = ~(df.PitIn | df.PitOut | df.Neutralised | df.LapOne | df.NoTime)
    median = df.LapTime.where(usable).groupby([df.Driver, df.Stint]).transform("median")
    df["Outlier"] = usable & ((df.LapTime - median).abs() > OUTLIER_S)
    df["Clean"] = usable & ~df.Traffic & ~df.Outlier
    if "FuelKg" not in df.columns or df.FuelKg.isna().all():
        burn = fuel.burn_kg_per_lap if fuel.burn_kg_per_lap is not None else fuel.start_kg / n_laps
        df["FuelKg"] = np.maximum(0.0, fuel.start_kg - burn * df.LapNumber)
    df["CorrectedLapTime"] = df.LapTime - fuel.mass_effect_s_per_kg * df.FuelKg
    return df
