"""What-if questions on the Monte Carlo engine: a scenario against the baseline, on common random numbers.

A `Scenario` changes what the baseline assumes: our strategy (pit laps and
compounds), a safety car forced from some lap, a rival stopping now, the pit loss
and the tyre degradation. `run_whatif` simulates the baseline (our planned
strategy, the race as defined) and the scenario with the same seed and race
numbers, so every difference between the two distributions comes from the
scenario, not from noise. Runs go in chunks (race numbers ``sim0 ..``), so a
caller can show progress; the chunking does not change any number.

Nothing here imports Panel: the what-if page (`workbench.ui.whatif`), notebooks and
tests drive the same function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from workbench.race.definition import RaceDefinition
from workbench.strategy.montecarlo import NeutralPhase, RaceState, Stop, Strategy, check_strategy, simulate
from workbench.strategy.sweep import POINTS
from workbench.telemetry.records import Compound, TrackStatus
from workbench.telemetry.schema import TelemetryValidationError, normalize_compound

__all__ = ["Scenario", "WhatIfResult", "run_whatif", "parse_stops", "adjusted_race"]


@dataclasses.dataclass(frozen=True)
class Scenario:
    """What the scenario changes relative to the baseline.

    Parameters
    ----------
    stops : tuple of Stop
        Our remaining stops; empty means our planned strategy (as the baseline).
    sc_from_lap : int or None
        Force a safety car from this lap for ``sc_laps`` laps.
    sc_laps : int
    rival_stops_now : str or None
        This rival pits at the end of the next lap, onto a dry compound it is not on.
    pit_loss_delta_s : float
        Added to every pit loss (green, VSC, SC).
    degradation_scale : float
        Multiplies every compound's degradation coefficients.
    """

    stops: tuple[Stop, ...] = ()
    sc_from_lap: int | None = None
    sc_laps: int = 3
    rival_stops_now: str | None = None
    pit_loss_delta_s: float = 0.0
    degradation_scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class WhatIfResult:
    """Our car's outcome in the baseline and the scenario (same seed, same race numbers)."""

    driver: str
    laps_completed: int
    runs: int
    seed: int
    baseline_position: np.ndarray  # [run]
    scenario_position: np.ndarray
    baseline_time_s: np.ndarray  # nan when retired
    scenario_time_s: np.ndarray
    n_cars: int
    description: str

    def position_p(self, which: str) -> np.ndarray:
        """P(P1..Pn) of ``which`` ("baseline" or "scenario")."""
        pos = self.baseline_position if which == "baseline" else self.scenario_position
        return np.bincount(pos - 1, minlength=self.n_cars) / len(pos)

    def summary(self) -> dict[str, Any]:
        """Mean position, expected points, P(points) and median race time of both, and the deltas."""
        points = np.array(POINTS + (0,) * max(0, self.n_cars - len(POINTS)))[:self.n_cars]
        out: dict[str, Any] = {}
        for which in ("baseline", "scenario"):
            pos = self.baseline_position if which == "baseline" else self.scenario_position
            t = self.baseline_time_s if which == "baseline" else self.scenario_time_s
            finished = t[~np.isnan(t)]
            out[which] = {"mean_position": float(pos.mean()), "expected_points": float(self.position_p(which) @ points),
                          "p_points": float(np.mean(pos <= 10)),
                          "median_race_time_s": float(np.median(finished)) if finished.size else None}
        out["delta"] = {k: out["scenario"][k] - out["baseline"][k] for k in ("mean_position", "expected_points",
                                                                              "p_points")}
        out["paired_better"] = float(np.mean(self.scenario_position < self.baseline_position))
        out["paired_worse"] = float(np.mean(self.scenario_position > self.baseline_position))
        return out


def parse_stops(pit_laps: str, compounds: str) -> tuple[Stop, ...]:
    """``"18, 36"`` and ``"HARD, MEDIUM"`` to stops; raises `TelemetryValidationError` naming the field."""
    laps_text = [p.strip() for p in pit_laps.replace(";", ",").split(",") if p.strip()]
    comp_text = [p.strip() for p in compounds.replace(";", ",").split(",") if p.strip()]
    laps = []
    for i, text in enumerate(laps_text):
        try:
            laps.append(int(text))
        except ValueError:
            raise TelemetryValidationError(f"pit_laps[{i}]", text, "is not a lap number") from None
    if len(comp_text) != len(laps):
        raise TelemetryValidationError("compounds", compounds, f"does not name one compound per pit lap "
                                                               f"({len(laps)} pit laps)")
    stops = []
    for i, (lap, text) in enumerate(zip(laps, comp_text)):
        try:
            compound = Compound(normalize_compound(text))
        except (ValueError, TypeError):
            raise TelemetryValidationError(f"compounds[{i}]", text, "is not a compound") from None
        stops.append(Stop(lap, compound))
    return tuple(stops)


