"""The one lap-table reader: FastF1 ``Laps`` frames, the CSVs FastF1 writes, and the seconds form.

Every lap table in the project enters through `normalize_lap_table` (a DataFrame or rows)
or `read_lap_table` (a CSV file): `check_lap_table` (the models' strict check),
`laps_to_records` (telemetry records), ``racetwin calibrate``, ``predict``, ``decode`` and
``serve --replay`` all read what it returns.

Accepted forms, column by column (FastF1 ``Laps`` names):

- times (LapTime, Sector1Time..Sector3Time, Time, LapStartTime, PitInTime, PitOutTime,
  Sector1SessionTime..Sector3SessionTime): ``timedelta64`` columns, `datetime.timedelta` /
  `pandas.Timedelta` values, timedelta strings as ``DataFrame.to_csv`` writes them
  (``0 days 00:01:35.123000``, ``00:01:35.123``), ``NaT`` / empty (missing), or numbers and
  numeric strings, which are **seconds**. Units are never guessed: a number that cannot be
  seconds (a lap or sector above `MAX_DURATION_S`, a session time above `MAX_CLOCK_S`, e.g.
  nanoseconds from ``timedelta.astype(int)`` or milliseconds) is an error naming the row and
  the column. Out: float seconds, NaN when missing.
- ``Deleted`` / ``IsAccurate`` (FastF1 booleans, also ``"True"``/``"False"`` from a CSV): kept as
  booleans; a missing ``Deleted`` is False and a missing ``IsAccurate`` is True (no evidence
  against the lap). ``mark_clean_laps`` keeps both out of the clean laps.
- an unnamed index column (``to_csv`` writes one) is dropped.

Pit stops. With ``PitInTime``/``PitOutTime`` a lap with either is a pit-lane lap
(``PitLane``). FastF1 starts a new ``Stint`` at every pass through the pit lane, also when
the safety car leads the field through it without a tyre change (FastF1 issue #717), so a
stop is a boundary between two laps of a driver where the ``Stint`` changes or the car went
through the pit lane (PitInTime on the earlier lap or PitOutTime on the later one) **and**
the tyres did not simply continue (same compound and TyreLife up by the laps between). The
stops define ``PitIn`` (the lap before), ``PitOut`` (the lap after) and ``Stint``, which is
renumbered so that a drive-through does not start a stint. A PitInTime on a driver's last
known lap is a pit entry (``PitIn``): live, the next lap is not known yet. Without the pit
columns, given ``PitIn``/``PitOut`` columns are kept; otherwise the same boundary rule runs
on the stints alone.
"""

from __future__ import annotations

import datetime
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.telemetry.records import DRY_COMPOUNDS

__all__ = ["LapTableError", "read_lap_table", "normalize_lap_table", "check_lap_table", "read_fastf1_laps_csv",
           "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "KNOWN_COMPOUNDS", "DURATION_COLUMNS", "CLOCK_COLUMNS",
           "MAX_DURATION_S", "MAX_CLOCK_S", "UNKNOWN_COMPOUNDS", "fill_unknown_compounds",
           "fill_missing_tyre_life"]

REQUIRED_COLUMNS = ("Driver", "LapNumber", "LapTime", "Compound", "Stint", "TyreLife")
OPTIONAL_COLUMNS = ("Team", "Position", "TrackStatus", "PitIn", "PitOut", "PitLane", "Deleted", "IsAccurate",
                    "FuelKg", "GapToLeader", "Time", "LapStartTime", "PitInTime", "PitOutTime",
                    "Sector1Time", "Sector2Time", "Sector3Time")
KNOWN_COMPOUNDS = (*DRY_COMPOUNDS, "INTERMEDIATE", "WET")
# FastF1's values for a lap whose tyre timing did not say (and an empty cell, upper-cased as pandas reads it)
UNKNOWN_COMPOUNDS = ("UNKNOWN", "TEST_UNKNOWN", "NAN", "NONE", "")
DURATION_COLUMNS = ("LapTime", "Sector1Time", "Sector2Time", "Sector3Time")
CLOCK_COLUMNS = ("Time", "LapStartTime", "PitInTime", "PitOutTime", "Sector1SessionTime", "Sector2SessionTime",
                 "Sector3SessionTime")
