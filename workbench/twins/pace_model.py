"""Next-laps pace forecast that generalises across races: cross-race priors + the race's own earlier laps.

A forecast is made at the start of lap ``k`` for laps ``k..k+4`` of a car's current stint,
from laps numbered before ``k`` only (every car's):

    level  = sum_j w_j * (y_j + slope * (l_1 - l_j)) / sum_j w_j     (the stint's recent input laps)
    pred   = (1 - naive_weight) * (level + slope * D(t - l_1)) + naive_weight * y_1

- ``y_j``, ``l_j``: raw lap time and lap number of the stint's last `LEVEL_LAPS` input laps
  before k, most recent first (``y_1`` is what the naive predictor repeats);
  ``w_j = level_decay ** (j - 1)``.
- lap distances count a neutralised or untimed lap (SC, VSC, yellow, red) as
  ``sc_lap_weight`` of a green lap (less fuel burnt, less wear); laps from k on are unknown
  and count as green. ``D(n) = sum_{i=1..n} trend_damping ** i`` (Holt's damped trend).
- ``slope``: the total per-lap change of the raw lap time within a stint: tyre wear, fuel
  burn and track evolution together. Within one stint they are collinear, so only their
  sum matters for the next laps, and no race distance or fuel load is needed. Per compound a
  conjugate normal update: the prior mean is the cross-race mean slope of the compound
  (`slope_priors`), worth ``field_prior_laps2`` (``wet_field_prior_laps2`` for INTERMEDIATE
  and WET) in units of the pooled within-stint Sxx (lap^2) of every car's input laps of this
  race before k. A wet-weather tyre's slope is the weather's (a track drying or getting wetter),
  which another race cannot tell: ``wet_field_prior_laps2`` is fixed a priori at
  `WET_FIELD_PRIOR_LAPS2` (weak: the race's own laps decide), not fitted. Fitted, it was decided
  by the one or two training races that had rain and flipped between 20 and 20000 with the
  training set (docs/twins.md).
- changing conditions: when the field's mean lap-to-lap change on the compound over the
  last `TREND_WINDOW_LAPS` laps before k exceeds the slope by ``slower_threshold_s_per_lap``
  (rain arriving) or falls below it by ``faster_threshold_s_per_lap`` (drying), the forecast
  is the last clean lap ``y_1``: older laps and the slope describe other conditions.

Input laps (`causal_flags`): timed, TrackStatus all green, not lap 1, not an in- or out-lap,
not the first lap after a neutralised or untimed lap (restart, cold tyres), and not more than
`OUTLIER_S` slower than the median of the stint's previous 5 green laps (a screen that uses no
later lap). Scored laps: the clean-lap screen of `mark_clean_laps` (timed, green, not lap 1, not
an in- or out-lap, within 2 s of its stint's median), the same laps for the model and for the
naive "repeat the last clean (input) lap"; a forecast is scored once its stint has
`MIN_EARLIER_CLEAN_LAPS` input laps before k. The cross-race parameters (`fit_pace_params`)
are fitted only on the races given, never on the race scored.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.paths import bundled_data_dir
from workbench.telemetry.records import DRY_COMPOUNDS
from workbench.twins.lap_table import check_lap_table, mark_clean_laps

__all__ = ["PaceParams", "RaceInstances", "causal_flags", "build_instances", "predict_instances", "slope_priors",
           "fit_pace_params", "forecast_race", "HORIZON_LAPS", "MIN_EARLIER_CLEAN_LAPS", "LEVEL_LAPS",
           "TREND_WINDOW_LAPS", "OUTLIER_S", "WET_FIELD_PRIOR_LAPS2", "pace_params_bundle", "bundled_pace_params",
           "BUNDLED_PACE_PARAMS_FILE"]

HORIZON_LAPS = 5  # laps k..k+4
MIN_EARLIER_CLEAN_LAPS = 3  # a stint is forecast once it has this many input laps before k
LEVEL_LAPS = 8  # the stint's last input laps that can enter the level
TREND_WINDOW_LAPS = 3  # laps before k whose lap-to-lap changes make the field trend
OUTLIER_S = 2.0  # a lap this much slower than the median of the stint's previous green laps is not an input
_OUTLIER_HISTORY_LAPS = 5
# mark_clean_laps' flags that make a lap not a green racing lap (PitLane, Deleted, Inaccurate where it sets them)
_NOT_GREEN_FLAGS = ("PitIn", "PitOut", "PitLane", "Neutralised", "LapOne", "NoTime", "Deleted", "Inaccurate")
GENERIC_SLOPE_S_PER_LAP = 0.0  # slope prior when no race ran any compound (never with real races)
BUNDLED_PACE_PARAMS_FILE = "pace-params.json"  # in data/, built by data/build_catalogue.py
WET_FIELD_PRIOR_LAPS2 = 20.0  # INTERMEDIATE/WET slope prior strength, fixed a priori (module docstring)


@dataclasses.dataclass(frozen=True)
class PaceParams:
    """Cross-race parameters of the forecast (see the module docstring); ``source`` names the races fitted on."""

    slope_prior_s_per_lap: Mapping[str, float]
    level_decay: float = 0.5
    field_prior_laps2: float = 200.0
    wet_field_prior_laps2: float = WET_FIELD_PRIOR_LAPS2
    sc_lap_weight: float = 1.0
    trend_damping: float = 1.0
    slower_threshold_s_per_lap: float = 1e9
    faster_threshold_s_per_lap: float = 1e9
    naive_weight: float = 0.0
    source: str = "generic"

    def slope_prior(self, compound: str) -> float:
        """Prior mean of a compound's slope, s/lap; a compound no race ran gets the mean of the others."""
        if compound in self.slope_prior_s_per_lap:
            return float(self.slope_prior_s_per_lap[compound])
        values = list(self.slope_prior_s_per_lap.values())
        return float(np.mean(values)) if values else GENERIC_SLOPE_S_PER_LAP

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["slope_prior_s_per_lap"] = {c: round(float(v), 4) for c, v in sorted(self.slope_prior_s_per_lap.items())}
        return out

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> PaceParams:
        """The inverse of `to_dict` (as stored in ``data/pace-params.json``).

        Raises
        ------
        ValueError
            Naming a field that is not a parameter.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        for key in obj:
            if key not in names:
                raise ValueError(f"pace parameters: {key!r} is not a field of PaceParams ({', '.join(sorted(names))})")
        return cls(**{**obj, "slope_prior_s_per_lap": {str(c): float(v) for c, v in
                                                      obj.get("slope_prior_s_per_lap", {}).items()}})


def causal_flags(laps: pd.DataFrame) -> pd.DataFrame:
    """The lap table with ``Scored`` (a lap both predictors are scored on) and ``Input`` (a lap a forecast may use).

    ``Green``: timed, TrackStatus all green, not lap 1, not an in-lap or out-lap (nor any other
    lap `mark_clean_laps` sets aside: a pit-lane pass, a deleted or inaccurate lap).
    ``Scored``: ``Green`` and within 2 s of the stint's median (``Outlier`` of `mark_clean_laps`;
    it uses the whole stint, so it only chooses which laps are scored, never an input).
    ``Input``: ``Green``, not the first lap after a neutralised or untimed one, and not more than
    `OUTLIER_S` slower than the median of the stint's previous (up to 5) green laps, a screen
    that uses no later lap. ``Neutral``: the lap was neutralised or untimed.
    """
    df = mark_clean_laps(check_lap_table(laps) if "Clean" not in laps.columns else laps)
    df = df.sort_values(["Driver", "LapNumber"], ignore_index=True)
    excluded = [c for c in _NOT_GREEN_FLAGS if c in df.columns]  # the flags the clean-lap screen sets
    df["Green"] = ~df[excluded].any(axis=1)
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

    ``y``/``lap``/``neutral``: the stint's last `LEVEL_LAPS` input laps before k (most recent
    first, NaN-padded) and the neutralised laps from each to k; ``field_sxx``/``field_sxy``:
    the pooled within-stint sums of the compound on every car's input laps before k;
    ``trend_s_per_lap``/``trend_n``: the field's mean lap-to-lap change on the compound over the
    last `TREND_WINDOW_LAPS` laps before k and how many changes it averages.
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
    trend_s_per_lap: np.ndarray
    trend_n: np.ndarray
    whole_race_slope: dict[str, tuple[float, float]]  # compound -> (Sxy, Sxx) on every input lap of the race

    def __len__(self) -> int:
        return int(self.k.size)


def _within_sums(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """Pooled within-group Sxx and Sxy (each group centred on its own mean)."""
    if x.size == 0:
        return 0.0, 0.0
    _, inv, counts = np.unique(groups, return_inverse=True, return_counts=True)
    xc = x - (np.bincount(inv, weights=x) / counts)[inv]
    yc = y - (np.bincount(inv, weights=y) / counts)[inv]
    return float(xc @ xc), float(xc @ yc)


def build_instances(laps: pd.DataFrame, name: str = "race") -> RaceInstances:
    """Every forecast at every lap ``k``: scored targets k..k+4 of a stint with enough input laps before k.

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
    consecutive = np.r_[False, (stint_key[1:] == stint_key[:-1]) & (in_lap[1:] == in_lap[:-1] + 1)]
    deltas = np.r_[np.nan, np.diff(in_y)]
    whole, field, trend = {}, {}, {}
    for c in np.unique(in_comp):
        mc = in_comp == c
        sxx, sxy = _within_sums(in_lap[mc].astype(float), in_y[mc], stint_key[mc])
        whole[str(c)] = (sxy, sxx)
        for k in range(2, n_laps + 1):
            m = mc & (in_lap < k)
            field[(c, k)] = _within_sums(in_lap[m].astype(float), in_y[m], stint_key[m])
            w = mc & consecutive & (in_lap < k) & (in_lap >= k - TREND_WINDOW_LAPS)
            trend[(c, k)] = (float(np.mean(deltas[w])) if w.any() else 0.0, int(w.sum()))
    rows: dict[str, list] = {f: [] for f in ("k", "driver", "stint", "t", "actual", "naive", "compound", "y", "lap",
                                             "neutral", "fsxx", "fsxy", "trend", "trend_n")}
    for (driver, stint), g in df.groupby(["Driver", "Stint"], sort=True):
        laps_g = g.LapNumber.to_numpy()
        times = g.LapTime.to_numpy()
        is_in = g.Input.to_numpy()
        is_scored = g.Scored.to_numpy()
        neutral = g.Neutral.to_numpy()
        compound = str(g.Compound.iloc[0])
        for k in laps_g:
            before = is_in & (laps_g < k)
            target = is_scored & (laps_g >= k) & (laps_g <= k + HORIZON_LAPS - 1)
            if before.sum() < MIN_EARLIER_CLEAN_LAPS or not target.any():
                continue
            yb, lb = times[before][::-1][:LEVEL_LAPS], laps_g[before][::-1][:LEVEL_LAPS]
            nb = np.array([float((neutral & (laps_g > lj) & (laps_g < k)).sum()) for lj in lb])
            pad = LEVEL_LAPS - yb.size
            fsxx, fsxy = field[(compound, int(k))]
            tr, tn = trend[(compound, int(k))]
            for t, actual in zip(laps_g[target], times[target]):
                for key, value in (("k", int(k)), ("driver", driver), ("stint", int(stint)), ("t", int(t)),
                                   ("actual", float(actual)), ("naive", float(yb[0])), ("compound", compound),
                                   ("y", np.r_[yb, np.full(pad, np.nan)]),
                                   ("lap", np.r_[lb.astype(float), np.full(pad, np.nan)]),
                                   ("neutral", np.r_[nb, np.zeros(pad)]), ("fsxx", fsxx), ("fsxy", fsxy),
                                   ("trend", tr), ("trend_n", tn)):
                    rows[key].append(value)
    if not rows["k"]:
        raise ValueError(f"{name}: no stint has {MIN_EARLIER_CLEAN_LAPS} clean laps before a lap to forecast")
    a = {f: np.asarray(v) for f, v in rows.items()}
    return RaceInstances(name=name, k=a["k"], driver=a["driver"], stint=a["stint"], target_lap=a["t"],
                         actual_s=a["actual"], naive_s=a["naive"], compound=a["compound"], y=a["y"], lap=a["lap"],
                         neutral=a["neutral"], field_sxx=a["fsxx"], field_sxy=a["fsxy"], trend_s_per_lap=a["trend"],
                         trend_n=a["trend_n"], whole_race_slope=whole)


