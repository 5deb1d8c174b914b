"""The race model: strategies, race state, events, and the race packed for the kernels.

Below both the strategy engine (`workbench.strategy.montecarlo`, sweeps) and the telemetry
simulator (`workbench.race.simulator`): a race definition (`workbench.race.definition`), a
`RaceState` (the grid or a live state read from the hub) and strategies become the flat arrays
of `PackedRace`, which every kernel backend (numba, the numpy reference
`workbench.race.reference`, Mojo, CUDA) reads.

Strategies here are *remaining* stops: ``Strategy((Stop(18, HARD),))`` means
"pit at the end of lap 18 for hards".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.kernels import layout as L
from workbench.race.definition import RaceDefinition, StintPlan, read_json
from workbench.telemetry.records import Compound, TrackStatus
from workbench.telemetry.schema import TelemetryValidationError, normalize_compound

__all__ = ["Stop", "Strategy", "CarState", "RaceState", "NeutralPhase", "Retirement", "Event", "PackedRace",
           "pack", "planned_strategy", "check_strategy", "strategies_from_stints", "apply_stints",
           "parse_events", "load_events", "load_strategies", "default_pass_threshold_s", "grid_gap_s", "read_json"]


@dataclasses.dataclass(frozen=True)
class Stop:
    """A pit stop at the end of ``lap`` onto ``compound`` (a set ``tyre_age_laps`` old; 0 = new)."""

    lap: int
    compound: Compound
    tyre_age_laps: int = 0


@dataclasses.dataclass(frozen=True)
class Strategy:
    """The remaining stops of one car, in lap order.

    ``wet_race``: the race is declared wet, so the two-dry-compound rule does not
    apply (a one-compound strategy is legal).
    """

    stops: tuple[Stop, ...] = ()
    wet_race: bool = False

    @property
    def label(self) -> str:
        if not self.stops:
            return "no stop"
        return f"{len(self.stops)}-stop " + " ".join(
            f"L{s.lap} {s.compound.value}" + (f" (used {s.tyre_age_laps})" if s.tyre_age_laps else "")
            for s in self.stops)

    def to_json(self) -> list[dict[str, Any]]:
        return [{"lap": s.lap, "compound": s.compound.value} | ({"tyre_age_laps": s.tyre_age_laps}
                                                                 if s.tyre_age_laps else {}) for s in self.stops]


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
        """Everybody on the grid on their planned first set, in grid order.

        A car's gap is when it crosses the start line after the pole sitter,
        ``GRID_SLOT_S`` per slot (lap 1 is modelled from the start signal, so this sets
        the running order of lap 1, not the race time).
        """
        cars = tuple(CarState(e.driver, grid_gap_s(e.grid), e.strategy[0].compound, e.strategy[0].tyre_age_laps, 0,
                              frozenset({e.strategy[0].compound}), race.fuel.start_kg, position=e.grid)
                     for e in race.cars)
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
                cars.append(CarState(entry.driver, grid_gap_s(entry.grid), first, entry.strategy[0].tyre_age_laps, 0,
                                     frozenset({first}), race.fuel.start_kg, position=entry.grid))
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


def grid_gap_s(grid: int) -> float:
    """Start-line crossing delay of grid slot ``grid`` behind pole (``GRID_SLOT_S`` per slot)."""
    return L.GRID_SLOT_S * (grid - 1)


@dataclasses.dataclass(frozen=True)
class NeutralPhase:
    """A forced SC or VSC from ``first_lap`` to ``last_lap`` (inclusive), or a forced green.

    ``start_fraction``: share of ``first_lap`` run green before an SC/VSC comes out
    (0 = from the start of the lap).
    """

    kind: TrackStatus
    first_lap: int
    last_lap: int
    start_fraction: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = {"kind": self.kind.value, "first_lap": self.first_lap, "last_lap": self.last_lap}
        return out | ({"start_fraction": self.start_fraction} if self.start_fraction else {})


@dataclasses.dataclass(frozen=True)
class Retirement:
    """A forced retirement: ``driver`` stops at the end of ``lap``."""

    driver: str
    lap: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "RETIREMENT", "driver": self.driver, "lap": self.lap}


Event = NeutralPhase | Retirement
_PHASE_KEYS = {"kind", "first_lap", "last_lap"}


def _lap(path: str, v: Any, n_laps: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n_laps:
        raise TelemetryValidationError(path, v, f"is not a lap between 1 and {n_laps}")
    return v


def parse_events(obj: Any, n_laps: int, drivers: Sequence[str] | None = None) -> list[Event]:
    """Check a decoded events list and build its events.

    Items: ``{"kind": "SC" | "VSC" | "GREEN", "first_lap": 19, "last_lap": 22}`` with an
    optional ``"start_fraction"`` (SC/VSC only, 0 <= f < 1: share of ``first_lap`` run
    green before it comes out), or ``{"kind": "RETIREMENT", "driver": "VER", "lap": 30}``
    (the car stops at the end of that lap; ``drivers``, when given, are the legal names).
    """
    if not isinstance(obj, list):
        raise TelemetryValidationError("events", obj, "is not a list of event objects")
    out: list[Event] = []
    retired: set[str] = set()
    for i, item in enumerate(obj):
        path = f"events[{i}]"
        if not isinstance(item, dict) or "kind" not in item:
            raise TelemetryValidationError(path, item, "is not an object with a kind")
        kind = str(item["kind"]).upper()
        if kind == "RETIREMENT":
            if set(item) != {"kind", "driver", "lap"}:
                raise TelemetryValidationError(path, item, "is not an object with exactly kind, driver, lap")
            driver = item["driver"]
            if drivers is not None and driver not in drivers:
                raise TelemetryValidationError(f"{path}.driver", driver,
                                               f"is not in the race; drivers are {', '.join(drivers)}")
            if not isinstance(driver, str):
                raise TelemetryValidationError(f"{path}.driver", driver, "is not a driver abbreviation")
            if driver in retired:
                raise TelemetryValidationError(f"{path}.driver", driver, "already retires in an earlier event")
            retired.add(driver)
            out.append(Retirement(driver, _lap(f"{path}.lap", item["lap"], n_laps)))
            continue
        if kind not in ("SC", "VSC", "GREEN"):
            raise TelemetryValidationError(f"{path}.kind", item["kind"], "is not one of SC, VSC, GREEN, RETIREMENT")
        allowed = _PHASE_KEYS | ({"start_fraction"} if kind != "GREEN" else set())
        if not _PHASE_KEYS <= set(item) <= allowed:
            extra = " and optionally start_fraction" if kind != "GREEN" else ""
            raise TelemetryValidationError(path, item,
                                           f"is not an object with exactly kind, first_lap, last_lap{extra}")
        first = _lap(f"{path}.first_lap", item["first_lap"], n_laps)
        last = _lap(f"{path}.last_lap", item["last_lap"], n_laps)
        if last < first:
            raise TelemetryValidationError(f"{path}.last_lap", last, f"is before first_lap {first}")
        frac = item.get("start_fraction", 0.0)
        if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0.0 <= frac < 1.0:
            raise TelemetryValidationError(f"{path}.start_fraction", frac, "is not a number with 0 <= f < 1")
        out.append(NeutralPhase(TrackStatus(kind), first, last, float(frac)))
    return out


def load_events(path: str | Path, n_laps: int, drivers: Sequence[str] | None = None) -> list[Event]:
    """Read a forced-events JSON file (see `parse_events`)."""
    return parse_events(read_json(path), n_laps, drivers)


_read_json = read_json  # the old private name


def check_strategy(race: RaceDefinition, car: CarState, strategy: Strategy, laps_completed: int,
                   path: str = "strategy") -> Strategy:
    """Raise `TelemetryValidationError` unless ``strategy`` is legal for ``car`` from this lap.

    Rules: stops strictly after the current lap and before the last lap, in
    increasing lap order, onto compounds the race has, and at least two different
    dry compounds used over the race (the two-dry-compound rule; not in a wet race,
    ``strategy.wet_race``).
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
    if all_dry and len(used) < 2 and not strategy.wet_race:
        raise TelemetryValidationError(f"{path}.stops", strategy.to_json(),
                                       "breaks the two-dry-compound rule (only "
                                       f"{', '.join(sorted(c.value for c in used))} used)")
    return strategy


