"""Calibrate tyre models on a real lap table and backtest their lap-time predictions.

`calibrate` fits every compound on the clean laps of the whole race (all cars) and
runs `backtest`: for every lap k of every stint that has at least `MIN_EARLIER_CLEAN_LAPS`
clean laps before k, predict laps k..k+4 of the stint using only laps before k (all
cars), and score against the clean actual laps, beside a naive predictor that repeats
the stint's last clean lap. ``racetwin calibrate`` prints the result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.twins.lap_table import FuelCorrection, mark_clean_laps
from workbench.twins.tyre_model import DegradationFit, DegradationPrior, best, fit_degradation, prior_from_compound

__all__ = ["fit_compounds", "backtest", "backtest_predictions", "calibrate", "priors_from_race", "HORIZON_LAPS",
           "MIN_EARLIER_CLEAN_LAPS", "INTERCEPT_LAPS",
           "leave_one_race_out", "pace_backtest", "pace_score"]

HORIZON_LAPS = 5  # laps k..k+4
MIN_EARLIER_CLEAN_LAPS = 3
INTERCEPT_LAPS = 3  # the stint level is the mean of its last clean laps, degradation removed (docs/twins.md)


def priors_from_race(race) -> dict[str, DegradationPrior]:
    """Compound -> prior centred on a race definition's compound models."""
    return {c.value: prior_from_compound(m.model, m.k1_s, m.k2_s, source=f"race definition {race.name}")
            for c, m in race.compounds.items()}


def _prior(priors: dict[str, DegradationPrior] | None, compound: str) -> DegradationPrior:
    if priors and compound in priors:
        return priors[compound]
    return prior_from_compound(source="generic")


def fit_compounds(clean: pd.DataFrame, priors: dict[str, DegradationPrior] | None = None
                  ) -> dict[str, dict[str, DegradationFit]]:
    """Compound -> family -> posterior, on the rows of ``clean`` (already screened and fuel-corrected)."""
    out = {}
    for compound, rows in clean.groupby("Compound", sort=True):
        keys = rows.Driver + "/" + rows.Stint.astype(str)
        out[str(compound)] = fit_degradation(rows.TyreLife.to_numpy(), rows.CorrectedLapTime.to_numpy(),
                                             keys.to_numpy(), _prior(priors, str(compound)))
    return out


def backtest_predictions(laps: pd.DataFrame, priors: dict[str, DegradationPrior] | None = None,
                         fuel: FuelCorrection | None = None, progress=None) -> pd.DataFrame:
    """Every scored prediction: made at lap ``k`` for ``LapNumber`` (k..k+4) of a stint.

    Columns ``k``, ``Driver``, ``Stint``, ``LapNumber``, ``Predicted``, ``Naive``, ``Actual``.
    Only laps before ``k`` (all cars) inform a prediction made at ``k``. ``progress(done, total)``,
    when given, is called after each ``k``.
    """
    df = laps if "Clean" in laps.columns else mark_clean_laps(laps, fuel)
    fuel = fuel or FuelCorrection()
    clean = df[df.Clean]
    out = []
    stints = {key: rows for key, rows in df.groupby(["Driver", "Stint"])}
    last = int(df.LapNumber.max())
    for k in range(2, last + 1):
        before = clean[clean.LapNumber < k]
        fits = {c: best(f) for c, f in fit_compounds(before, priors).items()} if len(before) else {}
        for (driver, stint), rows in stints.items():
            if k not in set(rows.LapNumber):
                continue
            earlier = rows[rows.Clean & (rows.LapNumber < k)]
            if len(earlier) < MIN_EARLIER_CLEAN_LAPS:
                continue
            targets = rows[rows.Clean & rows.LapNumber.between(k, k + HORIZON_LAPS - 1)]
            if targets.empty:
                continue
            fit = fits[str(rows.Compound.iloc[0])]
            recent = earlier.iloc[-INTERCEPT_LAPS:]
            intercept = float(np.mean(recent.CorrectedLapTime.to_numpy() - fit.degradation_s(recent.TyreLife)))
            predicted = (intercept + fit.degradation_s(targets.TyreLife)
                         + fuel.mass_effect_s_per_kg * targets.FuelKg.to_numpy())
            out.append(pd.DataFrame({"k": k, "Driver": driver, "Stint": stint, "LapNumber": targets.LapNumber,
                                     "Predicted": predicted, "Naive": float(earlier.LapTime.iloc[-1]),
                                     "Actual": targets.LapTime.to_numpy()}))
        if progress is not None:
            progress(k - 1, last - 1)
    if not out:
        raise ValueError("laps: no stint has enough clean laps for a backtest "
                         f"(needs {MIN_EARLIER_CLEAN_LAPS} clean laps before a lap to predict)")
    return pd.concat(out, ignore_index=True)


