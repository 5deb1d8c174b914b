"""Next-laps pace forecast that generalises across races: cross-race priors + the race's own earlier laps.

A forecast is made at the start of lap ``k`` for laps ``k..k+4`` of a car's current stint,
from laps numbered before ``k`` only (every car's). In steady conditions it is

    level  = sum_j w_j * (y_j + slope * d_j) / sum_j w_j          (the stint's recent clean laps)
    pred   = level + trend_gain * (trend - slope_field) * (t - l_last)

- ``y_j``: raw lap times of the stint's last `LEVEL_LAPS` input laps before k,
  ``w_j = level_decay ** rank`` (rank 0 = the most recent; 0 is "repeat the last clean lap").
- ``d_j``: laps from lap ``l_j`` to the target lap ``t``; a neutralised or untimed lap in
  between (SC, VSC, yellow, red) counts ``sc_lap_weight`` of a green lap (less fuel burnt,
  less wear). Laps from k on are unknown and count as green.
- ``slope``: the total per-lap change of the raw lap time within a stint: tyre wear, fuel
  burn and track evolution together (within one stint they are collinear, so only their sum
  matters for the next laps, and no race distance or fuel load is needed). Per compound,
  a conjugate normal update: prior mean = the cross-race mean slope of the compound plus this
  race's offset (estimated from all its compounds of the same kind, dry or wet, prior weight
  ``race_prior_laps2``), updated by the pooled within-stint regression on every car's input
  laps of this race before k (older laps down-weighted by ``field_forget`` per lap; prior
  weight ``field_prior_laps2`` in lap^2); then the car's own stint (``own_prior_laps2``).
- ``trend``: the field's mean lap-to-lap change on the same compound over the last
  `TREND_WINDOW_LAPS` laps before k.

Changing conditions (``|trend - slope_field| > changing_threshold_s_per_lap``, or a wet compound
when ``wet_is_changing``): the forecast is the last clean lap, since older laps and the slope
describe other conditions.

Input laps (`causal_flags`): timed, green, not lap 1, not an in- or out-lap, not the first
lap after a neutralised or untimed one (restart), and not more than `OUTLIER_S` slower than
the median of the stint's previous 5 green laps (a screen that uses no later lap). Scored
laps: the clean-lap screen of `mark_clean_laps` (timed, green, not lap 1, not an in- or
out-lap, within 2 s of its stint's median): the same laps for the model and for the naive
"repeat the last clean (input) lap". The cross-race parameters (`fit_pace_params`) are
fitted only on the races given, never on the race scored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.twins.lap_table import DRY_COMPOUNDS, KNOWN_COMPOUNDS, check_lap_table, mark_clean_laps

__all__ = ["PaceParams", "RaceInstances", "causal_flags", "build_instances", "predict_instances",
           "fit_pace_params", "slope_priors", "forecast_race", "HORIZON_LAPS", "MIN_EARLIER_CLEAN_LAPS", "LEVEL_LAPS",
           "TREND_WINDOW_LAPS", "OUTLIER_S"]

HORIZON_LAPS = 5  # laps k..k+4
MIN_EARLIER_CLEAN_LAPS = 3  # a stint is forecast once it has this many input-clean laps before k
LEVEL_LAPS = 8  # the stint's last clean laps that can enter the level
TREND_WINDOW_LAPS = 3  # laps before k whose lap-to-lap changes make the field trend
OUTLIER_S = 2.0  # a lap this far from the median of the stint's previous clean laps is not an input
_OUTLIER_HISTORY_LAPS = 5
FORGET = (1.0, 0.95, 0.9, 0.8)  # per-lap weight decay of older laps in the field's slope
GENERIC_SLOPE_S_PER_LAP = 0.0  # slope prior when no other race ran the compound


@dataclasses.dataclass(frozen=True)
class PaceParams:
    """Cross-race parameters of the forecast (see the module docstring); ``source`` names the races."""

    slope_prior_s_per_lap: Mapping[str, float]
    level_decay: float = 0.5
    field_prior_laps2: float = 200.0
    own_prior_laps2: float = 200.0
    field_forget: float = 1.0
    trend_damping: float = 1.0
    slower_threshold_s_per_lap: float = 1e9
    faster_threshold_s_per_lap: float = 1e9
    wet_field_prior_laps2: float = 200.0
    naive_weight: float = 0.0
    own_change_threshold_s_per_lap: float = 1e9
    sc_lap_weight: float = 1.0
    source: str = "generic"

    def slope_prior(self, compound: str) -> float:
        if compound in self.slope_prior_s_per_lap:
            return float(self.slope_prior_s_per_lap[compound])
        values = list(self.slope_prior_s_per_lap.values())
        return float(np.mean(values)) if values else GENERIC_SLOPE_S_PER_LAP

    def to_dict(self) -> dict[str, Any]:
        return {"slope_prior_s_per_lap": {c: round(float(v), 4) for c, v in sorted(self.slope_prior_s_per_lap.items())},
                "level_decay": self.level_decay, "field_prior_laps2": self.field_prior_laps2,
                "own_prior_laps2": self.own_prior_laps2,
                "sc_lap_weight": self.sc_lap_weight, "source": self.source}


def causal_flags(laps: pd.DataFrame) -> pd.DataFrame:
    """The lap table with ``Scored`` (a lap both predictors are scored on) and ``Input`` (a lap a forecast may use).

    ``Scored``: timed, TrackStatus all green, not lap 1, not an in-lap or out-lap.
    ``Input``: ``Scored`` and within `OUTLIER_S` of the median of the stint's previous
    (up to 5) input laps, a screen that uses no later lap. Also ``Neutral``: the lap was
    neutralised or untimed (it counts ``sc_lap_weight`` of a lap of wear and fuel).
    """
    df = mark_clean_laps(check_lap_table(laps) if "Clean" not in laps.columns else laps)
    df = df.sort_values(["Driver", "LapNumber"], ignore_index=True)
    df["Green"] = ~(df.PitIn | df.PitOut | df.Neutralised | df.LapOne | df.NoTime)
    df["Scored"] = df.Green & ~df.Outlier
    df["Neutral"] = df.Neutralised | df.NoTime
    inputs = np.zeros(len(df), dtype=bool)
    times = df.LapTime.to_numpy()
    scored = df.Green.to_numpy()
    neutral = df.Neutral.to_numpy()
    for _, idx in df.groupby(["Driver", "Stint"]).indices.items():
        history: list[float] = []
        for n, i in enumerate(idx):
            if not scored[i]:
                continue
            slow = len(history) >= 2 and times[i] - float(np.median(history[-_OUTLIER_HISTORY_LAPS:])) > OUTLIER_S
            history.append(float(times[i]))
            inputs[i] = not slow and not (n > 0 and neutral[idx[n - 1]])
    df["Input"] = inputs
    return df


@dataclasses.dataclass
class RaceInstances:
    """Every forecast of one race, as arrays (one row per target lap), independent of `PaceParams`.

    ``y``/``lap``/``neutral`` hold the stint's last `LEVEL_LAPS` input laps before k (most
    recent first, NaN-padded) and the neutralised laps between each and k; ``field_*`` the
    pooled within-stint sums of the compound at k; ``own_*`` the stint's own.
    """

    name: str
    k: np.ndarray
    driver: np.ndarray
    stint: np.ndarray
    target_lap: np.ndarray
    actual_s: np.ndarray
    naive_s: np.ndarray
    compound: np.ndarray
    y: np.ndarray
    lap: np.ndarray
    neutral: np.ndarray
    field_sxx: np.ndarray
    field_sxy: np.ndarray
    own_sxx: np.ndarray
    own_sxy: np.ndarray
    trend_s_per_lap: np.ndarray
    trend_n: np.ndarray
    whole_race_slope: dict[str, tuple[float, float]]  # compound -> (sxy, sxx) on every input lap

    def __len__(self) -> int:
        return int(self.k.size)


def _within_sums(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                 weights: np.ndarray | None = None) -> tuple[float, float]:
    """Pooled within-group weighted Sxx and Sxy (each group centred on its own weighted mean)."""
    if x.size == 0:
        return 0.0, 0.0
    w = np.ones_like(x) if weights is None else weights
    _, inv = np.unique(groups, return_inverse=True)
    sw = np.bincount(inv, weights=w)
    xc = x - (np.bincount(inv, weights=w * x) / sw)[inv]
    yc = y - (np.bincount(inv, weights=w * y) / sw)[inv]
    return float(w * xc @ xc), float(w * xc @ yc)


def build_instances(laps: pd.DataFrame, name: str = "race") -> RaceInstances:
    """Every forecast at every lap ``k``: targets k..k+4 of a stint with enough input laps before k.

    Raises
    ------
    ValueError
        If no stint has `MIN_EARLIER_CLEAN_LAPS` input laps before a scored lap.
    """
    df = causal_flags(laps)
    n_laps = int(df.LapNumber.max())
    inp = df[df.Input]
    stint_key = (inp.Driver + "/" + inp.Stint.astype(str)).to_numpy()
    in_lap = inp.LapNumber.to_numpy()
    in_y = inp.LapTime.to_numpy()
    in_comp = inp.Compound.to_numpy()
    whole = {c: _within_sums(in_lap[in_comp == c].astype(float), in_y[in_comp == c], stint_key[in_comp == c])[::-1]
             for c in np.unique(in_comp)}
    # field sums per (compound, k) and the field trend per (compound, k)
    field: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    trend: dict[tuple[str, int], tuple[float, int]] = {}
    prev_same = np.r_[False, (stint_key[1:] == stint_key[:-1]) & (in_lap[1:] == in_lap[:-1] + 1)]
    deltas = np.r_[np.nan, np.diff(in_y)]
    for c in np.unique(in_comp):
        mc = in_comp == c
        for k in range(2, n_laps + 1):
            m = mc & (in_lap < k)
            age = (k - 1 - in_lap[m]).astype(float)
            sums = [_within_sums(in_lap[m].astype(float), in_y[m], stint_key[m], f ** age) for f in FORGET]
            field[(c, k)] = (np.array([a for a, _ in sums]), np.array([b for _, b in sums]))
            w = mc & prev_same & (in_lap < k) & (in_lap >= k - TREND_WINDOW_LAPS)
            trend[(c, k)] = (float(np.mean(deltas[w])) if w.any() else 0.0, int(w.sum()))
    rows: dict[str, list] = {f: [] for f in ("k", "driver", "stint", "t", "actual", "naive", "compound", "y", "lap",
                                             "neutral", "fsxx", "fsxy", "osxx", "osxy", "trend", "trend_n")}
    for (driver, stint), g in df.groupby(["Driver", "Stint"], sort=True):
        laps_g = g.LapNumber.to_numpy()
        times = g.LapTime.to_numpy()
        is_in = g.Input.to_numpy()
        is_scored = g.Scored.to_numpy()
        neutral = g.Neutral.to_numpy()
        compound = str(g.Compound.iloc[0])
        for k in laps_g:
            before = is_in & (laps_g < k)
            if before.sum() < MIN_EARLIER_CLEAN_LAPS:
                continue
            target = is_scored & (laps_g >= k) & (laps_g <= k + HORIZON_LAPS - 1)
            if not target.any():
                continue
            yb, lb = times[before][::-1][:LEVEL_LAPS], laps_g[before][::-1][:LEVEL_LAPS]
            nb = np.array([int((neutral & (laps_g > lj) & (laps_g < k)).sum()) for lj in lb])
            pad = LEVEL_LAPS - yb.size
            own_sxx, own_sxy = _within_sums(laps_g[before].astype(float), times[before],
                                            np.zeros(int(before.sum())))
            zero = (np.zeros(len(FORGET)), np.zeros(len(FORGET)))
            fsxx = np.array([field.get((c, int(k)), zero)[0] for c in KNOWN_COMPOUNDS])
            fsxy = np.array([field.get((c, int(k)), zero)[1] for c in KNOWN_COMPOUNDS])
            tr, tn = trend[(compound, int(k))]
            for t, actual in zip(laps_g[target], times[target]):
                rows["k"].append(int(k))
                rows["driver"].append(driver)
                rows["stint"].append(int(stint))
                rows["t"].append(int(t))
                rows["actual"].append(float(actual))
                rows["naive"].append(float(yb[0]))
                rows["compound"].append(compound)
                rows["y"].append(np.r_[yb, np.full(pad, np.nan)])
                rows["lap"].append(np.r_[lb.astype(float), np.full(pad, np.nan)])
                rows["neutral"].append(np.r_[nb.astype(float), np.zeros(pad)])
                rows["fsxx"].append(fsxx)
                rows["fsxy"].append(fsxy)
                rows["osxx"].append(own_sxx)
                rows["osxy"].append(own_sxy)
                rows["trend"].append(tr)
                rows["trend_n"].append(tn)
    if not rows["k"]:
        raise ValueError(f"{name}: no stint has {MIN_EARLIER_CLEAN_LAPS} clean laps before a lap to forecast")
    a = {f: np.asarray(v) for f, v in rows.items()}
    return RaceInstances(name=name, k=a["k"], driver=a["driver"], stint=a["stint"], target_lap=a["t"],
                         actual_s=a["actual"], naive_s=a["naive"], compound=a["compound"], y=a["y"], lap=a["lap"],
                         neutral=a["neutral"], field_sxx=a["fsxx"], field_sxy=a["fsxy"], own_sxx=a["osxx"],
                         own_sxy=a["osxy"], trend_s_per_lap=a["trend"], trend_n=a["trend_n"],
                         whole_race_slope={c: (sxy, sxx) for c, (sxy, sxx) in whole.items()})


def predict_instances(inst: RaceInstances, params: PaceParams) -> np.ndarray:
    """The forecast lap time of every row of ``inst``, s."""
    col = FORGET.index(params.field_forget)
    priors = np.array([params.slope_prior(c) for c in KNOWN_COMPOUNDS])
    sxx, sxy = inst.field_sxx[:, :, col], inst.field_sxy[:, :, col]
    own = np.array([KNOWN_COMPOUNDS.index(c) for c in inst.compound])
    rows = np.arange(own.size)
    s0 = priors[own]
    is_wet = np.array([c not in DRY_COMPOUNDS for c in inst.compound])
    lf = np.where(is_wet, params.wet_field_prior_laps2, params.field_prior_laps2)
    slope_field = (sxy[rows, own] + lf * s0) / (sxx[rows, own] + lf)
    lo = params.own_prior_laps2
    slope = (inst.own_sxy + lo * slope_field) / (inst.own_sxx + lo)
    t = inst.target_lap[:, None].astype(float)
    # level at the last input lap l_1 (older laps moved along the slope), then a damped trend to t
    past = (inst.lap[:, :1] - inst.lap) - (1.0 - params.sc_lap_weight) * (inst.neutral - inst.neutral[:, :1])
    adjusted = inst.y + slope[:, None] * past
    excess = np.where(inst.trend_n > 0, inst.trend_s_per_lap - slope_field, 0.0)
    weights = params.level_decay ** np.arange(LEVEL_LAPS, dtype=float)[None, :] * np.isfinite(inst.y)
    level = np.nansum(adjusted * weights, axis=1) / weights.sum(axis=1)
    ahead = (t[:, 0] - inst.lap[:, 0]) - (1.0 - params.sc_lap_weight) * inst.neutral[:, 0]
    phi = params.trend_damping
    damped = ahead if phi == 1.0 else phi * (1.0 - phi ** ahead) / (1.0 - phi)
    steady = level + slope * damped
    # changing conditions (the field's recent trend far from the stint slope, or a wet compound when
    # the other races say so): the last clean lap, since older laps and the slope describe other conditions
    with np.errstate(invalid="ignore", divide="ignore"):
        steps = np.diff(inst.y[:, :3], axis=1) / np.diff(inst.lap[:, :3], axis=1)  # older minus newer per lap
    own_change = -np.nanmean(steps, axis=1)  # the stint's own recent change per lap (>= 3 input laps exist)
    changing = ((excess > params.slower_threshold_s_per_lap) | (-excess > params.faster_threshold_s_per_lap)
                | (np.abs(own_change - slope) > params.own_change_threshold_s_per_lap))
    steady = (1.0 - params.naive_weight) * steady + params.naive_weight * inst.y[:, 0]
    return np.where(changing, inst.y[:, 0], steady)


def _ratio(race: RaceInstances, params: PaceParams) -> float:
    """Model MAE / naive MAE on one race."""
    return float(np.mean(np.abs(predict_instances(race, params) - race.actual_s))
                 / np.mean(np.abs(race.naive_s - race.actual_s)))


def slope_priors(races: Sequence[RaceInstances]) -> dict[str, float]:
    """Compound -> mean over ``races`` that ran it of each race's pooled within-stint slope, s/lap."""
    per_compound: dict[str, list[float]] = {}
    for r in races:
        for c, (sxy, sxx) in r.whole_race_slope.items():
            if sxx > 0:
                per_compound.setdefault(c, []).append(sxy / sxx)
    return {c: float(np.mean(v)) for c, v in sorted(per_compound.items())}