def _parse_stints(race: RaceDefinition, obj: Any) -> tuple[dict[str, tuple[StintPlan, ...]], bool]:
    """Check a stints-by-driver object; return the stints by driver and whether the race is wet."""
    if not isinstance(obj, dict) or not obj:
        raise TelemetryValidationError("strategies", obj, "is not an object of stint lists by driver")
    out, wet = {}, False
    for driver, stints in obj.items():
        path = f"strategies.{driver}"
        if driver not in race.drivers:
            raise TelemetryValidationError(path, driver, f"is not in the race; drivers are {', '.join(race.drivers)}")
        if not isinstance(stints, list) or not stints:
            raise TelemetryValidationError(path, stints, "is not a non-empty list of stints")
        plan = []
        for j, stint in enumerate(stints):
            if not isinstance(stint, dict) or not {"compound", "laps"} <= set(stint) <= {"compound", "laps",
                                                                                        "tyre_age_laps"}:
                raise TelemetryValidationError(f"{path}[{j}]", stint, "is not an object with exactly compound, laps "
                                               "and optionally tyre_age_laps")
            try:
                compound = Compound(normalize_compound(stint["compound"]))
            except (ValueError, TypeError, AttributeError):
                raise TelemetryValidationError(f"{path}[{j}].compound", stint["compound"],
                                               "is not a compound") from None
            if compound not in race.compounds:
                have = ", ".join(c.value for c in race.compounds)
                raise TelemetryValidationError(f"{path}[{j}].compound", compound.value,
                                               f"is not available in this race (available: {have})")
            laps = stint["laps"]
            if isinstance(laps, bool) or not isinstance(laps, int) or laps < 1:
                raise TelemetryValidationError(f"{path}[{j}].laps", laps, "is not a positive integer")
            age = stint.get("tyre_age_laps", 0)
            if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 100:
                raise TelemetryValidationError(f"{path}[{j}].tyre_age_laps", age, "is not an integer from 0 to 100")
            plan.append(StintPlan(compound, laps, age))
            wet = wet or not compound.is_dry
        total = sum(p.laps for p in plan)
        if total != race.track.laps:
            raise TelemetryValidationError(f"{path}", [p.laps for p in plan],
                                           f"adds up to {total} laps, not the race distance {race.track.laps}")
        out[driver] = tuple(plan)
    return out, wet


