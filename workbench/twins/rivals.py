"""Undercut / overcut arithmetic between two cars from their fitted tyre models and corrected pace.

A car's modelled lap on compound ``c`` at tyre age ``a`` is ``pace + offset[c] + deg_c(a)``
(fuel drops out: both cars carry about the same). Both cars pay the same pit loss, so the
swing of an undercut is the laps the attacker runs on new tyres while the defender is
still on old ones:

    gain = sum_{i=1..n} [defender_old(age_d + i) - attacker_new(i)]

and an overcut is the same with the roles of old and new tyres swapped. The attack
works when ``gain`` beats the gap; its probability treats the lap-to-lap noise of both
cars as independent normal errors plus the degradation models' uncertainty.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from workbench.twins.tyre_model import DegradationFit, normal_cdf

__all__ = ["CarModel", "undercut_gain_s", "overcut_gain_s", "attack_probability"]


@dataclasses.dataclass(frozen=True)
class CarModel:
    """What the arithmetic needs of one car: corrected pace, compound, tyre age and tyre fits."""

    driver: str
    pace_s: float
    compound: str
    tyre_age_laps: int
    fit: DegradationFit  # on its current compound
    new_fit: DegradationFit  # on the compound it would fit next
    new_compound: str
    offset_s: float
    new_offset_s: float
    noise_s: float


def _old(car: CarModel, n: int) -> np.ndarray:
    ages = car.tyre_age_laps + np.arange(1, n + 1)
    return car.pace_s + car.offset_s + car.fit.degradation_s(ages)


def _new(car: CarModel, n: int) -> np.ndarray:
    return car.pace_s + car.new_offset_s + car.new_fit.degradation_s(np.arange(1, n + 1))


def undercut_gain_s(attacker: CarModel, defender: CarModel, laps: int = 1) -> tuple[float, float]:
    """Time the attacker gains by pitting ``laps`` laps before the defender: mean and sd, s."""
    gain = float(np.sum(_old(defender, laps) - _new(attacker, laps)))
    sd = math.sqrt(laps * (attacker.noise_s**2 + defender.noise_s**2)
                   + float(defender.fit.degradation_sd_s(defender.tyre_age_laps + laps)[0]) ** 2
                   + float(attacker.new_fit.degradation_sd_s(laps)[0]) ** 2)
    return gain, sd


def overcut_gain_s(attacker: CarModel, defender: CarModel, laps: int = 1) -> tuple[float, float]:
    """Time the attacker gains by staying out ``laps`` laps after the defender pits: mean and sd, s."""
    gain = float(np.sum(_new(defender, laps) - _old(attacker, laps)))
    sd = math.sqrt(laps * (attacker.noise_s**2 + defender.noise_s**2)
                   + float(attacker.fit.degradation_sd_s(attacker.tyre_age_laps + laps)[0]) ** 2
                   + float(defender.new_fit.degradation_sd_s(laps)[0]) ** 2)
    return gain, sd


def attack_probability(gain_s: float, gain_sd_s: float, gap_s: float) -> float:
    """P(gain > gap): the attacker comes out ahead."""
    if gain_sd_s <= 0:
        return float(gain_s > gap_s)
    return normal_cdf((gain_s - gap_s) / gain_sd_s)
