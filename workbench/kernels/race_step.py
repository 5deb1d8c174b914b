"""The race model, written once for every compiled target (plain Python, no decorators).

`workbench.kernels.numba_race` compiles these functions with ``njit`` and
`workbench.kernels.cuda_race` with ``cuda.jit(device=True)``, both through
`workbench.kernels.retarget.compile_functions`, which rebinds each function's
callees to the same target's compiled versions. So there is one model source:
the CPU and GPU kernels cannot drift apart.

Rules that keep a function here compilable for a GPU: no allocation (every
scratch array is passed in by the caller), no ``.copy()``, no ``.size`` on a
scratch array (scratch may be larger than the field: sizes are passed
explicitly), scalars and array indexing only. The model is documented in
``docs/montecarlo.md`` and implemented line for line by the numpy reference,
`workbench.race.reference`.
"""

from __future__ import annotations

import math

import numpy as np

from workbench.kernels import layout as L
from workbench.kernels.numba_rng import (  # rebound per target by compile_functions
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
    P_HIGH,
    P_LOW,
    car_prefix,
    inverse_normal_cdf,
    normal,
    normal_at,
    uniform,
    uniform_at,
)


def _count_le(cdf, u):
    """How many entries of the cumulative distribution ``cdf`` are <= ``u``."""
    n = 0
    for i in range(cdf.shape[0]):
        if cdf[i] <= u:
            n += 1
    return n


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


def degradation_s(model, k1, k2, age):
    """Time lost to tyre wear at ``age`` laps."""
    if model == L.LINEAR:
        return k1 * age
    if model == L.QUADRATIC:
        return k1 * age + k2 * age * age
    return k1 * math.log1p(age)


def _sort_order(order, t, n):
    """Insertion sort of ``order[:n]`` by (t, car index): nearly sorted input, stable result."""
    for i in range(1, n):
        c = order[i]
        j = i - 1
        while j >= 0 and (t[order[j]] > t[c] or (t[order[j]] == t[c] and order[j] > c)):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = c


def _normals_block(prefix, lap, purpose, u, z, m):
    """Normals for ``m`` keys: the branch-free central formula in one vectorisable
    pass, the rare tails (about 5%) fixed up afterwards; same bits as `normal_at`."""
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


def round_half_even(x):
    """``np.rint`` of one float (ties to even), in operations every target compiles."""
    f = math.floor(x)
    d = x - f
    if d > 0.5 or (d == 0.5 and f % 2.0 != 0.0):
        return f + 1.0
    return f


N_FLOAT_SCRATCH = 8  # rows of ``fs`` that `race_one` uses, each at least n_cars wide
N_INT_SCRATCH = 9  # rows of ``iscr``


def race_one(seed, sim, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
             sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
             t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
             pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
             out_position, out_time, out_stops, row, status, stops, prefix, fs, iscr):
    """Simulate race number ``sim`` and write row ``row`` of the outputs.

    Scratch, owned by the caller and overwritten: ``status`` (int64, >= n_laps + 1),
    ``stops`` (int64, >= pit_lap's shape), ``prefix`` (uint64, >= n_cars),
    ``fs`` (float64, [N_FLOAT_SCRATCH, >= n_cars]) and ``iscr`` (int64,
    [N_INT_SCRATCH, >= n_cars]).
    """
    n_cars = t0.shape[0]
    base = track[L.BASE_LAP_TIME_S]
    t_prev = fs[0]
    t_new = fs[1]
    lt = fs[2]
    pit_add = fs[3]
    carried = fs[4]
    fuel = fs[5]
    u_lap = fs[6]
    z_lap = fs[7]
    retire_lap = iscr[0]
    alive = iscr[1]
    comp = iscr[2]
    age = iscr[3]
    done = iscr[4]
    stopping = iscr[5]
    out_lap = iscr[6]
    order = iscr[7]
    in_drs = iscr[8]
    # -- race-level draws: neutralisations and retirements --------------------
    for lap in range(forced_status.shape[0]):
        status[lap] = forced_status[lap]
    _place_phases(seed, sim, n_laps, start_lap, sc_count_cdf, sc_len_cdf, L.P_SC_COUNT, L.SC, status)
    _place_phases(seed, sim, n_laps, start_lap, vsc_count_cdf, vsc_len_cdf, L.P_VSC_COUNT, L.VSC, status)
    for c in range(n_cars):
        retire_lap[c] = 0
        if alive0[c] and uniform(seed, sim, c, 0, L.P_RETIREMENT) < retire_p:
            lap = 1 + int(uniform(seed, sim, c, 0, L.P_RETIREMENT_LAP) * n_laps)
            if lap > start_lap:
                retire_lap[c] = lap
        if alive0[c] and retire_at[c] > start_lap:
            retire_lap[c] = retire_at[c]  # a forced retirement replaces the draw
    # -- planned stops, rivals' shifted around their plan ----------------------
    for c in range(n_cars):
        for k in range(pit_lap.shape[1]):
            stops[c, k] = pit_lap[c, k]
    for c in range(n_cars):
        if shift_plan[c]:
            prev = start_lap + 1 - L.MIN_STINT_LAPS
            for k in range(n_stops[c]):
                shift = round_half_even(L.PIT_SHIFT_SIGMA_LAPS * normal(seed, sim, c, k + 1, L.P_PIT_LAP_SHIFT))
                lap = stops[c, k] + int(shift)
                lap = min(max(lap, prev + L.MIN_STINT_LAPS), n_laps - 1)
                stops[c, k] = lap
                prev = lap
    # -- state -------------------------------------------------------------------
    n_alive = 0
    for c in range(n_cars):
        prefix[c] = car_prefix(seed, sim, c)
        t_prev[c] = t0[c]
        pit_add[c] = 0.0
        carried[c] = 0.0
        fuel[c] = fuel0[c]
        alive[c] = 1 if alive0[c] else 0
        comp[c] = compound0[c]
        age[c] = age0[c]
        done[c] = 0
        stopping[c] = 0
        out_lap[c] = 0
        in_drs[c] = 0
        order[c] = c
        if alive[c]:
            n_alive += 1
        else:
            t_prev[c] = np.inf
    _sort_order(order, t_prev, n_cars)
    drs_gain = track[L.DRS_GAIN_S]
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
                in_drs[i] = 0
            for i in range(1, n_alive):
                in_drs[order[i]] = t_prev[order[i]] - t_prev[order[i - 1]] < L.DRS_WINDOW_S
        _normals_block(prefix, lap, L.P_LAP_NOISE, u_lap, z_lap, n_cars)  # every car's lap noise, vectorised
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
            stopping[c] = 1 if stop else 0
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
                alive[c] = 0
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


