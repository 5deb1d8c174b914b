"""Fit the pit-stop hazard (workbench/twins/pit_hazard.py) on 2014-2023 pit stops; write data/pit-hazard.json.

Run from the repository root:  python data/build_pit_hazard.py [SHARED_DATA_DIR]
Source: ../shared/data/historical (TracingInsights/RaceData Ergast tables, CC0). One row per
car and lap raced (last lap excluded): did the car pit at the end of it? Tyre age counts
laps since the last stop (or the start), so a set used in qualifying reads younger than it
is; the race's typical stint is its laps over (its median number of stops + 1).
2024 and later races are held out (the real 2024 Bahrain laps test the calibration).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from workbench.twins.pit_hazard import fit_logistic, hazard_features  # noqa: E402

LAST_YEAR = 2023


def person_laps(shared: Path) -> pd.DataFrame:
    hist = shared / "historical"
    races = pd.read_csv(hist / "races.csv", usecols=range(8), na_values="\\N")
    results = pd.read_csv(hist / "results.csv", na_values="\\N")
    stops = pd.read_csv(hist / "pit_stops.csv", na_values="\\N")
    sc = pd.read_csv(hist / "safety_cars.csv")
    vsc = json.loads((hist / "virtual_safety_car_estimates.json").read_text())
    races = races[(races.year <= LAST_YEAR) & races.raceId.isin(stops.raceId)]
    rows = []
    for race in races.itertuples():
        name = f"{race.year} {race.name}"
        res = results[results.raceId == race.raceId]
        total = int(res.laps.max())
        neutral = np.zeros(total + 2, dtype=bool)
        for s in sc[sc.Race == name].itertuples():
            last = int(s.Retreated) if not np.isnan(s.Retreated) else total
            neutral[int(s.Deployed):min(last, total) + 1] = True
        for lap in vsc.get(name, []):
            if lap <= total:
                neutral[lap] = True
        rs = stops[stops.raceId == race.raceId]
        counts = rs.groupby("driverId").size().reindex(res.driverId, fill_value=0)
        expected = float(np.median(counts))
        norm = total / (expected + 1.0)
        for drv in res.itertuples():
            laps_done = int(drv.laps)
            own = sorted(rs[rs.driverId == drv.driverId].lap.astype(int))
            own_set = set(own)
            last_stop, done = 0, 0
            for lap in range(1, laps_done):
                pitted = lap in own_set
                rows.append((lap - last_stop, norm, neutral[lap], done - expected, total - lap, pitted))
                if pitted:
                    last_stop, done = lap, done + 1
    return pd.DataFrame(rows, columns=["age", "norm", "neutral", "extra", "to_go", "pit"])


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "shared" / "data"
    data = person_laps(shared)
    x = hazard_features(data.age, data.norm, data.neutral, data.extra, data.to_go)
    coef = fit_logistic(x, data.pit.to_numpy(dtype=float))
    out = {"coef": [round(float(c), 5) for c in coef],
           "features": ["1", "r=ln(age/N)", "r^2", "min(age/N, 3)", "neutralised", "stops_done - expected_stops",
                        "ln((laps_to_go+1)/N)"],
           "rows": int(len(data)), "stops": int(data.pit.sum()), "base_rate": round(float(data.pit.mean()), 5),
           "source": f"Fitted by data/build_pit_hazard.py on 2014-{LAST_YEAR} pit stops, SC and VSC laps "
                     "(TracingInsights/RaceData Ergast tables, CC0)"}
    (HERE / "pit-hazard.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv)
