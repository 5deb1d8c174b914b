"""Fit a race definition for any real race: its lap table, the history before it, and priors.

`fit_race` is the one code path behind ``racetwin fit``, ``data/build_catalogue.py`` and
``data/build_bahrain_2024.py``. It returns the race definition (the `workbench.race.definition`
format, as a JSON-ready dict) and a fit report whose ``provenance`` says, for every number,
whether it came from the race's ``laps``, from the ``history`` tables (races at this circuit and
seasons before it; the race's own grid, numbers and classification are facts of the race), or is a
``prior`` (an assumption, named in the note).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.race.definition import parse_race_definition
from workbench.strategy.event_history import priors_before
from workbench.strategy.racefit.circuits import corners_for, length_for
from workbench.strategy.racefit.history import HistoryTables
from workbench.strategy.racefit.lapmodel import (
    CAR_FACTOR_SD,
    COMPOUND_ORDER,
    TEAM_FACTOR_SD,
    LapFit,
    fit_lap_model,
    neutral_lap_factor,
    pit_losses,
    sector_fractions,
)
from workbench.strategy.racefit.start import grid_ranks, lap1_changes, lap1_loss_s, start_loss_fit, start_parameters
from workbench.telemetry.records import DRY_COMPOUNDS
from workbench.twins.context import TwinContext
from workbench.twins.lap_table import check_lap_table

__all__ = ["RaceFit", "fit_race", "FUEL_START_KG", "STANDSTILL_MEDIAN_S", "PIT_LOSS_PRIOR_STOPS",
           "GENERIC_OFFSET_S", "VSC_LOSS_RATIO", "SC_LOSS_RATIO"]

FUEL_START_KG = 100.0  # assumption: a typical race fuel load (the rules allow 110 kg)
STANDSTILL_MEDIAN_S = 2.4  # assumption: a typical 2024 stationary time
STANDSTILL_SIGMA_LOG_PRIOR = 0.2
PIT_LOSS_PRIOR_STOPS = 3.0  # the circuit's historical pit-lane time counts as this many measured stops
MIN_NEUTRAL_STOPS = 2  # fewer stops measured under VSC/SC: the loss is a ratio of the green loss
VSC_LOSS_RATIO, SC_LOSS_RATIO = 0.6, 0.45  # after Heilmeier et al. 2020
SC_FACTOR_PRIOR, VSC_FACTOR_PRIOR = 1.4, 1.3
MIN_GAP_PRIOR_S = 0.4
DEFAULT_NOISE_S = 0.6  # a car without enough clean laps (Heilmeier et al. 2020: 0.46-0.86 s)
# Generic steps between compounds for one not raced (assumption: a harder dry compound is a few
# tenths slower on a new set; intermediates and wets seconds slower on a dry-ish track).
GENERIC_OFFSET_S = {"SOFT": 0.0, "MEDIUM": 0.3, "HARD": 0.6, "INTERMEDIATE": 5.0, "WET": 8.0}
# Pirelli's 2024 nominations (HARD, MEDIUM, SOFT) by Ergast circuitId, from Pirelli's race previews.
PIRELLI_2024 = {3: ("C1", "C2", "C3"), 77: ("C2", "C3", "C4"), 1: ("C3", "C4", "C5"), 22: ("C1", "C2", "C3"),
                6: ("C3", "C4", "C5"), 7: ("C3", "C4", "C5"), 9: ("C1", "C2", "C3"), 13: ("C2", "C3", "C4")}
DRY = DRY_COMPOUNDS
DEG_FACTOR_RANGE = (0.2, 5.0)  # the race-definition format's bounds on cars[].degradation_factor
OFFSET_LIMIT_S = 10.0  # the race-definition format's bound on a compound offset


@dataclasses.dataclass(frozen=True)
class RaceFit:
    """A fitted race definition (JSON-ready, checked by `parse_race_definition`) and its report."""

    race: dict[str, Any]
    report: dict[str, Any]


class _Provenance:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, str]] = {}

    def __call__(self, field: str, source: str, note: str = "") -> None:
        self.items[field] = {"source": source, **({"note": note} if note else {})}


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


def _compound_models(fit: LapFit, used: set[str], circuit_id: int | None, year: int | None, prov: _Provenance
                     ) -> tuple[dict[str, dict], dict[str, Any]]:
    ref = fit.reference
    wanted = [c for c in COMPOUND_ORDER if c in DRY or c in used or c in fit.k1_s]
    fitted = [c for c in COMPOUND_ORDER if c in fit.k1_s]
    out, report = {}, {}
    for c in wanted:
        if c in fit.k1_s:
            m = {"offset_s": _r(fit.offset_s[c], 4), "model": "linear", "k1_s": _r(fit.k1_s[c], 4), "k2_s": 0.0,
                 "fit_note": (f"fitted on this race's clean laps: k1 {fit.k1_s[c]:.4f} +- {fit.k1_sd_s[c]:.4f} s/lap, "
                              f"offset {fit.offset_s[c]:.3f} +- {fit.offset_sd_s[c]:.3f} s vs {ref}")}
            prov(f"compounds.{c}", "laps", m["fit_note"])
        else:
            i = COMPOUND_ORDER.index(c)
            softer = [f for f in fitted if COMPOUND_ORDER.index(f) < i and f in DRY]
            harder = [f for f in fitted if COMPOUND_ORDER.index(f) > i and f in DRY]
            if c in DRY and softer and harder:
                a, b = softer[-1], harder[0]
                off, k1 = (fit.offset_s[a] + fit.offset_s[b]) / 2, (fit.k1_s[a] + fit.k1_s[b]) / 2
                note = f"prior: not raced enough, midway between {a} and {b}"
            else:
                near = min(fitted, key=lambda f: abs(COMPOUND_ORDER.index(f) - i))
                off = fit.offset_s[near] + GENERIC_OFFSET_S[c] - GENERIC_OFFSET_S[near]
                k1 = fit.k1_s[near]
                step = GENERIC_OFFSET_S[c] - GENERIC_OFFSET_S[near]
                note = f"prior: not raced enough, {near}'s wear and a generic {step:+.1f} s step"
            m = {"offset_s": _r(off, 4), "model": "linear", "k1_s": _r(k1, 4), "k2_s": 0.0, "fit_note": note}
            prov(f"compounds.{c}", "prior", note)
        if abs(m["offset_s"]) > OFFSET_LIMIT_S:
            m["offset_s"] = float(np.clip(m["offset_s"], -OFFSET_LIMIT_S, OFFSET_LIMIT_S))
            m["fit_note"] += f"; offset clipped to the format's +-{OFFSET_LIMIT_S:g} s"
        if year == 2024 and circuit_id in PIRELLI_2024 and c in DRY:
            m = {"detail": PIRELLI_2024[circuit_id][DRY[::-1].index(c)], **m}
        out[c] = m
        report[c] = {"k1_s": m["k1_s"], "k1_sd_s": _r(fit.k1_sd_s.get(c, float("nan")), 4) if c in fit.k1_s else None,
                     "offset_s": m["offset_s"], "offset_sd_s": _r(fit.offset_sd_s[c], 4) if c in fit.k1_s else None,
                     "clean_laps": int((fit.clean.Compound == c).sum())}
    return out, report


def _pit(fit: LapFit, circuit_id: int | None, date: str, history: HistoryTables | None, prov: _Provenance
         ) -> tuple[dict[str, float], dict[str, Any]]:
    measured = pit_losses(fit)
    lane_hist, lane_races = (history.pit_lane_times_s(circuit_id, date)
                             if history is not None and circuit_id is not None else (np.array([]), []))
    green = measured["GREEN"]
    if len(lane_hist) >= 10:
        prior_total, prior_src = float(np.median(lane_hist)), "history"
    else:
        prior_total, prior_src = TwinContext().pit_loss_green_s, "prior"
    total = (sum(green) + PIT_LOSS_PRIOR_STOPS * prior_total) / (len(green) + PIT_LOSS_PRIOR_STOPS)
    src = "laps+" + prior_src if green else prior_src
    green_s = max(0.0, total - STANDSTILL_MEDIAN_S)
    prov("track.pit_loss_green_s", src,
         (f"{len(green)} green stops measured (median {np.median(green):.2f} s) blended with " if green else "")
         + f"the {'pit-lane time at this circuit in earlier seasons' if prior_src == 'history' else 'generic loss'} "
         f"({prior_total:.2f} s, worth {PIT_LOSS_PRIOR_STOPS:.0f} stops), minus the {STANDSTILL_MEDIAN_S} s standstill")
    out = {"pit_loss_green_s": _r(green_s, 2)}
    for kind, ratio in (("VSC", VSC_LOSS_RATIO), ("SC", SC_LOSS_RATIO)):
        key = f"pit_loss_{kind.lower()}_s"
        if len(measured[kind]) >= MIN_NEUTRAL_STOPS:
            v = float(np.clip(np.median(measured[kind]) - STANDSTILL_MEDIAN_S, 0.0, green_s))
            prov(f"track.{key}", "laps", f"median of {len(measured[kind])} stops under {kind}, minus the standstill")
        else:
            v = green_s * ratio
            prov(f"track.{key}", "prior", f"{len(measured[kind])} stops under {kind} measured: {ratio} x green "
                 "(ratio after Heilmeier et al. 2020)")
        out[key] = _r(v, 2)
    out["pit_standstill_median_s"] = STANDSTILL_MEDIAN_S
    prov("track.pit_standstill_median_s", "prior", "typical 2024 stationary time")
    if len(lane_hist) >= 10:
        iqr = float(np.quantile(lane_hist, 0.75) - np.quantile(lane_hist, 0.25))
        out["pit_standstill_sigma_log"] = _r(min(2.0, np.log1p((iqr / 1.349) / STANDSTILL_MEDIAN_S)))
        prov("track.pit_standstill_sigma_log", "history", "spread (IQR) of the pit-lane times at this circuit "
             "in earlier seasons: the drive through the lane is the same for everyone")
    else:
        out["pit_standstill_sigma_log"] = STANDSTILL_SIGMA_LOG_PRIOR
        prov("track.pit_standstill_sigma_log", "prior", "too few historical stops at this circuit")
    report = {"measured_s": {k: [_r(x, 2) for x in v] for k, v in measured.items()},
              "history_pit_lane_median_s": _r(np.median(lane_hist), 2) if len(lane_hist) else None,
              "history_stops": int(len(lane_hist)), "history_races": lane_races}
    return out, report


def _stints(grp: pd.DataFrame, n_laps: int) -> list[dict[str, Any]]:
    """The real stints; ``tyre_age_laps`` is the set's age when fitted (a used set), omitted when new."""
    stints = grp.groupby("Stint", sort=True).agg(c=("Compound", "first"), n=("LapNumber", "count"),
                                                 age=("TyreLife", "first"))
    plan = []
    for c, n, age in zip(stints.c, stints.n, stints.age):
        stint = {"compound": str(c), "laps": int(n)}
        if int(age) > 1:
            stint["tyre_age_laps"] = int(age) - 1
        plan.append(stint)
    plan[-1]["laps"] += n_laps - int(grp.LapNumber.max())  # a lapped or retired car's plan runs to the flag
    return plan