def backtest(laps: pd.DataFrame, priors: dict[str, DegradationPrior] | None = None,
             fuel: FuelCorrection | None = None, progress=None) -> dict[str, Any]:
    """Predict laps k..k+4 from laps before k; MAE of the model and of "repeat the last clean lap".

    Returns
    -------
    dict
        ``mae_s``, ``naive_mae_s``, ``n`` (scored predictions), ``horizon_laps``, and both
        MAEs per lead (``mae_by_lead_s``; lead 0 = lap k itself).
    """
    p = backtest_predictions(laps, priors, fuel, progress)
    err = (p.Predicted - p.Actual).abs()
    naive = (p.Naive - p.Actual).abs()
    lead = p.LapNumber - p.k
    return {"mae_s": round(float(err.mean()), 4), "naive_mae_s": round(float(naive.mean()), 4),
            "n": int(len(p)), "horizon_laps": HORIZON_LAPS,
            "mae_by_lead_s": [round(float(err[lead == d].mean()), 4) for d in range(HORIZON_LAPS)],
            "naive_mae_by_lead_s": [round(float(naive[lead == d].mean()), 4) for d in range(HORIZON_LAPS)]}


def calibrate(laps: pd.DataFrame, priors: dict[str, DegradationPrior] | None = None,
              fuel: FuelCorrection | None = None, progress=None) -> dict[str, Any]:
    """Per-compound degradation models (every family, the chosen one first) and the backtest
    (``progress(done, total)`` over its laps k, when given)."""
    df = mark_clean_laps(laps, fuel)
    clean = df[df.Clean]
    compounds = {}
    for compound, fits in fit_compounds(clean, priors).items():
        chosen = best(fits)
        age = int(clean[clean.Compound == compound].TyreLife.max())
        compounds[compound] = {
            **chosen.to_dict(),
            "degradation_at_max_age_s": round(float(chosen.degradation_s(age)[0]), 3),
            "degradation_at_max_age_sd_s": round(float(chosen.degradation_sd_s(age)[0]), 3),
            "max_age_laps": age, "cliff_risk_at_max_age": round(chosen.cliff_risk(age), 4),
            "families": {f: fit.to_dict() for f, fit in fits.items()},
        }
    excluded = {flag: int(df[flag].sum()) for flag in ("PitIn", "PitOut", "Neutralised", "LapOne", "Traffic",
                                                       "Outlier", "NoTime")}
    return {"laps": int(len(df)), "clean_laps": int(df.Clean.sum()), "excluded": excluded,
            "fuel": {"mass_effect_s_per_kg": (fuel or FuelCorrection()).mass_effect_s_per_kg},
            "compounds": compounds, "backtest": backtest(df, priors, fuel, progress)}


# --- Leave-one-race-out backtest of the cross-race pace model -----------------------------------------------------

def pace_score(inst, params) -> dict[str, Any]:
    """Model and naive ("repeat the last clean lap") next-5-lap MAE of the pace model on one race's forecasts.

    ``inst`` is `workbench.twins.pace_model.build_instances`'s, ``params`` a `PaceParams`; both
    predictors are scored on the same laps. Returns ``laps_scored``, ``model_mae_s``,
    ``naive_mae_s`` (rounded to 0.1 ms) and ``winner``.
    """
    from workbench.twins.pace_model import predict_instances

    model = float(np.mean(np.abs(predict_instances(inst, params) - inst.actual_s)))
    naive = float(np.mean(np.abs(inst.naive_s - inst.actual_s)))
    return {"laps_scored": len(inst), "model_mae_s": round(model, 4), "naive_mae_s": round(naive, 4),
            "winner": "model" if model < naive else "naive"}


