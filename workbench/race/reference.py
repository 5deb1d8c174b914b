"""Plain numpy reference of the full-field race model, vectorised over races.

Same arguments, same model and same random numbers as the numba kernel
`workbench.kernels.numba_race.run_races` (read the two side by side): it is the
yardstick for the kernel's correctness tests and its benchmark, and, run for a
single race with ``trace``, the lap-by-lap engine of the `TelemetrySimulator`.
"""

from __future__ import annotations

import numpy as np

from workbench.kernels import layout as L
from workbench.rng import lognormal, normal, uniform

__all__ = ["run_races", "run_candidates", "single_car_times"]


def _place_phases(seed, sims, n_laps, start_lap, count_cdf, len_cdf, purpose0, kind, status):
    n = np.sum(count_cdf[None, :] <= uniform(seed, sims, 0, 0, purpose0)[:, None], axis=1)
    for i in range(len(count_cdf)):
        first = 2 + (uniform(seed, sims, i, 0, purpose0 + 1) * max(1, n_laps - 5)).astype(np.int64)
        length = 1 + np.sum(len_cdf[None, :] <= uniform(seed, sims, i, 0, purpose0 + 2)[:, None], axis=1)
        last = np.minimum(n_laps - 1, first + length - 1)
        ok = (n > i) & (first > start_lap) & (first <= last)
        for lap in range(1, n_laps + 1):
            ok &= ~((lap >= first) & (lap <= last + 1) & (status[:, lap] != L.FREE))
        for lap in range(1, n_laps + 1):
            status[:, lap] = np.where(ok & (lap >= first) & (lap <= last), kind, status[:, lap])


def degradation_s(model, k1, k2, age):
    """Time lost to tyre wear at ``age`` laps (arrays of model codes and coefficients)."""
    return np.where(model == L.LINEAR, k1 * age,
                    np.where(model == L.QUADRATIC, k1 * age + k2 * age * age, k1 * np.log1p(age)))


def run_races(seed, sim0, n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
              sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
              t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
              pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
              out_position, out_time, out_stops, trace=None):
    """Simulate races ``sim0 .. sim0 + n_runs - 1``; fills the ``out_*`` arrays [run, car].

    ``trace``, a dict, receives lap-by-lap arrays [car, lap - 1] of race 0 (see
    `workbench.race.simulator`) when given.
    """
    sims = sim0 + np.arange(n_runs, dtype=np.int64)
    _run(seed, sims, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf,
         vsc_count_cdf, vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
         opportunistic, shift_plan, np.tile(pit_lap, (n_runs, 1, 1)), np.tile(pit_compound, (n_runs, 1, 1)),
         np.tile(n_stops, (n_runs, 1)), neutral_from, deg_factor, retire_at, np.tile(pit_age, (n_runs, 1, 1)),
         out_position, out_time, out_stops, trace)


def run_candidates(seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
                   track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
                   vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
                   opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
                   pit_age, out_position, out_time, out_stops):
    """Races ``0 .. n_runs - 1`` for each candidate plan of ``our_car`` (rows ``k * n_runs + r``)."""
    n_cand, width = cand_pit_lap.shape
    rows = n_cand * n_runs
    sims = np.tile(np.arange(n_runs, dtype=np.int64), n_cand)
    k = np.repeat(np.arange(n_cand), n_runs)
    stops, comps, counts = (np.tile(pit_lap, (rows, 1, 1)), np.tile(pit_compound, (rows, 1, 1)),
                            np.tile(n_stops, (rows, 1)))
    stops[:, our_car, :width] = cand_pit_lap[k]
    comps[:, our_car, :width] = cand_pit_compound[k]
    counts[:, our_car] = cand_n_stops[k]
    _run(seed, sims, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf,
         vsc_count_cdf, vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
         opportunistic, shift_plan, stops, comps, counts, neutral_from, deg_factor, retire_at,
         np.tile(pit_age, (rows, 1, 1)), out_position, out_time, out_stops, None)


