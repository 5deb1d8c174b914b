"""Fit the bundled race definition from real data in ../shared/data.

Run from the repository root:  python data/build_bahrain_2024.py [SHARED_DATA_DIR]
It rewrites data/bahrain-2024.race.json; tests/unit/test_bundled_race.py re-runs the
fit and checks the committed file is what the data gives. See data/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RACE_ID = 1121  # Ergast raceId of the 2024 Bahrain Grand Prix
CIRCUIT_ID = 3  # Bahrain International Circuit
# Heilmeier et al. 2020, Applied Sciences 10(12):4229: SC phases per race, 2014-2019.
HEILMEIER_SC_PHASES_P = [0.455, 0.413, 0.099, 0.033]
PRIOR_RACES = 10.0  # weight of the prior in races when blending with this circuit's own history
FUEL_START_KG = 100.0  # assumption: a typical race fuel load (the rules allow 110 kg)
# Corners of the Bahrain GP layout for drawing speed traces: [distance_m, apex_speed_kph],
# approximated from the circuit map (15 turns, 5412 m); not measured telemetry.
CORNERS = [[650, 95], [800, 150], [1000, 190], [1450, 80], [2000, 200], [2150, 190], [2400, 120],
           [2700, 75], [2950, 115], [3150, 90], [3600, 140], [3900, 250], [4350, 185], [4900, 90],
           [5050, 150]]


def _read(shared: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(shared / "historical" / name, na_values="\\N")


def fit_laps(laps: pd.DataFrame, n_laps: int):
    """Least-squares fit on clean laps of one race.

    lap_time = driver_intercept + compound_offset + k1[compound] * TyreLife + m * LapNumber,
    where m = -burn * mass_effect captures the fuel burning off (identified because tyre
    age resets at each stop while lap number does not).
    """
    laps = laps.sort_values(["Driver", "LapNumber"]).copy()
    last_of_stint = laps.groupby(["Driver", "Stint"]).LapNumber.transform("max")
    first_of_stint = laps.groupby(["Driver", "Stint"]).LapNumber.transform("min")
    max_stint = laps.groupby("Driver").Stint.transform("max")
    laps["in_lap"] = (laps.LapNumber == last_of_stint) & (laps.Stint < max_stint)
    laps["out_lap"] = (laps.LapNumber == first_of_stint) & (laps.Stint > 1)
    clean = laps[(laps.TrackStatus == 1) & (laps.LapNumber > 1) & ~laps.in_lap & ~laps.out_lap
                 & laps.LapTime.notna()]
    # drop laps far from the driver's own median (traffic, mistakes, damage)
    med = clean.groupby("Driver").LapTime.transform("median")
    clean = clean[(clean.LapTime - med).abs() < 2.0]
    drivers = sorted(clean.Driver.unique())
    order = ["SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET"]  # the softest raced is the reference
    compounds = sorted(clean.Compound.unique(), key=order.index)
    cols = [f"d_{d}" for d in drivers] + [f"c_{c}" for c in compounds[1:]] + [f"k_{c}" for c in compounds] + ["lap"]
    X = np.zeros((len(clean), len(cols)))
    for j, d in enumerate(drivers):
        X[:, j] = clean.Driver.to_numpy() == d
    for j, c in enumerate(compounds[1:]):
        X[:, len(drivers) + j] = clean.Compound.to_numpy() == c
    for j, c in enumerate(compounds):
        X[:, len(drivers) + len(compounds) - 1 + j] = (clean.Compound.to_numpy() == c) * clean.TyreLife.to_numpy()
    X[:, -1] = clean.LapNumber.to_numpy()
    y = clean.LapTime.to_numpy()
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    fit = dict(zip(cols, coef))
    clean = clean.assign(resid=resid)
    return fit, drivers, compounds, clean, laps


def build(shared: Path) -> dict:
    laps = pd.read_csv(shared / "real-races" / "2024-bahrain-race-laps.csv")
    n_laps = int(laps.LapNumber.max())
    fit, drivers, compounds, clean, laps = fit_laps(laps, n_laps)

    burn = FUEL_START_KG / n_laps
    mass_effect = -fit["lap"] / burn
    # Intercepts are at lap 0 with a full tank: remove the fuel to get the zero-fuel time.
    intercept = {d: fit[f"d_{d}"] - mass_effect * FUEL_START_KG for d in drivers}
    ref = min(intercept, key=intercept.get)
    base = intercept[ref]
    noise = clean.groupby("Driver").resid.apply(lambda r: 1.4826 * float(np.median(np.abs(r - np.median(r)))))

    # Pit loss: in-lap + out-lap minus two of the driver's model laps around the stop.
    pit_losses = []
    for drv, grp in laps.groupby("Driver"):
        grp = grp.set_index("LapNumber")
        for lap in grp.index[grp.in_lap]:
            if lap + 1 not in grp.index or grp.loc[lap, "TrackStatus"] != 1 or grp.loc[lap + 1, "TrackStatus"] != 1:
                continue
            around = clean[(clean.Driver == drv) & (clean.LapNumber.between(lap - 4, lap + 5))]
            if len(around) < 3:
                continue
            model_lap = float((around.LapTime - around.resid).mean())
            pit_losses.append(grp.loc[lap, "LapTime"] + grp.loc[lap + 1, "LapTime"] - 2 * model_lap)
    pit_lane = _read(shared, "pit_stops.csv")
    pit_lane = pit_lane[pit_lane.raceId == RACE_ID].milliseconds / 1000.0
    pit_lane = pit_lane[pit_lane < 60]
    # Stationary time is the spread of the pit-lane time: the drive through the lane is
    # the same for everyone at the speed limit. Median 2.4 s is an assumption (typical
    # 2024 stop); its spread comes from the real pit-lane times of this race.
    standstill_median = 2.4
    iqr = float(pit_lane.quantile(0.75) - pit_lane.quantile(0.25))
    sigma_log = float(np.log1p((iqr / 1.349) / standstill_median))
    pit_losses = [x for x in pit_losses if np.isfinite(x)]
    pit_loss_total = float(np.median(pit_losses))
    pit_loss_green = pit_loss_total - standstill_median

    # Start: lap-1 time against grid slot.
    results = _read(shared, "results.csv")
    drv_table = _read(shared, "drivers.csv")
    res = results[results.raceId == RACE_ID].merge(drv_table[["driverId", "code", "number"]], on="driverId")
    grid = dict(zip(res.code, res.grid.astype(int)))
    numbers = dict(zip(res.code, res.number_x.astype(int)))  # race number (results), not permanent
    lap1 = laps[laps.LapNumber == 1].set_index("Driver").LapTime
    model_lap1 = {d: fit[f"d_{d}"] + fit["lap"] * 1 + fit.get(f"c_{laps[(laps.Driver == d)].Compound.iloc[0]}", 0.0)
                  for d in drivers}
    start_loss = np.array([lap1[d] - model_lap1[d] for d in drivers])
    g = np.array([grid[d] - 1 for d in drivers], dtype=float)
    slope, intercept0 = np.polyfit(g, start_loss, 1)
    start_sigma = float(np.std(start_loss - (intercept0 + slope * g), ddof=2))

    # SC / VSC history at this circuit (Bahrain GP only; the 2020 Sakhir GP used another layout).
    races = pd.read_csv(shared / "historical" / "races.csv", usecols=range(8), na_values="\\N")
    bahrain = races[(races.circuitId == CIRCUIT_ID) & races.name.str.contains("Bahrain")
                    & races.raceId.isin(results.raceId)]
    names = [f"{y} {n}" for y, n in zip(bahrain.year, bahrain.name)]
    sc = pd.read_csv(shared / "historical" / "safety_cars.csv")
    sc_counts = np.array([min(3, int((sc.Race == n).sum())) for n in names])
    own = np.bincount(sc_counts, minlength=4)[:4]
    sc_p = (own + PRIOR_RACES * np.array(HEILMEIER_SC_PHASES_P)) / (len(names) + PRIOR_RACES)
    full_laps = sc.FullLaps.dropna().astype(int).clip(1, 8)
    sc_len = np.bincount(full_laps, minlength=9)[1:9] / len(full_laps)

    vsc = json.loads((shared / "historical" / "virtual_safety_car_estimates.json").read_text())
    def phases(lap_list):
        lap_list = sorted(lap_list)
        return [len(run) for run in np.split(lap_list, np.where(np.diff(lap_list) > 1)[0] + 1)]
    vsc_years = sorted({int(k[:4]) for k in vsc})
    all_races = races[races.year.between(vsc_years[0], vsc_years[-1]) & races.raceId.isin(results.raceId)]
    all_counts = np.array([min(3, len(phases(vsc[f"{y} {n}"]))) if f"{y} {n}" in vsc else 0
                           for y, n in zip(all_races.year, all_races.name)])
    prior_vsc = np.bincount(all_counts, minlength=4)[:4] / len(all_counts)
    own_vsc = np.bincount([min(3, len(phases(vsc[n]))) if n in vsc else 0
                           for n in names if int(n[:4]) >= vsc_years[0]], minlength=4)[:4]
    n_own_vsc = int(own_vsc.sum())
    vsc_p = (own_vsc + PRIOR_RACES * prior_vsc) / (n_own_vsc + PRIOR_RACES)
    vsc_lengths = np.array([p for v in vsc.values() for p in phases(v)]).clip(1, 6)
    vsc_len = np.bincount(vsc_lengths, minlength=7)[1:7] / len(vsc_lengths)

    # Retirements: share of starters 2014+ not classified as finished or lapped.
    status = _read(shared, "status.csv")
    finished_ids = status[status.status.str.match(r"^(Finished|\+\d+ Laps?)$")].statusId
    starters = results[results.grid > 0]
    retire_p = float((~starters.statusId.isin(finished_ids)).mean())

    # Strategy per car: the real stints (compound, laps) as the plan.
    plans = {}
    for drv, grp in laps.groupby("Driver"):
        stints = grp.groupby("Stint").agg(c=("Compound", "first"), n=("LapNumber", "count"))
        plans[drv] = [{"compound": c, "laps": int(n)} for c, n in zip(stints.c, stints.n)]
        plans[drv][-1]["laps"] += n_laps - int(grp.LapNumber.max())  # a lapped/retired car's plan runs to the flag

    # Sector fractions from clean laps.
    sectors = clean[["Sector1Time", "Sector2Time", "Sector3Time"]].dropna().median()
    fractions = [round(float(v), 4) for v in sectors / sectors.sum()]
    fractions[2] = round(1.0 - fractions[0] - fractions[1], 4)

    teams = dict(zip(laps.Driver, laps.Team))
    soft, hard = "SOFT", "HARD"
    comp = {
        soft: {"detail": "C3", "offset_s": 0.0, "model": "linear", "k1_s": round(fit[f"k_{soft}"], 4), "k2_s": 0.0,
               "fit_note": "fitted on clean 2024 Bahrain GP laps (reference compound)"},
        hard: {"detail": "C1", "offset_s": round(fit[f"c_{hard}"], 4), "model": "linear",
               "k1_s": round(fit[f"k_{hard}"], 4), "k2_s": 0.0,
               "fit_note": "fitted on clean 2024 Bahrain GP laps"},
    }
    comp["MEDIUM"] = {"detail": "C2", "offset_s": round(comp[hard]["offset_s"] / 2, 4), "model": "linear",
                      "k1_s": round((comp[soft]["k1_s"] + comp[hard]["k1_s"]) / 2, 4), "k2_s": 0.0,
                      "fit_note": "assumption: midway between SOFT and HARD (no medium was raced in 2024)"}
    track = {
        "name": "Bahrain International Circuit", "length_m": 5412.0, "laps": n_laps,
        "base_lap_time_s": round(base, 3), "sector_fractions": fractions,
        "pit_loss_green_s": round(pit_loss_green, 2),
        # VSC/SC: the field laps slower, so a stop costs less; ratios after Heilmeier et al. 2020.
        "pit_loss_vsc_s": round(pit_loss_green * 0.6, 2), "pit_loss_sc_s": round(pit_loss_green * 0.45, 2),
        "pit_standstill_median_s": standstill_median, "pit_standstill_sigma_log": round(sigma_log, 3),
        "overtaking_difficulty": 0.5, "drs": True,
        "start_loss_s": round(max(0.0, intercept0), 3), "start_loss_per_grid_slot_s": round(max(0.0, slope), 3),
        "start_sigma_s": round(start_sigma, 3), "sc_lap_time_factor": 1.4, "vsc_lap_time_factor": 1.3,
        "min_gap_s": 0.4, "corners": CORNERS,
    }
    cars = [{"driver": d, "team": teams[d], "number": numbers[d], "grid": grid[d],
             "pace_delta_s": round(intercept[d] - base, 3), "lap_noise_s": round(float(noise[d]), 3),
             "strategy": plans[d]} for d in sorted(drivers, key=lambda d: grid[d])]
    return {
        "schema_version": "1.0",
        "name": "2024 Bahrain Grand Prix",
        "source": "Fitted by data/build_bahrain_2024.py from ../shared/data (TracingInsights/2024 laps, MIT; "
                  "TracingInsights/RaceData Ergast tables, CC0) and Heilmeier et al. 2020; see data/README.md",
        "track": track,
        "fuel": {"start_kg": FUEL_START_KG, "burn_kg_per_lap": round(burn, 4),
                 "mass_effect_s_per_kg": round(mass_effect, 4)},
        "compounds": comp,
        "events": {"sc_phases_p": [round(float(p), 4) for p in sc_p],
                   "sc_length_laps_p": [round(float(p), 4) for p in sc_len],
                   "vsc_phases_p": [round(float(p), 4) for p in vsc_p],
                   "vsc_length_laps_p": [round(float(p), 4) for p in vsc_len],
                   "retirement_p": round(retire_p, 4)},
        "cars": cars,
        "_fit_report": {"clean_laps": int(len(clean)), "pit_losses_s": [round(float(x), 2) for x in pit_losses],
                        "pit_lane_time_median_s": round(float(pit_lane.median()), 2),
                        "bahrain_races": names, "bahrain_sc_counts": sc_counts.tolist(),
                        "residual_sigma_s": round(float(clean.resid.std()), 3)},
    }


def _normalize_probs(obj: dict) -> None:
    for key in ("sc_phases_p", "sc_length_laps_p", "vsc_phases_p", "vsc_length_laps_p"):
        p = obj["events"][key]
        big = p.index(max(p))  # put the rounding remainder on the largest probability
        p[big] = round(1.0 - sum(p) + p[big], 4)


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "shared" / "data"
    race = build(shared)
    _normalize_probs(race)
    report = race.pop("_fit_report")
    (HERE / "bahrain-2024.race.json").write_text(json.dumps(race, indent=1) + "\n")
    (HERE / "bahrain-2024.fit-report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv)