def predict_instances(inst: RaceInstances, params: PaceParams) -> np.ndarray:
    """The forecast lap time of every row of ``inst``, s."""
    compounds, inverse = np.unique(inst.compound, return_inverse=True)
    s0 = np.array([params.slope_prior(str(c)) for c in compounds])[inverse]
    wet = np.array([str(c) not in DRY_COMPOUNDS for c in compounds])[inverse]
    strength = np.where(wet, params.wet_field_prior_laps2, params.field_prior_laps2)
    slope = (inst.field_sxy + strength * s0) / (inst.field_sxx + strength)
    # the level at the last input lap l_1: each recent lap moved along the slope to l_1
    sc = 1.0 - params.sc_lap_weight
    past = (inst.lap[:, :1] - inst.lap) - sc * (inst.neutral - inst.neutral[:, :1])
    weights = params.level_decay ** np.arange(LEVEL_LAPS, dtype=float)[None, :] * np.isfinite(inst.y)
    level = np.nansum((inst.y + slope[:, None] * past) * weights, axis=1) / weights.sum(axis=1)
    # then a damped slope to the target lap t
    ahead = (inst.target_lap - inst.lap[:, 0]) - sc * inst.neutral[:, 0]
    phi = params.trend_damping
    damped = ahead if phi == 1.0 else phi * (1.0 - phi ** ahead) / (1.0 - phi)
    steady = (1.0 - params.naive_weight) * (level + slope * damped) + params.naive_weight * inst.y[:, 0]
    # changing conditions: the field's recent change far from the slope; the last clean lap is the best guide
    excess = np.where(inst.trend_n > 0, inst.trend_s_per_lap - slope, 0.0)
    changing = (excess > params.slower_threshold_s_per_lap) | (-excess > params.faster_threshold_s_per_lap)
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
         "sc_lap_weight": (0.0, 0.25, 0.5, 0.75, 1.0),
         "trend_damping": (1.0, 0.95, 0.9, 0.8, 0.6),
         "slower_threshold_s_per_lap": (0.15, 0.25, 0.4, 0.6, 1.0, 1e9),
         "faster_threshold_s_per_lap": (0.15, 0.25, 0.4, 0.6, 1.0, 1e9),
         "naive_weight": (0.0, 0.2, 0.35, 0.5)}