MAX_DURATION_S = 10_800.0  # a race may last 3 h in all (FIA Sporting Regulations): no lap or sector is longer
MAX_CLOCK_S = 86_400.0  # FastF1 session times count from the session's start: below a day
_MISSING_TEXT = ("", "nat", "nan", "none", "null", "<na>")
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}


class LapTableError(ValueError):
    """A lap table that cannot be read; the message names the file or the row, column, value and rule."""


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value, for error messages."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (pd.Timedelta, pd.Timestamp)) else value


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return True
    if isinstance(value, np.timedelta64) and np.isnat(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING_TEXT


def _value_seconds(value: Any) -> float | None:
    """Seconds of one cell; None when it is not a time (the caller names the cell)."""
    if _is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (datetime.timedelta, np.timedelta64)):
        return pd.Timedelta(value).total_seconds()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        if not re.fullmatch(r"[-+]?(\d+ days? )?\d+:\d\d:\d\d(\.\d+)?|[-+]?\d+ days?", text):
            return None
        return pd.Timedelta(text).total_seconds()
    return None


def _column_seconds(values: pd.Series, column: str, source: str) -> pd.Series:
    """A time column as float seconds (NaN missing), refusing what cannot be seconds."""
    limit = MAX_DURATION_S if column in DURATION_COLUMNS else MAX_CLOCK_S
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        out = values.dt.total_seconds()
        numeric_input = False
    elif pd.api.types.is_bool_dtype(values.dtype):
        raise LapTableError(f"{source}: row 0 {column}: {_plain(values.iloc[0])!r} is not seconds or a timedelta")
    elif pd.api.types.is_numeric_dtype(values.dtype):
        out = values.astype(float)
        numeric_input = True
    else:
        converted = [_value_seconds(v) for v in values.tolist()]
        bad = [i for i, v in enumerate(converted) if v is None]
        if bad:
            raise LapTableError(f"{source}: row {bad[0]} {column}: {_plain(values.iloc[bad[0]])!r} is not seconds "
                                "or a timedelta")
        out = pd.Series(converted, index=values.index, dtype=float)
        numeric_input = True
    finite = out.to_numpy()
    over = np.flatnonzero(np.isfinite(finite) & (np.abs(finite) > limit))
    if len(over):
        i = int(over[0])
        what = "a lap or sector" if column in DURATION_COLUMNS else "a session time"
        hint = ("; numbers are read as seconds (nanoseconds or milliseconds? give seconds or timedeltas)"
                if numeric_input else "")
        raise LapTableError(f"{source}: row {i} {column}: {_plain(values.iloc[i])!r} cannot be seconds "
                            f"({what} is at most {limit:.0f} s){hint}")
    return out


def _column_bool(values: pd.Series, column: str, source: str, missing: bool) -> pd.Series:
    out = []
    for i, v in enumerate(values.tolist()):
        if _is_missing(v):
            out.append(missing)
        elif isinstance(v, (bool, np.bool_)):
            out.append(bool(v))
        elif str(v).strip().lower() in _BOOL_TEXT:
            out.append(_BOOL_TEXT[str(v).strip().lower()])
        else:
            raise LapTableError(f"{source}: row {i} {column}: {_plain(v)!r} is not True or False")
    return pd.Series(out, index=values.index, dtype=bool)


