"""Calibration of the finish prediction against the simulator's own races (issue 19 item 2).

The simulator's races have a known truth: a prediction fitted from the laps 1..K of a simulated
race must give probabilities that match how often such races actually end that way. Cars are
binned by predicted probability; in each bin the number of cars that won (reached the podium)
should be the sum of their predicted probabilities within binomial error.

Used by ``tests/unit/test_predict_calibration.py`` (asserts it) and
``tests/benchmarks/bench_predict_calibration.py`` (prints it).
"""

from __future__ import annotations

import numpy as np

from workbench.race.definition import RaceDefinition
from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.predict import predict_from_laps

__all__ = ["BINS", "calibration_outcomes", "binned_calibration"]

BINS = ((0.0, 0.05), (0.05, 0.3), (0.3, 0.7), (0.7, 1.01))


def calibration_outcomes(race: RaceDefinition, seeds: int = 16, at_lap: int = 20, runs: int = 400,
                         first_seed: int = 100) -> np.ndarray:
    """Predicted P(win), P(podium) at ``at_lap`` and the finishing position, one row per car per race.

    Race ``s`` is the simulator's race of seed ``first_seed + s``, predicted with ``runs`` Monte
    Carlo races of seed ``s`` and ``race_priors=True``, as the live hub does.
    """
    rows = []
    for s in range(seeds):
        laps = TelemetrySimulator(race, seed=first_seed + s, sample_drivers=[]).laps_frame()
        pred = predict_from_laps(laps, at_lap, runs=runs, seed=s, track=race, race_priors=True)
        for r in pred.drivers:
            rows.append((r["p_win"], r["p_podium"], pred.actual["position"][r["driver"]]))
    return np.array(rows)


def binned_calibration(outcomes: np.ndarray, event: str) -> list[dict]:
    """Per probability bin: cars, expected count (sum of probabilities), observed count, binomial sd.

    ``event`` is ``"win"`` (column 0, position 1) or ``"podium"`` (column 1, positions 1-3).
    Empty bins are left out.
    """
    column, places = {"win": (0, 1), "podium": (1, 3)}[event]
    p, happened = outcomes[:, column], outcomes[:, 2] <= places
    rows = []
    for lo, hi in BINS:
        m = (p >= lo) & (p < hi)
        if m.any():
            rows.append({"event": event, "bin": (lo, hi), "cars": int(m.sum()), "expected": float(p[m].sum()),
                         "observed": int(happened[m].sum()), "sd": float(np.sqrt((p[m] * (1 - p[m])).sum()))})
    return rows