def _run(seed, sims, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
         sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
         t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
         pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age, out_position, out_time,
         out_stops, trace):
    """The model; ``pit_lap``, ``pit_compound``, ``pit_age`` [run, car, stop] and ``n_stops`` [run, car] per race."""
    R, C = sims.size, t0.size
    cars = np.arange(C, dtype=np.int64)
    rows = np.arange(R)[:, None]
    sk, ck = sims[:, None], cars[None, :]
    base = track[L.BASE_LAP_TIME_S]
    status = np.tile(forced_status, (R, 1))
    _place_phases(seed, sims, n_laps, start_lap, sc_count_cdf, sc_len_cdf, L.P_SC_COUNT, L.SC, status)
    _place_phases(seed, sims, n_laps, start_lap, vsc_count_cdf, vsc_len_cdf, L.P_VSC_COUNT, L.VSC, status)
    status[status == L.FREE] = L.GREEN
    draw_lap = 1 + (uniform(seed, sk, ck, 0, L.P_RETIREMENT_LAP) * n_laps).astype(np.int64)
    retire_lap = np.where(alive0 & (uniform(seed, sk, ck, 0, L.P_RETIREMENT) < retire_p) & (draw_lap > start_lap),
                          draw_lap, 0)
    retire_lap = np.where(alive0 & (retire_at > start_lap), retire_at, retire_lap)  # forced replaces the draw
    stops = pit_lap.copy()
    for c in np.flatnonzero(shift_plan):
        prev = np.full(R, start_lap + 1 - L.MIN_STINT_LAPS)
        for k in range(int(n_stops[:, c].max(initial=0))):
            shift = np.rint(L.PIT_SHIFT_SIGMA_LAPS * normal(seed, sims, c, k + 1, L.P_PIT_LAP_SHIFT))
            lap = np.minimum(np.maximum(stops[:, c, k] + shift.astype(np.int64), prev + L.MIN_STINT_LAPS), n_laps - 1)
            has = k < n_stops[:, c]
            stops[:, c, k] = np.where(has, lap, stops[:, c, k])
            prev = np.where(has, lap, prev)
    alive = np.tile(alive0, (R, 1))
    t_prev = np.where(alive, np.tile(t0, (R, 1)), np.inf)
    comp, age, fuel = np.tile(compound0, (R, 1)), np.tile(age0, (R, 1)), np.tile(fuel0, (R, 1))
    done = np.zeros((R, C), dtype=np.int64)
    carried = np.zeros((R, C))
    out_lap = np.zeros((R, C), dtype=bool)
    order = np.argsort(t_prev, axis=1, kind="stable")
    mass, burn0 = track[L.FUEL_MASS_EFFECT_S_PER_KG], track[L.FUEL_BURN_KG_PER_LAP]
    if trace is not None:
        shape = (C, n_laps)
        trace.update(lap_end_s=np.full(shape, np.nan), lap_time_s=np.full(shape, np.nan),
                     compound=np.zeros(shape, dtype=int), tyre_age_laps=np.zeros(shape, dtype=int),
                     stops_before=np.zeros(shape, dtype=int), pit_in=np.zeros(shape, dtype=bool),
                     pit_out=np.zeros(shape, dtype=bool), fuel_kg=np.zeros(shape), status=status[0, 1:n_laps + 1],
                     retire_lap=retire_lap[0])
    drs_gain = track[L.DRS_GAIN_S]
    r = np.arange(R)
    for lap in range(start_lap + 1, n_laps + 1):
        st = status[:, lap][:, None]
        frac = neutral_from[lap]  # share of the lap run green before a forced SC/VSC starts
        loss = np.where(st == L.SC, track[L.PIT_LOSS_SC_S],
                        np.where(st == L.VSC, track[L.PIT_LOSS_VSC_S], track[L.PIT_LOSS_GREEN_S]))
        n_alive = alive.sum(axis=1)
        in_drs = np.zeros((R, C), dtype=bool)
        if drs_gain > 0.0 and lap > 1:  # within DRS_WINDOW_S of the car ahead at the line that started the lap
            with np.errstate(invalid="ignore"):
                for i in range(1, C):
                    a, c = order[:, i - 1], order[:, i]
                    in_drs[r, c] = (i < n_alive) & (t_prev[r, c] - t_prev[r, a] < L.DRS_WINDOW_S)
            in_drs &= st == L.GREEN
        age = age + alive
        z = normal(seed, sk, ck, lap, L.P_LAP_NOISE) * track[L.NOISE_SCALE]
        x = (base + pace + comp_offset[comp]
             + deg_factor * degradation_s(comp_model[comp], comp_k1[comp], comp_k2[comp], age)
             + mass * fuel + sigma * z)
        if lap == 1:  # from the start signal; t0 is when the car crossed the start line
            x += (track[L.START_LOSS_S] + track[L.START_LOSS_PER_SLOT_S] * (grid - 1)
                  + track[L.START_SIGMA_S] * normal(seed, sk, ck, 1, L.P_START))
            x -= t0
        x = np.where(in_drs, x - drs_gain, x)
        xv = np.maximum(x, base * track[L.VSC_FACTOR] + L.VSC_NOISE_S * z)
        if frac != 0.0:
            xv = frac * x + (1.0 - frac) * xv
        x = np.where(st == L.VSC, xv, x)
        has_plan = done < n_stops
        due = np.take_along_axis(stops, np.minimum(done, stops.shape[2] - 1)[:, :, None], axis=2)[:, :, 0]
        stopping = alive & has_plan & (lap < n_laps) & (
            (lap >= due) | (opportunistic & (st != L.GREEN) & (due - lap <= L.SC_EARLY_STOP_LAPS)))
        standstill = lognormal(seed, sk, ck, lap, L.P_PIT_STANDSTILL, track[L.STANDSTILL_MEDIAN_S],
                               track[L.STANDSTILL_SIGMA_LOG])
        carried_now = np.where(stopping, loss + standstill, 0.0)
        pit_add = np.where(stopping, L.IN_LAP_SHARE * carried_now, 0.0) + np.where(
            out_lap, (1.0 - L.IN_LAP_SHARE) * carried, 0.0)
        carried = np.where(alive, carried_now, carried)
        lt = x + pit_add
        with np.errstate(invalid="ignore"):
            t_new = t_prev + lt
            sc = st[:, 0] == L.SC
            sc_lap = base * track[L.SC_FACTOR]
            min_gap, drs, diff = track[L.MIN_GAP_S], track[L.DRS_BONUS_S], track[L.OVERTAKING_DIFFICULTY]
            ref_t = np.zeros(R)  # line time of the last car ahead on track under SC
            has_ref = np.zeros(R, dtype=bool)
            for i in range(C):
                c = order[:, i]
                live = i < n_alive
                own, pa = t_prev[r, c] + lt[r, c], pit_add[r, c]
                # SC: behind the safety car (nobody ahead on track) or closing up on the car ahead on track
                sc_t = np.where(has_ref, np.maximum(own, ref_t + L.SC_GAP_S + pa),
                                t_prev[r, c] + (np.maximum(lt[r, c] - pa, sc_lap) + pa))
                if frac > 0.0:
                    sc_t = own + (1.0 - frac) * (sc_t - own)
                on_track = live & sc & ~(stopping[r, c] | out_lap[r, c])
                ref_t = np.where(on_track, sc_t, ref_t)
                has_ref |= on_track
                if i == 0:
                    t_new[r, c] = np.where(live & sc, sc_t, t_new[r, c])
                    continue
                a = order[:, i - 1]
                ta, tc = t_new[r, a], t_new[r, c]
                busy = stopping[r, c] | stopping[r, a] | out_lap[r, c] | out_lap[r, a]
                close = live & ~sc & ~busy & (tc < ta + min_gap)
                margin = ta - tc
                p = np.where(margin > -drs, (1.0 - diff) * (1.0 - np.exp(-(margin + drs) / L.PASS_SCALE_S)), 0.0)
                if track[L.DETERMINISTIC_PASS] > 0.0:
                    passed = close & (margin + drs > track[L.PASS_THRESHOLD_S])
                else:
                    passed = close & (uniform(seed, sims, c, lap, L.P_OVERTAKE) < p)
                t_new[r, a] = np.where(passed, np.maximum(ta, tc + L.PASS_HOLD_S), ta)
                t_new[r, c] = np.where(live & sc, sc_t, np.where(close & ~passed, ta + min_gap, tc))
            lap_time = t_new if lap == 1 else t_new - t_prev  # lap 1 from the start signal, as in FastF1
        burn = np.where(st != L.GREEN, burn0 * (frac + (1.0 - frac) * L.NEUTRAL_BURN_FACTOR), burn0)
        if trace is not None:
            i = lap - 1
            live0 = alive[0]
            trace["lap_end_s"][live0, i] = t_new[0, live0]
            trace["lap_time_s"][live0, i] = lap_time[0, live0]
            trace["compound"][:, i], trace["tyre_age_laps"][:, i] = comp[0], age[0]
            trace["stops_before"][:, i] = done[0]
            trace["pit_in"][:, i], trace["pit_out"][:, i] = stopping[0], out_lap[0] & live0
        fuel = np.where(alive, np.maximum(0.0, fuel - burn), fuel)
        out_lap = np.where(alive, stopping, out_lap)
        nxt = np.take_along_axis(pit_compound, np.minimum(done, pit_compound.shape[2] - 1)[:, :, None], axis=2)[:, :, 0]
        comp = np.where(stopping, nxt, comp)
        fitted_age = np.take_along_axis(pit_age, np.minimum(done, pit_age.shape[2] - 1)[:, :, None], axis=2)[:, :, 0]
        age = np.where(stopping, fitted_age, age)  # a used set keeps its age
        done = done + stopping
        t_prev = np.where(alive, t_new, t_prev)
        if trace is not None:
            trace["fuel_kg"][:, lap - 1] = fuel[0]
        retiring = alive & (retire_lap == lap)
        alive = alive & ~retiring
        t_prev[retiring] = np.inf
        order = np.argsort(t_prev, axis=1, kind="stable")
    finished = alive
    key_time = np.where(finished, t_prev, -retire_lap.astype(np.float64))
    ranked = np.lexsort((np.broadcast_to(ck, (R, C)), key_time, ~finished), axis=-1)
    out_position[rows, ranked] = np.arange(1, C + 1)[None, :]
    out_time[:] = np.where(finished, t_prev, np.nan)
    out_stops[:] = done