def fit_pace_params(races: Sequence[RaceInstances], sweeps: int = 2) -> PaceParams:
    """Cross-race parameters fitted on ``races`` only: slope priors, then a coordinate search of the rest.

    The slope prior of a compound is the mean over the races that ran it of each race's
    pooled within-stint slope (`slope_priors`). The other parameters minimise
    ``0.5 * mean + 0.5 * max`` over the races of model MAE / naive MAE (good on average and
    on the worst race), each race scored with slope priors from the *other* races as the
    held-out race will be; one parameter at a time over a fixed grid, ``sweeps`` times
    (deterministic, no random draw). ``wet_field_prior_laps2`` is not fitted
    (`WET_FIELD_PRIOR_LAPS2`).

    Raises
    ------
    ValueError
        If ``races`` is empty.
    """
    if not races:
        raise ValueError("races: at least one race is needed to fit cross-race parameters")
    inner = [slope_priors([o for o in races if o is not r]) for r in races]

    def objective(params: PaceParams) -> float:
        ratios = [_ratio(r, dataclasses.replace(params, slope_prior_s_per_lap=p)) for r, p in zip(races, inner)]
        return 0.5 * float(np.mean(ratios)) + 0.5 * float(np.max(ratios))

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
    """Every scored forecast of a race (columns ``k``, ``Driver``, ``Stint``, ``LapNumber``, ``Compound``,
    ``Predicted``, ``Naive``, ``Actual``)."""
    return pd.DataFrame({"k": inst.k, "Driver": inst.driver, "Stint": inst.stint, "LapNumber": inst.target_lap,
                         "Compound": inst.compound, "Predicted": predict_instances(inst, params),
                         "Naive": inst.naive_s, "Actual": inst.actual_s})


