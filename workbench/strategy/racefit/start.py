"""The start model: how much the order changes from the grid to the end of lap 1.

Fitted on the real races (``../shared/data/real-races``) by ``data/build_catalogue.py`` into
``data/start-model.json``: per race, every car's grid rank and lap-1 rank, and the lap-1 time
lost to the standing start against the grid slot (when lap 1 ran without a red flag).

A race fit (`start_parameters`) takes the lap-1 time loss and its slope per grid slot from its
own lap 1 (``laps``), or from the other races of the start model when its lap 1 is not usable
(red flag). The spread ``start_sigma_s`` is then chosen so that the simulator's lap-1 model
reproduces the *position changes* of the start model: the target mean |grid - lap-1 position| is
the race's own value blended with the other races' mean (`OTHER_RACES_WEIGHT`), so the field is not
reshuffled more than real starts do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.kernels.layout import PASS_HOLD_S, PASS_SCALE_S
from workbench.paths import bundled_data_dir

__all__ = ["lap1_changes", "start_loss_fit", "start_parameters", "start_sigma_for", "load_start_model",
           "mean_abs_change", "lap1_loss_s", "build_start_model", "grid_ranks",
           "OTHER_RACES_WEIGHT", "SIGMA_DRAWS", "SIGMA_SEED"]

OTHER_RACES_WEIGHT = 3.0  # the other races' mean change counts as this many races beside the race's own lap 1
SIGMA_DRAWS = 4000  # simulated starts per candidate sigma
SIGMA_SEED = 20240302  # fixes the draws of the sigma calibration
SLOT_BANDS = ((1, 3), (4, 10), (11, 30))
DRS_PASS_BONUS_S = 0.3  # the pass-model DRS bonus workbench.strategy.montecarlo.pack gives a track with DRS


def grid_ranks(grid: dict[str, int], drivers) -> dict[str, int]:
    """Grid slot among ``drivers`` (1..n), pit-lane starters (grid 0) at the back in car order."""
    keyed = sorted(drivers, key=lambda d: (grid.get(d, 0) or 99, d))
    return {d: i + 1 for i, d in enumerate(keyed)}


def lap1_changes(laps: pd.DataFrame, grid: dict[str, int]) -> list[list[int]]:
    """``[grid_rank, lap1_rank]`` of every car with a lap-1 Position (ranks among those cars)."""
    lap1 = laps[laps.LapNumber == 1][["Driver", "Position"]].dropna()
    lap1 = lap1[lap1.Driver.isin(list(grid))]
    g = grid_ranks(grid, list(lap1.Driver))
    order = lap1.sort_values("Position").Driver.tolist()
    return [[g[d], i + 1] for i, d in enumerate(order)]


def lap1_loss_s(fit) -> dict[str, float]:
    """Each fitted car's lap-1 time minus its model lap (the `LapFit` at lap 1, age 1)."""
    df = fit.table
    out = {}
    for d, intercept in fit.intercept_s.items():
        row = df[(df.Driver == d) & (df.LapNumber == 1)]
        if len(row) and np.isfinite(row.LapTime.iloc[0]):
            c = str(row.Compound.iloc[0])
            expect = intercept + fit.lap_term_s + fit.offset_s.get(c, 0.0) + fit.k1_s.get(c, 0.0)
            out[d] = float(row.LapTime.iloc[0] - expect)
    return out


