"""Monte Carlo front end: race state, strategies and events packed for the kernels.

`simulate` runs many full-field races from a `RaceState` (the grid or a live
state read from the hub) with given or assumed strategies, on the numba kernel
(default) or the numpy reference, and returns every race's finishing positions,
race times and stop counts. Race ``i`` is a pure function of (seed, i): the same
seed gives bit-identical results on any thread count, and any two calls with the
same seed see common random numbers, which is what makes strategy comparisons
sharp.

Strategies here are *remaining* stops: ``Strategy((Stop(18, HARD),))`` means
"pit at the end of lap 18 for hards".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.kernels import layout as L
from workbench.strategy.racedef import RaceDefinition
from workbench.telemetry.records import Compound, TrackStatus
from workbench.telemetry.schema import TelemetryValidationError, normalize_compound

__all__ = ["Stop", "Strategy", "CarState", "RaceState", "NeutralPhase", "PackedRace", "SimulationResult",
           "BACKENDS", "simulate", "pack", "planned_strategy", "check_strategy", "strategies_from_stints",
           "parse_events", "load_events", "load_strategies"]

BACKENDS = ("numba", "numpy", "mojo")  # mojo: optional extra, see workbench.kernels.mojo_backend


@dataclasses.dataclass(frozen=True)
class Stop:
    """A pit stop at the end of ``lap`` onto ``compound``."""

    lap: int
    compound: Compound


@dataclasses.dataclass(frozen=True)
class Strategy:
    """The remaining stops of one car, in lap order."""

    stops: tuple[Stop, ...] = ()

    @property
    def label(self) -> str:
        if not self.stops:
            return "no stop"
        return f"{len(self.stops)}-stop " + " ".join(f"L{s.lap} {s.compound.value}" for s in self.stops)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"lap": s.lap, "compound": s.compound.value} for s in self.stops]


@dataclasses.dataclass(frozen=True)
class CarState:
    """One car at the line: gap to the leader, tyres, stops made."""

    driver: str
    gap_to_leader_s: float
    compound: Compound
    tyre_age_laps: int
    stops_made: int = 0
    compounds_used: frozenset[Compound] = frozenset()
    fuel_kg: float | None = None
    retired: bool = False
    position: int | None = None


@dataclasses.dataclass(frozen=True)
class RaceState:
    """The race after ``laps_completed`` laps (0 = on the grid).

    ``track_status`` is SC or VSC when a neutralisation is running; it then lasts
    ``neutral_laps_remaining`` more laps (the model's median length when unknown).
    """

    laps_completed: int
    cars: tuple[CarState, ...]
    track_status: TrackStatus = TrackStatus.GREEN
    neutral_laps_remaining: int = 0

    def car(self, driver: str) -> CarState:
        for c in self.cars:
            if c.driver == driver:
                return c
        raise KeyError(f"driver: {driver!r} is not in the race state")

    @classmethod
    def grid(cls, race: RaceDefinition) -> RaceState:
        """Everybody on the grid on their planned first compound."""
        cars = tuple(CarState(e.driver, 0.0, e.strategy[0].compound, 0, 0, frozenset({e.strategy[0].compound}),
                              race.fuel.start_kg, position=e.grid) for e in race.cars)
        return cls(0, cars)

    @classmethod
    def from_session(cls, session) -> RaceState:
        """Read the live state of a `RaceSession`: the leader's lap and every car's latest lap."""
        race = session.race
        if race is None:
            raise ValueError("session.race: None is not a race definition (the model needs one)")
        used: dict[str, set[Compound]] = {}
        for rec in session.laps:
            if rec.compound is not None:
                used.setdefault(rec.driver, set()).add(rec.compound)
        leader_lap = session.field_twin.leader_lap
        cars = []
        for entry in race.cars:
            twin = session.field_twin.cars.get(entry.driver)
            first = entry.strategy[0].compound
            if twin is None or twin.lap == 0:
                cars.append(CarState(entry.driver, 0.0, first, 0, 0, frozenset({first}), race.fuel.start_kg,
                                     position=entry.grid))
                continue
            gap = twin.gap_to_leader_s if twin.gap_to_leader_s is not None else 0.0
            gap += (leader_lap - twin.lap) * race.track.base_lap_time_s  # a car still finishing the lap
            compound = twin.compound or first
            cars.append(CarState(entry.driver, float(gap), compound, int(twin.tyre_age_laps or 0),
                                 int(twin.pit_stops), frozenset(used.get(entry.driver, {compound}) | {compound}),
                                 twin.fuel_kg, bool(twin.retired), twin.position))
        status = session.environment.track_status
        status = status if status in (TrackStatus.SC, TrackStatus.VSC) else TrackStatus.GREEN
        return cls(leader_lap, tuple(cars), status)


@dataclasses.dataclass(frozen=True)
class NeutralPhase:
    """A forced SC or VSC from ``first_lap`` to ``last_lap`` (inclusive), or a forced green."""

    kind: TrackStatus
    first_lap: int
    last_lap: int


def parse_events(obj: Any, n_laps: int) -> list[NeutralPhase]:
    """Check a decoded events list: ``[{"kind": "SC", "first_lap": 19, "last_lap": 22}, ...]``."""
    if not isinstance(obj, list):
        raise TelemetryValidationError("events", obj, "is not a list of {kind, first_lap, last_lap} objects")
    phases = []
    for i, item in enumerate(obj):
        path = f"events[{i}]"
        if not isinstance(item, dict) or set(item) != {"kind", "first_lap", "last_lap"}:
            raise TelemetryValidationError(path, item, "is not an object with exactly kind, first_lap, last_lap")
        kind = str(item["kind"]).upper()
        if kind not in ("SC", "VSC", "GREEN"):
            raise TelemetryValidationError(f"{path}.kind", item["kind"], "is not one of SC, VSC, GREEN")
        for name in ("first_lap", "last_lap"):
            v = item[name]
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n_laps:
                raise TelemetryValidationError(f"{path}.{name}", v, f"is not a lap between 1 and {n_laps}")
        if item["last_lap"] < item["first_lap"]:
            raise TelemetryValidationError(f"{path}.last_lap", item["last_lap"],
                                           f"is before first_lap {item['first_lap']}")
        phases.append(NeutralPhase(TrackStatus(kind), item["first_lap"], item["last_lap"]))
    return phases


def load_events(path: str | Path, n_laps: int) -> list[NeutralPhase]:
    """Read a forced-events JSON file (see `parse_events`)."""
    return parse_events(_read_json(path), n_laps)


def _read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise TelemetryValidationError(str(path), f"line {exc.lineno}", f"is not valid JSON: {exc.msg}") from None


def check_strategy(race: RaceDefinition, car: CarState, strategy: Strategy, laps_completed: int,
                   path: str = "strategy") -> Strategy:
    """Raise `TelemetryValidationError` unless ``strategy`` is legal for ``car`` from this lap.

    Rules: stops strictly after the current lap and before the last lap, in
    increasing lap order, onto compounds the race has, and at least two different
    dry compounds used over the race (the two-dry-compound rule).
    """
    n_laps = race.track.laps
    prev = laps_completed
    for k, stop in enumerate(strategy.stops):
        if not prev < stop.lap < n_laps:
            raise TelemetryValidationError(f"{path}.stops[{k}].lap", stop.lap,
                                           f"is not between {prev + 1} and {n_laps - 1}")
        if stop.compound not in race.compounds:
            have = ", ".join(c.value for c in race.compounds)
            raise TelemetryValidationError(f"{path}.stops[{k}].compound", stop.compound.value,
                                           f"is not available (available: {have})")
        prev = stop.lap
    used = {c for c in car.compounds_used | {car.compound} | {s.compound for s in strategy.stops} if c.is_dry}
    all_dry = car.compound.is_dry and all(s.compound.is_dry for s in strategy.stops)
    if all_dry and len(used) < 2:
        raise TelemetryValidationError(f"{path}.stops", strategy.to_json(),
                                       "breaks the two-dry-compound rule (only "
                                       f"{', '.join(sorted(c.value for c in used))} used)")
    return strategy


def strategies_from_stints(race: RaceDefinition, obj: Any) -> dict[str, Strategy]:
    """Strategies from the grid, given as the race definition's stint lists, by driver.

    ``{"VER": [{"compound": "SOFT", "laps": 18}, {"compound": "HARD", "laps": 39}]}``: the
    stint laps must add up to the race distance.
    """
    if not isinstance(obj, dict) or not obj:
        raise TelemetryValidationError("strategies", obj, "is not an object of stint lists by driver")
    grid = RaceState.grid(race)
    out = {}
    for driver, stints in obj.items():
        path = f"strategies.{driver}"
        if driver not in race.drivers:
            raise TelemetryValidationError(path, driver, f"is not in the race; drivers are {', '.join(race.drivers)}")
        if not isinstance(stints, list) or not stints:
            raise TelemetryValidationError(path, stints, "is not a non-empty list of stints")
        lap, stops, first = 0, [], None
        for j, stint in enumerate(stints):
            if not isinstance(stint, dict) or set(stint) != {"compound", "laps"}:
                raise TelemetryValidationError(f"{path}[{j}]", stint, "is not an object with exactly compound, laps")
            try:
                compound = Compound(normalize_compound(stint["compound"]))
            except (ValueError, TypeError):
                raise TelemetryValidationError(f"{path}[{j}].compound", stint["compound"],
                                               "is not a compound") from None
            laps = stint["laps"]
            if isinstance(laps, bool) or not isinstance(laps, int) or laps < 1:
                raise TelemetryValidationError(f"{path}[{j}].laps", laps, "is not a positive integer")
            if j == 0:
                first = compound
            else:
                stops.append(Stop(lap, compound))
            lap += laps
        if lap != race.track.laps:
            raise TelemetryValidationError(f"{path}", [s["laps"] for s in stints],
                                           f"adds up to {lap} laps, not the race distance {race.track.laps}")
        if first not in race.compounds:
            raise TelemetryValidationError(f"{path}[0].compound", first.value, "is not available in this race")
        car = dataclasses.replace(grid.car(driver), compound=first, compounds_used=frozenset({first}))
        out[driver] = check_strategy(race, car, Strategy(tuple(stops)), 0, path)
    return out


def load_strategies(path: str | Path, race: RaceDefinition) -> dict[str, Strategy]:
    """Read a strategies JSON file (see `strategies_from_stints`)."""
    return strategies_from_stints(race, _read_json(path))


def planned_strategy(race: RaceDefinition, car: CarState, laps_completed: int) -> Strategy:
    """What a rival is assumed to do: the rest of its planned stints from now.

    The current stint ends when its planned length is reached (next lap if overdue);
    later stints keep their planned lengths; a plan that would break the
    two-dry-compound rule gets a different compound for its last stint.
    """
    plan = race.car(car.driver).strategy
    n_laps = race.track.laps
    k = min(car.stops_made, len(plan) - 1)
    lap = laps_completed + max(1, plan[k].laps - car.tyre_age_laps)
    stops = []
    for stint in plan[k + 1:]:
        if lap >= n_laps:
            break
        stops.append(Stop(lap, stint.compound))
        lap += stint.laps
    used = {c for c in car.compounds_used | {car.compound} | {s.compound for s in stops} if c.is_dry}
    if len(used) < 2 and car.compound.is_dry:
        other = next((c for c in race.compounds if c.is_dry and c not in used), None)
        if other is not None:
            if stops:
                stops[-1] = Stop(stops[-1].lap, other)
            elif laps_completed + 1 < n_laps:
                stops = [Stop(min(n_laps - 1, max(laps_completed + 1, lap)), other)]
    return Strategy(tuple(stops))


@dataclasses.dataclass
class PackedRace:
    """Everything a kernel needs, as arrays (argument names and order of the kernels)."""

    start_lap: int
    n_laps: int
    track: np.ndarray
    comp_offset: np.ndarray
    comp_model: np.ndarray
    comp_k1: np.ndarray
    comp_k2: np.ndarray
    sc_count_cdf: np.ndarray
    sc_len_cdf: np.ndarray
    vsc_count_cdf: np.ndarray
    vsc_len_cdf: np.ndarray
    retire_p: float
    forced_status: np.ndarray
    t0: np.ndarray
    alive0: np.ndarray
    compound0: np.ndarray
    age0: np.ndarray
    fuel0: np.ndarray
    pace: np.ndarray
    sigma: np.ndarray
    grid: np.ndarray
    opportunistic: np.ndarray
    shift_plan: np.ndarray
    pit_lap: np.ndarray
    pit_compound: np.ndarray
    n_stops: np.ndarray
    drivers: tuple[str, ...] = ()
    compounds: tuple[Compound, ...] = ()

    def kernel_args(self) -> tuple:
        names = [f.name for f in dataclasses.fields(self)][:-2]
        return tuple(getattr(self, n) for n in names)

    def widened(self, width: int) -> PackedRace:
        """A copy whose plan arrays hold at least ``width`` stops per car."""
        if self.pit_lap.shape[1] >= width:
            return self
        pad = width - self.pit_lap.shape[1]
        return dataclasses.replace(self, pit_lap=np.pad(self.pit_lap, ((0, 0), (0, pad))),
                                   pit_compound=np.pad(self.pit_compound, ((0, 0), (0, pad))))

    def with_strategy(self, car: int, strategy: Strategy) -> PackedRace:
        """A copy where car index ``car`` follows ``strategy`` exactly (no shift, no opportunism)."""
        k = max(self.pit_lap.shape[1], len(strategy.stops), 1)
        pit_lap = np.zeros((self.pit_lap.shape[0], k), dtype=np.int64)
        pit_comp = np.zeros_like(pit_lap)
        pit_lap[:, :self.pit_lap.shape[1]] = self.pit_lap
        pit_comp[:, :self.pit_compound.shape[1]] = self.pit_compound
        pit_lap[car] = 0
        pit_comp[car] = 0
        for j, s in enumerate(strategy.stops):
            pit_lap[car, j] = s.lap
            pit_comp[car, j] = self.compounds.index(s.compound)
        n_stops = self.n_stops.copy()
        n_stops[car] = len(strategy.stops)
        opp, shift = self.opportunistic.copy(), self.shift_plan.copy()
        opp[car] = shift[car] = False
        return dataclasses.replace(self, pit_lap=pit_lap, pit_compound=pit_comp, n_stops=n_stops,
                                   opportunistic=opp, shift_plan=shift)


_MODEL_CODES = {"linear": L.LINEAR, "quadratic": L.QUADRATIC, "logarithmic": L.LOGARITHMIC}


def _median_length(p: Sequence[float]) -> int:
    return 1 + int(np.searchsorted(np.cumsum(p), 0.5))


def pack(race: RaceDefinition, state: RaceState | None = None, strategies: Mapping[str, Strategy] | None = None,
         events: Sequence[NeutralPhase] = ()) -> PackedRace:
    """Pack a race, a state, strategies and forced events into kernel arrays.

    Cars with a strategy in ``strategies`` follow it exactly; the others follow
    `planned_strategy`, with their stop laps spread by the model and stopping early
    under SC/VSC when a stop is near (opportunistic).
    """
    state = state if state is not None else RaceState.grid(race)
    strategies = dict(strategies or {})
    track, fuel, n_laps = race.track, race.fuel, race.track.laps
    if not 0 <= state.laps_completed < n_laps:
        raise TelemetryValidationError("state.laps_completed", state.laps_completed,
                                       f"is not between 0 and {n_laps - 1} (the race must have laps left)")
    compounds = tuple(race.compounds)
    trk = np.zeros(L.N_TRACK)
    trk[L.BASE_LAP_TIME_S], trk[L.PIT_LOSS_GREEN_S] = track.base_lap_time_s, track.pit_loss_green_s
    trk[L.PIT_LOSS_VSC_S], trk[L.PIT_LOSS_SC_S] = track.pit_loss_vsc_s, track.pit_loss_sc_s
    trk[L.STANDSTILL_MEDIAN_S], trk[L.STANDSTILL_SIGMA_LOG] = (track.pit_standstill_median_s,
                                                               track.pit_standstill_sigma_log)
    trk[L.OVERTAKING_DIFFICULTY], trk[L.DRS_BONUS_S] = track.overtaking_difficulty, 0.3 if track.drs else 0.0
    trk[L.START_LOSS_S], trk[L.START_LOSS_PER_SLOT_S] = track.start_loss_s, track.start_loss_per_grid_slot_s
    trk[L.START_SIGMA_S], trk[L.SC_FACTOR] = track.start_sigma_s, track.sc_lap_time_factor
    trk[L.VSC_FACTOR], trk[L.MIN_GAP_S] = track.vsc_lap_time_factor, track.min_gap_s
    trk[L.FUEL_MASS_EFFECT_S_PER_KG], trk[L.FUEL_BURN_KG_PER_LAP] = fuel.mass_effect_s_per_kg, fuel.burn_kg_per_lap
    models = [race.compounds[c] for c in compounds]
    forced = np.full(n_laps + 2, L.FREE, dtype=np.int64)
    forced[:state.laps_completed + 1] = L.GREEN
    if state.track_status in (TrackStatus.SC, TrackStatus.VSC):
        p = race.events.sc_length_laps_p if state.track_status is TrackStatus.SC else race.events.vsc_length_laps_p
        left = state.neutral_laps_remaining or _median_length(p)
        end = min(n_laps, state.laps_completed + left)
        forced[state.laps_completed + 1:end + 1] = L.SC if state.track_status is TrackStatus.SC else L.VSC
    code = {TrackStatus.SC: L.SC, TrackStatus.VSC: L.VSC, TrackStatus.GREEN: L.GREEN}
    for ph in events:
        forced[max(ph.first_lap, state.laps_completed + 1):ph.last_lap + 1] = code[ph.kind]
    by_driver = {c.driver: c for c in state.cars}
    n = len(race.cars)
    plans, exact = [], []
    for entry in race.cars:
        if entry.driver not in by_driver:
            raise TelemetryValidationError("state.cars", entry.driver, "is missing from the race state")
        car = by_driver[entry.driver]
        given = strategies.pop(entry.driver, None)
        if given is not None:
            check_strategy(race, car, given, state.laps_completed, f"strategies.{entry.driver}")
        plans.append(given if given is not None else planned_strategy(race, car, state.laps_completed))
        exact.append(given is not None)
    if strategies:
        name = next(iter(strategies))
        raise TelemetryValidationError(f"strategies.{name}", name, "is not a driver of the race")
    k = max(1, max(len(p.stops) for p in plans))
    pit_lap = np.zeros((n, k), dtype=np.int64)
    pit_comp = np.zeros((n, k), dtype=np.int64)
    for c, plan in enumerate(plans):
        for j, s in enumerate(plan.stops):
            pit_lap[c, j], pit_comp[c, j] = s.lap, compounds.index(s.compound)
    cars = [by_driver[e.driver] for e in race.cars]
    for c, car in enumerate(cars):
        if car.compound not in race.compounds:
            raise TelemetryValidationError(f"state.cars[{c}].compound", car.compound.value,
                                           "has no model in the race definition")
    default_fuel = max(0.0, fuel.start_kg - fuel.burn_kg_per_lap * state.laps_completed)
    return PackedRace(
        start_lap=state.laps_completed, n_laps=n_laps, track=trk,
        comp_offset=np.array([m.offset_s for m in models]),
        comp_model=np.array([_MODEL_CODES[m.model] for m in models], dtype=np.int64),
        comp_k1=np.array([m.k1_s for m in models]), comp_k2=np.array([m.k2_s for m in models]),
        sc_count_cdf=np.cumsum(race.events.sc_phases_p), sc_len_cdf=np.cumsum(race.events.sc_length_laps_p),
        vsc_count_cdf=np.cumsum(race.events.vsc_phases_p), vsc_len_cdf=np.cumsum(race.events.vsc_length_laps_p),
        retire_p=float(race.events.retirement_p), forced_status=forced,
        t0=np.array([c.gap_to_leader_s for c in cars], dtype=np.float64),
        alive0=np.array([not c.retired for c in cars]),
        compound0=np.array([compounds.index(c.compound) for c in cars], dtype=np.int64),
        age0=np.array([c.tyre_age_laps for c in cars], dtype=np.int64),
        fuel0=np.array([default_fuel if c.fuel_kg is None else c.fuel_kg for c in cars], dtype=np.float64),
        pace=np.array([e.pace_delta_s for e in race.cars]), sigma=np.array([e.lap_noise_s for e in race.cars]),
        grid=np.array([e.grid for e in race.cars], dtype=np.int64),
        opportunistic=~np.array(exact), shift_plan=~np.array(exact),
        pit_lap=pit_lap, pit_compound=pit_comp, n_stops=np.array([len(p.stops) for p in plans], dtype=np.int64),
        drivers=tuple(e.driver for e in race.cars), compounds=compounds)


@dataclasses.dataclass
class SimulationResult:
    """Outcome of ``runs`` races: arrays are [run, car] in race-definition car order."""

    drivers: tuple[str, ...]
    position: np.ndarray
    race_time_s: np.ndarray  # nan for a car that retired
    stops: np.ndarray
    seed: int
    sim0: int = 0

    @property
    def runs(self) -> int:
        return self.position.shape[0]

    def index(self, driver: str) -> int:
        if driver not in self.drivers:
            raise KeyError(f"driver: {driver!r} is not in the race; drivers are {', '.join(self.drivers)}")
        return self.drivers.index(driver)

    def position_distribution(self, driver: str) -> np.ndarray:
        """P(finish in position 1..n) of ``driver`` (index 0 = P1)."""
        pos = self.position[:, self.index(driver)]
        return np.bincount(pos - 1, minlength=len(self.drivers)) / len(pos)

    def finishing_order(self, run: int = 0) -> list[str]:
        return [self.drivers[c] for c in np.argsort(self.position[run])]


def _run_kernel(packed: PackedRace, runs: int, seed: int, sim0: int, backend: str):
    n = len(packed.t0)
    position = np.zeros((runs, n), dtype=np.int64)
    race_time = np.zeros((runs, n))
    stops = np.zeros((runs, n), dtype=np.int64)
    if backend == "numba":
        from workbench.kernels.numba_race import run_races
    elif backend == "numpy":
        from workbench.strategy.reference import run_races
    elif backend == "mojo":
        from workbench.kernels.mojo_backend import run_races  # raises MojoUnavailable, saying how to install
    else:
        raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    run_races(seed, sim0, runs, *packed.kernel_args(), position, race_time, stops)
    return position, race_time, stops


def simulate(race: RaceDefinition, state: RaceState | None = None, strategies: Mapping[str, Strategy] | None = None,
             events: Sequence[NeutralPhase] = (), runs: int = 1000, seed: int = 0, backend: str = "numba",
             sim0: int = 0, packed: PackedRace | None = None) -> SimulationResult:
    """Simulate ``runs`` full-field races (numbers ``sim0 ..``) from ``state`` (the grid by default).

    Parameters
    ----------
    race : RaceDefinition
    state : RaceState, optional
        Where the race stands; the grid when omitted.
    strategies : mapping of driver to Strategy, optional
        Cars that follow a given strategy exactly; the others follow their plan.
    events : sequence of NeutralPhase
        Forced SC/VSC/green laps; random neutralisations fill the other laps.
    runs, seed, sim0 : int
        How many races, the seed, and the number of the first race.
    backend : {"numba", "numpy", "mojo"}
        ``mojo`` raises `workbench.kernels.mojo_backend.MojoUnavailable` when Mojo is not installed.
    packed : PackedRace, optional
        Already packed arrays (then ``state``, ``strategies`` and ``events`` are ignored).
    """
    for name, value, low in (("runs", runs, 1), ("seed", seed, 0), ("sim0", sim0, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name}: {value!r} is not an integer >= {low}")
    if backend not in BACKENDS:
        raise ValueError(f"backend: {backend!r} is not one of {', '.join(BACKENDS)}")
    packed = packed if packed is not None else pack(race, state, strategies, events)
    position, race_time, stops = _run_kernel(packed, int(runs), int(seed), int(sim0), backend)
    return SimulationResult(packed.drivers, position, race_time, stops, int(seed), int(sim0))
