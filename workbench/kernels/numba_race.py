"""Full-field Monte Carlo race kernel (numba, ``nogil``, parallel over races).

One call simulates ``n_runs`` races, numbered ``sim0 .. sim0 + n_runs - 1``, from
a packed race state (see `workbench.strategy.montecarlo.pack`) to the flag. Each
race is a pure function of its number and the seed: all random numbers come from
`workbench.kernels.numba_rng` keyed by (seed, race, car, lap, purpose), and every
race writes only its own row of the outputs, so the results are bit-identical
for any thread count and any split of the races between calls or machines.

The model is documented in ``docs/montecarlo.md`` and implemented line for line
by the numpy reference, `workbench.strategy.reference`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from workbench.kernels import layout as L
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
    inverse_normal_cdf,
    normal,
    normal_at,
    uniform,
    uniform_at,
)


@njit(cache=True, nogil=True)
def _count_le(cdf, u):
    """How many entries of the cumulative distribution ``cdf`` are <= ``u``."""
    n = 0
    for x in cdf:
        if x <= u:
            n += 1
    return n


@njit(cache=True, nogil=True)
def _place_phases(seed, sim, n_laps, start_lap, count_cdf, len_cdf, purpose0, kind, status):
    """Draw neutralisation phases into the free laps of ``status`` (lap-indexed)."""
    n = _count_le(count_cdf, uniform(seed, sim, 0, 0, purpose0))
    for i in range(n):
        first = 2 + int(uniform(seed, sim, i, 0, purpose0 + 1) * max(1, n_laps - 5))
        length = 1 + _count_le(len_cdf, uniform(seed, sim, i, 0, purpose0 + 2))
        last = min(n_laps - 1, first + length - 1)
        if first <= start_lap or first > last:
            continue
        ok = True
        for lap in range(first, last + 2):
            if lap <= n_laps and status[lap] != L.FREE:
                ok = False
        if ok:
            for lap in range(first, last + 1):
                status[lap] = kind


@njit(cache=True, nogil=True)
def degradation_s(model, k1, k2, age):
    """Time lost to tyre wear at ``age`` laps."""
    if model == L.LINEAR:
        return k1 * age
    if model == L.QUADRATIC:
        return k1 * age + k2 * age * age
    return k1 * math.log1p(age)


@njit(cache=True, nogil=True)
def _sort_order(order, t, n):
    """Insertion sort of ``order[:n]`` by (t, car index): nearly sorted input, stable result."""
    for i in range(1, n):
        c = order[i]
        j = i - 1
        while j >= 0 and (t[order[j]] > t[c] or (t[order[j]] == t[c] and order[j] > c)):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = c


@njit(cache=True, nogil=True, error_model="numpy")
def _normals_block(prefix, lap, purpose, u, z):
    """Normals for a block of races: the branch-free central formula in one vectorisable
    pass, the rare tails (about 5%) fixed up afterwards; same bits as `normal_at`."""
    m = u.size
    for i in range(m):
        u[i] = uniform_at(prefix[i], lap, purpose)
    for i in range(m):
        q = u[i] - 0.5
        r = q * q
        z[i] = ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q
                / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1.0))
    for i in range(m):
        if u[i] < P_LOW or u[i] > P_HIGH:
            z[i] = inverse_normal_cdf(u[i])


@njit(cache=True, nogil=True, error_model="numpy")
def race_one(seed, sim, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
             sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
             t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
             pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
             out_position, out_time, out_stops, row):
    """Simulate race number ``sim`` and write row ``row`` of the outputs."""
    n_cars = t0.size
    base = track[L.BASE_LAP_TIME_S]
    # -- race-level draws: neutralisations and retirements --------------------
    status = forced_status.copy()
    _place_phases(seed, sim, n_laps, start_lap, sc_count_cdf, sc_len_cdf, L.P_SC_COUNT, L.SC, status)
    _place_phases(seed, sim, n_laps, start_lap, vsc_count_cdf, vsc_len_cdf, L.P_VSC_COUNT, L.VSC, status)
    retire_lap = np.zeros(n_cars, dtype=np.int64)
    for c in range(n_cars):
        if alive0[c] and uniform(seed, sim, c, 0, L.P_RETIREMENT) < retire_p:
            lap = 1 + int(uniform(seed, sim, c, 0, L.P_RETIREMENT_LAP) * n_laps)
            if lap > start_lap:
                retire_lap[c] = lap
        if alive0[c] and retire_at[c] > start_lap:
            retire_lap[c] = retire_at[c]  # a forced retirement replaces the draw
    # -- planned stops, rivals' shifted around their plan ----------------------
    stops = pit_lap.copy()
    for c in range(n_cars):
        if shift_plan[c]:
            prev = start_lap + 1 - L.MIN_STINT_LAPS
            for k in range(n_stops[c]):
                shift = np.rint(L.PIT_SHIFT_SIGMA_LAPS * normal(seed, sim, c, k + 1, L.P_PIT_LAP_SHIFT))
                lap = stops[c, k] + int(shift)
                lap = min(max(lap, prev + L.MIN_STINT_LAPS), n_laps - 1)
                stops[c, k] = lap
                prev = lap
    # -- state -------------------------------------------------------------------
    prefix = np.empty(n_cars, dtype=np.uint64)
    for c in range(n_cars):
        prefix[c] = car_prefix(seed, sim, c)
    u_lap = np.empty(n_cars)
    z_lap = np.empty(n_cars)
    t_prev = t0.copy()
    t_new = np.empty(n_cars)
    lt = np.empty(n_cars)
    pit_add = np.zeros(n_cars)
    carried = np.zeros(n_cars)
    alive = alive0.copy()
    comp = compound0.copy()
    age = age0.copy()
    fuel = fuel0.copy()
    done = np.zeros(n_cars, dtype=np.int64)
    stopping = np.zeros(n_cars, dtype=np.bool_)
    out_lap = np.zeros(n_cars, dtype=np.bool_)
    order = np.empty(n_cars, dtype=np.int64)
    n_alive = 0
    for c in range(n_cars):
        order[c] = c
        if alive[c]:
            n_alive += 1
        else:
            t_prev[c] = np.inf
    _sort_order(order, t_prev, n_cars)
    drs_gain = track[L.DRS_GAIN_S]
    in_drs = np.zeros(n_cars, dtype=np.bool_)
    for lap in range(start_lap + 1, n_laps + 1):
        st = status[lap]
        if st == L.FREE:
            st = L.GREEN
        frac = neutral_from[lap]  # share of the lap run green before a forced SC/VSC starts
        loss = track[L.PIT_LOSS_GREEN_S]
        if st == L.SC:
            loss = track[L.PIT_LOSS_SC_S]
        elif st == L.VSC:
            loss = track[L.PIT_LOSS_VSC_S]
        use_drs = drs_gain > 0.0 and st == L.GREEN and lap > 1
        if use_drs:  # within DRS_WINDOW_S of the car ahead at the line that started this lap
            for i in range(n_cars):
                in_drs[i] = False
            for i in range(1, n_alive):
                in_drs[order[i]] = t_prev[order[i]] - t_prev[order[i - 1]] < L.DRS_WINDOW_S
        _normals_block(prefix, lap, L.P_LAP_NOISE, u_lap, z_lap)  # every car's lap noise, vectorised
        for c in range(n_cars):
            if not alive[c]:
                continue
            age[c] += 1
            k = comp[c]
            z = z_lap[c] * track[L.NOISE_SCALE]
            x = (base + pace[c] + comp_offset[k]
                 + deg_factor[c] * degradation_s(comp_model[k], comp_k1[k], comp_k2[k], age[c])
                 + track[L.FUEL_MASS_EFFECT_S_PER_KG] * fuel[c] + sigma[c] * z)
            if lap == 1:  # from the start signal; t0 is when the car crossed the start line
                x += (track[L.START_LOSS_S] + track[L.START_LOSS_PER_SLOT_S] * (grid[c] - 1)
                      + track[L.START_SIGMA_S] * normal_at(prefix[c], 1, L.P_START))
                x -= t0[c]
            if use_drs and in_drs[c]:
                x -= drs_gain
            if st == L.VSC:
                xv = max(x, base * track[L.VSC_FACTOR] + L.VSC_NOISE_S * z)
                x = xv if frac == 0.0 else frac * x + (1.0 - frac) * xv
            stop = False
            if done[c] < n_stops[c] and lap < n_laps:
                due = stops[c, done[c]]
                stop = lap >= due or (opportunistic[c] and st != L.GREEN and due - lap <= L.SC_EARLY_STOP_LAPS)
            stopping[c] = stop
            add = 0.0
            if stop:
                standstill = track[L.STANDSTILL_MEDIAN_S] * math.exp(
                    track[L.STANDSTILL_SIGMA_LOG] * normal_at(prefix[c], lap, L.P_PIT_STANDSTILL))
                carried_now = loss + standstill
                add += L.IN_LAP_SHARE * carried_now
            else:
                carried_now = 0.0
            if out_lap[c]:
                add += (1.0 - L.IN_LAP_SHARE) * carried[c]
            carried[c] = carried_now
            pit_add[c] = add
            lt[c] = x + add
            t_new[c] = t_prev[c] + lt[c]
        if st == L.SC:
            sc_lap = base * track[L.SC_FACTOR]
            ref = -1  # the last car ahead on track (cars in the pit lane hold nobody up)
            for i in range(n_alive):
                c = order[i]
                own = t_prev[c] + lt[c]
                if ref < 0:  # nobody ahead on track: behind the safety car, plus its own pit time
                    target = t_prev[c] + (max(lt[c] - pit_add[c], sc_lap) + pit_add[c])
                else:  # close up at racing pace, never nearer than SC_GAP_S behind the car ahead
                    target = max(own, t_new[ref] + L.SC_GAP_S + pit_add[c])
                if frac > 0.0:  # SC out for part of the lap: that share of the effect
                    target = own + (1.0 - frac) * (target - own)
                t_new[c] = target
                if not (stopping[c] or out_lap[c]):
                    ref = c
        else:
            min_gap = track[L.MIN_GAP_S]
            drs = track[L.DRS_BONUS_S]
            for i in range(1, n_alive):
                a = order[i - 1]
                c = order[i]
                if stopping[c] or stopping[a] or out_lap[c] or out_lap[a]:
                    continue
                if t_new[c] < t_new[a] + min_gap:
                    margin = t_new[a] - t_new[c]
                    p = 0.0
                    if margin > -drs:
                        p = (1.0 - track[L.OVERTAKING_DIFFICULTY]) * (1.0 - math.exp(-(margin + drs) / L.PASS_SCALE_S))
                    if track[L.DETERMINISTIC_PASS] > 0.0:
                        passed = margin + drs > track[L.PASS_THRESHOLD_S]
                    else:
                        passed = uniform_at(prefix[c], lap, L.P_OVERTAKE) < p
                    if passed:
                        t_new[a] = max(t_new[a], t_new[c] + L.PASS_HOLD_S)
                    else:
                        t_new[c] = t_new[a] + min_gap
        burn = track[L.FUEL_BURN_KG_PER_LAP]
        if st != L.GREEN:
            burn *= frac + (1.0 - frac) * L.NEUTRAL_BURN_FACTOR
        for c in range(n_cars):
            if not alive[c]:
                continue
            fuel[c] = max(0.0, fuel[c] - burn)
            out_lap[c] = stopping[c]
            if stopping[c]:
                comp[c] = pit_compound[c, done[c]]
                age[c] = pit_age[c, done[c]]  # a used set keeps its age
                done[c] += 1
            t_prev[c] = t_new[c]
            if retire_lap[c] == lap:
                alive[c] = False
                t_prev[c] = np.inf
                n_alive -= 1
        _sort_order(order, t_prev, n_cars)
    # -- classification: finishers by time, then retirements latest first ----------
    for i in range(n_alive):
        c = order[i]
        out_position[row, c] = i + 1
        out_time[row, c] = t_prev[c]
        out_stops[row, c] = done[c]
    pos = n_alive
    for lap in range(n_laps, -1, -1):
        for c in range(n_cars):
            if not alive[c] and retire_lap[c] == lap:
                pos += 1
                out_position[row, c] = pos
                out_time[row, c] = np.nan
                out_stops[row, c] = done[c]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def run_races(seed, sim0, n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
              sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
              t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
              pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
              out_position, out_time, out_stops):
    """Simulate races ``sim0 .. sim0 + n_runs - 1`` in parallel; fills the ``out_*`` arrays [run, car]."""
    for r in prange(n_runs):
        race_one(seed, sim0 + r, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
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
        race_one(seed, j - k * n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
                 sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
                 t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
                 pl, pc, ns, neutral_from, deg_factor, retire_at, pit_age, out_position, out_time, out_stops, j)