def pace_backtest(laps: pd.DataFrame, race: str | None = None) -> dict[str, Any]:
    """Next-5-lap backtest of the cross-race pace model on one race, with the bundled parameters.

    The parameters are ``data/pace-params.json``'s (`workbench.twins.pace_model.bundled_pace_params`):
    fitted on the other bundled races when ``race`` (its name in ``data/event-history.json``, or
    the name a ``YYYY-<event>-race-laps.csv`` file gives a race after that history) is one of them,
    else on all of them. Model and naive ("repeat the last clean lap") are scored on
    the same laps, as in `leave_one_race_out`.

    Returns
    -------
    dict
        ``model_mae_s``, ``naive_mae_s``, ``laps_scored``, ``winner``, ``horizon_laps``,
        ``params`` (with their ``source``: the races fitted on), ``out_of_sample`` (True, or None
        when ``race`` is not named: a bundled race under another name would be in sample) and
        ``note``.
    """
    from workbench.twins.pace_model import HORIZON_LAPS as PACE_HORIZON
    from workbench.twins.pace_model import build_instances, bundled_pace_params

    params, out_of_sample = bundled_pace_params(race)
    scored = pace_score(build_instances(laps, race or "race"), params)
    fitted_on = params.source.split(", ")
    if out_of_sample is None:
        note = (f"race not identified: parameters fitted on all {len(fitted_on)} bundled races; if this table is "
                "one of them, the score is in sample")
    else:
        note = f"out of sample: parameters fitted on {len(fitted_on)} other races, not on {race}"
    return {**scored, "horizon_laps": PACE_HORIZON, "params": params.to_dict(), "out_of_sample": out_of_sample,
            "note": note}


def leave_one_race_out(tables: dict[str, pd.DataFrame], progress=None) -> dict[str, Any]:
    """Out-of-sample next-5-lap backtest of `workbench.twins.pace_model` on each race, fitted on the others.

    For every race: the cross-race parameters are fitted on the other races only; the race
    itself contributes only its laps before k to a forecast made at k. Model and naive
    ("repeat the last clean lap") are scored on the same laps (`pace_model` docstring).

    Returns
    -------
    dict
        ``races``: one row per race (``race``, ``laps_scored``, ``model_mae_s``, ``naive_mae_s``,
        ``winner``, ``params``); ``mean``: the unweighted means over races; ``horizon_laps``,
        ``scored``, ``out_of_sample``. ``progress(done, total)``, when given, is called after
        each held-out race.

    Raises
    ------
    ValueError
        With fewer than two races (nothing to fit on), or a race with nothing to score.
    """
    from workbench.twins.pace_model import HORIZON_LAPS as PACE_HORIZON
    from workbench.twins.pace_model import build_instances, fit_pace_params

    if len(tables) < 2:
        raise ValueError(f"races: {len(tables)} given; leave-one-race-out needs at least 2 lap tables")
    races = [build_instances(table, name) for name, table in tables.items()]
    rows = []
    for held_out in races:
        params = fit_pace_params([r for r in races if r is not held_out])
        rows.append({"race": held_out.name, **pace_score(held_out, params), "params": params.to_dict()})
        if progress is not None:
            progress(len(rows), len(races))
    mean = {"model_mae_s": round(float(np.mean([r["model_mae_s"] for r in rows])), 4),
            "naive_mae_s": round(float(np.mean([r["naive_mae_s"] for r in rows])), 4)}
    mean["winner"] = "model" if mean["model_mae_s"] < mean["naive_mae_s"] else "naive"
    return {"races": rows, "mean": mean, "horizon_laps": PACE_HORIZON, "out_of_sample": True,
            "scored": "clean green laps k..k+4 of the stint (timed, TrackStatus green, not lap 1, not an in- or "
                      "out-lap, within 2 s of the stint median), predicted from laps before k; the same laps for "
                      "model and naive"}