def single_car_times(seed, sim0, n_runs, car, start_lap, n_laps, track, comp_offset, comp_model, comp_k1,
                     comp_k2, compound0, age0, fuel0, pace, sigma, pit_lap, pit_compound, n_stops, out_time):
    """Race time of one car alone on track; same model and draws as the numba kernel of that name."""
    sims = sim0 + np.arange(n_runs, dtype=np.int64)
    base, mass, burn = track[L.BASE_LAP_TIME_S], track[L.FUEL_MASS_EFFECT_S_PER_KG], track[L.FUEL_BURN_KG_PER_LAP]
    k, age, fuel, done = compound0, age0, float(fuel0), 0
    total = np.zeros(n_runs)
    carried = np.zeros(n_runs)
    for lap in range(start_lap + 1, n_laps + 1):
        age += 1
        z = normal(seed, sims, car, lap, L.P_LAP_NOISE)
        x = (base + pace + comp_offset[k] + degradation_s(comp_model[k], comp_k1[k], comp_k2[k], age)
             + mass * fuel + sigma * z) + (1.0 - L.IN_LAP_SHARE) * carried
        carried = np.zeros(n_runs)
        if done < n_stops and lap < n_laps and lap >= pit_lap[done]:
            carried = track[L.PIT_LOSS_GREEN_S] + lognormal(seed, sims, car, lap, L.P_PIT_STANDSTILL,
                                                            track[L.STANDSTILL_MEDIAN_S],
                                                            track[L.STANDSTILL_SIGMA_LOG])
            x = x + L.IN_LAP_SHARE * carried
            k, done, age = pit_compound[done], done + 1, 0
        total += x
        fuel = max(0.0, fuel - burn)
    out_time[:] = total
