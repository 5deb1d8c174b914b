"""Per-race event history (SC/VSC phases, retirements, stops) for predictions; writes data/event-history.json.

Run from the repository root:  python data/build_event_history.py [SHARED_DATA_DIR]
Source: ../shared/data/historical (TracingInsights/RaceData Ergast tables, CC0): races.csv,
results.csv, status.csv, pit_stops.csv, safety_cars.csv, virtual_safety_car_estimates.json.
One entry per race that has results, with its date: `workbench.strategy.event_history`
only ever uses races *dated before* the race being predicted, so the file may hold that
race itself without leaking it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _phases(laps: list[int]) -> list[int]:
    """Lengths of the runs of consecutive laps."""
    laps = sorted(laps)
    if not laps:
        return []
    return [len(run) for run in np.split(np.array(laps), np.where(np.diff(laps) > 1)[0] + 1)]


def build(shared: Path) -> dict:
    hist = shared / "historical"
    races = pd.read_csv(hist / "races.csv", usecols=range(8), na_values="\\N")
    results = pd.read_csv(hist / "results.csv", na_values="\\N")
    status = pd.read_csv(hist / "status.csv", na_values="\\N")
    stops = pd.read_csv(hist / "pit_stops.csv", na_values="\\N")
    sc = pd.read_csv(hist / "safety_cars.csv")
    vsc = json.loads((hist / "virtual_safety_car_estimates.json").read_text())
    vsc_years = sorted({int(k[:4]) for k in vsc})
    finished = set(status[status.status.str.match(r"^(Finished|\+\d+ Laps?)$")].statusId)
    out = []
    for race in races[races.raceId.isin(results.raceId)].sort_values("date").itertuples():
        name = f"{race.year} {race.name}"
        res = results[results.raceId == race.raceId]
        starters = res[res.grid > 0]
        own_sc = sc[sc.Race == name]
        rs = stops[stops.raceId == race.raceId]
        counts = rs.groupby("driverId").size().reindex(res.driverId, fill_value=0)
        out.append({
            "race": name, "date": str(race.date), "circuit_id": int(race.circuitId), "laps": int(res.laps.max()),
            "sc_phases": int(len(own_sc)),
            "sc_full_laps": [int(x) for x in own_sc.FullLaps.dropna()],
            "vsc_known": vsc_years[0] <= int(race.year) <= vsc_years[-1],
            "vsc_phase_laps": _phases(vsc.get(name, [])),
            "starters": int(len(starters)),
            "retirements": int((~starters.statusId.isin(finished)).sum()),
            "median_stops": float(np.median(counts)) if len(rs) else None,
        })
    return {"source": "Built by data/build_event_history.py from ../shared/data/historical "
                      "(TracingInsights/RaceData Ergast tables and race events, CC0); see data/README.md",
            "races": out}


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "shared" / "data"
    obj = build(shared)
    (HERE / "event-history.json").write_text(json.dumps(obj, separators=(",", ":")).replace('{"race"', '\n{"race"')
                                             + "\n")
    print(f"{len(obj['races'])} races")


if __name__ == "__main__":
    main(sys.argv)
