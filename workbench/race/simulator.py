"""TelemetrySimulator: a realistic, deterministic 20-car race from a race definition.

The race is computed lap by lap for the whole field when the simulator is built
(a few milliseconds), then streamed as records in session-time order: a
`SessionInfo`, one `LapRecord` per car and lap, `RaceEvent` s (pit in/out,
SC/VSC deployed/ended, retirements, the chequered flag) and 10 Hz `CarSample` s
for the cars asked for. Every random draw is keyed by (seed, car, lap, purpose)
through `workbench.rng`, so a seed fixes the race whatever the speed factor.

Lap model: the Monte Carlo race model (``docs/montecarlo.md``), run for one race by
its numpy reference `workbench.race.reference` with a lap-by-lap trace: lap
time = base + car pace delta + compound offset + degradation(tyre age) + fuel mass
effect + noise; lap 1 adds the standing-start loss by grid slot; a stop adds the
pit-lane loss for the track status (green/VSC/SC) plus a log-normal standstill.
Overtaking is a probability that grows with the pace advantage and falls with the
track's difficulty; a car that fails is held ``min_gap_s`` behind. Under SC the
field bunches up; cars due to stop within a few laps take the cheap stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from workbench.kernels import layout as L
from workbench.race.definition import RaceDefinition, bundled_race
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
from workbench.telemetry.sources import paced
from workbench.telemetry.trace import reference_trace
from workbench.telemetry.weather import WEATHER_FILE, track_weather

__all__ = ["TelemetrySimulator", "SimulatedRace"]

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 10.0
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


def _phases(status: np.ndarray, code: int) -> list[tuple[int, int]]:
    """Runs of ``code`` in a per-lap status vector as (first_lap, last_lap)."""
    phases, first = [], None
    for lap, st in enumerate(list(status) + [None], start=1):
        if st == code and first is None:
            first = lap
        elif st != code and first is not None:
            phases.append((first, lap - 1))
            first = None
    return phases


def simulate_race(race: RaceDefinition, seed: int) -> SimulatedRace:
    """Run one race lap by lap; pure function of the race definition and the seed.

    The race is race number 0 of the Monte Carlo model (`workbench.race.reference`,
    the same model and random numbers as the numba kernel) from the grid, every car on
    its planned stints, traced lap by lap.
    """
    from workbench.race.model import pack
    from workbench.race.reference import run_races

    track = race.track
    n_cars, n_laps = len(race.cars), track.laps
    packed = pack(race)
    trace: dict = {}
    out = (np.zeros((1, n_cars), dtype=np.int64), np.zeros((1, n_cars)), np.zeros((1, n_cars), dtype=np.int64))
    run_races(seed, 0, 1, *packed.kernel_args(), *out, trace=trace)
    compounds = list(packed.compounds)
    code_status = {L.GREEN: TrackStatus.GREEN, L.SC: TrackStatus.SC, L.VSC: TrackStatus.VSC}
    status = [code_status[int(c)] for c in trace["status"]]
    lap_end, lap_time = trace["lap_end_s"], trace["lap_time_s"]
    retire_lap = trace["retire_lap"]
    events: list[RaceEvent] = []
    pit_total = track.pit_loss_green_s + track.pit_standstill_median_s
    for c, entry in enumerate(race.cars):
        for i in np.flatnonzero(trace["pit_in"][c]):
            events.append(RaceEvent(float(lap_end[c, i]), EventKind.PIT_IN, entry.driver, int(i + 1)))
            events.append(RaceEvent(float(lap_end[c, i] + 0.5 * pit_total), EventKind.PIT_OUT, entry.driver,
                                    int(i + 2)))
        if retire_lap[c]:
            events.append(RaceEvent(float(lap_end[c, retire_lap[c] - 1]), EventKind.RETIREMENT, entry.driver,
                                    int(retire_lap[c]), "retired (simulated)"))
    shape = (n_cars, n_laps)
    # Chequered flag: a car's lap counts only if it started before the leader finished.
    finish = np.nanmin(lap_end[:, n_laps - 1])
    started = np.concatenate([np.zeros((n_cars, 1)), lap_end[:, :-1]], axis=1)
    dropped = ~(started < finish)
    for arr in (lap_end, lap_time):
        arr[dropped] = np.nan
    position = np.zeros(shape, dtype=int)
    for lap in range(n_laps):
        done = np.flatnonzero(~np.isnan(lap_end[:, lap]))
        position[done[np.argsort(lap_end[done, lap], kind="stable")], lap] = np.arange(1, len(done) + 1)
    # Events for neutralisations and the flag, timed on the leader's laps.
    lead_end = np.nanmin(np.where(np.isnan(lap_end), np.inf, lap_end), axis=0)
    for code, start_kind, end_kind in ((L.SC, EventKind.SC_DEPLOYED, EventKind.SC_ENDED),
                                       (L.VSC, EventKind.VSC_DEPLOYED, EventKind.VSC_ENDED)):
        for first, last in _phases(trace["status"], code):
            t0 = float(lead_end[first - 2]) if first > 1 else 0.0
            events.append(RaceEvent(t0, start_kind, None, first))
            events.append(RaceEvent(float(lead_end[last - 1]), end_kind, None, last))
    events.append(RaceEvent(float(finish), EventKind.CHEQUERED_FLAG, None, n_laps))
    events = [e for e in events if e.kind is not EventKind.PIT_OUT or e.session_time_s < finish]
    events.sort(key=lambda e: e.session_time_s)
    return SimulatedRace(
        drivers=[e.driver for e in race.cars], teams=[e.team for e in race.cars], lap_end_s=lap_end,
        lap_time_s=lap_time, compound=trace["compound"], tyre_age_laps=trace["tyre_age_laps"],
        stint=trace["stops_before"] + 1, pit_in=trace["pit_in"] & ~dropped, pit_out=trace["pit_out"] & ~dropped,
        fuel_kg=trace["fuel_kg"], position=position, track_status=status, compounds=compounds,
        retired_lap=retire_lap.astype(int), events=events)


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
        """Track facts and the race-start weather of the track (`workbench.telemetry.weather`).

        Temperatures and rainfall stay None (unknown, and logged once) for a track the weather
        table does not hold.
        """
        weather = track_weather(self.race.track.name)
        if weather is None:
            log.info("no weather for track %r in data/%s: temperatures and rainfall unknown",
                     self.race.track.name, WEATHER_FILE)
        return SessionInfo(session_time_s=0.0, track=self.race.track.name, total_laps=self.race.track.laps,
                           track_length_m=self.race.track.length_m,
                           air_temp_c=None if weather is None else weather.air_temp_c,
                           track_temp_c=None if weather is None else weather.track_temp_c,
                           rainfall=None if weather is None else weather.rainfall)

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
        return await paced(self.records(), sink, speed, stop, skip)