def _stops(df: pd.DataFrame) -> None:
    """Set PitIn, PitOut, PitLane and the renumbered Stint in place (see the module notes)."""
    have_times = "PitInTime" in df.columns or "PitOutTime" in df.columns
    have_flags = "PitIn" in df.columns and "PitOut" in df.columns
    n = len(df)
    pit_in_time = df["PitInTime"].notna().to_numpy() if "PitInTime" in df.columns else np.zeros(n, bool)
    pit_out_time = df["PitOutTime"].notna().to_numpy() if "PitOutTime" in df.columns else np.zeros(n, bool)
    if have_times:
        df["PitLane"] = pit_in_time | pit_out_time
    if have_flags and not have_times:
        for col in ("PitIn", "PitOut"):
            df[col] = _column_bool(df[col], col, "laps", missing=False)
        return
    if "Driver" not in df.columns or "LapNumber" not in df.columns:
        return
    lap = pd.to_numeric(df["LapNumber"], errors="coerce").to_numpy(dtype=float)
    stint = pd.to_numeric(df["Stint"], errors="coerce").to_numpy(dtype=float) if "Stint" in df.columns \
        else np.full(n, np.nan)
    life = pd.to_numeric(df["TyreLife"], errors="coerce").to_numpy(dtype=float) if "TyreLife" in df.columns \
        else np.full(n, np.nan)
    compound = (df["Compound"].astype(object).where(df["Compound"].notna(), None).map(
        lambda c: None if c is None else str(c).strip().upper()).to_numpy() if "Compound" in df.columns
        else np.full(n, None))
    pit_in, pit_out = np.zeros(n, bool), np.zeros(n, bool)
    new_stint = stint.copy()
    drivers = df["Driver"].astype(object).to_numpy()
    order = sorted((i for i in range(n) if not math.isnan(lap[i])), key=lambda i: (str(drivers[i]), lap[i]))
    prev = None
    for i in order:
        if prev is None or drivers[prev] != drivers[i]:
            if prev is not None and pit_in_time[prev]:
                pit_in[prev] = True  # the driver's last known lap entered the pits
            prev = i
            continue
        stint_change = not (math.isnan(stint[i]) or math.isnan(stint[prev])) and stint[i] != stint[prev]
        pit_pass = pit_in_time[prev] or pit_out_time[i]
        continued = (compound[i] is not None and compound[i] == compound[prev] and not math.isnan(life[i])
                     and not math.isnan(life[prev]) and life[i] == life[prev] + (lap[i] - lap[prev]))
        stop = (stint_change or pit_pass) and not continued
        pit_in[prev] |= stop
        pit_out[i] |= stop
        if not math.isnan(new_stint[prev]) and not math.isnan(stint[i]):
            new_stint[i] = new_stint[prev] + (1 if stop else 0)
        prev = i
    if prev is not None and pit_in_time[prev]:
        pit_in[prev] = True
    df["PitIn"], df["PitOut"] = pit_in, pit_out
    if "Stint" in df.columns and not np.array_equal(new_stint, stint, equal_nan=True):
        df["Stint"] = new_stint


def normalize_lap_table(laps: pd.DataFrame | list[dict[str, Any]], source: str = "laps") -> pd.DataFrame:
    """A lap table in any accepted form (see the module notes) → FastF1 names, times in float seconds.

    Parameters
    ----------
    laps : DataFrame or list of dict
        A FastF1 ``Laps`` frame, a frame read from a CSV, or rows.
    source : str
        Named in errors (a file name, ``"laps"``).

    Returns
    -------
    DataFrame
        A copy, rows in the given order, with the time columns in float seconds (NaN missing),
        ``Deleted``/``IsAccurate`` as booleans where present, and ``PitIn``/``PitOut`` (plus
        ``PitLane`` with FastF1's pit times) from the stops.

    Raises
    ------
    LapTableError
        Naming the row, the column, the value and the rule.
    """
    if isinstance(laps, list):
        laps = pd.DataFrame(laps)
    if not isinstance(laps, pd.DataFrame):
        raise LapTableError(f"{source}: {type(laps).__name__} is not a lap table (a DataFrame or a list of rows)")
    df = laps.copy()
    df.columns = [str(c) for c in df.columns]
    df = df.drop(columns=[c for c in df.columns if c.startswith("Unnamed: ")])
    df = df.reset_index(drop=True)
    for col in (*DURATION_COLUMNS, *CLOCK_COLUMNS):
        if col in df.columns:
            df[col] = _column_seconds(df[col], col, source)
    if "Deleted" in df.columns:
        df["Deleted"] = _column_bool(df["Deleted"], "Deleted", source, missing=False)
    if "IsAccurate" in df.columns:
        df["IsAccurate"] = _column_bool(df["IsAccurate"], "IsAccurate", source, missing=True)
    _stops(df)
    return df


