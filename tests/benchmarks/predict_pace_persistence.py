"""How well does a car's pace fitted on laps 1..K carry over to the laps after K? (docs/predict.md)

    PYTHONPATH=. python tests/benchmarks/predict_pace_persistence.py [--directory DIR]

For every shared race at K = 25/50/75 % of its distance: each car's pace as `predict` fits it
(`predict_fit.fit_known_laps`, generic compound steps) against its pace on the clean laps after K
(the same corrected lap time minus the fitted wear curve and compound offset, minus the field's
median of that on each lap; the car's mean, and its standard error). Both are centred on the cars
that finish and have at least 5 clean laps after K. Printed per race and K: the RMS difference, the
RMS standard errors of the two estimates, and the excess variance (mean squared difference minus
both squared errors): the part of the future pace that the fit's standard error (`pace_se_s`, what
`predict.simulate_with_pace_uncertainty` draws from) does not cover.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.race.definition import bundled_race
from workbench.strategy.event_history import priors_before
from workbench.strategy.predict import (
    SWEEP_FRACTIONS,
    actual_classification,
    identify_race,
    known_laps,
    race_distance,
    race_from_file_name,
)
from workbench.strategy.predict_fit import fit_known_laps
from workbench.telemetry.records import DRY_COMPOUNDS
from workbench.twins.lap_table import FuelCorrection, check_lap_table, mark_clean_laps

REAL_RACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-races"
MIN_LAPS_AFTER_K = 5


def persistence(laps: pd.DataFrame, at_lap: int, n_laps: int, race: str) -> dict[str, float]:
    """Past (fitted) vs future pace of the finishers at ``at_lap``: RMS difference, errors, excess variance."""
    entry = identify_race(race, None, None)[0]
    events = priors_before(entry["date"], entry["circuit_id"])  # as predict: races dated before this one
    fitted = fit_known_laps(known_laps(laps, at_lap), at_lap, n_laps, bundled_race(), events)
    past = {e.driver: e.pace_delta_s for e in fitted.race.cars}
    se_past = fitted.report["pace_se_s"]
    models = {c.value: m for c, m in fitted.race.compounds.items()}
    fuel = FuelCorrection(burn_kg_per_lap=FuelCorrection().start_kg / n_laps)
    df = mark_clean_laps(check_lap_table(laps), fuel)
    after = df[df.Clean & (df.LapNumber > at_lap) & df.Compound.isin(list(models))].copy()
    dry = after.Compound.isin(DRY_COMPOUNDS)
    after = after[dry] if dry.mean() >= 0.5 else after[~dry]  # the kind of tyre most laps after K ran
    after["resid"] = [t - models[c].degradation_s(a) - models[c].offset_s
                      for t, c, a in zip(after.CorrectedLapTime, after.Compound, after.TyreLife)]
    after["resid"] -= after.groupby("LapNumber").resid.transform("median")
    retired = set(actual_classification(laps)["retired"])
    per_car = after.groupby("Driver").resid.agg(["mean", "std", "count"])
    cars = [d for d in per_car.index if d in past and d not in retired and per_car.loc[d, "count"] >= MIN_LAPS_AFTER_K]
    a = np.array([past[d] for d in cars])
    b = per_car.loc[cars, "mean"].to_numpy()
    se_a = np.array([se_past[d] for d in cars])
    se_b = (per_car.loc[cars, "std"] / np.sqrt(per_car.loc[cars, "count"])).to_numpy()
    diff = (a - a.mean()) - (b - b.mean())
    return {"cars": len(cars), "rms_diff_s": float(np.sqrt(np.mean(diff ** 2))),
            "rms_se_fit_s": float(np.sqrt(np.mean(se_a ** 2))), "rms_se_after_s": float(np.sqrt(np.mean(se_b ** 2))),
            "excess_var_s2": float(np.mean(diff ** 2) - np.mean(se_a ** 2) - np.mean(se_b ** 2))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", type=Path, default=REAL_RACES)
    args = parser.parse_args()
    rows = []
    for path in sorted(args.directory.glob("*-laps.csv")):
        race = race_from_file_name(path)
        laps = pd.read_csv(path)
        n = race_distance(laps, entry=identify_race(race, None, None)[0]).laps
        for f in SWEEP_FRACTIONS:
            k = int(round(f * n))
            rows.append({"race": race, "fraction": f, "at_lap": k, **persistence(laps, k, n, race)})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string(index=False))
        print("\nmean per fraction:")
        print(table.groupby("fraction")[["rms_diff_s", "rms_se_fit_s", "rms_se_after_s", "excess_var_s2"]]
              .mean().round(3).to_string())
    med = float(table.excess_var_s2.median())
    print(f"\nmedian excess variance over the {len(table)} (race, K): {med:.3f} s^2, "
          f"i.e. an sd of {np.sqrt(max(med, 0.0)):.2f} s/lap beyond the fit's standard error")


if __name__ == "__main__":
    main()