def _strategy_of(plan: Sequence[StintPlan], wet: bool) -> Strategy:
    stops, lap = [], 0
    for stint in plan[:-1]:
        lap += stint.laps
        stops.append(lap)
    return Strategy(tuple(Stop(lap, s.compound, s.tyre_age_laps) for lap, s in zip(stops, plan[1:])), wet)


def apply_stints(race: RaceDefinition, obj: Any, wet: bool | None = None
                 ) -> tuple[RaceDefinition, dict[str, Strategy]]:
    """The race with the given cars' planned stints replaced, and their exact strategies.

    ``obj`` is ``{"VER": [{"compound": "SOFT", "laps": 18}, {"compound": "HARD", "laps": 39,
    "tyre_age_laps": 3}], ...}``: stint laps add up to the race distance; ``tyre_age_laps``
    (default 0) is the age of the set when fitted, also for the start set. The start
    compound and age of the first stint become the car's grid state. The race is wet
    (no two-dry-compound rule, so one compound is legal) when ``wet`` says so or, by
    default, when any stint is on INTERMEDIATE or WET.
    """
    plans, any_wet = _parse_stints(race, obj)
    wet = any_wet if wet is None else bool(wet)
    cars = tuple(dataclasses.replace(c, strategy=plans[c.driver]) if c.driver in plans else c for c in race.cars)
    new_race = dataclasses.replace(race, cars=cars)
    grid = RaceState.grid(new_race)
    out = {}
    for driver, plan in plans.items():
        out[driver] = check_strategy(new_race, grid.car(driver), _strategy_of(plan, wet), 0, f"strategies.{driver}")
    return new_race, out


