"""SC/VSC, retirement and stop priors for a race, from the history of races run *before* it.

``data/event-history.json`` (built by ``data/build_event_history.py`` from the Ergast tables
of TracingInsights/RaceData, CC0) holds one entry per race: its date, circuit, SC phases and
their full laps, VSC phases and their laps, starters, retirements and the median number of
stops. `priors_before` keeps only races dated strictly before the race being predicted, so
a prediction never sees the outcome of its own race (or any later one) through these priors.

Blending, as in ``data/build_bahrain_2024.py``: the circuit's own history counts race for
race, the whole championship's history counts as `PRIOR_RACES` races.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from workbench.paths import bundled_data_dir

__all__ = ["EventPriors", "priors_before", "race_entry", "race_from_file_name", "fold_race_name", "later_race",
           "session_from_file_name",
           "history", "PRIOR_RACES", "RECENT_YEARS",
           "SC_MAX_LAPS", "VSC_MAX_LAPS"]

PRIOR_RACES = 10.0  # weight of the championship-wide history, in races, against the circuit's own
RECENT_YEARS = 3  # retirements and stops: reliability and tyre rules change, so only recent seasons
OTHER_SESSIONS = frozenset({"sprint", "sq", "qualifying", "quali", "practice", "fp1", "fp2", "fp3", "shootout"})
SC_MAX_LAPS = 8  # SC lengths are clipped to 1..8 full laps
VSC_MAX_LAPS = 6  # VSC lengths are clipped to 1..6 laps


@functools.cache
def history() -> tuple[dict[str, Any], ...]:
    """Every race of ``data/event-history.json``, in date order."""
    obj = json.loads((bundled_data_dir() / "event-history.json").read_text())
    return tuple(sorted(obj["races"], key=lambda r: r["date"]))


def fold_race_name(name: str) -> str:
    """A race name as compared everywhere: accents dropped, lower case, single spaces.

    >>> fold_race_name("2024  São Paulo Grand Prix")
    '2024 sao paulo grand prix'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(ascii_name.lower().split())


def race_entry(name: str) -> dict[str, Any]:
    """The history entry of a race by name (``"2024 Bahrain Grand Prix"``; accents and case
    do not matter: ``"2024 Sao Paulo Grand Prix"`` is the São Paulo race).

    Raises
    ------
    ValueError
        Naming the race when the history does not hold it.
    """
    folded = fold_race_name(name)
    for entry in history():
        if fold_race_name(entry["race"]) == folded:
            return entry
    raise ValueError(f"race: {name!r} is not in data/event-history.json (races from "
                     f"{history()[0]['race']} to {history()[-1]['race']})")


def later_race(name: str) -> dict[str, Any] | None:
    """An entry for a race after the history (``"2026 Monaco Grand Prix"``): its circuit, never its outcome.

    The history ends with the last race it holds (2025 Singapore). A race named ``"YEAR NAME"``
    that it does not hold, of that season or a later one, gets ``{"race", "date", "circuit_id",
    "laps": None, "after_history"}``: the circuit of the latest race of the same name (``None``
    for a name never raced before, e.g. the 2026 Barcelona Grand Prix), and a date after every
    race of the history (the day after its last race, or the first of January of a later season),
    so `priors_before` reads all of it. ``laps`` is None: the distance is never taken from an
    earlier edition. ``after_history`` names that edition (or is None). None for a race the
    history holds (`race_entry`), and for an unknown name in a season it holds completely (a typo
    is not taken for a new race).

    Examples
    --------
    >>> later_race("2026 Monaco Grand Prix")["after_history"]
    '2025 Monaco Grand Prix'
    >>> later_race("2024 Atlantis Grand Prix") is None
    True
    """
    m = re.match(r"^(\d{4}) (.+)$", name.strip())
    if not m:
        return None
    folded = fold_race_name(name)
    if any(fold_race_name(r["race"]) == folded for r in history()):
        return None
    year, title = int(m[1]), fold_race_name(m[2])
    last = history()[-1]
    if year < int(last["date"][:4]):
        return None
    same = [r for r in history() if fold_race_name(r["race"]).split(" ", 1)[1] == title]
    day_after = (np.datetime64(last["date"]) + np.timedelta64(1, "D")).astype(str)
    date = max(day_after, f"{year:04d}-01-01")
    edition = same[-1] if same else None
    shown = edition["race"].split(" ", 1)[1] if edition else m[2].strip()
    return {"race": f"{year} {shown}", "date": date, "circuit_id": edition["circuit_id"] if edition else None,
            "laps": None, "after_history": edition["race"] if edition else None}


def session_from_file_name(path: str | Path) -> str | None:
    """The session a lap-table file name names when it is not the Grand Prix (`OTHER_SESSIONS`), else None.

    >>> session_from_file_name("2024-chinese-sprint-laps.csv")
    'sprint'
    >>> session_from_file_name("2024-chinese-race-laps.csv") is None
    True
    """
    words = re.split(r"[-_ .]+", Path(path).stem)
    return next((fold_race_name(w) for w in words if fold_race_name(w) in OTHER_SESSIONS), None)


