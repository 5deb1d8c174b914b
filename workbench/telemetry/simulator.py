"""TelemetrySimulator: a realistic, deterministic 20-car race from a race definition.

The race is computed lap by lap for the whole field when the simulator is built
(a few milliseconds), then streamed as records in session-time order: a
`SessionInfo`, one `LapRecord` per car and lap, `RaceEvent` s (pit in/out,
SC/VSC deployed/ended, retirements, the chequered flag) and 10 Hz `CarSample` s
for the cars asked for. Every random draw is keyed by (seed, car, lap, purpose)
through `workbench.rng`, so a seed fixes the race whatever the speed factor.

Lap model (after Heilmeier et al. 2018/2020): lap time = base + car pace delta +
compound offset + degradation(tyre age) + fuel mass effect + noise; lap 1 adds the
standing-start loss by grid slot; a stop adds the pit-lane loss for the track
status (green/VSC/SC) plus a log-normal standstill. Overtaking is a probability
that grows with the pace advantage and falls with the track's difficulty; a car
that fails is held ``min_gap_s`` behind. Under SC the field bunches up; cars due to
stop within a few laps take the cheap stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from workbench.rng import Purpose, lognormal, normal, uniform
from workbench.strategy.racedef import RaceDefinition, bundled_race
from workbench.telemetry.records import (
    CarSample,
    Compound,
    EventKind,
    LapRecord,
    RaceEvent,
    Record,
    SessionInfo,
    TrackStatus,
)
from workbench.telemetry.trace import reference_trace

__all__ = ["TelemetrySimulator", "SimulatedRace"]

SAMPLE_RATE_HZ = 10.0
SC_GAP_S = 0.8  # gap each car closes up to behind the SC
SC_EARLY_STOP_LAPS = 8  # a car due to stop within this many laps takes the stop under SC
PIT_LANE_KPH = 80.0


@dataclasses.dataclass
class SimulatedRace:
    """Lap-level truth of one simulated race (arrays are [car, lap-1])."""

    drivers: list[str]
    teams: list[str]
    lap_end_s: np.ndarray  # session time at the end of each lap; nan when not driven
    lap_time_s: np.ndarray
    compound: np.ndarray  # index into `compounds`
    tyre_age_laps: np.ndarray
    stint: np.ndarray
    pit_in: np.ndarray
    pit_out: np.ndarray
    fuel_kg: np.ndarray
    position: np.ndarray
    track_status: list[TrackStatus]  # per lap (by the leader's lap)
    compounds: list[Compound]
    retired_lap: np.ndarray  # lap on which the car retired, 0 when it finished
    events: list[RaceEvent]

    @property
    def laps_completed(self) -> np.ndarray:
        return np.sum(~np.isnan(self.lap_end_s), axis=1)


def _draw_phases(seed: int, p_count, p_length, n_laps: int, purposes, busy: np.ndarray) -> list[tuple[int, int]]:
    """Draw non-overlapping neutralisation phases as (first_lap, last_lap)."""
    count_p, start_p, length_p = purposes
    n = int(np.searchsorted(np.cumsum(p_count), uniform(seed, 0, 0, 0, count_p)[()], side="right"))
    phases = []
    for i in range(n):
        first = 2 + int(uniform(seed, 0, i, 0, start_p)[()] * max(1, n_laps - 5))
        length = 1 + int(np.searchsorted(np.cumsum(p_length), uniform(seed, 0, i, 0, length_p)[()], side="right"))
        last = min(n_laps - 1, first + length - 1)
        if busy[first - 1:last + 1].any():
            continue
        busy[first - 1:last] = True
        phases.append((first, last))
    return sorted(phases)


def simulate_race(race: RaceDefinition, seed: int) -> SimulatedRace:
    """Run one race lap by lap; pure function of the race definition and the seed."""
    track, fuel = race.track, race.fuel
    n_cars, n_laps = len(race.cars), track.laps
    compounds = list(race.compounds)
    busy = np.zeros(n_laps + 1, dtype=bool)
    sc_phases = _draw_phases(seed, race.events.sc_phases_p, race.events.sc_length_laps_p, n_laps,
                             (Purpose.SC_COUNT, Purpose.SC_START_LAP, Purpose.SC_LENGTH), busy)
    vsc_phases = _draw_phases(seed, race.events.vsc_phases_p, race.events.vsc_length_laps_p, n_laps,
                              (Purpose.VSC_COUNT, Purpose.VSC_START_LAP, Purpose.VSC_LENGTH), busy)
    status = [TrackStatus.GREEN] * n_laps
    for phases, kind in ((sc_phases, TrackStatus.SC), (vsc_phases, TrackStatus.VSC)):
        for first, last in phases:
            for lap in range(first, last + 1):
                status[lap - 1] = kind

    cars = np.arange(n_cars)
    retire_lap = np.where(uniform(seed, 0, cars, 0, Purpose.RETIREMENT) < race.events.retirement_p,
                          1 + (uniform(seed, 0, cars, 0, Purpose.RETIREMENT_LAP) * n_laps).astype(int), 0)
    # Planned stop laps: the plan's stint ends, each shifted by a small random amount.
    planned: list[list[int]] = []
    for c, entry in enumerate(race.cars):
        stops, lap = [], 0
        for k, stint in enumerate(entry.strategy[:-1]):
            shift = int(np.rint(1.5 * normal(seed, 0, c, k + 1, Purpose.PIT_LAP_SHIFT)[()]))
            lap = int(np.clip(lap + stint.laps + shift, (stops[-1] if stops else 0) + 3, n_laps - 2))
            stops.append(lap)
        planned.append(stops)

    shape = (n_cars, n_laps)
    lap_end = np.full(shape, np.nan)
    lap_time = np.full(shape, np.nan)
    comp_idx = np.zeros(shape, dtype=int)
    age = np.zeros(shape, dtype=int)
    stint_no = np.zeros(shape, dtype=int)
    pit_in = np.zeros(shape, dtype=bool)
    pit_out = np.zeros(shape, dtype=bool)
    fuel_kg = np.zeros(shape)
    events: list[RaceEvent] = []

    current = np.array([compounds.index(e.strategy[0].compound) for e in race.cars])
    tyre_age = np.zeros(n_cars, dtype=int)
    stint = np.ones(n_cars, dtype=int)
    fuel_now = np.full(n_cars, fuel.start_kg)
    t_prev = np.zeros(n_cars)
    alive = np.ones(n_cars, dtype=bool)
    out_lap_next = np.zeros(n_cars, dtype=bool)
    carried_pit = np.zeros(n_cars)  # pit time still to be paid on the out-lap
    pace = np.array([e.pace_delta_s for e in race.cars])
    sigma = np.array([e.lap_noise_s for e in race.cars])
    grid = np.array([e.grid for e in race.cars])
    order = list(np.argsort(grid))  # running order at the line

    for lap in range(1, n_laps + 1):
        st = status[lap - 1]
        tyre_age = tyre_age + 1
        z = normal(seed, 0, cars, lap, Purpose.LAP_NOISE)
        offset = np.array([race.compounds[compounds[i]].offset_s for i in current])
        deg = np.array([race.compounds[compounds[i]].degradation_s(a) for i, a in zip(current, tyre_age)])
        lt = (track.base_lap_time_s + pace + offset + deg + fuel.mass_effect_s_per_kg * fuel_now + sigma * z)
        if lap == 1:
            lt += (track.start_loss_s + track.start_loss_per_grid_slot_s * (grid - 1)
                   + track.start_sigma_s * normal(seed, 0, cars, 1, Purpose.START))
        if st is TrackStatus.VSC:
            lt = np.maximum(lt, track.base_lap_time_s * track.vsc_lap_time_factor + 0.1 * z)
        # Who stops at the end of this lap?
        stopping = np.zeros(n_cars, dtype=bool)
        for c in range(n_cars):
            stops_done = stint[c] - 1
            if not alive[c] or stops_done >= len(planned[c]) or lap >= n_laps:
                continue
            due = planned[c][stops_done]
            cheap = st is not TrackStatus.GREEN and due - lap <= SC_EARLY_STOP_LAPS
            stopping[c] = lap >= due or cheap
        loss = {TrackStatus.SC: track.pit_loss_sc_s, TrackStatus.VSC: track.pit_loss_vsc_s}.get(
            st, track.pit_loss_green_s)
        standstill = lognormal(seed, 0, cars, lap, Purpose.PIT_STANDSTILL, track.pit_standstill_median_s,
                               track.pit_standstill_sigma_log)
        pit_total = loss + standstill
        lt = lt + np.where(stopping, 0.35 * pit_total, 0.0)
        lt = lt + np.where(out_lap_next, 0.65 * carried_pit, 0.0)
        t_new = t_prev + lt
        if st is TrackStatus.SC:
            # The leader laps behind the SC; everyone closes up to the car ahead.
            lead = order[0]
            t_new[lead] = t_prev[lead] + max(lt[lead], track.base_lap_time_s * track.sc_lap_time_factor)
            for ahead, c in zip(order, order[1:]):
                if not alive[c]:
                    break  # retired cars are at the back of the order
                gap = t_prev[c] - t_prev[ahead]
                extra = lt[c] - np.median(lt[~stopping & ~out_lap_next]) if (stopping[c] or out_lap_next[c]) else 0
                t_new[c] = t_new[ahead] + max(SC_GAP_S, 0.3 * gap) + max(0.0, extra)
        else:
            for ahead, c in zip(order, order[1:]):
                if not (alive[c] and alive[ahead]) or stopping[c] or stopping[ahead] or out_lap_next[c] \
                        or out_lap_next[ahead]:
                    continue
                if t_new[c] < t_new[ahead] + track.min_gap_s:
                    margin = t_new[ahead] - t_new[c]
                    drs_bonus = 0.3 if track.drs else 0.0
                    p_pass = (1 - track.overtaking_difficulty) * (1 - np.exp(-(margin + drs_bonus) / 0.6)) \
                        if margin > -drs_bonus else 0.0
                    if uniform(seed, 0, c, lap, Purpose.OVERTAKE)[()] < p_pass:
                        t_new[ahead] = max(t_new[ahead], t_new[c] + 0.2)
                    else:
                        t_new[c] = t_new[ahead] + track.min_gap_s
        with np.errstate(invalid="ignore"):  # retired cars: inf - inf
            lt = t_new - t_prev
        for c in range(n_cars):
            if not alive[c]:
                continue
            lap_end[c, lap - 1] = t_new[c]
            lap_time[c, lap - 1] = lt[c]
            comp_idx[c, lap - 1] = current[c]
            age[c, lap - 1] = tyre_age[c]
            stint_no[c, lap - 1] = stint[c]
            pit_in[c, lap - 1] = stopping[c]
            pit_out[c, lap - 1] = out_lap_next[c]
            burn = fuel.burn_kg_per_lap * (0.6 if st is not TrackStatus.GREEN else 1.0)
            fuel_now[c] = max(0.0, fuel_now[c] - burn)
            fuel_kg[c, lap - 1] = fuel_now[c]
            if retire_lap[c] == lap:
                alive[c] = False
                events.append(RaceEvent(float(t_new[c]), EventKind.RETIREMENT, race.cars[c].driver, lap,
                                        "retired (simulated)"))
        carried_pit = np.where(stopping, pit_total, 0.0)
        out_lap_next = stopping.copy()
        for c in np.flatnonzero(stopping & alive):
            drv = race.cars[c].driver
            events.append(RaceEvent(float(t_new[c]), EventKind.PIT_IN, drv, lap))
            events.append(RaceEvent(float(t_new[c] + 0.5 * pit_total[c]), EventKind.PIT_OUT, drv, lap + 1))
            stint[c] += 1
            nxt = race.cars[c].strategy[min(stint[c] - 1, len(race.cars[c].strategy) - 1)].compound
            current[c] = compounds.index(nxt)
            tyre_age[c] = 0
        t_prev = np.where(alive, t_new, np.inf)
        order = [c for c in np.argsort(t_prev, kind="stable") if alive[c]] + [c for c in order if not alive[c]]

    # Chequered flag: a car's lap counts only if it started before the leader finished.
    finish = np.nanmin(lap_end[:, n_laps - 1])
    started = np.concatenate([np.zeros((n_cars, 1)), lap_end[:, :-1]], axis=1)
    dropped = ~(started < finish)
    for arr, empty in ((lap_end, np.nan), (lap_time, np.nan)):
        arr[dropped] = empty
    position = np.zeros(shape, dtype=int)
    for lap in range(n_laps):
        done = np.flatnonzero(~np.isnan(lap_end[:, lap]))
        position[done[np.argsort(lap_end[done, lap], kind="stable")], lap] = np.arange(1, len(done) + 1)
    # Events for neutralisations and the flag, timed on the leader's laps.
    lead_end = np.nanmin(np.where(np.isnan(lap_end), np.inf, lap_end), axis=0)
    for phases, start_kind, end_kind in ((sc_phases, EventKind.SC_DEPLOYED, EventKind.SC_ENDED),
                                         (vsc_phases, EventKind.VSC_DEPLOYED, EventKind.VSC_ENDED)):
        for first, last in phases:
            t0 = float(lead_end[first - 2]) if first > 1 else 0.0
            events.append(RaceEvent(t0, start_kind, None, first))
            events.append(RaceEvent(float(lead_end[last - 1]), end_kind, None, last))
    events.append(RaceEvent(float(finish), EventKind.CHEQUERED_FLAG, None, n_laps))
    events = [e for e in events if e.kind is not EventKind.PIT_OUT or e.session_time_s < finish]
    events.sort(key=lambda e: e.session_time_s)
    return SimulatedRace(
        drivers=[e.driver for e in race.cars], teams=[e.team for e in race.cars], lap_end_s=lap_end,
        lap_time_s=lap_time, compound=comp_idx, tyre_age_laps=age, stint=stint_no, pit_in=pit_in & ~dropped,
        pit_out=pit_out & ~dropped, fuel_kg=fuel_kg, position=position, track_status=status,
        compounds=compounds, retired_lap=np.where(retire_lap <= n_laps, retire_lap, 0), events=events)


class TelemetrySimulator:
    """Generate a realistic, deterministic race as a stream of telemetry records.

    Parameters
    ----------
    race : RaceDefinition, optional
        The race to run; the bundled 2024 Bahrain Grand Prix by default.
    seed : int
        Fixes every random draw: the same seed gives the same race.
    sample_drivers : list of str, optional
        Drivers that get 10 Hz car samples; by default the pole sitter only.
        ``"all"`` gives every car samples (about 1M records for a full race).
    """

    def __init__(self, race: RaceDefinition | None = None, seed: int = 0,
                 sample_drivers: list[str] | str | None = None):
        self.race = race if race is not None else bundled_race()
        self.seed = int(seed)
        if seed < 0:
            raise ValueError(f"seed: {seed} is below minimum 0")
        if sample_drivers == "all":
            sample_drivers = self.race.drivers
        elif sample_drivers is None:
            sample_drivers = [min(self.race.cars, key=lambda e: e.grid).driver]
        for d in sample_drivers:
            self.race.car(d)  # raises naming the unknown driver
        self.sample_drivers = list(sample_drivers)
        self.result = simulate_race(self.race, self.seed)
        self._trace = reference_trace(self.race.track.length_m, self.race.track.corners)

    # -- lap-level truth ----------------------------------------------------
    def lap_records(self) -> list[LapRecord]:
        """Every completed lap of every car, in session-time order."""
        r = self.result
        out = []
        fr = self.race.track.sector_fractions
        for c, drv in enumerate(r.drivers):
            for lap in range(1, int(r.laps_completed[c]) + 1):
                i = lap - 1
                end, lt, pos = r.lap_end_s[c, i], r.lap_time_s[c, i], int(r.position[c, i])
                leader = np.nanmin(r.lap_end_s[:, i])
                ahead = r.lap_end_s[(r.position[:, i] == pos - 1), i]
                out.append(LapRecord(
                    session_time_s=round(float(end), 3), driver=drv, lap_number=lap, position=pos,
                    lap_time_s=round(float(lt), 3), sector1_time_s=round(float(lt * fr[0]), 3),
                    sector2_time_s=round(float(lt * fr[1]), 3),
                    sector3_time_s=round(float(lt - round(lt * fr[0], 3) - round(lt * fr[1], 3)), 3),
                    gap_to_leader_s=round(float(end - leader), 3),
                    interval_s=round(float(end - ahead[0]), 3) if pos > 1 else 0.0,
                    compound=r.compounds[r.compound[c, i]],
                    compound_detail=self.race.compounds[r.compounds[r.compound[c, i]]].detail,
                    tyre_age_laps=int(r.tyre_age_laps[c, i]), stint=int(r.stint[c, i]),
                    pit_in=bool(r.pit_in[c, i]), pit_out=bool(r.pit_out[c, i]),
                    track_status=r.track_status[i], fuel_kg=round(float(r.fuel_kg[c, i]), 2),
                    team=r.teams[c]))
        out.sort(key=lambda rec: (rec.session_time_s, rec.position or 0))
        return out

    def laps_frame(self):
        """The race as a FastF1-shaped ``Laps`` table (pandas DataFrame)."""
        import pandas as pd
        rows = [{"Driver": r.driver, "Team": r.team, "LapNumber": r.lap_number, "LapTime": r.lap_time_s,
                 "Compound": r.compound.value, "Stint": r.stint, "TyreLife": r.tyre_age_laps,
                 "Position": r.position, "TrackStatus": r.track_status.value, "Time": r.session_time_s,
                 "PitIn": r.pit_in, "PitOut": r.pit_out, "FuelKg": r.fuel_kg,
                 "GapToLeader": r.gap_to_leader_s} for r in self.lap_records()]
        return pd.DataFrame(rows).sort_values(["Driver", "LapNumber"], ignore_index=True)

    def session_info(self) -> SessionInfo:
        return SessionInfo(session_time_s=0.0, track=self.race.track.name, total_laps=self.race.track.laps,
                           track_length_m=self.race.track.length_m)

    # -- high-rate samples --------------------------------------------------
    def samples(self, driver: str) -> Iterator[CarSample]:
        """10 Hz samples of one car, lap by lap, in session-time order."""
        r = self.result
        c = r.drivers.index(driver)
        period = 1.0 / SAMPLE_RATE_HZ
        for lap in range(1, int(r.laps_completed[c]) + 1):
            i = lap - 1
            end = r.lap_end_s[c, i]
            start = r.lap_end_s[c, i - 1] if lap > 1 else 0.0
            times = np.arange(np.ceil(start / period) * period, end, period)
            if times.size == 0:
                continue
            frac = (times - start) / (end - start)
            ch = self._trace.sample(frac, scale=(end - start) / self._trace.lap_time_s)
            in_pit = np.zeros(times.size, dtype=bool)
            if r.pit_in[c, i]:
                in_pit |= ch["distance_m"] > self.race.track.length_m - 350
            if r.pit_out[c, i]:
                in_pit |= ch["distance_m"] < 400
            speed = np.where(in_pit, np.minimum(ch["speed_kph"], PIT_LANE_KPH), ch["speed_kph"])
            fuel_start = r.fuel_kg[c, i - 1] if lap > 1 else self.race.fuel.start_kg
            fuel = fuel_start + frac * (r.fuel_kg[c, i] - fuel_start)
            drs = (ch["speed_kph"] > 250) & (r.track_status[i] is TrackStatus.GREEN) & (lap > 2) \
                & self.race.track.drs
            compound = r.compounds[r.compound[c, i]]
            detail = self.race.compounds[compound].detail
            for k in range(times.size):
                yield CarSample(
                    session_time_s=round(float(times[k]), 3), driver=driver, lap=lap,
                    distance_m=round(float(ch["distance_m"][k]), 1), speed_kph=round(float(speed[k]), 1),
                    throttle_pct=float(ch["throttle_pct"][k]), brake=bool(ch["brake"][k]),
                    gear=int(ch["gear"][k]), rpm=round(float(ch["rpm"][k])), drs=bool(drs[k]),
                    fuel_kg=round(float(fuel[k]), 2), compound=compound, compound_detail=detail,
                    tyre_age_laps=int(r.tyre_age_laps[c, i]) - 1, in_pit=bool(in_pit[k]))

    # -- the stream ---------------------------------------------------------
    def records(self) -> Iterator[Record]:
        """All records of the race in session-time order (ties: session, laps, events, samples)."""
        def keyed(items, rank):
            for item in items:
                yield (item.session_time_s, rank), item
        streams = [keyed([self.session_info()], 0), keyed(self.lap_records(), 1), keyed(self.result.events, 2)]
        streams += [keyed(self.samples(d), 3) for d in self.sample_drivers]
        for _, record in heapq.merge(*streams, key=lambda pair: pair[0]):
            yield record

    async def stream(self, sink: Callable[[Record], Any], speed: float = 1.0,
                     stop: asyncio.Event | None = None, skip: int = 0) -> int:
        """Feed `records()` to ``sink`` paced at ``speed`` x race time (``inf``: no pacing).

        ``skip`` leaves out the first records (already delivered before a restart); pacing
        then continues from the race time of the first record sent. Returns the number of
        records sent. Yields to the event loop regularly, so it never starves other tasks
        even when unpaced.
        """
        if not speed > 0:
            raise ValueError(f"speed: {speed} is not above 0")
        if skip < 0:
            raise ValueError(f"skip: {skip} is below minimum 0")
        wall0: float | None = None
        sent = 0
        for index, record in enumerate(self.records()):
            if index < skip:
                continue
            if stop is not None and stop.is_set():
                break
            if wall0 is None:
                wall0 = time.monotonic() - record.session_time_s / speed
            if np.isfinite(speed):
                delay = wall0 + record.session_time_s / speed - time.monotonic()
                if delay > 0.002:
                    await asyncio.sleep(delay)
            if sent % 256 == 0:
                await asyncio.sleep(0)
            sink(record)
            sent += 1
        return sent