def _rows_text(index: pd.Index) -> str:
    """``"row 7"``, ``"rows 7, 8"``, ``"rows 7, 8, 9, 10, 11 and 3 more"``: the rows a repair note names."""
    shown = ", ".join(str(i) for i in index[:5]) + (f" and {len(index) - 5} more" if len(index) > 5 else "")
    return f"row{'s' if len(index) > 1 else ''} {shown}"


def fill_unknown_compounds(table: pd.DataFrame, source: str = "laps") -> list[str]:
    """In place: a lap whose Compound is unknown (`UNKNOWN_COMPOUNDS`) takes its stint's compound.

    FastF1 writes ``UNKNOWN`` (or leaves the cell empty) for a lap whose tyre the timing did not
    report. When the driver's other laps of the same ``Stint`` name exactly one compound, that
    is the lap's. A stint with no known lap (a car out on lap 1, say) takes the compound most
    of the other cars ran on those laps, a guess the note calls one; with no other car on those
    laps it stays unknown (and `check_lap_table` refuses it). ``table`` has upper-case
    ``Compound`` strings. Returns one note per stint filled, naming the rows, so the repair is
    never silent.

    Examples
    --------
    >>> t = pd.DataFrame({"Driver": ["VER"] * 3, "Stint": [1, 1, 1], "Compound": ["SOFT", "UNKNOWN", "SOFT"]})
    >>> fill_unknown_compounds(t)
    ["laps: Compound of row 1 (VER stint 1) is 'UNKNOWN': taken as SOFT, the stint's other laps' compound"]
    >>> list(t.Compound)
    ['SOFT', 'SOFT', 'SOFT']
    """
    unknown = table["Compound"].isin(UNKNOWN_COMPOUNDS)
    notes = []
    if not unknown.any():
        return notes
    stint = pd.to_numeric(table["Stint"], errors="coerce")
    for (driver, number), rows in table[unknown].groupby([table["Driver"][unknown], stint[unknown]], sort=True):
        mates = table[(table["Driver"] == driver) & (stint == number) & ~unknown]["Compound"].unique()
        if len(mates) == 1 and mates[0] in KNOWN_COMPOUNDS:
            compound, why = str(mates[0]), "the stint's other laps' compound"
        elif len(mates) == 0:
            field = table[table["LapNumber"].isin(rows["LapNumber"]) & ~unknown & (table["Driver"] != driver)]
            counts = field["Compound"][field["Compound"].isin(KNOWN_COMPOUNDS)].value_counts()
            if counts.empty:
                continue
            compound = str(counts.index[0])
            why = "a guess: no lap of the stint names one, and most other cars ran it on those laps"
        else:
            continue
        values = "/".join(repr(v) if v else "empty" for v in sorted(set(rows["Compound"])))
        table.loc[rows.index, "Compound"] = compound
        notes.append(f"{source}: Compound of {_rows_text(rows.index)} ({driver} stint {int(number)}) "
                     f"is {values}: taken as {compound}, {why}")
    return notes