_GRID = {"level_decay": (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0),
         "field_prior_laps2": (20.0, 200.0, 2000.0, 20000.0),
         "own_prior_laps2": (200.0, 1000.0, 1e9),
         "sc_lap_weight": (0.0, 0.25, 0.5, 0.75, 1.0),
         "field_forget": FORGET,
         "trend_damping": (1.0, 0.95, 0.9, 0.8, 0.6),
         "slower_threshold_s_per_lap": (0.15, 0.25, 0.4, 0.6, 1.0, 1e9),
         "faster_threshold_s_per_lap": (0.15, 0.25, 0.4, 0.6, 1.0, 1e9),
         "wet_field_prior_laps2": (20.0, 200.0, 2000.0, 20000.0),
         "naive_weight": (0.0, 0.2, 0.35, 0.5),
         "own_change_threshold_s_per_lap": (0.4, 0.6, 0.8, 1.2, 1e9)}


def fit_pace_params(races: Sequence[RaceInstances], sweeps: int = 3) -> PaceParams:
    """Cross-race parameters fitted on ``races`` only: slope priors, then a coordinate search of the rest.

    The slope prior of a compound is the mean over the races that ran it of each race's
    pooled within-stint slope (`slope_priors`); the other parameters minimise the mean over
    the races of model MAE / naive MAE, each race scored with slope priors from the others,
    one parameter at a time over a fixed grid, ``sweeps`` times (deterministic).
    """
    if not races:
        raise ValueError("races: at least one race is needed to fit cross-race parameters")
    # Each training race is scored with slope priors from the *other* training races, as the
    # held-out race will be: priors fitted on the race itself would flatter trusting them.
    inner = [slope_priors([o for o in races if o is not r]) if len(races) > 1 else {} for r in races]

    def objective(params: PaceParams) -> float:
        ratios = [_ratio(r, dataclasses.replace(params, slope_prior_s_per_lap=p)) for r, p in zip(races, inner)]
        return 0.5 * float(np.mean(ratios)) + 0.5 * float(np.max(ratios))  # on average and on the worst race

    params = PaceParams(slope_prior_s_per_lap=slope_priors(races), source=", ".join(r.name for r in races))
    best = objective(params)
    for _ in range(sweeps):
        for name, values in _GRID.items():
            for v in values:
                trial = dataclasses.replace(params, **{name: v})
                score = objective(trial)
                if score < best - 1e-9:
                    params, best = trial, score
    return params


def forecast_race(inst: RaceInstances, params: PaceParams) -> pd.DataFrame:
    """Every scored forecast of a race: ``k``, ``Driver``, ``Stint``, ``LapNumber``, ``Predicted``, ``Naive``, ``Actual``."""
    return pd.DataFrame({"k": inst.k, "Driver": inst.driver, "Stint": inst.stint, "LapNumber": inst.target_lap,
                         "Compound": inst.compound, "Predicted": predict_instances(inst, params),
                         "Naive": inst.naive_s, "Actual": inst.actual_s})