def fit_race(laps: pd.DataFrame, *, drivers: pd.DataFrame | None = None, event: str | None = None,
             history: HistoryTables | None = None, start_model: dict[str, Any] | None = None,
             source: str = "laps") -> RaceFit:
    """Fit a race definition from a FastF1-shaped lap table.

    Parameters
    ----------
    laps : DataFrame
        Every lap of the race (FastF1 ``Laps`` names, times in seconds).
    drivers : DataFrame, optional
        ``driver, team`` table; fills ``Team`` when the lap table has none.
    event : str, optional
        ``"2024 Bahrain Grand Prix"``: finds the race in the history tables (date, circuit,
        grid). Without it (or without ``history``) the grid is the lap-1 order and every
        history-based number falls back to a prior; the report says so.
    history : HistoryTables, optional
        The Ergast-schema tables (`workbench.strategy.racefit.history.load_history`).
    start_model : dict, optional
        The start model (`workbench.strategy.racefit.start.load_start_model`).
    source : str
        Where the laps came from, for the report.

    Raises
    ------
    ValueError
        Naming the column, value and rule for a bad lap table or an unknown event.
    """
    check_lap_table(laps, source=source)
    laps = laps.copy()
    if "Team" not in laps.columns or laps.Team.isna().all():
        if drivers is None:
            laps["Team"] = ""
        else:
            laps["Team"] = laps.Driver.map(dict(zip(drivers.driver, drivers.team))).fillna("")
    prov = _Provenance()
    facts, later = None, None
    if history is not None and event:
        later = history.later_race(event)  # no results in the tables (yet): only its circuit is known
        facts = history.facts(event) if later is None else None
    circuit_id = facts.circuit_id if facts else (later.circuit_id if later else None)
    if later is not None and later.edition is not None:
        prov("track.name", "history", f"{event} has no results in the history tables: its circuit is that of the "
             f"{later.edition}; the tables give no grid, car numbers or classification for it")
    elif later is not None:
        prov("track.name", "prior", f"{event} is after the history tables and no earlier race has its name: "
             "circuit unknown, so its numbers (pit lane, overtaking, SC/VSC) are the championship's or priors")
    n_laps = max(int(pd.to_numeric(laps.LapNumber).max()), facts.laps if facts else 0)
    prov("track.laps", "laps", "the last lap in the table" + (" (checked against the winner's laps in the "
                                                               "history tables)" if facts else ""))
    fit = fit_lap_model(laps, n_laps, FUEL_START_KG)
    df = fit.table
    burn = FUEL_START_KG / n_laps
    prov("fuel.start_kg", "prior", "a typical race fuel load (the rules allow 110 kg)")
    prov("fuel.burn_kg_per_lap", "prior", "the start load burnt evenly over the race distance")
    prov("fuel.mass_effect_s_per_kg", fit.mass_effect_source,
         "from the lap-number term of the lap-time fit" if fit.mass_effect_source == "laps"
         else "fitted fuel term outside 0.017-0.045 s/kg (Heilmeier et al. 2020): fixed at 0.03")
    zero_fuel = {d: v - fit.mass_effect_s_per_kg * FUEL_START_KG for d, v in fit.intercept_s.items()}
    ref_car = min(zero_fuel, key=zero_fuel.get)
    base = zero_fuel[ref_car]
    prov("track.base_lap_time_s", "laps",
         f"fastest car's ({ref_car}) intercept, fuel removed, on fresh {fit.reference}")

    # cars: every driver with a lap row
    all_drivers = sorted(df.Driver.unique())
    team_of = df.groupby("Driver").Team.first().to_dict()
    pace, noise, pace_src = {}, {}, {}
    for d in all_drivers:
        if d in zero_fuel:
            pace[d], noise[d], pace_src[d] = zero_fuel[d] - base, max(0.05, fit.noise_s[d]), "laps"
        else:
            mates = [m for m in zero_fuel if team_of.get(m) == team_of.get(d) and team_of.get(d)]
            field = float(np.median([v - base for v in zero_fuel.values()]))
            pace[d] = (zero_fuel[mates[0]] - base) if mates else field
            noise[d], pace_src[d] = DEFAULT_NOISE_S, "prior"
    if facts is not None:
        ranks = grid_ranks({d: facts.grid.get(d, 0) for d in all_drivers}, all_drivers)
        prov("cars[].grid", "history", "this race's grid (Ergast results.grid; pit-lane starters at the back)")
    else:
        lap1 = df[df.LapNumber == 1].set_index("Driver").Position if "Position" in df.columns else pd.Series()
        order = sorted(all_drivers, key=lambda d: (lap1.get(d, np.nan) if pd.notna(lap1.get(d, np.nan)) else 99, d))
        ranks = {d: i + 1 for i, d in enumerate(order)}
        prov("cars[].grid", "prior", ("no results for this race in the history tables" if later is not None else
                                      "no event in the history tables") + ": the lap-1 order stands in for the grid")
    prov("cars[].pace_delta_s", "laps", "each car's intercept minus the base lap; cars with fewer than 5 clean "
         "laps take their team-mate's (or the field median) pace: " + (", ".join(d for d in all_drivers
                                                                              if pace_src[d] == "prior") or "none"))
    prov("cars[].lap_noise_s", "laps", f"robust residual spread (1.4826 x MAD); {DEFAULT_NOISE_S} s prior for "
         "cars without clean laps")
    prov("cars[].strategy", "laps", "the real stints; a retired or lapped car's last stint runs to the flag")

    date = facts.date if facts else (later.date if later else "9999-12-31")
    if history is not None:
        overtaking, ot_src, ot_report = history.overtaking_difficulty(circuit_id, date)
    else:
        overtaking, ot_src, ot_report = 0.5, "prior", {}
    prov("track.overtaking_difficulty", ot_src, "0.5 x (2 - this circuit's mean |grid - finish| / the "
         "championship's), circuit blended with the championship as 5 races")
    # start
    usable_lap1 = not (df[df.LapNumber == 1].Kind == "RED").any()
    own_loss = start_loss_fit(lap1_loss_s(fit), ranks) if usable_lap1 else None
    pairs = lap1_changes(df, {d: ranks[d] for d in all_drivers}) if "Position" in df.columns else []
    by_rank = sorted(all_drivers, key=ranks.get)
    start, start_report = start_parameters(facts.name if facts else (event or ""), pairs, own_loss,
                                           usable_lap1 and own_loss is not None,
                                           np.array([pace[d] for d in by_rank]), np.array([noise[d] for d in by_rank]),
                                           start_model, overtaking, MIN_GAP_PRIOR_S, True)
    prov("track.start_loss_s", start_report["loss_source"], "lap-1 time lost vs the car's model lap, at pole")
    prov("track.start_loss_per_grid_slot_s", start_report["loss_source"], "slope of that loss per grid slot")
    prov("track.start_sigma_s", "history" if start_report["target_source"] != "prior" else "prior",
         f"chosen so the lap-1 model gives a mean |grid - lap-1 position| of {start_report['target_mean_abs_change']} "
         f"({start_report['target_source']}: the start model, data/start-model.json)")

    # events, overtaking, pit
    events = priors_before(date, circuit_id)
    ev_src = "history" if circuit_id is not None else "prior"
    for k in ("sc_phases_p", "sc_length_laps_p", "vsc_phases_p", "vsc_length_laps_p", "retirement_p"):
        prov(f"events.{k}", ev_src, f"data/event-history.json: {events.races} races before {date}, "
             f"{events.circuit_races} at this circuit (circuit blended with the championship as 10 races)")
    pit, pit_report = _pit(fit, circuit_id, date, history, prov)

    sc_factor, n_sc = neutral_lap_factor(fit, "SC", base)
    vsc_factor, n_vsc = neutral_lap_factor(fit, "VSC", base)
    factors = {}
    for key, value, n, prior in (("sc_lap_time_factor", sc_factor, n_sc, SC_FACTOR_PRIOR),
                                 ("vsc_lap_time_factor", vsc_factor, n_vsc, VSC_FACTOR_PRIOR)):
        if value is None:
            factors[key] = prior
            prov(f"track.{key}", "prior", f"only {n} whole laps under it in this race")
        else:
            factors[key] = _r(np.clip(value, 1.0, 3.0))
            prov(f"track.{key}", "laps", f"median of {n} car-laps under it / base lap")
    fractions = sector_fractions(fit, laps)
    prov("track.sector_fractions", "laps" if fractions else "prior", "median sector times of clean laps")
    length, len_src, len_note = length_for(circuit_id, base)
    prov("track.length_m", len_src, len_note)
    corners, c_src, c_note = corners_for(circuit_id, length)
    prov("track.corners", c_src, c_note)
    prov("track.min_gap_s", "prior", "closest a follower runs at the line (not fitted)")
    prov("track.drs", "prior", "every 2024 circuit has DRS zones")
    used = set(df.Compound.unique())
    compounds, comp_report = _compound_models(fit, used, circuit_id, int(date[:4]) if (facts or later) else None,
                                              prov)

    track = {
        "name": (facts.circuit_name if facts and facts.circuit_name else later.circuit_name
                 if later and later.circuit_name else (event or "unknown circuit")),
        "length_m": length, "laps": n_laps, "base_lap_time_s": _r(base), "sector_fractions":
        fractions or [0.33, 0.34, 0.33], **pit, "overtaking_difficulty": _r(overtaking), "drs": True,
        "start_loss_s": _r(start["start_loss_s"]),
        "start_loss_per_grid_slot_s": _r(start["start_loss_per_grid_slot_s"]),
        "start_sigma_s": _r(start["start_sigma_s"]), **factors, "drs_gain_s": 0.0, "min_gap_s": MIN_GAP_PRIOR_S,
        "corners": corners,
    }
    cars = []
    for d in by_rank:
        grp = df[df.Driver == d]
        number = facts.number.get(d, 0) if facts else 0
        cars.append({"driver": d, "team": team_of.get(d) or "unknown", "number": int(number), "grid": ranks[d],
                     "pace_delta_s": _r(pace[d]), "lap_noise_s": _r(noise[d]), "strategy": _stints(grp, n_laps),
                     "degradation_factor": _r(np.clip(fit.car_factor.get(d, (1.0, 0.0))[0], *DEG_FACTOR_RANGE))})
    prov("cars[].degradation_factor", "laps", "within-stint wear slope of the car vs its compound's, shrunk towards "
         f"its team's (prior sd {CAR_FACTOR_SD}) and the team's towards 1 (prior sd {TEAM_FACTOR_SD}); 1 without "
         "clean laps")
    prov("cars[].strategy[].tyre_age_laps", "laps", "TyreLife of the stint's first lap minus 1 (a used set)")
    prov("track.drs_gain_s", "prior", "not fitted (the lap table has no gaps): 0, the kernel's pass model alone")
    prov("cars[].number", "history" if facts else "prior", "Ergast results.number" if facts else "unknown: 0")
    name = facts.name if facts else (later.name if later else (event or f"race from {source}"))
    race = {
        "schema_version": "1.0", "name": name,
        "source": f"Fitted by workbench.strategy.racefit from {source}"
                  + (" and the CC0 history tables before the race" if (facts or later) else "")
                  + "; see the fit report and data/README.md",
        "track": track,
        "fuel": {"start_kg": FUEL_START_KG, "burn_kg_per_lap": _r(burn, 4),
                 "mass_effect_s_per_kg": _r(fit.mass_effect_s_per_kg, 4)},
        "compounds": compounds,
        "events": {"sc_phases_p": [_r(p, 4) for p in events.sc_phases_p],
                   "sc_length_laps_p": [_r(p, 4) for p in events.sc_length_laps_p],
                   "vsc_phases_p": [_r(p, 4) for p in events.vsc_phases_p],
                   "vsc_length_laps_p": [_r(p, 4) for p in events.vsc_length_laps_p],
                   "retirement_p": _r(events.retirement_p, 4)},
        "cars": cars,
    }
    for key in ("sc_phases_p", "sc_length_laps_p", "vsc_phases_p", "vsc_length_laps_p"):
        p = race["events"][key]
        big = p.index(max(p))  # the rounding remainder goes on the largest probability
        p[big] = round(1.0 - sum(p) + p[big], 4)
    parse_race_definition(race)  # the fit must give a valid race definition
    report = {
        "race": name, "laps_source": source, "event_found_in_history": facts is not None,
        "circuit_from": later.edition if later else None,
        "provenance": prov.items,
        "lap_model": {"clean_laps": int(len(fit.clean)), "reference_compound": fit.reference,
                      "residual_sd_s": _r(fit.residual_sd_s), "lap_term_s_per_lap": _r(fit.lap_term_s, 4),
                      "compounds": comp_report},
        "team_pace_delta_s": {t: _r(np.mean([pace[d] for d in all_drivers if team_of.get(d) == t]))
                              for t in sorted(set(team_of.values()))},
        "team_degradation_factor": {t: [_r(f), _r(s)] for t, (f, s) in sorted(fit.team_factor.items())},
        "car_degradation_factor": {d: [_r(f), _r(s)] for d, (f, s) in sorted(fit.car_factor.items())},
        "pit": pit_report, "start": start_report, "overtaking": ot_report,
        "events": events.to_json(),
    }
    return RaceFit(race, report)


def read_laps(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A lap table CSV and the ``*-drivers.csv`` beside it (None when there is none)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"laps: {str(path)!r} is not a file")
    laps = pd.read_csv(path)
    side = path.with_name(path.name.replace("-laps.csv", "-drivers.csv"))
    drivers = pd.read_csv(side) if side != path and side.is_file() else None
    return laps, drivers