def build_start_model(races: dict[str, pd.DataFrame], history) -> dict[str, Any]:
    """The start model of ``data/start-model.json`` from real races (name -> lap table) and their grids.

    Per race: ``pairs`` ([grid rank, lap-1 rank] per car), ``mean_abs_change``, ``by_slot``
    (mean |change| for grid slots 1-3, 4-10, 11+) and ``loss`` (the lap-1 time loss fit),
    each null when lap 1 ran under a red flag (the order after the restart is the grid's).
    """
    from workbench.strategy.racefit.fit import FUEL_START_KG
    from workbench.strategy.racefit.lapmodel import fit_lap_model

    out = {}
    for name, laps in sorted(races.items()):
        facts = history.facts(name)
        fit = fit_lap_model(laps, facts.laps or int(laps.LapNumber.max()), FUEL_START_KG)
        red = bool((fit.table[fit.table.LapNumber == 1].Kind == "RED").any())
        drivers = sorted(fit.table.Driver.unique())
        ranks = grid_ranks({d: facts.grid.get(d, 0) for d in drivers}, drivers)
        pairs = [] if red else lap1_changes(fit.table, ranks)
        by_slot = {f"{lo}-{hi}": (round(mean_abs_change([p for p in pairs if lo <= p[0] <= hi]), 3)
                                  if any(lo <= p[0] <= hi for p in pairs) else None) for lo, hi in SLOT_BANDS}
        loss = None if red else start_loss_fit(lap1_loss_s(fit), ranks)
        out[name] = {"red_flag_lap1": red, "pairs": pairs,
                     "mean_abs_change": round(mean_abs_change(pairs), 3) if pairs else None, "by_slot": by_slot,
                     "loss": {k: round(v, 3) for k, v in loss.items()} if loss else None}
    return {"source": "Built by data/build_catalogue.py from ../shared/data/real-races (lap-1 Position and "
                      "LapTime) and the grids of ../shared/data/historical/results.csv; see data/README.md",
            "races": out}


def mean_abs_change(pairs) -> float:
    return float(np.mean([abs(a - b) for a, b in pairs])) if len(pairs) else float("nan")


def start_loss_fit(lap1_loss_s: dict[str, float], ranks: dict[str, int]) -> dict[str, float] | None:
    """Lap-1 loss vs the car's model lap, regressed on grid slot: intercept, slope and residual sd."""
    drivers = [d for d in lap1_loss_s if d in ranks and np.isfinite(lap1_loss_s[d])]
    if len(drivers) < 8:
        return None
    g = np.array([ranks[d] - 1 for d in drivers], dtype=float)
    y = np.array([lap1_loss_s[d] for d in drivers])
    slope, intercept = np.polyfit(g, y, 1)
    sd = float(np.std(y - (intercept + slope * g), ddof=2))
    return {"start_loss_s": float(intercept), "per_slot_s": float(slope), "resid_sd_s": sd}


def start_sigma_for(target_change: float, per_slot_s: float, pace_by_rank: np.ndarray,
                    noise_by_rank: np.ndarray, overtaking_difficulty: float = 0.5, min_gap_s: float = 0.4,
                    drs: bool = True) -> float:
    """Smallest lap-1 sigma whose simulated mean |grid - lap-1 rank| reaches ``target_change``.

    The simulator's lap 1 (``workbench/kernels/numba_race.py``): cars leave in grid order; each
    lap-1 time is the car's pace plus ``per_slot_s`` per slot behind pole, its lap noise and the
    start noise ``sigma``; then, down the order, a car that would cross the line less than
    ``min_gap_s`` behind the car ahead passes it with the kernel's probability (overtaking
    difficulty, DRS bonus, `PASS_SCALE_S`) or is held behind it. Common random numbers
    (`SIGMA_SEED`) make the change monotone in sigma, so bisection finds it.
    """
    n = len(pace_by_rank)
    rng = np.random.default_rng(SIGMA_SEED)
    z_lap = rng.standard_normal((SIGMA_DRAWS, n))
    z_start = rng.standard_normal((SIGMA_DRAWS, n))
    u_pass = rng.random((SIGMA_DRAWS, n))
    slots = np.arange(n, dtype=float)
    fixed = per_slot_s * slots + pace_by_rank + noise_by_rank * z_lap
    bonus = DRS_PASS_BONUS_S if drs else 0.0

    def change(sigma: float) -> float:
        t = fixed + sigma * z_start
        for i in range(1, n):
            ta, tc = t[:, i - 1].copy(), t[:, i].copy()
            close = tc < ta + min_gap_s
            margin = ta - tc
            p = np.where(margin > -bonus, (1.0 - overtaking_difficulty)
                         * (1.0 - np.exp(-(margin + bonus) / PASS_SCALE_S)), 0.0)
            passed = close & (u_pass[:, i] < p)
            held = close & ~passed
            t[:, i - 1] = np.where(passed, np.maximum(ta, tc + PASS_HOLD_S), ta)
            t[:, i] = np.where(held, ta + min_gap_s, tc)
        ranks = np.argsort(np.argsort(t, axis=1, kind="stable"), axis=1, kind="stable")
        return float(np.abs(ranks - slots).mean())

    if change(0.0) >= target_change:
        return 0.0
    lo, hi = 0.0, 10.0
    if change(hi) < target_change:
        return hi
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if change(mid) < target_change else (lo, mid)
    return 0.5 * (lo + hi)


