"""What the CC0 history tables (Ergast schema, ``../shared/data/historical``) say about a race.

Only this race's *facts* (its date, circuit, grid, car numbers, classification) are read from its
own rows; every *fitted* number (pit-lane time, overtaking difficulty) uses only races at the same
circuit dated strictly before it, blended with the whole championship's earlier races.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.strategy.event_history import fold_race_name, race_from_file_name

__all__ = ["HistoryTables", "RaceFacts", "CircuitFacts", "load_history", "event_name_from_path", "FIRST_SEASON",
           "OVERTAKING_PRIOR", "OVERTAKING_PRIOR_RACES", "PIT_LANE_MAX_S"]

FIRST_SEASON = 2014  # the hybrid era: earlier seasons had refuelling-free but different cars and rules
OVERTAKING_PRIOR = 0.5  # the difficulty of a circuit with average position changes
OVERTAKING_PRIOR_RACES = 5.0  # the championship average counts as this many races at the circuit
PIT_LANE_MAX_S = 60.0  # longer pit-lane times are repairs or red-flag stops, not a normal stop
_SLUG = re.compile(r"(?P<year>\d{4})-(?P<slug>[^\W\d_][\w-]*?)-race-laps\.csv$")


def event_name_from_path(path: str | Path) -> str | None:
    """``2024-saudi-arabian-race-laps.csv`` -> ``"2024 Saudi Arabian Grand Prix"`` (None if not that shape).

    The race of ``data/event-history.json`` the name names (`race_from_file_name`, accents
    folded: ``2024-sao-paulo-race-laps.csv`` is "2024 São Paulo Grand Prix"), else the file
    name's words title-cased (a race after the bundled history).
    """
    m = _SLUG.search(Path(path).name)
    if not m:
        return None
    known = race_from_file_name(Path(path).name.removesuffix("-race-laps.csv"))
    if known is not None:
        return known
    words = " ".join(w.capitalize() for w in m["slug"].split("-"))
    return f"{m['year']} {words} Grand Prix"


@dataclasses.dataclass(frozen=True)
class RaceFacts:
    """This race's own rows of the history: who started where, with which number, and how it ended."""

    race_id: int
    name: str
    date: str
    circuit_id: int
    circuit_name: str
    grid: dict[str, int]  # driver code -> Ergast grid (0 = pit lane)
    number: dict[str, int]
    classified: dict[str, int]  # driver code -> Ergast positionOrder
    finished: dict[str, bool]  # finished or lapped (not retired)
    winner_time_s: float | None
    laps: int


@dataclasses.dataclass(frozen=True)
class CircuitFacts:
    """A race the history tables have no results for: its circuit (from its row, or an earlier edition's)."""

    name: str  # the race asked for, "2026 Australian Grand Prix"
    circuit_id: int | None  # None: no earlier race has that name (a new event)
    circuit_name: str
    edition: str | None  # where the circuit came from: "2025 Australian Grand Prix" (the latest of that name)
    date: str  # the race's date in races.csv, else "YEAR-01-01": every earlier season counts as before it


