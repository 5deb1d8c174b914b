"""Circuit facts the lap table cannot give: lap length and a corner profile for speed traces.

Lengths are the official lap lengths published on formula1.com's circuit pages (2024 layouts),
keyed by Ergast ``circuitId``. Corners (``[distance_m, apex_speed_kph]``) are only used to draw
speed traces; only Bahrain has its own (approximated from the circuit map); every other circuit
gets Bahrain's profile scaled to its length, and the fit report says so.
"""

from __future__ import annotations

__all__ = ["CIRCUIT_LENGTH_M", "BAHRAIN_CORNERS", "corners_for", "length_for", "AVERAGE_SPEED_PRIOR_KPH"]

BAHRAIN_CIRCUIT_ID = 3
# formula1.com circuit pages (2024 calendar), metres, by Ergast circuitId
CIRCUIT_LENGTH_M = {
    3: 5412.0, 77: 6174.0, 1: 5278.0, 22: 5807.0, 17: 5451.0, 79: 5412.0, 21: 4909.0, 6: 3337.0,
    7: 4361.0, 4: 4657.0, 70: 4318.0, 9: 5891.0, 11: 4381.0, 13: 7004.0, 39: 4259.0, 14: 5793.0,
    73: 6003.0, 15: 4940.0, 69: 5513.0, 32: 4304.0, 18: 4309.0, 80: 6201.0, 78: 5419.0, 24: 5281.0,
}
AVERAGE_SPEED_PRIOR_KPH = 210.0  # assumption for a circuit without a known length: a typical F1 lap speed
# Corners of the Bahrain GP layout: [distance_m, apex_speed_kph], approximated from the circuit
# map (15 turns, 5412 m); not measured telemetry.
BAHRAIN_CORNERS = [[650, 95], [800, 150], [1000, 190], [1450, 80], [2000, 200], [2150, 190], [2400, 120],
                   [2700, 75], [2950, 115], [3150, 90], [3600, 140], [3900, 250], [4350, 185], [4900, 90],
                   [5050, 150]]


def length_for(circuit_id: int | None, base_lap_time_s: float) -> tuple[float, str, str]:
    """Lap length in metres, its provenance (``history`` or ``prior``) and a note."""
    if circuit_id in CIRCUIT_LENGTH_M:
        return CIRCUIT_LENGTH_M[circuit_id], "history", "official lap length (formula1.com circuit page)"
    metres = round(base_lap_time_s * AVERAGE_SPEED_PRIOR_KPH / 3.6, -1)
    return metres, "prior", (f"circuit length unknown: base lap x an assumed {AVERAGE_SPEED_PRIOR_KPH:.0f} km/h "
                             "average speed")


def corners_for(circuit_id: int | None, length_m: float) -> tuple[list[list[float]], str, str]:
    """Corner profile, provenance and note (Bahrain's own, or Bahrain's scaled to ``length_m``)."""
    if circuit_id == BAHRAIN_CIRCUIT_ID:
        return [list(c) for c in BAHRAIN_CORNERS], "prior", "approximated from the Bahrain circuit map"
    scale = length_m / CIRCUIT_LENGTH_M[BAHRAIN_CIRCUIT_ID]
    return ([[round(d * scale, 1), v] for d, v in BAHRAIN_CORNERS], "prior",
            "not this circuit's layout: Bahrain's corner profile scaled to the lap length (speed traces only)")