def strategies_from_stints(race: RaceDefinition, obj: Any, wet: bool | None = None) -> dict[str, Strategy]:
    """Strategies from the grid, given as the race definition's stint lists, by driver (see `apply_stints`).

    The strategies are the stops only: simulate them from ``RaceState.grid`` of the race
    `apply_stints` returns, so that a different start compound or a used start set counts.
    """
    return apply_stints(race, obj, wet)[1]


def load_strategies(path: str | Path, race: RaceDefinition) -> dict[str, Strategy]:
    """Read a strategies JSON file (see `strategies_from_stints`)."""
    return strategies_from_stints(race, read_json(path))


def planned_strategy(race: RaceDefinition, car: CarState, laps_completed: int) -> Strategy:
    """What a rival is assumed to do: the rest of its planned stints from now.

    The current stint ends when its planned length is reached (next lap if overdue);
    later stints keep their planned lengths; a plan that would break the
    two-dry-compound rule gets a different compound for its last stint.
    """
    plan = race.car(car.driver).strategy
    n_laps = race.track.laps
    k = min(car.stops_made, len(plan) - 1)
    run_in_stint = car.tyre_age_laps - plan[k].tyre_age_laps  # a used set started at its fitted age
    lap = laps_completed + max(1, plan[k].laps - run_in_stint)
    stops = []
    for stint in plan[k + 1:]:
        if lap >= n_laps:
            break
        stops.append(Stop(lap, stint.compound, stint.tyre_age_laps))
        lap += stint.laps
    used = {c for c in car.compounds_used | {car.compound} | {s.compound for s in stops} if c.is_dry}
    if len(used) < 2 and car.compound.is_dry:
        other = next((c for c in race.compounds if c.is_dry and c not in used), None)
        if other is not None:
            if stops:
                stops[-1] = Stop(stops[-1].lap, other, stops[-1].tyre_age_laps)
            elif laps_completed + 1 < n_laps:
                stops = [Stop(min(n_laps - 1, max(laps_completed + 1, lap)), other)]
    return Strategy(tuple(stops))


@dataclasses.dataclass
class PackedRace:
    """Everything a kernel needs, as arrays: the fields up to ``pit_age`` are `workbench.kernels.layout.RACE_ARGS`,
    in its order (names, dtypes and dimensions checked by ``tests/unit/test_kernel_interface.py``)."""

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
    neutral_from: np.ndarray  # [lap] share of a forced SC/VSC lap run green before it comes out
    deg_factor: np.ndarray  # [car] multiplies every compound's degradation
    retire_at: np.ndarray  # [car] forced retirement at the end of this lap (0: none)
    pit_age: np.ndarray  # [car, stop] age of the set fitted at each stop
    drivers: tuple[str, ...] = ()
    compounds: tuple[Compound, ...] = ()

    def kernel_args(self) -> tuple:
        """The race model in the kernels' argument order, `workbench.kernels.layout.RACE_ARGS`."""
        return tuple(getattr(self, n) for n in L.RACE_ARG_NAMES)

    def widened(self, width: int) -> PackedRace:
        """A copy whose plan arrays hold at least ``width`` stops per car."""
        if self.pit_lap.shape[1] >= width:
            return self
        pad = width - self.pit_lap.shape[1]
        return dataclasses.replace(self, pit_lap=np.pad(self.pit_lap, ((0, 0), (0, pad))),
                                   pit_compound=np.pad(self.pit_compound, ((0, 0), (0, pad))),
                                   pit_age=np.pad(self.pit_age, ((0, 0), (0, pad))))

    def with_strategy(self, car: int, strategy: Strategy) -> PackedRace:
        """A copy where car index ``car`` follows ``strategy`` exactly (no shift, no opportunism)."""
        k = max(self.pit_lap.shape[1], len(strategy.stops), 1)
        pit_lap = np.zeros((self.pit_lap.shape[0], k), dtype=np.int64)
        pit_comp = np.zeros_like(pit_lap)
        pit_age = np.zeros_like(pit_lap)
        pit_lap[:, :self.pit_lap.shape[1]] = self.pit_lap
        pit_comp[:, :self.pit_compound.shape[1]] = self.pit_compound
        pit_age[:, :self.pit_age.shape[1]] = self.pit_age
        pit_lap[car] = pit_comp[car] = pit_age[car] = 0
        for j, s in enumerate(strategy.stops):
            pit_lap[car, j] = s.lap
            pit_comp[car, j] = self.compounds.index(s.compound)
            pit_age[car, j] = s.tyre_age_laps
        n_stops = self.n_stops.copy()
        n_stops[car] = len(strategy.stops)
        opp, shift = self.opportunistic.copy(), self.shift_plan.copy()
        opp[car] = shift[car] = False
        return dataclasses.replace(self, pit_lap=pit_lap, pit_compound=pit_comp, n_stops=n_stops,
                                   opportunistic=opp, shift_plan=shift, pit_age=pit_age)


