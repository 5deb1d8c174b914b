"""The lap-time model of one race, fitted on its own clean laps.

One weighted least-squares fit (generalised from the first Bahrain fit):

    LapTime = car_intercept + compound_offset + k1[compound] * TyreLife + m * LapNumber

``m`` (fuel burning off plus track evolution) is identified because tyre age resets at each stop
while the lap number does not. The covariance of the fit gives each compound's uncertainty. A
second, within-stint step fits a multiplicative degradation factor per team and per car
(shrunk towards 1 and towards the team respectively, normal priors of sd `TEAM_FACTOR_SD` and
`CAR_FACTOR_SD`). The clean-lap screen is the twins' (`workbench.twins.lap_table.mark_clean_laps`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from workbench.telemetry.laptable import track_status_of
from workbench.twins.lap_table import mark_clean_laps

__all__ = ["LapFit", "fit_lap_model", "status_kind", "neutral_lap_factor", "pit_losses", "model_lap_s",
           "sector_fractions",
           "COMPOUND_ORDER", "MIN_COMPOUND_LAPS", "MIN_CAR_LAPS", "MASS_EFFECT_RANGE", "MASS_EFFECT_PRIOR"]

COMPOUND_ORDER = ("SOFT", "MEDIUM", "HARD", "INTERMEDIATE", "WET")
MIN_COMPOUND_LAPS = 20  # fewer clean laps on a compound: its numbers come from a prior
MIN_CAR_LAPS = 5  # fewer clean laps for a car: its pace comes from its team-mate or the field
MASS_EFFECT_RANGE = (0.017, 0.045)  # Heilmeier et al. 2020, s/kg
MASS_EFFECT_PRIOR = 0.03  # used when the fitted fuel term falls outside that range
TEAM_FACTOR_SD = 0.25  # prior sd of a team's degradation factor around 1
CAR_FACTOR_SD = 0.15  # prior sd of a car's factor around its team's


def status_kind(value) -> str:
    """FastF1 TrackStatus digits of a lap -> ``RED``, ``SC``, ``VSC`` or ``GREEN`` (yellow counts as green)."""
    kind = track_status_of(value).value
    return kind if kind in ("RED", "SC", "VSC") else "GREEN"


@dataclasses.dataclass(frozen=True)
class LapFit:
    """Result of `fit_lap_model`; times in seconds."""

    table: pd.DataFrame  # every lap with the twins' flags (Clean, PitIn, PitOut, ...) and Kind
    clean: pd.DataFrame  # the clean laps with the fit's residual
    intercept_s: dict[str, float]  # car -> intercept at lap 0 (full tank)
    offset_s: dict[str, float]  # fitted compound -> offset vs the reference compound
    offset_sd_s: dict[str, float]
    k1_s: dict[str, float]  # fitted compound -> s/lap of tyre age
    k1_sd_s: dict[str, float]
    reference: str
    lap_term_s: float  # m, s per lap number
    mass_effect_s_per_kg: float
    mass_effect_source: str
    noise_s: dict[str, float]  # car -> robust residual sd
    residual_sd_s: float
    team_factor: dict[str, tuple[float, float]]  # team -> (degradation factor, sd)
    car_factor: dict[str, tuple[float, float]]  # car -> (degradation factor, sd)


def _design(clean: pd.DataFrame, drivers: list[str], compounds: list[str], with_lap: bool):
    cols = ([f"d_{d}" for d in drivers] + [f"c_{c}" for c in compounds[1:]] + [f"k_{c}" for c in compounds]
            + (["lap"] if with_lap else []))
    x = np.zeros((len(clean), len(cols)))
    drv = clean.Driver.to_numpy()
    comp = clean.Compound.to_numpy()
    age = clean.TyreLife.to_numpy(dtype=float)
    for j, d in enumerate(drivers):
        x[:, j] = drv == d
    for j, c in enumerate(compounds[1:]):
        x[:, len(drivers) + j] = comp == c
    for j, c in enumerate(compounds):
        x[:, len(drivers) + len(compounds) - 1 + j] = (comp == c) * age
    if with_lap:
        x[:, -1] = clean.LapNumber.to_numpy(dtype=float)
    return cols, x


def _lstsq(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    dof = max(1, len(y) - x.shape[1])
    cov = float(resid @ resid) / dof * np.linalg.pinv(x.T @ x)
    return coef, resid, cov


def _factors(clean: pd.DataFrame, k1: dict[str, float], lap_term: float, sigma: float
             ) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """Team and car degradation factors from within-stint slopes (see module docstring)."""
    df = clean[clean.Compound.isin(list(k1))].copy()
    df["D"] = df.Compound.map(k1).astype(float) * df.TyreLife.astype(float)
    df["Y"] = df.LapTime - lap_term * df.LapNumber
    keys = [df.Driver, df.Stint]
    df["Dc"] = df.D - df.groupby(keys).D.transform("mean")
    df["Yc"] = df.Y - df.groupby(keys).Y.transform("mean")
    lam_team = sigma**2 / TEAM_FACTOR_SD**2
    lam_car = sigma**2 / CAR_FACTOR_SD**2
    team, car = {}, {}
    for t, grp in df.groupby("Team"):
        sxx = float((grp.Dc**2).sum())
        sxy = float((grp.Dc * grp.Yc).sum())
        team[str(t)] = ((sxy + lam_team) / (sxx + lam_team), sigma / np.sqrt(sxx + lam_team))
    for d, grp in df.groupby("Driver"):
        ft = team[str(grp.Team.iloc[0])][0]
        sxx = float((grp.Dc**2).sum())
        sxy = float((grp.Dc * grp.Yc).sum())
        car[str(d)] = ((sxy + lam_car * ft) / (sxx + lam_car), sigma / np.sqrt(sxx + lam_car))
    return team, car


def fit_lap_model(laps: pd.DataFrame, n_laps: int, start_fuel_kg: float) -> LapFit:
    """Fit the race's lap-time model on its clean laps (see the module docstring).

    Raises
    ------
    ValueError
        When the table has no clean lap or too few to fit a single compound.
    """
    df = mark_clean_laps(laps)
    if "Team" not in df.columns:
        df["Team"] = ""
    df["Team"] = df.Team.fillna("").astype(str)
    df["Kind"] = (df.TrackStatus if "TrackStatus" in df.columns else pd.Series([None] * len(df))).map(status_kind)
    clean = df[df.Clean].copy()
    counts = clean.Compound.value_counts()
    compounds = [c for c in COMPOUND_ORDER if counts.get(c, 0) >= MIN_COMPOUND_LAPS]
    if not compounds:
        raise ValueError(f"laps: no compound has {MIN_COMPOUND_LAPS} clean laps (clean laps per compound: "
                         f"{counts.to_dict()}); a race definition needs at least one")
    clean = clean[clean.Compound.isin(compounds)]
    per_car = clean.Driver.value_counts()
    drivers = sorted(per_car[per_car >= MIN_CAR_LAPS].index)
    clean = clean[clean.Driver.isin(drivers)].copy()
    y = clean.LapTime.to_numpy(dtype=float)
    burn = start_fuel_kg / n_laps
    cols, x = _design(clean, drivers, compounds, with_lap=True)
    coef, resid, cov = _lstsq(x, y)
    fit = dict(zip(cols, coef))
    mass_effect = -fit["lap"] / burn
    source = "laps"
    if not MASS_EFFECT_RANGE[0] <= mass_effect <= MASS_EFFECT_RANGE[1]:
        # the fuel term is not identified here (wet-dry changes, short stints): fix it at the prior
        mass_effect, source = MASS_EFFECT_PRIOR, "prior"
        lap_term = -MASS_EFFECT_PRIOR * burn
        cols, x = _design(clean, drivers, compounds, with_lap=False)
        coef, resid, cov = _lstsq(x, y - lap_term * clean.LapNumber.to_numpy(dtype=float))
        fit = dict(zip(cols, coef))
        fit["lap"] = lap_term
    sd = dict(zip(cols, np.sqrt(np.clip(np.diag(cov), 0.0, None))))
    clean["resid"] = resid
    noise = clean.groupby("Driver").resid.apply(lambda r: 1.4826 * float(np.median(np.abs(r - np.median(r)))))
    k1 = {c: float(fit[f"k_{c}"]) for c in compounds}
    sigma = float(np.std(resid))
    team, car = _factors(clean, k1, float(fit["lap"]), sigma)
    return LapFit(
        table=df, clean=clean, intercept_s={d: float(fit[f"d_{d}"]) for d in drivers},
        offset_s={compounds[0]: 0.0, **{c: float(fit[f"c_{c}"]) for c in compounds[1:]}},
        offset_sd_s={compounds[0]: 0.0, **{c: float(sd[f"c_{c}"]) for c in compounds[1:]}},
        k1_s=k1, k1_sd_s={c: float(sd[f"k_{c}"]) for c in compounds}, reference=compounds[0],
        lap_term_s=float(fit["lap"]), mass_effect_s_per_kg=float(mass_effect), mass_effect_source=source,
        noise_s={str(d): float(v) for d, v in noise.items()}, residual_sd_s=sigma, team_factor=team, car_factor=car)


def _field_reference(df: pd.DataFrame) -> pd.Series:
    """Median lap time per lap number over the cars neither pitting nor on an out-lap."""
    steady = df[~df.PitIn & ~df.PitOut & df.LapTime.notna()]
    return steady.groupby("LapNumber").LapTime.median()


def model_lap_s(fit: LapFit, driver: str, lap: int, compound: str, tyre_age_laps: int) -> float | None:
    """The fitted lap time of a car (None when the car or the compound was not fitted)."""
    if driver not in fit.intercept_s or compound not in fit.k1_s:
        return None
    factor = fit.car_factor.get(driver, (1.0, 0.0))[0]
    return (fit.intercept_s[driver] + fit.offset_s[compound] + factor * fit.k1_s[compound] * tyre_age_laps
            + fit.lap_term_s * lap)


def pit_losses(fit: LapFit) -> dict[str, list[float]]:
    """Total time lost to each stop (standstill included), by the status of its in- and out-lap.

    Under green: in-lap + out-lap minus the car's two model laps (worn set in, new set out).
    Under SC/VSC (and for a car or compound without a model): minus the field's median lap time
    on those two laps (cars not pitting). A stop whose laps include a red flag or miss a time is
    not measured.
    """
    df = fit.table
    ref = _field_reference(df)
    rel = fit.clean.LapTime - fit.clean.LapNumber.map(ref)
    own = rel.groupby(fit.clean.Driver).median()
    out: dict[str, list[float]] = {"GREEN": [], "VSC": [], "SC": []}
    for drv, grp in df.groupby("Driver"):
        grp = grp.set_index("LapNumber")
        for lap in grp.index[grp.PitIn]:
            if lap + 1 not in grp.index or lap == 1:
                continue
            kinds = {grp.loc[lap, "Kind"], grp.loc[lap + 1, "Kind"]}
            pair = grp.loc[lap, "LapTime"] + grp.loc[lap + 1, "LapTime"]
            if "RED" in kinds or not np.isfinite(pair) or lap not in ref.index or lap + 1 not in ref.index:
                continue
            kind = "SC" if "SC" in kinds else "VSC" if "VSC" in kinds else "GREEN"
            base = ref[lap] + ref[lap + 1] + (2 * float(own.get(drv, 0.0)) if kind == "GREEN" else 0.0)
            if kind == "GREEN":
                a = model_lap_s(fit, drv, lap, str(grp.loc[lap, "Compound"]), int(grp.loc[lap, "TyreLife"]))
                b = model_lap_s(fit, drv, lap + 1, str(grp.loc[lap + 1, "Compound"]),
                                int(grp.loc[lap + 1, "TyreLife"]))
                if a is not None and b is not None:
                    base = a + b
            out[kind].append(float(pair - base))
    return out


def neutral_lap_factor(fit: LapFit, kind: str, base_lap_time_s: float) -> tuple[float | None, int]:
    """Median lap time of the field on whole ``kind`` laps (SC or VSC, no pit) / base lap, and the lap count."""
    df = fit.table
    rows = df[(df.Kind == kind) & ~df.PitIn & ~df.PitOut & df.LapTime.notna() & (df.LapNumber > 1)]
    if len(rows) < 10:
        return None, int(len(rows))
    return float(rows.LapTime.median() / base_lap_time_s), int(len(rows))


def sector_fractions(fit: LapFit, laps: pd.DataFrame) -> list[float] | None:
    """Median share of sectors 1-3 on clean laps of ``laps`` (None when it has no sector times)."""
    cols = ["Sector1Time", "Sector2Time", "Sector3Time"]
    if not set(cols) <= set(laps.columns):
        return None
    keyed = fit.clean[["Driver", "LapNumber"]].merge(laps[["Driver", "LapNumber", *cols]], on=["Driver", "LapNumber"])
    sectors = keyed[cols].apply(pd.to_numeric, errors="coerce").dropna()
    if len(sectors) < 10:
        return None
    med = sectors.median()
    fractions = [round(float(v), 4) for v in med / med.sum()]
    fractions[2] = round(1.0 - fractions[0] - fractions[1], 4)
    return fractions
