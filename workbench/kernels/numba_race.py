"""Full-field Monte Carlo race kernel (numba, ``nogil``, parallel over races).

One call simulates ``n_runs`` races, numbered ``sim0 .. sim0 + n_runs - 1``, from
a packed race state (see `workbench.race.model.pack`) to the flag. Each
race is a pure function of its number and the seed: all random numbers come from
`workbench.kernels.numba_rng` keyed by (seed, race, car, lap, purpose), and every
race writes only its own row of the outputs, so the results are bit-identical
for any thread count and any split of the races between calls or machines.

The race step itself is `workbench.kernels.race_step` (one source, compiled here
with ``njit`` and by `workbench.kernels.cuda_race` for a GPU). The model is
documented in ``docs/montecarlo.md`` and implemented line for line by the numpy
reference, `workbench.race.reference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from workbench.kernels import layout as L
from workbench.kernels import race_step
from workbench.kernels.numba_rng import (
    A0,
    A1,
    A2,
    A3,
    A4,
    A5,
    B0,
    B1,
    B2,
    B3,
    B4,
    C0,
    C1,
    C2,
    C3,
    C4,
    C5,
    D0,
    D1,
    D2,
    D3,
    P_HIGH,
    P_LOW,
    car_prefix,
    uniform_at,
)
from workbench.kernels.retarget import compile_functions

_STEP = compile_functions(
    [race_step._count_le, race_step._place_phases, race_step.degradation_s, race_step._sort_order,
     race_step._normals_block, race_step.round_half_even, race_step.race_one],
    njit(cache=True, nogil=True, error_model="numpy"))
degradation_s = _STEP["degradation_s"]
race_one = _STEP["race_one"]


@njit(cache=True, nogil=True, error_model="numpy")
def race_with_scratch(seed, sim, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
                      sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
                      t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
                      pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
                      out_position, out_time, out_stops, row):
    """`race_one` with its scratch allocated here (one race's worth)."""
    n_cars = t0.size
    status = np.empty(forced_status.size, dtype=np.int64)
    stops = np.empty(pit_lap.shape, dtype=np.int64)
    prefix = np.empty(n_cars, dtype=np.uint64)
    fs = np.empty((race_step.N_FLOAT_SCRATCH, n_cars))
    iscr = np.empty((race_step.N_INT_SCRATCH, n_cars), dtype=np.int64)
    race_one(seed, sim, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
             sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
             t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
             pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
             out_position, out_time, out_stops, row, status, stops, prefix, fs, iscr)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def run_races(seed, sim0, n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
              sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
              t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
              pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
              out_position, out_time, out_stops):
    """Simulate races ``sim0 .. sim0 + n_runs - 1`` in parallel; fills the ``out_*`` arrays [run, car]."""
    for r in prange(n_runs):
        race_with_scratch(seed, sim0 + r, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
                 sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
                 t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
                 pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
                 out_position, out_time, out_stops, r)


SINGLE_CAR_BLOCK = 512


@njit(cache=True, nogil=True, error_model="numpy")
def _normals_wide(prefix, lap, purpose, u, z, flag, tail, w):
    """`_normals_block` for wide blocks (hundreds of races); same bits as `normal_at`.

    The central formula runs vectorised over the block; the tails (about 5%) are
    gathered branch-free into ``tail`` and finished in three short passes (the C
    library's log, then sqrt and the tail polynomial vectorised, then scatter), so no
    per-race branch is mispredicted. ``flag``, ``tail`` and ``w`` are scratch arrays
    of the block's size. ``min(p, 1 - p)`` and the sign pick Acklam's lower or upper
    tail exactly as `inverse_normal_cdf` does.
    """
    m = u.size
    for i in range(m):
        u[i] = uniform_at(prefix[i], lap, purpose)
    for i in range(m):
        q = u[i] - 0.5
        r = q * q
        z[i] = ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q
                / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1.0))
        flag[i] = np.int64(u[i] < P_LOW) | np.int64(u[i] > P_HIGH)
    n = 0
    for i in range(m):
        tail[n] = i
        n += flag[i]
    for j in range(n):
        p = u[tail[j]]
        w[j] = math.log(min(p, 1.0 - p))
    for j in range(n):
        q = math.sqrt(-2.0 * w[j])
        w[j] = ((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
    for j in range(n):
        i = tail[j]
        z[i] = w[j] if u[i] < 0.5 else -w[j]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def single_car_times(seed, sim0, n_runs, car, start_lap, n_laps, track, comp_offset, comp_model, comp_k1,
                     comp_k2, compound0, age0, fuel0, pace, sigma, pit_lap, pit_compound, n_stops, out_time):
    """Race time of one car alone on track (no traffic, no events): the fast pre-screen.

    Evaluates ``n_runs * (n_laps - start_lap)`` laps with the full lap model, lap
    noise and pit standstill draws, keyed like `run_races`. The car's plan is fixed,
    so everything but the draws is shared by all races: races go in blocks of
    `SINGLE_CAR_BLOCK` whose inner loops the compiler vectorises, the normals come
    from `_normals_wide`, and each lap runs the one loop its kind needs (plain, pit
    stop, out-lap), all adding in the order of the reference (bit-identical).
    """
    base = track[L.BASE_LAP_TIME_S]
    mass = track[L.FUEL_MASS_EFFECT_S_PER_KG]
    burn = track[L.FUEL_BURN_KG_PER_LAP]
    loss = track[L.PIT_LOSS_GREEN_S]
    median = track[L.STANDSTILL_MEDIAN_S]
    sigma_log = track[L.STANDSTILL_SIGMA_LOG]
    n_blocks = (n_runs + SINGLE_CAR_BLOCK - 1) // SINGLE_CAR_BLOCK
    for b in prange(n_blocks):
        r0 = b * SINGLE_CAR_BLOCK
        m = min(SINGLE_CAR_BLOCK, n_runs - r0)
        prefix = np.empty(m, dtype=np.uint64)
        for i in range(m):
            prefix[i] = car_prefix(seed, sim0 + r0 + i, car)
        u = np.empty(m)
        z = np.empty(m)
        z_pit = np.empty(m)
        w = np.empty(m)
        flag = np.empty(m, dtype=np.int64)
        tail = np.empty(m, dtype=np.int64)
        total = np.zeros(m)
        carried = np.zeros(m)  # pit time still to pay on the out-lap; zero on every other lap
        out_lap = False
        k = compound0
        age = age0
        fuel = fuel0
        done = 0
        for lap in range(start_lap + 1, n_laps + 1):
            age += 1
            det = base + pace + comp_offset[k] + degradation_s(comp_model[k], comp_k1[k], comp_k2[k], age) + mass * fuel
            _normals_wide(prefix, lap, L.P_LAP_NOISE, u, z, flag, tail, w)
            if done < n_stops and lap < n_laps and lap >= pit_lap[done]:
                _normals_wide(prefix, lap, L.P_PIT_STANDSTILL, u, z_pit, flag, tail, w)
                for i in range(m):
                    x = (det + sigma * z[i]) + (1.0 - L.IN_LAP_SHARE) * carried[i]
                    carried[i] = loss + median * math.exp(sigma_log * z_pit[i])
                    total[i] += x + L.IN_LAP_SHARE * carried[i]
                k = pit_compound[done]
                done += 1
                age = 0
                out_lap = True
            elif out_lap:
                for i in range(m):
                    total[i] += (det + sigma * z[i]) + (1.0 - L.IN_LAP_SHARE) * carried[i]
                    carried[i] = 0.0
                out_lap = False
            else:  # carried is all zeros: (1 - IN_LAP_SHARE) * 0.0 == 0.0
                for i in range(m):
                    total[i] += (det + sigma * z[i]) + 0.0
            fuel = max(0.0, fuel - burn)
        for i in range(m):
            out_time[r0 + i] = total[i]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def run_candidates(seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
                   track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
                   vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
                   opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
                   pit_age, out_position, out_time, out_stops):
    """Races ``0 .. n_runs - 1`` for each candidate plan of ``our_car`` in one parallel launch.

    Row ``k * n_runs + r`` of the outputs is race ``r`` with candidate ``k``: every
    candidate meets the same races (common random numbers). ``pit_lap`` must be at
    least as wide as ``cand_pit_lap``; ``our_car`` must not be opportunistic or shifted;
    its row of ``pit_age`` (ages of the sets fitted) applies to every candidate.
    """
    n_cand = cand_n_stops.size
    width = cand_pit_lap.shape[1]
    for j in prange(n_cand * n_runs):
        k = j // n_runs
        pl = pit_lap.copy()
        pc = pit_compound.copy()
        ns = n_stops.copy()
        for s in range(width):
            pl[our_car, s] = cand_pit_lap[k, s]
            pc[our_car, s] = cand_pit_compound[k, s]
        ns[our_car] = cand_n_stops[k]
        race_with_scratch(seed, j - k * n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
                 sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
                 t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
                 pl, pc, ns, neutral_from, deg_factor, retire_at, pit_age, out_position, out_time, out_stops, j)