_MODEL_CODES = {"linear": L.LINEAR, "quadratic": L.QUADRATIC, "logarithmic": L.LOGARITHMIC}


def _median_length(p: Sequence[float]) -> int:
    return 1 + int(np.searchsorted(np.cumsum(p), 0.5))


def default_pass_threshold_s(overtaking_difficulty: float) -> float:
    """Deterministic mode's pass threshold on the pace margin (plus DRS bonus), in s.

    ``PASS_SCALE_S * ln 2 / (1 - overtaking_difficulty)``: the margin at which the random
    model's pass probability reaches half its maximum, stretched by the difficulty
    (0.42 s on a track where a faster car always gets by, 0.83 s at difficulty 0.5,
    never at 1).
    """
    if overtaking_difficulty >= 1.0:
        return float("inf")
    return L.PASS_SCALE_S * float(np.log(2.0)) / (1.0 - overtaking_difficulty)


def pack(race: RaceDefinition, state: RaceState | None = None, strategies: Mapping[str, Strategy] | None = None,
         events: Sequence[NeutralPhase | Retirement] = (), deterministic: bool = False,
         pass_threshold_s: float | None = None) -> PackedRace:
    """Pack a race, a state, strategies and forced events into kernel arrays.

    Cars with a strategy in ``strategies`` follow it exactly; the others follow
    `planned_strategy`, with their stop laps spread by the model and stopping early
    under SC/VSC when a stop is near (opportunistic).

    ``deterministic``: no noise at all (lap, start and standstill noise, stop-lap
    spread), no random SC/VSC or retirement (only forced ones), and a pass happens
    when the pace margin plus the DRS bonus exceeds ``pass_threshold_s``
    (`default_pass_threshold_s` when omitted): every race is the same race.
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
    trk[L.DRS_GAIN_S] = track.drs_gain_s if track.drs else 0.0
    trk[L.NOISE_SCALE] = 0.0 if deterministic else 1.0
    if pass_threshold_s is not None and (isinstance(pass_threshold_s, bool) or not pass_threshold_s >= 0):
        raise TelemetryValidationError("pass_threshold_s", pass_threshold_s, "is not a number >= 0")
    trk[L.DETERMINISTIC_PASS] = 1.0 if deterministic else 0.0
    trk[L.PASS_THRESHOLD_S] = (default_pass_threshold_s(track.overtaking_difficulty) if pass_threshold_s is None
                               else float(pass_threshold_s))
    if deterministic:
        trk[L.START_SIGMA_S] = trk[L.STANDSTILL_SIGMA_LOG] = 0.0
    models = [race.compounds[c] for c in compounds]
    forced = np.full(n_laps + 2, L.FREE, dtype=np.int64)
    forced[:state.laps_completed + 1] = L.GREEN
    if state.track_status in (TrackStatus.SC, TrackStatus.VSC):
        p = race.events.sc_length_laps_p if state.track_status is TrackStatus.SC else race.events.vsc_length_laps_p
        left = state.neutral_laps_remaining or _median_length(p)
        end = min(n_laps, state.laps_completed + left)
        forced[state.laps_completed + 1:end + 1] = L.SC if state.track_status is TrackStatus.SC else L.VSC
    code = {TrackStatus.SC: L.SC, TrackStatus.VSC: L.VSC, TrackStatus.GREEN: L.GREEN}
    neutral_from = np.zeros(n_laps + 2)
    n = len(race.cars)
    retire_at = np.zeros(n, dtype=np.int64)
    drivers = [e.driver for e in race.cars]
    for i, ev in enumerate(events):
        if isinstance(ev, Retirement):
            if ev.driver not in drivers:
                raise TelemetryValidationError(f"events[{i}].driver", ev.driver,
                                               f"is not in the race; drivers are {', '.join(drivers)}")
            if not 1 <= ev.lap <= n_laps:
                raise TelemetryValidationError(f"events[{i}].lap", ev.lap, f"is not a lap between 1 and {n_laps}")
            retire_at[drivers.index(ev.driver)] = ev.lap
            continue
        if not 1 <= ev.first_lap <= ev.last_lap <= n_laps:
            raise TelemetryValidationError(f"events[{i}]", ev.to_json(),
                                           f"is not a lap range within 1..{n_laps} (first_lap <= last_lap)")
        first = max(ev.first_lap, state.laps_completed + 1)
        forced[first:ev.last_lap + 1] = code[ev.kind]
        neutral_from[first:ev.last_lap + 1] = 0.0
        if ev.kind is not TrackStatus.GREEN and first == ev.first_lap:
            neutral_from[first] = ev.start_fraction
    by_driver = {c.driver: c for c in state.cars}
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
    pit_age = np.zeros((n, k), dtype=np.int64)
    for c, plan in enumerate(plans):
        for j, s in enumerate(plan.stops):
            pit_lap[c, j], pit_comp[c, j], pit_age[c, j] = s.lap, compounds.index(s.compound), s.tyre_age_laps
    cars = [by_driver[e.driver] for e in race.cars]
    for c, car in enumerate(cars):
        if car.compound not in race.compounds:
            raise TelemetryValidationError(f"state.cars[{c}].compound", car.compound.value,
                                           "has no model in the race definition")
    default_fuel = max(0.0, fuel.start_kg - fuel.burn_kg_per_lap * state.laps_completed)
    sc_count, vsc_count = race.events.sc_phases_p, race.events.vsc_phases_p
    if deterministic:  # no random neutralisations (P(0 phases) = 1) and no random retirements
        sc_count = vsc_count = (1.0,)
    shift = ~np.array(exact) & (not deterministic)
    return PackedRace(
        start_lap=state.laps_completed, n_laps=n_laps, track=trk,
        comp_offset=np.array([m.offset_s for m in models]),
        comp_model=np.array([_MODEL_CODES[m.model] for m in models], dtype=np.int64),
        comp_k1=np.array([m.k1_s for m in models]), comp_k2=np.array([m.k2_s for m in models]),
        sc_count_cdf=np.cumsum(sc_count), sc_len_cdf=np.cumsum(race.events.sc_length_laps_p),
        vsc_count_cdf=np.cumsum(vsc_count), vsc_len_cdf=np.cumsum(race.events.vsc_length_laps_p),
        retire_p=0.0 if deterministic else float(race.events.retirement_p), forced_status=forced,
        t0=np.array([c.gap_to_leader_s for c in cars], dtype=np.float64),
        alive0=np.array([not c.retired for c in cars]),
        compound0=np.array([compounds.index(c.compound) for c in cars], dtype=np.int64),
        age0=np.array([c.tyre_age_laps for c in cars], dtype=np.int64),
        fuel0=np.array([default_fuel if c.fuel_kg is None else c.fuel_kg for c in cars], dtype=np.float64),
        pace=np.array([e.pace_delta_s for e in race.cars]),
        sigma=np.array([0.0 if deterministic else e.lap_noise_s for e in race.cars]),
        grid=np.array([e.grid for e in race.cars], dtype=np.int64),
        opportunistic=~np.array(exact), shift_plan=shift,
        pit_lap=pit_lap, pit_compound=pit_comp, n_stops=np.array([len(p.stops) for p in plans], dtype=np.int64),
        neutral_from=neutral_from, deg_factor=np.array([e.degradation_factor for e in race.cars]),
        retire_at=retire_at, pit_age=pit_age, drivers=tuple(drivers), compounds=compounds)
