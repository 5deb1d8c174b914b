"""Fuel burn per lap from fuel telemetry (or the race model when the car sends none), laps left, lift-and-coast."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["FuelEstimate", "estimate_fuel", "FUEL_MARGIN_KG"]

FUEL_MARGIN_KG = 1.0  # fuel to keep for the in-lap and the FIA sample after the flag


@dataclasses.dataclass(frozen=True)
class FuelEstimate:
    """Fuel state at the end of a lap; ``source`` is ``"telemetry"`` or ``"model"``."""

    fuel_kg: float
    burn_kg_per_lap: float
    burn_sd_kg: float | None
    laps_of_fuel: float
    laps_to_go: int
    lift_and_coast_kg_per_lap: float
    source: str

    @property
    def lift_and_coast_needed(self) -> bool:
        return self.lift_and_coast_kg_per_lap > 0.0

    def to_dict(self) -> dict:
        return {"fuel_kg": round(self.fuel_kg, 2), "burn_kg_per_lap": round(self.burn_kg_per_lap, 4),
                "burn_sd_kg": None if self.burn_sd_kg is None else round(self.burn_sd_kg, 4),
                "laps_of_fuel": round(self.laps_of_fuel, 2), "laps_to_go": self.laps_to_go,
                "lift_and_coast_kg_per_lap": round(self.lift_and_coast_kg_per_lap, 4),
                "lift_and_coast_needed": self.lift_and_coast_needed, "source": self.source}


def estimate_fuel(green_lap_fuel_kg: list[tuple[int, float]], lap: int, total_laps: int | None,
                  fuel_now_kg: float | None, model_start_kg: float, model_burn_kg_per_lap: float) -> FuelEstimate:
    """Burn from consecutive green laps' fuel readings; otherwise the model's burn and start fuel.

    Parameters
    ----------
    green_lap_fuel_kg
        ``(lap_number, fuel_kg at the end of the lap)`` of green laps with a fuel reading.
    fuel_now_kg
        Latest fuel reading; None when the car sends no fuel (then the model's fuel is
        used and no lift-and-coast is asked for: the model has no evidence of a shortfall).
    """
    burns = [f0 - f1 for (l0, f0), (l1, f1) in zip(green_lap_fuel_kg, green_lap_fuel_kg[1:]) if l1 == l0 + 1]
    if len(burns) >= 2:
        burn, sd, source = float(np.median(burns)), float(np.std(burns, ddof=1)), "telemetry"
    else:
        burn, sd, source = model_burn_kg_per_lap, None, "model"
    measured = fuel_now_kg is not None
    if not measured:
        fuel_now_kg, source = max(0.0, model_start_kg - model_burn_kg_per_lap * lap), "model"
    to_go = max(0, (total_laps or lap) - lap)
    laps_of_fuel = fuel_now_kg / burn if burn > 0 else float("inf")
    deficit = to_go * burn + FUEL_MARGIN_KG - fuel_now_kg
    # Without a fuel reading the model's fuel is the plan itself: no evidence of a shortfall.
    save = deficit / to_go if measured and deficit > 0 and to_go > 0 else 0.0
    return FuelEstimate(fuel_kg=float(fuel_now_kg), burn_kg_per_lap=burn, burn_sd_kg=sd,
                        laps_of_fuel=float(laps_of_fuel), laps_to_go=to_go, lift_and_coast_kg_per_lap=float(save),
                        source=source)