def pace_params_bundle(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """The parameters ``data/pace-params.json`` bundles, fitted on ``tables`` (race name -> lap table).

    ``all``: fitted on every race; ``without``: per race, fitted on the others (what a backtest
    of that race may use and stay out of sample); ``races``: the names. Deterministic.
    """
    races = [build_instances(table, name) for name, table in tables.items()]
    without = {r.name: fit_pace_params([o for o in races if o is not r]).to_dict() for r in races} \
        if len(races) > 1 else {}
    return {"about": "cross-race pace model parameters (workbench.twins.pace_model.fit_pace_params), built by "
                     "data/build_catalogue.py from ../shared/data/real-races",
            "races": [r.name for r in races], "all": fit_pace_params(races).to_dict(), "without": without}


def bundled_pace_params(race: str | None = None) -> tuple[PaceParams, bool | None]:
    """The bundled cross-race parameters for forecasting ``race`` (its name in ``data/event-history.json``).

    Returns the parameters and whether they are out of sample for ``race``: for a bundled race,
    those fitted on the other bundled races (True); for another named race, those fitted on all of
    them (True); for an unnamed race (None), those fitted on all of them (None: if the table is a
    bundled race under another name, it was fitted on).
    """
    obj = json.loads((bundled_data_dir() / BUNDLED_PACE_PARAMS_FILE).read_text())
    if race is not None and race in obj["without"]:
        return PaceParams.from_dict(obj["without"][race]), True
    return PaceParams.from_dict(obj["all"]), (None if race is None else True)
