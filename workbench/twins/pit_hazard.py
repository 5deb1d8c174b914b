"""Pit-stop hazard: P(a car pits at the end of a lap), a discrete-time logistic model.

    logit h = b . [1, r, r^2, age/N, neutralised, stops_done - expected_stops, ln((laps_to_go + 1) / N)],
    r = ln(age / N)

``age`` is the tyre age in laps, ``N`` the compound's norm: the race's typical stint
(``total_laps / (expected_stops + 1)``) times the compound's life factor learned from the
stints already completed in this race (`compound_life`). ``neutralised`` is 1 under SC/VSC
(the cheap stop). The coefficients are fitted by ``data/build_pit_hazard.py`` on every
pit stop of 2014-2023 (Ergast tables, TracingInsights/RaceData, CC0) and bundled in
``data/pit-hazard.json``; 2024 races are held out for the calibration test.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence

import numpy as np

from workbench.paths import bundled_data_dir

__all__ = ["PitHazard", "hazard_features", "fit_logistic", "compound_life", "LIFE_PRIOR_STINTS"]

LIFE_PRIOR_STINTS = 3.0  # a compound's life factor starts at 1, worth this many completed stints


def hazard_features(tyre_age_laps, norm_laps, neutralised, stops_minus_expected, laps_to_go) -> np.ndarray:
    """Design matrix (n, 7) of the hazard model; arguments broadcast.

    Columns: 1, r, r^2, age/N (capped at 3), neutralised, stops_done - expected (clipped to
    [-2, 1]), ln((laps_to_go + 1) / N), with r = ln(age / N) and age at least 1.
    """
    age, norm, sc, extra, to_go = (a.ravel() for a in np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (
        tyre_age_laps, norm_laps, neutralised, stops_minus_expected, laps_to_go))))
    age = np.maximum(age, 1.0)
    r = np.log(age / norm)
    return np.column_stack([np.ones(age.size), r, r * r, np.minimum(age / norm, 3.0), sc, np.clip(extra, -2, 1),
                            np.log((np.maximum(to_go, 0.0) + 1.0) / norm)])


def fit_logistic(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Maximum-likelihood logistic regression by Newton's method (tiny ridge for stability)."""
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        grad = x.T @ (y - p) - ridge * beta
        hess = (x * w[:, None]).T @ x + ridge * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            break
    return beta


def compound_life(completed_stint_laps: Sequence[float], typical_stint_laps: float) -> float:
    """Life factor of a compound: mean completed stint / typical stint, shrunk towards 1."""
    ratios = np.asarray(completed_stint_laps, dtype=float) / typical_stint_laps
    return float((ratios.sum() + LIFE_PRIOR_STINTS) / (ratios.size + LIFE_PRIOR_STINTS))


@dataclasses.dataclass(frozen=True)
class PitHazard:
    """The fitted hazard; `bundled` loads the coefficients shipped in ``data/pit-hazard.json``."""

    coef: np.ndarray
    source: str = ""

    @classmethod
    def bundled(cls) -> PitHazard:
        obj = json.loads((bundled_data_dir() / "pit-hazard.json").read_text())
        return cls(coef=np.array(obj["coef"], dtype=float), source=obj["source"])

    def hazard(self, tyre_age_laps, norm_laps, neutralised, stops_minus_expected, laps_to_go) -> np.ndarray:
        """P(pit at the end of the lap) for each row; 0 when no lap is left to race after it."""
        x = hazard_features(tyre_age_laps, norm_laps, neutralised, stops_minus_expected, laps_to_go)
        h = 1.0 / (1.0 + np.exp(-(x @ self.coef)))
        return np.where(np.broadcast_to(np.asarray(laps_to_go, dtype=float), h.shape).ravel() >= 1, h, 0.0)

    def pit_within(self, horizon_laps: int, tyre_age_laps: float, norm_laps: float, neutralised: bool,
                   stops_minus_expected: float, laps_to_go: int) -> float:
        """P(the car pits within the next ``horizon_laps`` laps), tyre age growing one lap per lap.

        ``tyre_age_laps`` and ``laps_to_go`` are at the end of the last completed lap; the
        neutralisation is assumed to hold for the next lap only.
        """
        if horizon_laps < 1:
            raise ValueError(f"horizon_laps: {horizon_laps} is below minimum 1")
        i = np.arange(1, horizon_laps + 1)
        h = self.hazard(tyre_age_laps + i, norm_laps, np.where(i == 1, float(neutralised), 0.0),
                        stops_minus_expected, laps_to_go - i)
        return float(1.0 - math.prod(1.0 - h))
