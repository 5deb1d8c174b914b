"""The race fit's lap-time model and pit-loss measurement recover what a synthetic race was built with."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.strategy.racefit.lapmodel import fit_lap_model, pit_losses, status_kind

N_LAPS = 50
BURN = 100.0 / N_LAPS
MASS = 0.035
K1 = {"SOFT": 0.10, "HARD": 0.05}
OFFSET = {"SOFT": 0.0, "HARD": 0.4}
PIT_TOTAL_S = 21.0


def synthetic_race(seed: int = 1) -> pd.DataFrame:
    """20 cars, one stop each (SOFT -> HARD) at different laps; team B wears its tyres 1.5x as fast."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(20):
        driver = f"D{i:02d}"
        team = "B" if i < 4 else f"T{i // 2}"
        factor = 1.5 if team == "B" else 1.0
        stop = 15 + i % 12
        for lap in range(1, N_LAPS + 1):
            stint, compound = (1, "SOFT") if lap <= stop else (2, "HARD")
            age = lap if stint == 1 else lap - stop
            fuel = 100.0 - BURN * lap
            t = (90.0 + 0.1 * i + OFFSET[compound] + factor * K1[compound] * age + MASS * fuel
                 + rng.normal(0, 0.2))
            status = "1"
            if lap == stop:
                t += PIT_TOTAL_S * 0.6
            if lap == stop + 1:
                t += PIT_TOTAL_S * 0.4
            rows.append({"Driver": driver, "Team": team, "LapNumber": lap, "LapTime": t, "Compound": compound,
                         "Stint": stint, "TyreLife": age, "Position": i + 1, "TrackStatus": status})
    return pd.DataFrame(rows)


def test_lap_model_recovers_wear_offsets_fuel_and_team_factor():
    fit = fit_lap_model(synthetic_race(), N_LAPS, 100.0)
    assert fit.reference == "SOFT"
    for c in ("SOFT", "HARD"):
        assert fit.k1_s[c] == pytest.approx(K1[c] * 1.1, abs=3 * fit.k1_sd_s[c] + 0.02)  # 4 of 20 cars wear 1.5x
        assert fit.k1_sd_s[c] > 0
    assert fit.offset_s["HARD"] == pytest.approx(0.4, abs=0.1)
    assert fit.mass_effect_s_per_kg == pytest.approx(MASS, abs=0.004)
    assert fit.mass_effect_source == "laps"
    team_b, sd = fit.team_factor["B"]
    others = np.mean([f for t, (f, _) in fit.team_factor.items() if t != "B"])
    assert team_b - others > 0.3 and sd > 0  # team B is found to wear faster than the rest


def test_pit_loss_is_measured_by_status():
    laps = synthetic_race()
    losses = pit_losses(fit_lap_model(laps, N_LAPS, 100.0))
    assert len(losses["GREEN"]) == 20 and not losses["SC"] and not losses["VSC"]
    assert np.median(losses["GREEN"]) == pytest.approx(PIT_TOTAL_S, abs=0.5)
    sc = laps.copy()
    first = sc[(sc.Driver == "D00")].LapNumber[sc.Driver == "D00"].iloc[14]  # D00 stops at the end of lap 15
    sc.loc[sc.LapNumber.isin([first, first + 1]), "TrackStatus"] = "4"
    losses = pit_losses(fit_lap_model(sc, N_LAPS, 100.0))
    assert len(losses["SC"]) >= 1


def test_status_kind_reads_fastf1_digits():
    assert [status_kind(v) for v in ("1", "12", "124", "16", "1254", None, 1.0)] == [
        "GREEN", "GREEN", "SC", "VSC", "RED", "GREEN", "GREEN"]
