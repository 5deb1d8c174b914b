"""Fit a race definition and a live race state from the laps known at the end of lap K.

Everything here reads only the rows it is given; `workbench.strategy.predict` hands it the
lap table already cut at lap K, so no later lap can inform the fit. The fitted parts:

- fuel: generic, not fitted (`FuelCorrection` defaults: 100 kg burnt evenly over the race
  distance, 0.03 s/kg; Heilmeier et al. 2020 report 0.017-0.045 s/kg);
- degradation per compound: the twins' Bayesian model (`workbench.twins.calibrate.fit_compounds`,
  generic priors) on the clean, fuel-corrected laps; the family with the highest evidence;
- pace per car and compound offsets: weighted least squares on the same laps with the
  degradation removed, recent laps weighing more (half-life `PACE_HALF_LIFE_LAPS`);
- pit loss: in-lap + out-lap minus two of the car's own clean laps around each green stop so
  far, shrunk towards the generic `TwinContext` loss;
- remaining stops per car: the FieldTwin's pit hazard (`workbench.twins.pit_hazard`) walked
  forward lap by lap; a stop is planned where the probability of having stopped reaches 1/2;
- SC/VSC and retirement probabilities: `workbench.strategy.event_history.priors_before` the race date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from workbench.race.definition import CarEntry, CompoundModel, EventModel, Fuel, RaceDefinition, StintPlan
from workbench.strategy.event_history import EventPriors
from workbench.strategy.montecarlo import CarState, RaceState
from workbench.telemetry.laptable import laps_to_records, track_status_of
from workbench.telemetry.records import DRY_COMPOUNDS, Compound, TrackStatus
from workbench.twins.calibrate import fit_compounds
from workbench.twins.context import TwinContext
from workbench.twins.lap_table import FuelCorrection, check_lap_table, mark_clean_laps
from workbench.twins.pit_hazard import PitHazard, compound_life
from workbench.twins.tyre_model import best, prior_from_compound

__all__ = ["FittedRace", "fit_known_laps", "has_clean_lap", "running_order", "seconds_elapsed", "on_track_pass_rate",
           "overtaking_difficulty", "two_compound_rule_met", "PACE_HALF_LIFE_LAPS", "PIT_LOSS_PRIOR_STOPS",
           "GENERIC_OFFSET_S", "STANDSTILL_MEDIAN_S", "STANDSTILL_SIGMA_LOG", "DEFAULT_NOISE_S"]

PACE_HALF_LIFE_LAPS = 10.0  # a clean lap this many laps before K weighs half as much as lap K
MIN_PACE_LAPS_PER_CAR = 3  # fewer laps on the field's kind of tyre than this per car: fit pace on all laps
PACE_PRIOR_LAPS = 10.0  # a race definition's pace counts as this many recent clean laps (when given)
LAP_EFFECT_RIDGE = 0.1  # the per-lap track-evolution effects shrink towards lap K's with this weight (laps)
OFFSET_RIDGE = 9.0  # compound offsets shrink towards the generic steps with this weight (laps)
PIT_LOSS_PRIOR_STOPS = 3.0  # the generic pit loss counts as this many measured stops
STANDSTILL_MEDIAN_S = 2.4  # assumption: a typical 2024 stationary time (as data/build_bahrain_2024.py)
STANDSTILL_SIGMA_LOG = 0.2  # assumption: log-spread of the stationary time
MIN_GAP_BEHIND_S = 0.2  # a car listed behind another at the line is at least this far back
DEFAULT_NOISE_S = 0.6  # lap noise of a car without enough clean laps (Heilmeier et al. 2020: 0.46-0.86 s)
MIN_NOISE_S, MAX_NOISE_S = 0.3, 1.5
# Generic steps between dry compounds when a compound has no lap yet (assumption: a harder
# compound is a few tenths slower on a new set); only used for compounds not yet raced.
GENERIC_OFFSET_S = {"SOFT": 0.0, "MEDIUM": 0.3, "HARD": 0.6, "INTERMEDIATE": 5.0, "WET": 8.0}
DRY = DRY_COMPOUNDS
# Overtaking difficulty from the laps (see `overtaking_difficulty`): the engine's pass rate per green
# car-lap at two difficulties, measured on 6 simulated races of the bundled race each (seeds 0-5):
# 217 passes in 4841 car-laps at 0.5 (the bundled race's assumption), 143 in 4841 at 0.8.
ENGINE_PASS_RATE = ((0.5, 217 / 4841), (0.8, 143 / 4841))
PASS_PRIOR_CAR_LAPS = 100.0  # the reference rate counts as this many car-laps
DIFFICULTY_RANGE = (0.2, 0.97)
# where the overtaking difficulty reaches the top of DIFFICULTY_RANGE (no passing seen: Monaco 2024), a car that
# has met the two-compound rule is planned no optional stop (`_plan_stops`); False restores the hazard's plan
NO_PASSING_RULE = True
GREEN, SC, VSC = TrackStatus.GREEN, TrackStatus.SC, TrackStatus.VSC


@dataclasses.dataclass(frozen=True)
class FittedRace:
    """What was fitted from laps 1..K: the race definition, the state, and a report."""

    race: RaceDefinition
    state: RaceState
    report: dict[str, Any]


def seconds_elapsed(known: pd.DataFrame) -> dict[tuple[str, int], float]:
    """Session time at the end of each lap, from the telemetry lap-table reader."""
    frame = known.astype(object).where(known.notna(), None)
    return {(r.driver, r.lap_number): r.session_time_s for r in laps_to_records(frame.to_dict("records"))}


def has_clean_lap(known: pd.DataFrame) -> bool:
    """Whether ``known`` holds a lap `fit_known_laps` can fit pace on: timed, green, not lap 1, no pit lap.

    Behind a safety-car start (2026 Belgium: SC on laps 1-4) there is none yet, and `fit_known_laps`
    refuses; the live hub waits for one instead of failing.
    """
    return bool(mark_clean_laps(check_lap_table(known, source="laps")).Clean.any())


def running_order(last: pd.DataFrame, elapsed: dict[tuple[str, int], float]) -> list[str]:
    """Drivers in running order at their last known lap: laps done, then timing Position, then time.

    The timing Position wins over the summed lap times, which are wrong after a lap without a
    time (the telemetry reader fills it with the field's median).
    """
    def key(d: str):
        lap = int(last.loc[d, "LapNumber"])
        pos = pd.to_numeric(last.loc[d, "Position"], errors="coerce")
        return -lap, float(pos) if pd.notna(pos) else np.inf, elapsed[(d, lap)]
    return sorted(last.index, key=key)


def _pace_fit(clean: pd.DataFrame, deg: dict[str, CompoundModel], at_lap: int, ref: str,
              steps: dict[str, float]) -> tuple[dict[str, float], ...]:
    """Driver intercepts, compound offsets (vs ``ref``), per-driver lap noise and the standard error of each
    intercept (lap noise / sqrt(effective laps)), weighted towards lap K."""
    y = clean.CorrectedLapTime.to_numpy() - np.array(
        [float(deg[c].degradation_s(a)) for c, a in zip(clean.Compound, clean.TyreLife)])
    drivers = sorted(clean.Driver.unique())
    others = sorted((c for c in clean.Compound.unique() if c != ref), key=lambda c: steps.get(c, 0))
    laps = sorted(int(v) for v in clean.LapNumber.unique() if int(v) != at_lap)  # lap K is the reference lap
    nd, no = len(drivers), len(others)
    x = np.zeros((len(clean), nd + no + len(laps)))
    for j, d in enumerate(drivers):
        x[:, j] = clean.Driver.to_numpy() == d
    for j, c in enumerate(others):
        x[:, nd + j] = clean.Compound.to_numpy() == c
    for j, lap in enumerate(laps):  # track evolution: one effect per lap, shared by the field
        x[:, nd + no + j] = clean.LapNumber.to_numpy() == lap
    w = 0.5 ** ((at_lap - clean.LapNumber.to_numpy()) / PACE_HALF_LIFE_LAPS)
    prior = np.zeros(x.shape[1])
    ridge = np.zeros(x.shape[1])
    ridge[nd + no:] = LAP_EFFECT_RIDGE
    for j, c in enumerate(others):
        prior[nd + j] = steps.get(c, 0.0) - steps.get(ref, 0.0)
        ridge[nd + j] = OFFSET_RIDGE
    a = (x * w[:, None]).T @ x + np.diag(ridge)
    b = (x * w[:, None]).T @ y + ridge * prior
    coef = np.linalg.lstsq(a, b, rcond=None)[0]
    resid = y - x @ coef
    intercept = dict(zip(drivers, coef[:nd]))
    offsets = {ref: 0.0, **dict(zip(others, coef[nd:nd + no]))}
    noise, se = {}, {}
    for d in drivers:
        mine = clean.Driver.to_numpy() == d
        r = resid[mine]
        sd = 1.4826 * float(np.median(np.abs(r - np.median(r)))) if len(r) >= 5 else DEFAULT_NOISE_S
        noise[d] = float(np.clip(sd, MIN_NOISE_S, MAX_NOISE_S))
        n_eff = w[mine].sum() ** 2 / (w[mine] ** 2).sum()  # effective number of (recency-weighted) laps
        se[d] = noise[d] / float(np.sqrt(n_eff))
    return intercept, offsets, noise, se


def _pit_losses(df: pd.DataFrame) -> list[float]:
    """Total time lost to each green stop so far: in-lap + out-lap minus two clean laps around it."""
    out = []
    for _, grp in df.groupby("Driver"):
        grp = grp.set_index("LapNumber")
        for lap in grp.index[grp.PitIn]:
            if lap + 1 not in grp.index or grp.loc[lap, "Neutralised"] or grp.loc[lap + 1, "Neutralised"]:
                continue
            around = grp[grp.Clean & (grp.index >= lap - 4) & (grp.index <= lap + 5)].LapTime
            pair = grp.loc[lap, "LapTime"] + grp.loc[lap + 1, "LapTime"]
            if len(around) >= 3 and np.isfinite(pair):
                out.append(float(pair - 2 * around.median()))
    return out


def on_track_pass_rate(df: pd.DataFrame) -> tuple[int, int]:
    """On-track passes and the car-laps they were counted over, from marked laps (`mark_clean_laps`).

    A pass: between two consecutive laps, both green for both cars and neither an in- or
    out-lap for either, one car moves ahead of another in the timing ``Position`` (ranked
    among the cars that qualify on that lap, so a rival's stop is not a pass). Lap 1 and
    lap 2 (the start) are left out.
    """
    ok = ~(df.PitIn | df.PitOut | df.Neutralised) & df.Position.notna()
    pos = df[ok].pivot_table(index="LapNumber", columns="Driver", values="Position", aggfunc="first")
    passes = opportunities = 0
    laps = [lap for lap in pos.index if lap >= 3 and lap - 1 in pos.index]
    for lap in laps:
        both = pos.loc[[lap - 1, lap]].dropna(axis=1)
        if both.shape[1] < 2:
            continue
        before, after = both.loc[lap - 1].rank().to_numpy(), both.loc[lap].rank().to_numpy()
        passes += int((after < before).sum())
        opportunities += both.shape[1]
    return passes, opportunities


def overtaking_difficulty(passes: int, car_laps: int) -> float:
    """The race engine's ``overtaking_difficulty`` that makes it pass as often as the laps show.

    The engine's own pass rate (`on_track_pass_rate` on `TelemetrySimulator` races of the
    bundled race, 6 seeds each) is `ENGINE_PASS_RATE` at two difficulties; it is linear in the
    difficulty between them, and the observed rate is mapped back through that line. The rate
    is shrunk towards the engine's rate at the bundled race's difficulty with the weight of
    `PASS_PRIOR_CAR_LAPS` car-laps; the result is clipped to `DIFFICULTY_RANGE`. Calibrated
    on the simulator only, never on a real race's score.
    """
    (d0, r0), (d1, r1) = ENGINE_PASS_RATE
    prior = r0
    rate = (passes + PASS_PRIOR_CAR_LAPS * prior) / (car_laps + PASS_PRIOR_CAR_LAPS)
    d = d0 + (rate - r0) * (d1 - d0) / (r1 - r0)
    return float(np.clip(d, *DIFFICULTY_RANGE))


def _plausible_degradation(model: CompoundModel, ages: np.ndarray) -> bool:
    """A set does not get faster with age: the fitted curve may not fall anywhere over the ages seen.

    A falling curve is track evolution (a drying or rubbering-in track) taken for tyre wear,
    since the cars' tyre ages rise with the lap number; it would make every old set faster.
    """
    if ages.size == 0:
        return True
    grid = np.arange(1, int(ages.max()) + 1)
    wear = np.asarray(model.degradation_s(grid), dtype=float)
    return bool(np.all(np.diff(wear) >= -1e-9)) if grid.size > 1 else True


def two_compound_rule_met(raced: Collection[Compound]) -> bool:
    """The two-dry-compound rule is met: two dry compounds raced, or any INTERMEDIATE/WET set
    (a race with wet tyres waives the rule, FIA Sporting Regulations art. 30.5)."""
    return len({c for c in raced if c.is_dry}) >= 2 or any(not c.is_dry for c in raced)


def _rule_met(used: Collection[str]) -> bool:
    """`two_compound_rule_met` on compound names."""
    return two_compound_rule_met([Compound(c) for c in used])


def _engine_compounds_used(raced: frozenset[Compound], current: Compound,
                           models: dict[str, CompoundModel]) -> frozenset[Compound]:
    """``compounds_used`` as the race engine reads it, for a car's real state.

    The engine (`workbench.strategy.montecarlo.planned_strategy`) counts only dry compounds
    for the two-compound rule and does not know that raced wet tyres waive it: it would add
    a last-lap stop to a car on slicks after intermediates. Such a car is given a second dry
    compound in the set the engine reads, so the engine sees the rule met, as it is.
    """
    if not any(not c.is_dry for c in raced) or not current.is_dry:
        return raced
    if len({c for c in raced if c.is_dry}) >= 2:
        return raced
    other = next(Compound(c) for c in DRY if c in models and Compound(c) != current)
    return raced | {other}


def _choose_compound(used: set[str], laps_left: int, models: dict[str, CompoundModel], raced: set[str]) -> str:
    """The dry compound a car takes at a stop: cheapest over the laps left, legal under the two-compound rule.

    Compounds raced so far (``raced``, with fitted models) come first; one not raced yet is
    taken only when the rule needs it and no raced compound meets it.
    """
    dry_used = {c for c in used if c in DRY}
    waived = any(c not in DRY for c in used)
    legal = [c for c in DRY if c in models and (waived or len(dry_used) != 1 or c not in dry_used)]
    options = [c for c in legal if c in raced] or legal
    ages = np.arange(1, max(1, laps_left) + 1)
    return min(options, key=lambda c: models[c].offset_s + float(np.mean(models[c].degradation_s(ages))))


def _plan_stops(hazard: PitHazard, car: CarState, at_lap: int, n_laps: int, norm: float,
                life: dict[str, float], expected_stops: float, models: dict[str, CompoundModel],
                raced: set[str], field_tyre: str, optional_stops: bool = True) -> list[tuple[int, str]]:
    """Remaining stops (lap, compound) from the car's real state: tyre age, stops made, sets used.

    A car on wet-weather tyres while most of the field runs slicks (or on slicks while most run
    INTERMEDIATE/WET: ``field_tyre``, the field's commonest compound at lap K) stops on the next
    lap for the field's kind of tyre: the crossover has happened. Then, from the hazard: each
    stop where P(stopped by then) first reaches 1/2, counting the stops already made against
    the stops expected at this circuit, so a car that has stopped is planned fewer. Without
    ``optional_stops`` (no passing: the overtaking difficulty at the top of `DIFFICULTY_RANGE`)
    a car that has met the two-compound rule is planned no further stop: the places a stop
    loses cannot be won back on track (Monaco 2024: every car ran to the flag on its lap-1 set).
    """
    stops: list[tuple[int, str]] = []
    compound = car.compound.value
    used = {c.value for c in car.compounds_used} | {compound}
    last_stop, age_base = at_lap, car.tyre_age_laps  # tyre age at lap l: age_base + l - last_stop
    done = car.stops_made
    field_wet = field_tyre not in DRY
    if (compound not in DRY) != field_wet and at_lap + 1 < n_laps:
        compound = field_tyre if field_wet else _choose_compound(used, n_laps - at_lap - 1, models, raced)
        used.add(compound)
        stops.append((at_lap + 1, compound))
        last_stop, age_base, done = at_lap + 1, 0, done + 1
    survive = 1.0
    for lap in range(last_stop + 1, n_laps):
        if not optional_stops and _rule_met(used):
            break  # no passing: the places a stop loses cannot be won back on track
        h = float(hazard.hazard(age_base + lap - last_stop, norm * life.get(compound, 1.0), 0.0,
                                done - expected_stops, n_laps - lap)[0])
        survive *= 1.0 - h
        if survive <= 0.5:  # a new set of the kind the field runs now
            compound = field_tyre if field_wet else _choose_compound(used, n_laps - lap, models, raced)
            used.add(compound)
            stops.append((lap, compound))
            last_stop, age_base, done, survive = lap, 0, done + 1, 1.0
    return stops


def fit_known_laps(known: pd.DataFrame, at_lap: int, n_laps: int, base: RaceDefinition, events: EventPriors,
                   hazard: PitHazard | None = None, retired: Collection[str] | None = None,
                   compound_steps: dict[str, float] | None = None,
                   pace_prior: dict[str, float] | None = None, keep_overtaking: bool = False) -> FittedRace:
    """Race definition and state at the end of lap ``at_lap`` from ``known`` (laps <= ``at_lap`` only).

    Parameters
    ----------
    known : DataFrame
        FastF1-shaped lap rows with ``LapNumber <= at_lap`` (checked).
    at_lap, n_laps : int
        Laps completed and the race distance.
    base : RaceDefinition
        Track facts that are not fitted (overtaking, DRS, SC/VSC lap-time factors, minimum gap).
    events : EventPriors
        SC/VSC/retirement probabilities and expected stops from earlier races.
    retired : collection of str, optional
        The cars out of the race. By default a car whose last lap is before ``at_lap`` retired
        (right for a recorded table); live, a car still finishing lap K is not retired: give
        the hub's retirements and such a car is placed by its own median lap time per lap missing.
    compound_steps : dict of str to float, optional
        Prior offsets between compounds (s), e.g. a race definition's for this race; the
        generic `GENERIC_OFFSET_S` otherwise. The laps move them (ridge weight `OFFSET_RIDGE`).
    pace_prior : dict of str to float, optional
        Pre-race pace per driver (s/lap, relative: a race definition's ``pace_delta_s``). Each
        car's fitted pace is then the weighted mean of its laps' estimate (weight: its recency-
        weighted clean laps) and the prior (weight `PACE_PRIOR_LAPS`). Without it, laps only.
    keep_overtaking : bool
        Keep ``base``'s overtaking difficulty (a race definition for this race) instead of
        fitting it from the passes in the laps (`overtaking_difficulty`).
    """
    if int(known.LapNumber.max()) > at_lap:
        raise ValueError(f"known.LapNumber: {int(known.LapNumber.max())} is after lap {at_lap} (would leak)")
    hazard = hazard or PitHazard.bundled()
    fuel = FuelCorrection(burn_kg_per_lap=FuelCorrection().start_kg / n_laps)
    table = check_lap_table(known, source="laps")
    df = mark_clean_laps(table, fuel)
    clean = df[df.Clean]
    if clean.empty:
        raise ValueError(f"at_lap: {at_lap} leaves no clean lap to fit pace and degradation on (needs green laps "
                         "after lap 1)")
    # degradation: the twins' Bayesian fit per compound, generic priors
    fits = {c: best(f) for c, f in fit_compounds(clean).items()}
    seen = [c for c in (*DRY, "INTERMEDIATE", "WET") if c in fits]
    generic = prior_from_compound(source="generic")
    deg = {}
    for c, f in fits.items():
        model = CompoundModel(0.0, f.family, float(f.coef[0]), float(f.coef[1]) if len(f.coef) > 1 else 0.0)
        ages = clean[clean.Compound == c].TyreLife.to_numpy()
        if not _plausible_degradation(model, ages):
            model = CompoundModel(0.0, "linear", float(generic.mean["linear"][0]), 0.0,
                                  fit_note="fit implausible (tyres getting faster: track evolution or drying): "
                                           "generic prior")
        deg[c] = model
    # pace on the kind of tyre (slick or wet-weather) the field runs at lap K: the laps to come
    at_k = df[df.LapNumber == at_lap]
    field_tyre = str((at_k if len(at_k) else df).Compound.value_counts().index[0])
    same = clean[clean.Compound.isin(DRY) == (field_tyre in DRY)]
    pace_laps = same if len(same) >= MIN_PACE_LAPS_PER_CAR * clean.Driver.nunique() else clean
    pace_ref = next(c for c in seen if c in set(pace_laps.Compound))
    steps = {**GENERIC_OFFSET_S, **(compound_steps or {})}
    intercept, offsets, noise, pace_se = _pace_fit(pace_laps, deg, at_lap, pace_ref, steps)
    offsets = {c: offsets.get(c, steps.get(c, 0.0) - steps.get(pace_ref, 0.0)) for c in seen}
    models: dict[str, CompoundModel] = {}
    # every compound raced by K gets a model: one with no clean lap yet (a car just out on intermediates as rain
    # comes: Britain 2024 at lap 20) takes the generic prior, like a dry compound nobody has raced
    raced = {str(c) for c in df.Compound.unique()}
    for c in DRY + tuple(c for c in ("INTERMEDIATE", "WET") if c in raced):
        if c in deg:
            models[c] = dataclasses.replace(deg[c], offset_s=float(offsets.get(c, 0.0)),
                                            fit_note=deg[c].fit_note or f"fitted on laps 1-{at_lap}")
        else:
            models[c] = CompoundModel(steps[c] - steps[pace_ref], "linear",
                                      float(generic.mean["linear"][0]), 0.0,
                                      fit_note="no lap yet: generic prior")
    if pace_prior:  # pre-race pace (a race definition's), updated by each car's laps so far
        w = 0.5 ** ((at_lap - pace_laps.LapNumber.to_numpy()) / PACE_HALF_LIFE_LAPS)
        laps_w = pd.Series(w, index=pace_laps.index).groupby(pace_laps.Driver).sum()
        have = [d for d in intercept if d in pace_prior]
        level = float(np.mean([intercept[d] - pace_prior[d] for d in have])) if have else 0.0
        intercept = {d: (v if d not in pace_prior else
                         (laps_w[d] * v + PACE_PRIOR_LAPS * (level + pace_prior[d])) / (laps_w[d] + PACE_PRIOR_LAPS))
                     for d, v in intercept.items()}
        pace_se = {d: v * (1.0 if d not in pace_prior else float(np.sqrt(laps_w[d] / (laps_w[d] + PACE_PRIOR_LAPS))))
                   for d, v in pace_se.items()}
    base_time = min(intercept.values())
    mid_pace = float(np.median([v - base_time for v in intercept.values()]))
    # pit loss from the stops so far, shrunk towards the generic loss
    prior_loss = TwinContext().pit_loss_green_s
    losses = _pit_losses(df)
    total_loss = ((sum(losses) + PIT_LOSS_PRIOR_STOPS * prior_loss) / (len(losses) + PIT_LOSS_PRIOR_STOPS))
    lane = max(0.0, total_loss - STANDSTILL_MEDIAN_S)
    # the state at the end of lap K
    elapsed = seconds_elapsed(known)
    last = df.sort_values("LapNumber").groupby("Driver").tail(1).set_index("Driver")
    leader_time = min(elapsed[(d, at_lap)] for d in last.index if int(last.loc[d, "LapNumber"]) == at_lap)
    order = running_order(last, elapsed)
    life_laps: dict[str, list[int]] = {}
    norm = n_laps / (events.expected_stops + 1.0)
    for _d, grp in df.groupby("Driver"):
        for (stint, comp), rows in grp.groupby(["Stint", "Compound"], sort=True):
            length = int(rows.TyreLife.max())
            if int(stint) < int(grp.Stint.max()):
                # a set's life: only stints given up on a green in-lap (a change under SC/VSC/red is opportunistic)
                if not bool(rows.sort_values("LapNumber").Neutralised.iloc[-1]):
                    life_laps.setdefault(str(comp), []).append(length)
            elif length > norm:  # a set still running beyond the typical stint: it lasts at least this long
                life_laps.setdefault(str(comp), []).append(length)
    life = {c: compound_life(v, norm) for c, v in life_laps.items()}
    passes, car_laps = on_track_pass_rate(df)
    difficulty = base.track.overtaking_difficulty if keep_overtaking else overtaking_difficulty(passes, car_laps)
    optional_stops = not (NO_PASSING_RULE and difficulty >= DIFFICULTY_RANGE[1])
    cars, entries, plans_out = [], [], {}
    rule_met: dict[str, bool] = {}
    for pos, d in enumerate(order, start=1):
        row = last.loc[d]
        lap = int(row.LapNumber)
        # offline, a car without lap K retired unless its last lap ended after the leader's lap K:
        # then it was still circulating, lapped (at the flag, a car laps down has no lap K at all)
        out = (lap < at_lap and elapsed[(d, lap)] < leader_time) if retired is None else d in retired
        compound = Compound(str(row.Compound))
        raced = frozenset(Compound(c) for c in df[df.Driver == d].Compound.unique())
        rule_met[d] = two_compound_rule_met(raced)
        used = _engine_compounds_used(raced, compound, models)
        gap = elapsed[(d, lap)] - leader_time
        if not out and lap < at_lap:  # live: still finishing lap K
            own = df[(df.Driver == d) & df.Clean].LapTime
            gap += (at_lap - lap) * float(own.median() if len(own) else clean.LapTime.median())
        if cars and not out and not cars[-1].retired:  # timing order wins over a filled-in lap time
            gap = max(gap, cars[-1].gap_to_leader_s + MIN_GAP_BEHIND_S)
        car = CarState(d, float(gap), compound, int(row.TyreLife), int(row.Stint) - 1, used,
                       float(max(0.0, fuel.start_kg - fuel.burn_kg_per_lap * at_lap)), out, pos)
        cars.append(car)
        stops = [] if out else _plan_stops(hazard, car, at_lap, n_laps, norm, life, events.expected_stops, models,
                                           {c for c in deg if c in DRY}, field_tyre, optional_stops)
        plans_out[d] = [{"lap": s, "compound": c} for s, c in stops]
        grp = df[df.Driver == d]
        past = [StintPlan(Compound(str(r.Compound.iloc[0])), int(len(r))) for _, r in grp.groupby("Stint", sort=True)]
        past = (past[:-1] + past[-1:] * car.stops_made)[:car.stops_made]  # the plan's index stops_made is now
        cur_len = int(row.TyreLife) + ((stops[0][0] if stops else n_laps) - at_lap)
        stints = [*past, StintPlan(compound, max(1, cur_len))]
        marks = [s for s, _ in stops] + [n_laps]
        for (s, c), nxt in zip(stops, marks[1:]):
            stints.append(StintPlan(Compound(c), max(1, nxt - s)))
        pace = intercept[d] - base_time if d in intercept else mid_pace
        team = row.get("Team")
        entries.append(CarEntry(d, str(team) if isinstance(team, str) else "", pos, pos, float(pace),
                                float(noise.get(d, DEFAULT_NOISE_S)), tuple(stints)))
    t = base.track
    track = dataclasses.replace(
        t, laps=n_laps, base_lap_time_s=float(base_time), pit_loss_green_s=float(lane),
        overtaking_difficulty=difficulty,
        pit_loss_vsc_s=float(lane * 0.6), pit_loss_sc_s=float(lane * 0.45),
        pit_standstill_median_s=STANDSTILL_MEDIAN_S, pit_standstill_sigma_log=STANDSTILL_SIGMA_LOG)
    ev = EventModel(events.sc_phases_p, events.sc_length_laps_p, events.vsc_phases_p, events.vsc_length_laps_p,
                    events.retirement_p)
    race = RaceDefinition(name=f"{base.name} from lap {at_lap}", track=track,
                          fuel=Fuel(fuel.start_kg, float(fuel.burn_kg_per_lap), fuel.mass_effect_s_per_kg),
                          compounds={Compound(c): m for c, m in models.items()}, events=ev, cars=tuple(entries),
                          source=f"fitted by workbench.strategy.predict_fit on laps 1-{at_lap}")
    report = {"clean_laps": int(len(clean)), "base_lap_time_s": round(float(base_time), 3),
              "pace_se_s": {d: round(float(pace_se.get(d, DEFAULT_NOISE_S)), 3) for d in order},
              "overtaking": {"passes": passes, "car_laps": car_laps, "difficulty": round(difficulty, 3),
                             "from": f"race definition {base.name!r}" if keep_overtaking else
                             f"the laps: {passes} passes in {car_laps} green car-laps"},
              "pit_loss_total_s": round(float(total_loss), 2), "pit_losses_measured_s": [round(x, 2) for x in losses],
              "compounds": {c: {"model": m.model, "k1_s": round(m.k1_s, 4), "k2_s": round(m.k2_s, 5),
                                "offset_s": round(m.offset_s, 3), "note": m.fit_note} for c, m in models.items()},
              "planned_stops": plans_out, "rule_met": rule_met, "events": events.to_json(),
              "priors": {"pit_loss_total_s": {"value": prior_loss, "from": "prior: generic TwinContext loss, "
                                              f"weighted as {PIT_LOSS_PRIOR_STOPS:g} stops against the "
                                              f"{len(losses)} measured in the laps"},
                         "pit_standstill_median_s": {"value": STANDSTILL_MEDIAN_S, "from": "prior: typical 2024"},
                         "fuel_mass_effect_s_per_kg": {"value": fuel.mass_effect_s_per_kg,
                                                       "from": "prior: FuelCorrection default"},
                         "pit_loss_vsc_sc_ratio": {"value": [0.6, 0.45], "from": "prior: Heilmeier et al. 2020"}},
              "fuel": {"start_kg": fuel.start_kg, "burn_kg_per_lap": round(float(fuel.burn_kg_per_lap), 4),
                       "mass_effect_s_per_kg": fuel.mass_effect_s_per_kg}}
    status = GREEN
    if "TrackStatus" in known.columns:
        # an SC/VSC seen on any car's lap K carries on (model's median length): the last cars to finish
        # lap K see an SC deployed after the leader crossed the line (an SC that starts mid-lap)
        seen_k = {track_status_of(v) for v in known[known.LapNumber == at_lap].TrackStatus}
        status = SC if SC in seen_k else VSC if VSC in seen_k else GREEN
    report["track_status_at_k"] = status.value
    return FittedRace(race, RaceState(at_lap, tuple(cars), status), report)

