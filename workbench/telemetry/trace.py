"""Speed traces along a lap, for simulated high-rate car samples.

A point-mass model: from the track's corner list (distance, apex speed) we take the
fastest speed profile that respects every apex, a top speed and constant
acceleration/braking limits (forward and backward passes). The simulator scales it
to each lap's time, so the trace's lap time always equals the simulated lap time.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["LapTrace", "reference_trace"]

TOP_SPEED_KPH = 325.0
ACCEL_MS2 = 10.0  # at standstill; falls with the square of speed (drag)
BRAKE_MS2 = 38.0
GEAR_UPSHIFT_KPH = (0.0, 90.0, 120.0, 150.0, 180.0, 210.0, 240.0, 270.0)  # lower bound of gears 1..8
STEP_M = 5.0


@dataclasses.dataclass(frozen=True)
class LapTrace:
    """Reference speed profile: ``distance_m`` and ``speed_kph`` on a grid, and time along it."""

    distance_m: np.ndarray
    speed_kph: np.ndarray
    time_s: np.ndarray
    accel: np.ndarray  # sign of the speed change: +1 accelerating, -1 braking, 0 steady

    @property
    def lap_time_s(self) -> float:
        return float(self.time_s[-1])

    def sample(self, fraction_of_lap_time: np.ndarray, scale: float) -> dict[str, np.ndarray]:
        """Channels at the given fractions (0-1) of the lap *time*, speeds divided by ``scale``."""
        t = np.clip(fraction_of_lap_time, 0.0, 1.0) * self.lap_time_s
        idx = np.searchsorted(self.time_s, t, side="right") - 1
        idx = np.clip(idx, 0, len(self.time_s) - 2)
        frac = (t - self.time_s[idx]) / np.maximum(self.time_s[idx + 1] - self.time_s[idx], 1e-9)
        distance = self.distance_m[idx] + frac * (self.distance_m[idx + 1] - self.distance_m[idx])
        speed = (self.speed_kph[idx] + frac * (self.speed_kph[idx + 1] - self.speed_kph[idx])) / scale
        accel = self.accel[idx]
        gear = np.searchsorted(GEAR_UPSHIFT_KPH, speed, side="right")
        low = np.take(GEAR_UPSHIFT_KPH, gear - 1)
        high = np.take(GEAR_UPSHIFT_KPH + (TOP_SPEED_KPH + 10,), gear)
        rpm = 10_500 + 1_500 * (speed - low) / np.maximum(high - low, 1.0)
        throttle = np.where(accel > 0, 100.0, np.where(accel < 0, 0.0, 35.0))
        return {"distance_m": distance, "speed_kph": speed, "gear": gear.astype(int), "rpm": rpm,
                "throttle_pct": throttle, "brake": accel < 0}


def reference_trace(length_m: float, corners: tuple[tuple[float, float], ...]) -> LapTrace:
    """Fastest point-mass speed profile over one lap that respects every corner apex."""
    distance = np.arange(0.0, length_m + STEP_M, STEP_M)
    distance[-1] = length_m
    v_cap = np.full(distance.shape, TOP_SPEED_KPH / 3.6)
    for d, apex_kph in corners:
        v_cap[np.argmin(np.abs(distance - d))] = apex_kph / 3.6
    v = v_cap.copy()
    ds = np.diff(distance)
    # Two laps of passes so the profile wraps round the start line.
    for _ in range(2):
        v[0] = min(v[0], np.sqrt(v[-1] ** 2))
        for i in range(1, len(v)):  # acceleration limit
            accel = ACCEL_MS2 * max(0.05, 1.0 - (v[i - 1] * 3.6 / TOP_SPEED_KPH) ** 2)
            v[i] = min(v[i], np.sqrt(v[i - 1] ** 2 + 2 * accel * ds[i - 1]))
        v[-1] = min(v[-1], v[0])
        for i in range(len(v) - 2, -1, -1):  # braking limit
            v[i] = min(v[i], np.sqrt(v[i + 1] ** 2 + 2 * BRAKE_MS2 * ds[i]))
    dt = 2 * ds / (v[1:] + v[:-1])
    time = np.concatenate([[0.0], np.cumsum(dt)])
    dv = np.diff(v, append=v[0])
    accel = np.where(dv > 0.01, 1, np.where(dv < -0.01, -1, 0))
    return LapTrace(distance_m=distance, speed_kph=v * 3.6, time_s=time, accel=accel)
