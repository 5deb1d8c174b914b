"""The single-car pre-screen kernel: numba == numpy reference bit for bit, Mojo == numba."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.kernels import layout as L
from workbench.kernels import mojo_backend, numba_race
from workbench.race import reference
from workbench.strategy.montecarlo import pack

MOJO_OK, MOJO_WHY = mojo_backend.available()

# (start_lap, age0, fuel0, degradation model, pit laps, n_stops, n_runs, sim0)
CASES = {
    "grid-two-stops-linear": (0, 0, 100.0, L.LINEAR, [11, 34], 2, 1_500, 7),
    "live-quadratic": (10, 10, 60.0, L.QUADRATIC, [25, 40], 2, 700, 0),
    "log-back-to-back-stops": (0, 3, 100.0, L.LOGARITHMIC, [20, 21, 57], 3, 513, 1_000_000),
    "no-stop-one-race": (40, 5, 20.0, L.LINEAR, [0, 0], 0, 1, 3),
}


def _times(kernel, race, case: str) -> np.ndarray:
    start_lap, age0, fuel0, model, laps, n_stops, n_runs, sim0 = CASES[case]
    packed = pack(race)
    c = race.drivers.index("LEC")
    comp_model = np.full_like(packed.comp_model, model)
    comp_k2 = packed.comp_k2 + 0.002  # non-zero so the quadratic term counts
    out = np.full(n_runs, np.nan)
    kernel(11, sim0, n_runs, c, start_lap, race.track.laps, packed.track, packed.comp_offset, comp_model,
           packed.comp_k1, comp_k2, int(packed.compound0[c]), age0, fuel0, float(packed.pace[c]),
           float(packed.sigma[c]), np.array(laps, dtype=np.int64), np.array([1, 0, 1], dtype=np.int64)[:len(laps)],
           n_stops, out)
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_numba_single_car_matches_the_reference_to_the_last_bit_or_two(race, case):
    """Same sums in the same order; the vectorised normal draws (`_normals_wide`: SIMD log/sqrt)
    may round one lane's draw 1 ulp away from numpy's, which shows as ~1e-12 s in a race time
    (1 of 1,500 races on the refitted 2024 Bahrain race). More than a few ulps, or many lanes,
    would be a model difference and fails."""
    a = _times(numba_race.single_car_times, race, case)
    b = _times(reference.single_car_times, race, case)
    assert np.all(np.isfinite(a))
    assert np.allclose(a, b, rtol=0, atol=1e-9)
    assert np.count_nonzero(a != b) <= max(1, a.size // 100)


def test_single_car_time_is_the_sum_of_its_laps(race):
    """Noise-free: the kernel's race time is the lap model summed by hand."""
    packed = pack(race)
    track = packed.track.copy()
    track[L.STANDSTILL_SIGMA_LOG] = 0.0
    n_laps, c = race.track.laps, race.drivers.index("LEC")
    out = np.zeros(3)
    numba_race.single_car_times(1, 0, 3, c, 0, n_laps, track, packed.comp_offset, packed.comp_model, packed.comp_k1,
                                packed.comp_k2, 0, 0, 100.0, 0.25, 0.0, np.array([20], dtype=np.int64),
                                np.array([1], dtype=np.int64), 1, out)
    pit = track[L.PIT_LOSS_GREEN_S] + track[L.STANDSTILL_MEDIAN_S]
    total, fuel, k, age = 0.0, 100.0, 0, 0
    for lap in range(1, n_laps + 1):
        age += 1
        total += (track[L.BASE_LAP_TIME_S] + 0.25 + packed.comp_offset[k]
                  + numba_race.degradation_s(packed.comp_model[k], packed.comp_k1[k], packed.comp_k2[k], age)
                  + track[L.FUEL_MASS_EFFECT_S_PER_KG] * fuel)
        total += {20: L.IN_LAP_SHARE * pit, 21: (1 - L.IN_LAP_SHARE) * pit}.get(lap, 0.0)
        if lap == 20:
            k, age = 1, 0
        fuel = max(0.0, fuel - track[L.FUEL_BURN_KG_PER_LAP])
    assert out == pytest.approx(np.full(3, total), abs=1e-9)


@pytest.mark.skipif(not MOJO_OK, reason=MOJO_WHY or "Mojo missing")
@pytest.mark.parametrize("case", sorted(CASES))
def test_mojo_single_car_agrees_with_numba(race, case):
    a = _times(numba_race.single_car_times, race, case)
    b = _times(mojo_backend.single_car_times, race, case)
    assert np.max(np.abs(a - b)) < 1e-9