def fill_missing_tyre_life(table: pd.DataFrame, source: str = "laps", fresh: pd.Series | None = None) -> list[str]:
    """In place: a lap with no ``TyreLife`` gets its set's age from its stint.

    FastF1 leaves ``TyreLife`` empty for a stint whose tyre data the timing did not send (the
    2026 Barcelona Grand Prix: BEA's third stint). A set ages one lap per lap, so when another
    lap of the same driver and ``Stint`` has an age, the missing lap's is that age plus the laps
    between (the nearest known lap counts). A stint with no known age is taken as a new set (age 1
    on its first lap), which FastF1's ``FreshTyre`` (``fresh``, aligned with ``table``) confirms
    when it is True for the stint; otherwise the note calls it a guess (FreshTyre False: a used set
    whose age nobody reported, so the set is older than that). ``table`` has numeric
    ``LapNumber`` and ``Stint``. Returns one note per stint filled, naming the rows, so the repair is
    never silent. A value that is present but wrong (negative, not an integer) is not touched:
    `check_lap_table` refuses it.

    Examples
    --------
    >>> t = pd.DataFrame({"Driver": ["VER"] * 3, "LapNumber": [10, 11, 12], "Stint": [2, 2, 2],
    ...                   "TyreLife": [4.0, None, 6.0]})
    >>> fill_missing_tyre_life(t)
    ["laps: TyreLife of row 1 (VER stint 2) is missing: taken as 5, from the stint's lap 10 (age 4)"]
    >>> list(t.TyreLife)
    [4.0, 5.0, 6.0]
    """
    missing = table["TyreLife"].isna()
    notes: list[str] = []
    if not missing.any():
        return notes
    stint = pd.to_numeric(table["Stint"], errors="coerce")
    lap = pd.to_numeric(table["LapNumber"], errors="coerce")
    life = pd.to_numeric(table["TyreLife"], errors="coerce")
    for (driver, number), rows in table[missing].groupby([table["Driver"][missing], stint[missing]], sort=True):
        same = (table["Driver"] == driver) & (stint == number)
        known = same & life.notna()
        if known.any():
            known_laps, known_ages = lap[known].to_numpy(float), life[known].to_numpy(float)
            nearest = [int(np.argmin(np.abs(known_laps - lap[i]))) for i in rows.index]  # ties: the earlier row
            ages = [known_ages[j] + lap[i] - known_laps[j] for i, j in zip(rows.index, nearest)]
            why = f"from the stint's lap {known_laps[nearest[0]]:.0f} (age {known_ages[nearest[0]]:.0f})"
        else:
            first = float(lap[same].min())
            ages = [lap[i] - first + 1 for i in rows.index]
            said = set(pd.Series(fresh[same]).astype(str).str.lower()) if fresh is not None else set()
            if said == {"true"}:
                why = "a new set (FreshTyre says so) from the stint's first lap"
            elif said == {"false"}:
                why = ("a guess: FreshTyre says a used set, of unknown age, counted as new from the stint's first "
                       "lap (it is older)")
            else:
                why = "a guess: no lap of the stint has an age, so a new set from the stint's first lap"
        table.loc[rows.index, "TyreLife"] = ages
        shown = f"{ages[0]:.0f}" if len(ages) == 1 else f"{ages[0]:.0f}..{ages[-1]:.0f}"
        notes.append(f"{source}: TyreLife of {_rows_text(rows.index)} ({driver} stint {int(number)}) "
                     f"is missing: taken as {shown}, {why}")
    return notes