@dataclasses.dataclass(frozen=True)
class HistoryTables:
    """The Ergast-schema tables, read once."""

    folder: Path
    races: pd.DataFrame
    results: pd.DataFrame
    drivers: pd.DataFrame
    pit_stops: pd.DataFrame
    circuits: pd.DataFrame
    status: pd.DataFrame

    def race_row(self, name: str) -> pd.Series:
        """The races.csv row of ``"2024 Bahrain Grand Prix"``; a clear error listing that season's races."""
        m = re.match(r"^(\d{4}) (.+)$", name.strip())
        if not m:
            raise ValueError(f"event: {name!r} is not of the form 'YEAR NAME', e.g. '2024 Bahrain Grand Prix'")
        year, title = int(m[1]), fold_race_name(m[2])
        season = self.races[self.races.year == year]
        hit = season[season.name.map(fold_race_name) == title]
        if hit.empty:
            names = ", ".join(season.name) or "none"
            raise ValueError(f"event: {name!r} is not a race of the history tables in {self.folder} "
                             f"({year} races: {names})")
        return hit.iloc[0]

    def later_race(self, name: str) -> CircuitFacts | None:
        """A race the tables have no results for: only its circuit is known.

        Two cases. A race listed in ``races.csv`` without results yet (the tables run to 2025
        Singapore; the 2025 Mexico City Grand Prix is scheduled, not classified): its own circuit and
        date. A race of a season after the tables' last one (``"2026 Australian Grand Prix"``): the
        circuit of the latest race of that name (Albert Park, from the 2025 race), dated the first of
        January of its year; when no earlier race has that name (a new event: the 2026 Barcelona
        Grand Prix) the circuit is None and its numbers are priors. None for a race with results
        (`facts`) and for a name the tables' seasons do not hold (`race_row` refuses it, so a typo is
        not taken for a new race).
        """
        m = re.match(r"^(\d{4}) (.+)$", name.strip())
        if not m:
            return None
        year, title = int(m[1]), fold_race_name(m[2])
        season = self.races[self.races.year == year]
        hit = season[season.name.map(fold_race_name) == title]
        if not hit.empty:
            row = hit.iloc[0]
            if (self.results.raceId == row.raceId).any():
                return None
            return CircuitFacts(name=f"{year} {row['name']}", circuit_id=int(row.circuitId),
                                circuit_name=self._circuit_name(int(row.circuitId)),
                                edition=f"{year} {row['name']} (listed in races.csv, no results yet)",
                                date=str(row.date))
        if year <= int(self.races.year.max()):
            return None
        same = self.races[self.races.name.map(fold_race_name) == title].sort_values("date")
        if same.empty:
            return CircuitFacts(name=f"{year} {m[2].strip()}", circuit_id=None, circuit_name="", edition=None,
                                date=f"{year}-01-01")
        last = same.iloc[-1]
        return CircuitFacts(name=f"{year} {last['name']}", circuit_id=int(last.circuitId),
                            circuit_name=self._circuit_name(int(last.circuitId)),
                            edition=f"{int(last.year)} {last['name']}", date=f"{year}-01-01")

    def _last_result_date(self) -> str:
        return str(self.races[self.races.raceId.isin(self.results.raceId)].date.max())

    def _circuit_name(self, circuit_id: int) -> str:
        circuit = self.circuits[self.circuits.circuitId == circuit_id]
        return str(circuit.name.iloc[0]) if len(circuit) else ""

    def facts(self, name: str) -> RaceFacts:
        row = self.race_row(name)
        res = self.results[self.results.raceId == row.raceId].merge(
            self.drivers[["driverId", "code"]], on="driverId")
        if res.empty:
            raise ValueError(f"event: {name!r} has no results in the history tables in {self.folder} (listed for "
                             f"{row.date}; the tables' results end {self._last_result_date()})")
        finished_ids = set(self.status[self.status.status.str.match(r"^(Finished|\+\d+ Laps?)$")].statusId)
        win = res[res.positionOrder == 1]
        ms = win.milliseconds.iloc[0] if len(win) else np.nan
        circuit = self.circuits[self.circuits.circuitId == row.circuitId]
        return RaceFacts(
            race_id=int(row.raceId), name=f"{int(row.year)} {row['name']}", date=str(row.date),
            circuit_id=int(row.circuitId), circuit_name=str(circuit.name.iloc[0]) if len(circuit) else "",
            grid={c: int(g) for c, g in zip(res.code, res.grid)},
            number={c: int(n) for c, n in zip(res.code, res.number)},
            classified={c: int(p) for c, p in zip(res.code, res.positionOrder)},
            finished={c: s in finished_ids for c, s in zip(res.code, res.statusId)},
            winner_time_s=None if pd.isna(ms) else float(ms) / 1000.0,
            laps=int(res.laps.max()) if len(res) else 0)

    def _before(self, date: str) -> pd.DataFrame:
        return self.races[(self.races.date < date) & (self.races.year >= FIRST_SEASON)]

    def pit_lane_times_s(self, circuit_id: int, date: str) -> tuple[np.ndarray, list[str]]:
        """Pit-lane times (entry to exit, standstill included) at this circuit in earlier seasons."""
        past = self._before(date)
        past = past[past.circuitId == circuit_id]
        stops = self.pit_stops[self.pit_stops.raceId.isin(past.raceId)]
        t = stops.milliseconds.to_numpy(dtype=float) / 1000.0
        used = past[past.raceId.isin(stops.raceId)]
        return t[t < PIT_LANE_MAX_S], [f"{y} {n}" for y, n in zip(used.year, used.name)]

    def position_changes(self, race_ids) -> list[float]:
        """Per race: mean |grid - finishing position| over the starters who finished (grid > 0)."""
        res = self.results[self.results.raceId.isin(race_ids) & (self.results.grid > 0)]
        finished_ids = self.status[self.status.status.str.match(r"^(Finished|\+\d+ Laps?)$")].statusId
        res = res[res.statusId.isin(finished_ids)]
        out = []
        for _, grp in res.groupby("raceId"):
            grid_rank = grp.grid.rank(method="first")
            fin_rank = grp.positionOrder.rank(method="first")
            out.append(float((grid_rank - fin_rank).abs().mean()))
        return out

    def overtaking_difficulty(self, circuit_id: int | None, date: str) -> tuple[float, str, dict]:
        """Difficulty 0..1 from how much the order changes from grid to flag here vs everywhere.

        ``r`` = (this circuit's mean |grid - finish|, blended with the championship mean as
        `OVERTAKING_PRIOR_RACES` races) / championship mean; difficulty = clip(0.5 * (2 - r), 0.05, 0.95):
        an average circuit is 0.5, twice the average changes is 0.05, half of it 0.75.
        """
        past = self._before(date)
        everywhere = self.position_changes(past.raceId)
        own_ids = past[past.circuitId == circuit_id].raceId if circuit_id is not None else []
        own = self.position_changes(own_ids)
        field = float(np.mean(everywhere))
        blended = (sum(own) + OVERTAKING_PRIOR_RACES * field) / (len(own) + OVERTAKING_PRIOR_RACES)
        r = blended / field
        difficulty = float(np.clip(OVERTAKING_PRIOR * (2.0 - r), 0.05, 0.95))
        source = "history" if own else "prior"
        return difficulty, source, {"circuit_races": len(own), "circuit_mean_changes": round(float(np.mean(own)), 3)
                                    if own else None, "championship_races": len(everywhere),
                                    "championship_mean_changes": round(field, 3)}


@functools.cache
def load_history(folder: str | Path) -> HistoryTables:
    """Read the Ergast-schema tables from ``folder`` (``\\N`` is missing)."""
    folder = Path(folder)
    if not (folder / "races.csv").is_file():
        raise ValueError(f"history: {str(folder)!r} has no races.csv (pass the folder of the Ergast-schema tables)")

    def read(name: str, **kw) -> pd.DataFrame:
        return pd.read_csv(folder / name, na_values="\\N", **kw)

    return HistoryTables(folder=folder, races=read("races.csv", usecols=range(8)), results=read("results.csv"),
                         drivers=read("drivers.csv"), pit_stops=read("pit_stops.csv"), circuits=read("circuits.csv"),
                         status=read("status.csv"))