def adjusted_race(race: RaceDefinition, pit_loss_delta_s: float = 0.0, degradation_scale: float = 1.0
                  ) -> RaceDefinition:
    """The race with every pit loss shifted and every compound's degradation scaled."""
    if not np.isfinite(pit_loss_delta_s) or not -15.0 <= pit_loss_delta_s <= 30.0:
        raise TelemetryValidationError("pit_loss_delta_s", pit_loss_delta_s, "is not between -15 and 30")
    if not np.isfinite(degradation_scale) or not 0.0 <= degradation_scale <= 5.0:
        raise TelemetryValidationError("degradation_scale", degradation_scale, "is not between 0 and 5")
    track = race.track
    track = dataclasses.replace(track, pit_loss_green_s=track.pit_loss_green_s + pit_loss_delta_s,
                                pit_loss_vsc_s=max(0.0, track.pit_loss_vsc_s + pit_loss_delta_s),
                                pit_loss_sc_s=max(0.0, track.pit_loss_sc_s + pit_loss_delta_s))
    compounds = {c: dataclasses.replace(m, k1_s=m.k1_s * degradation_scale, k2_s=m.k2_s * degradation_scale)
                 for c, m in race.compounds.items()}
    return dataclasses.replace(race, track=track, compounds=compounds)


def _rival_stop(race: RaceDefinition, state: RaceState, driver: str) -> Strategy:
    car = state.car(driver)
    lap = state.laps_completed + 1
    if lap >= race.track.laps:
        raise TelemetryValidationError("rival_stops_now", driver, "cannot stop: the race has no laps left")
    dry = [c for c in race.compounds if c.is_dry and c is not car.compound]
    if car.retired or not dry:
        raise TelemetryValidationError("rival_stops_now", driver, "is retired or has no other dry compound")
    harder = [c for c in (Compound.HARD, Compound.MEDIUM, Compound.SOFT) if c in dry]
    return check_strategy(race, car, Strategy((Stop(lap, harder[0]),)), state.laps_completed, "rival_stops_now")


def _describe(s: Scenario) -> str:
    parts = []
    if s.stops:
        parts.append("our stops " + ", ".join(f"L{x.lap} {x.compound.value}" for x in s.stops))
    if s.sc_from_lap is not None:
        parts.append(f"SC laps {s.sc_from_lap}-{s.sc_from_lap + s.sc_laps - 1}")
    if s.rival_stops_now:
        parts.append(f"{s.rival_stops_now} stops now")
    if s.pit_loss_delta_s:
        parts.append(f"pit loss {s.pit_loss_delta_s:+.1f} s")
    if s.degradation_scale != 1.0:
        parts.append(f"degradation x{s.degradation_scale:g}")
    return "; ".join(parts) or "no change"


def run_whatif(race: RaceDefinition, driver: str, scenario: Scenario, state: RaceState | None = None,
               runs: int = 4000, seed: int = 0, backend: str = "numba", chunks: int = 8,
               progress: Callable[[int, int], None] | None = None) -> WhatIfResult:
    """Simulate the baseline and ``scenario`` from ``state`` on the same ``runs`` race numbers of ``seed``.

    Raises `TelemetryValidationError` (field, value, rule) for an illegal scenario.
    ``progress(done, total)`` is called after each chunk (``2 * chunks`` in all).
    """
    state = state if state is not None else RaceState.grid(race)
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ValueError(f"runs: {runs!r} is not an integer >= 1")
    n_laps = race.track.laps
    ours = state.car(driver)
    changed = adjusted_race(race, scenario.pit_loss_delta_s, scenario.degradation_scale)
    strategies: dict[str, Strategy] = {}
    if scenario.stops:
        strategies[driver] = check_strategy(changed, ours, Strategy(scenario.stops), state.laps_completed, "strategy")
    if scenario.rival_stops_now:
        if scenario.rival_stops_now == driver:
            raise TelemetryValidationError("rival_stops_now", driver, "is our own car")
        if scenario.rival_stops_now not in race.drivers:
            raise TelemetryValidationError("rival_stops_now", scenario.rival_stops_now, "is not a driver of the race")
        strategies[scenario.rival_stops_now] = _rival_stop(changed, state, scenario.rival_stops_now)
    events: list[NeutralPhase] = []
    if scenario.sc_from_lap is not None:
        first, length = scenario.sc_from_lap, scenario.sc_laps
        if not state.laps_completed < first < n_laps:
            raise TelemetryValidationError("sc_from_lap", first, f"is not between {state.laps_completed + 1} "
                                                                 f"and {n_laps - 1}")
        if not 1 <= length <= 10:
            raise TelemetryValidationError("sc_laps", length, "is not between 1 and 10")
        events.append(NeutralPhase(TrackStatus.SC, first, min(n_laps, first + length - 1)))
    chunks = max(1, min(int(chunks), int(runs)))
    bounds = np.linspace(0, runs, chunks + 1).astype(int)
    idx = race.drivers.index(driver)
    out = {}
    done = 0
    for which, r, strat, ev in (("baseline", race, None, ()), ("scenario", changed, strategies, events)):
        pos, t = [], []
        for a, b in zip(bounds[:-1], bounds[1:]):
            res = simulate(r, state, strat, ev, runs=int(b - a), seed=seed, backend=backend, sim0=int(a))
            pos.append(res.position[:, idx])
            t.append(res.race_time_s[:, idx])
            done += 1
            if progress is not None:
                progress(done, 2 * chunks)
        out[which] = (np.concatenate(pos), np.concatenate(t))
    return WhatIfResult(driver, state.laps_completed, int(runs), int(seed), out["baseline"][0], out["scenario"][0],
                        out["baseline"][1], out["scenario"][1], len(race.cars), _describe(scenario))