def check_lap_table(laps: pd.DataFrame, source: str = "laps") -> pd.DataFrame:
    """Normalise, then check the columns the models need; return them sorted by Driver, LapNumber.

    A lap whose compound is unknown takes its stint's (`fill_unknown_compounds`), a lap with no tyre
    age its set's (`fill_missing_tyre_life`); the notes saying so are in the returned frame's
    ``attrs["lap_table_notes"]`` (empty when nothing was filled).

    Raises
    ------
    ValueError
        Naming the column, the row, the value and the rule broken.
    """
    if not isinstance(laps, pd.DataFrame):
        raise LapTableError(f"{source}: {type(laps).__name__} is not a pandas DataFrame")
    missing = [c for c in REQUIRED_COLUMNS if c not in laps.columns]
    if missing:
        raise LapTableError(f"{source}: column {missing[0]!r} is missing; a lap table needs "
                            f"{', '.join(REQUIRED_COLUMNS)}")
    if laps.empty:
        raise LapTableError(f"{source}: has no rows")
    df = normalize_lap_table(laps, source)
    original = laps.reset_index(drop=True)
    keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in df.columns]
    out = df[keep].copy()
    out["Driver"] = out["Driver"].astype(str)
    out["Compound"] = out["Compound"].fillna("").astype(str).str.upper()  # an empty cell: "" (unknown)
    notes: list[str] = []
    numbers_ok = all(pd.to_numeric(out[c], errors="coerce").notna().all() for c in ("LapNumber", "Stint"))
    if numbers_ok:  # otherwise the check below names the bad LapNumber / Stint
        notes += fill_missing_tyre_life(out, source, df["FreshTyre"] if "FreshTyre" in df.columns else None)
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
            raise LapTableError(f"{source}: row {i} {col}: {_plain(original[col].iloc[i])!r} {rule}")
        out[col] = values.astype(int) if integer else values.astype(float)
    notes += fill_unknown_compounds(out, source)
    unknown = ~out["Compound"].isin(KNOWN_COMPOUNDS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        why = (" (and no lap of its stint, nor another car on its laps, names one to take)"
               if out["Compound"].iloc[i] in UNKNOWN_COMPOUNDS else "")
        raise LapTableError(f"{source}: row {i} Compound: {_plain(original['Compound'].iloc[i])!r} is not one of "
                            f"{', '.join(KNOWN_COMPOUNDS)}{why}")
    dup = out.duplicated(["Driver", "LapNumber"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise LapTableError(f"{source}: row {i} LapNumber: {out['LapNumber'].iloc[i]} repeats a lap of driver "
                            f"{out['Driver'].iloc[i]!r}")
    out = out.sort_values(["Driver", "LapNumber"], ignore_index=True)
    out.attrs["lap_table_notes"] = notes
    return out


def _file_problem(path: Path) -> str | None:
    """Why a file cannot be a CSV lap table, from its first bytes; None when it may be one."""
    with open(path, "rb") as f:
        head = f.read(8192)
    if not head.strip():
        return "is empty"
    if b"\0" in head:
        return "is binary, not a CSV lap table"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 8 kB boundary
            return f"is not UTF-8 text (byte {exc.start}), not a CSV lap table"
    if head.lstrip()[:1] in (b"{", b"["):
        return "is JSON, not a CSV lap table (OpenF1 JSON is read by `read_openf1`)"
    return None


def read_lap_table(path: str | Path) -> pd.DataFrame:
    """Read a lap-table CSV (FastF1's ``to_csv`` or the seconds form) and normalise it.

    Raises
    ------
    LapTableError
        ``FILE: why`` for a missing, empty, binary, JSON or malformed file; row and column
        for a bad cell.
    """
    path = Path(path)
    if not path.is_file():
        raise LapTableError(f"path: {str(path)!r} is not a file")
    problem = _file_problem(path)
    if problem:
        raise LapTableError(f"{path}: {problem}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        why = f"line {m.group(2)} has {m.group(3)} fields, the header {m.group(1)}" if m else "is not a valid CSV"
        raise LapTableError(f"{path}: {why}") from None
    except (pd.errors.EmptyDataError, UnicodeDecodeError):
        raise LapTableError(f"{path}: has no CSV header") from None
    if frame.empty:
        raise LapTableError(f"{path}: has a header but no rows")
    return normalize_lap_table(frame, source=str(path))


def read_fastf1_laps_csv(path: str | Path) -> pd.DataFrame:
    """Read a lap table CSV (any accepted form) and check it with `check_lap_table`."""
    path = Path(path)
    frame = read_lap_table(path)
    return check_lap_table(frame, source=str(path))