def race_from_file_name(path: str | Path) -> str | None:
    """The race a lap-table file name names, when it is in ``data/event-history.json``.

    ``2024-saudi-arabian-race-laps.csv`` names "2024 Saudi Arabian Grand Prix": the year, then
    the longest run of words that, followed by "Grand Prix", is a race of that year in the
    history, compared by `fold_race_name` (``2024-sao-paulo-race-laps.csv`` and
    ``2024-são-paulo-race-laps.csv`` both name "2024 São Paulo Grand Prix"). None when no race
    matches, and for a session that is not the Grand Prix (``2024-chinese-sprint-laps.csv``: a
    word in `OTHER_SESSIONS`), whose distance and priors are not the race's.
    """
    m = re.match(r"^(\d{4})[-_ ](.+)$", Path(path).stem)
    if not m:
        return None
    names = {fold_race_name(r["race"]): r["race"] for r in history()}
    words = re.split(r"[-_ ]+", m.group(2))
    if any(fold_race_name(w) in OTHER_SESSIONS for w in words):
        return None
    for n in range(len(words), 0, -1):
        name = fold_race_name(f"{m.group(1)} {' '.join(words[:n])} grand prix")
        if name in names:
            return names[name]
    return None


@dataclasses.dataclass(frozen=True)
class EventPriors:
    """Event probabilities for a race definition's ``events`` section, and the expected stops.

    Attributes
    ----------
    sc_phases_p, vsc_phases_p : tuple of float
        P(0, 1, 2, 3 phases in a race).
    sc_length_laps_p, vsc_length_laps_p : tuple of float
        P(a phase lasts 1, 2, ... laps).
    retirement_p : float
        P(a starter does not finish).
    expected_stops : float
        Median stops per car at this circuit in recent seasons.
    before : str
        Only races dated before this ISO date were used.
    races : int
        How many races that is; ``circuit_races`` of them at this circuit.
    """

    sc_phases_p: tuple[float, ...]
    sc_length_laps_p: tuple[float, ...]
    vsc_phases_p: tuple[float, ...]
    vsc_length_laps_p: tuple[float, ...]
    retirement_p: float
    expected_stops: float
    before: str
    races: int
    circuit_races: int

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


def _counts_p(counts: list[int]) -> np.ndarray:
    return np.bincount(np.minimum(np.asarray(counts, dtype=int), 3), minlength=4)[:4] / max(1, len(counts))


def _blend(own: list[int], field_p: np.ndarray) -> tuple[float, ...]:
    own_counts = np.bincount(np.minimum(np.asarray(own, dtype=int), 3), minlength=4)[:4]
    p = (own_counts + PRIOR_RACES * field_p) / (len(own) + PRIOR_RACES)
    return tuple(float(x) for x in p / p.sum())


def _lengths_p(lengths: list[int], max_laps: int) -> tuple[float, ...]:
    counts = np.bincount(np.clip(np.asarray(lengths, dtype=int), 1, max_laps), minlength=max_laps + 1)[1:]
    if counts.sum() == 0:
        counts = np.ones(max_laps)
    return tuple(float(x) for x in counts / counts.sum())


def priors_before(date: str, circuit_id: int | None = None) -> EventPriors:
    """Event priors from the races dated strictly before ``date`` (ISO ``YYYY-MM-DD``).

    Raises
    ------
    ValueError
        When no race of the history is dated before ``date``.
    """
    past = [r for r in history() if r["date"] < date]
    if not past:
        raise ValueError(f"date: {date!r} has no race before it in data/event-history.json "
                         f"(the first is {history()[0]['date']})")
    own = [r for r in past if circuit_id is not None and r["circuit_id"] == circuit_id]
    sc_p = _blend([r["sc_phases"] for r in own], _counts_p([r["sc_phases"] for r in past]))
    sc_len = _lengths_p([n for r in past for n in r["sc_full_laps"]], SC_MAX_LAPS)
    vsc_past = [r for r in past if r["vsc_known"]] or past
    vsc_own = [r for r in own if r["vsc_known"]]
    vsc_p = _blend([len(r["vsc_phase_laps"]) for r in vsc_own],
                   _counts_p([len(r["vsc_phase_laps"]) for r in vsc_past]))
    vsc_len = _lengths_p([n for r in vsc_past for n in r["vsc_phase_laps"]], VSC_MAX_LAPS)
    first_recent = f"{int(date[:4]) - RECENT_YEARS:04d}{date[4:]}"
    recent = [r for r in past if r["date"] >= first_recent] or past
    retire_p = sum(r["retirements"] for r in recent) / max(1, sum(r["starters"] for r in recent))
    stops_own = [r["median_stops"] for r in own if r["date"] >= first_recent and r["median_stops"] is not None]
    stops_all = [r["median_stops"] for r in recent if r["median_stops"] is not None]
    expected = float(np.median(stops_own or stops_all or [1.0]))
    return EventPriors(sc_p, sc_len, vsc_p, vsc_len, float(retire_p), expected, date, len(past), len(own))