def load_start_model(path: str | Path | None = None) -> dict[str, Any]:
    """``data/start-model.json`` (or ``path``)."""
    path = Path(path) if path is not None else bundled_data_dir() / "start-model.json"
    return json.loads(path.read_text())


def start_parameters(race_name: str, own_pairs: list[list[int]], own_loss: dict[str, float] | None,
                     lap1_usable: bool, pace_by_rank: np.ndarray, noise_by_rank: np.ndarray,
                     model: dict[str, Any] | None, overtaking_difficulty: float = 0.5, min_gap_s: float = 0.4,
                     drs: bool = True) -> tuple[dict[str, float], dict[str, Any]]:
    """Fitted start parameters of a race and the report saying where each came from."""
    others = {k: v for k, v in (model or {}).get("races", {}).items() if k != race_name}
    other_changes = [v["mean_abs_change"] for v in others.values() if v.get("mean_abs_change") is not None]
    other_loss = [v["loss"] for v in others.values() if v.get("loss")]
    report: dict[str, Any] = {"other_races": sorted(others)}
    if lap1_usable and own_loss is not None:
        loss, loss_src = own_loss, "laps"
    elif other_loss:
        loss = {k: float(np.mean([o[k] for o in other_loss])) for k in ("start_loss_s", "per_slot_s", "resid_sd_s")}
        loss_src = "history"
        report["loss_note"] = "lap 1 of this race is not usable (red flag or too few times): mean of the other races"
    else:
        loss = {"start_loss_s": 2.5, "per_slot_s": 0.35, "resid_sd_s": 1.0}
        loss_src = "prior"
        report["loss_note"] = "no usable lap 1 and no start model: generic prior (Bahrain 2024's order of magnitude)"
    own_change = mean_abs_change(own_pairs) if lap1_usable and own_pairs else None
    pooled = float(np.mean(other_changes)) if other_changes else None
    if own_change is not None and pooled is not None:
        target = (own_change + OTHER_RACES_WEIGHT * pooled) / (1.0 + OTHER_RACES_WEIGHT)
        target_src = "laps+history"
    elif pooled is not None:
        target, target_src = pooled, "history"
    elif own_change is not None:
        target, target_src = own_change, "laps"
    else:
        target, target_src = 1.0, "prior"
    per_slot = max(0.0, loss["per_slot_s"])
    sigma = start_sigma_for(target, per_slot, pace_by_rank, noise_by_rank, overtaking_difficulty, min_gap_s, drs)
    report.update({"loss_source": loss_src, "target_mean_abs_change": round(target, 3), "target_source": target_src,
                   "own_mean_abs_change": None if own_change is None else round(own_change, 3),
                   "other_races_mean_abs_change": None if pooled is None else round(pooled, 3),
                   "lap_time_residual_sd_s": round(loss["resid_sd_s"], 3)})
    return ({"start_loss_s": max(0.0, loss["start_loss_s"]), "start_loss_per_grid_slot_s": per_slot,
             "start_sigma_s": sigma}, report)
