"""Optimal pit window: earliest / ideal / latest lap for the next stop, one or two stops to go.

Cost of the rest of the race (s, relative to a new set of the reference compound with no
fuel) for stopping at the end of lap ``lap + j`` onto ``c1`` (and maybe later onto ``c2``):

    stay(j) + pit_loss + stint(c1, ...) [+ pit_loss + stint(c2, ...)]

where ``stay(j)`` sums the current set's offset and degradation over ages ``age+1..age+j``
and ``stint(c, n)`` the same for a new set of ``c`` over ``n`` laps. Fuel is the same
whatever the plan, so it drops out. The two-dry-compound rule (a dry race must use two
dry compounds) removes plans that break it; ``available_sets`` limits new sets per compound.
The window is every lap whose best plan is within ``tolerance_s`` of the best overall.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from workbench.telemetry.records import DRY_COMPOUNDS

__all__ = ["PitWindow", "pit_window", "DRY"]

DRY = DRY_COMPOUNDS  # softest first; indices below are into this


@dataclasses.dataclass(frozen=True)
class PitWindow:
    """The next stop: laps as race lap numbers of the in-lap; None when no stop is worth it."""

    earliest_lap: int | None
    ideal_lap: int | None
    latest_lap: int | None
    compound: str | None
    stops_to_go: int
    cost_s: float
    no_stop_cost_s: float | None

    def to_dict(self) -> dict:
        return {"earliest_lap": self.earliest_lap, "ideal_lap": self.ideal_lap, "latest_lap": self.latest_lap,
                "compound": self.compound, "stops_to_go": self.stops_to_go, "cost_s": round(self.cost_s, 2),
                "no_stop_cost_s": None if self.no_stop_cost_s is None else round(self.no_stop_cost_s, 2)}


def pit_window(lap: int, total_laps: int, compound: str, tyre_age_laps: int,
               degradation_s: dict[str, Callable[[np.ndarray], np.ndarray]], offset_s: dict[str, float],
               pit_loss_s: float, compounds_used: set[str], available_sets: dict[str, int] | None = None,
               tolerance_s: float = 1.0) -> PitWindow | None:
    """Best next stop given the tyre models; None when fewer than 2 laps are left or on wet tyres.

    Parameters
    ----------
    lap
        Laps completed. The next stop can be at the end of lap ``lap + 1`` at the earliest.
    degradation_s, offset_s
        Per dry compound: time lost to wear at an age (array), and a new set's offset, s.
    compounds_used
        Dry compounds raced so far, including the current one.
    available_sets
        New sets left per compound; a compound missing from it has none. None: unlimited.

    Raises
    ------
    ValueError
        If a value breaks its rule (named).
    """
    if not 0 <= lap <= total_laps:
        raise ValueError(f"lap: {lap} is outside [0, total_laps={total_laps}]")
    if tyre_age_laps < 0:
        raise ValueError(f"tyre_age_laps: {tyre_age_laps} is below minimum 0")
    if pit_loss_s < 0:
        raise ValueError(f"pit_loss_s: {pit_loss_s} is below minimum 0")
    left = total_laps - lap
    if left < 2 or compound not in DRY:
        return None
    options = [c for c in DRY if c in degradation_s]
    sets = {c: (10**6 if available_sets is None else int(available_sets.get(c, 0))) for c in options}
    n = np.arange(1, left + 1)
    stint = {c: np.concatenate([[0.0], np.cumsum(offset_s.get(c, 0.0) + degradation_s[c](n))]) for c in options}
    stay = np.concatenate([[0.0], np.cumsum(offset_s.get(compound, 0.0)
                                            + degradation_s[compound](tyre_age_laps + n))])
    used = set(compounds_used) & set(DRY) | {compound}
    best_cost = np.full(left, np.inf)  # best[j-1]: stop at the end of lap + j, j = 1..left-1
    best_c1 = np.full(left, -1)  # index into DRY
    best_stops = np.zeros(left, dtype=int)
    j = np.arange(1, left)
    for c1 in options:
        if sets[c1] < 1:
            continue
        if len(used | {c1}) >= 2:
            cost = stay[j] + pit_loss_s + stint[c1][left - j]
            _keep(best_cost, best_c1, best_stops, j, cost, DRY.index(c1), 1)
        for c2 in options:
            if sets[c2] < (2 if c2 == c1 else 1) or len(used | {c1, c2}) < 2:
                continue
            # min over the split of the remaining r laps into m on c1 and r-m on c2 (both >= 1)
            split = _split(stint[c1], stint[c2], left)
            cost = stay[j] + 2 * pit_loss_s + split[left - j]
            _keep(best_cost, best_c1, best_stops, j, cost, DRY.index(c1), 2)
    no_stop = float(stay[left]) if len(used) >= 2 else None
    finite = np.isfinite(best_cost[:-1]) if left > 1 else np.array([], dtype=bool)
    if not finite.any():
        return PitWindow(None, None, None, None, 0, no_stop if no_stop is not None else float("inf"), no_stop)
    costs = best_cost[:-1]
    top = float(np.min(costs))
    if no_stop is not None and no_stop <= top:
        return PitWindow(None, None, None, None, 0, no_stop, no_stop)
    ideal = int(np.argmin(costs))
    inside = np.flatnonzero(costs <= top + tolerance_s)
    return PitWindow(earliest_lap=lap + 1 + int(inside.min()), ideal_lap=lap + 1 + ideal,
                     latest_lap=lap + 1 + int(inside.max()), compound=DRY[int(best_c1[ideal])],
                     stops_to_go=int(best_stops[ideal]), cost_s=top, no_stop_cost_s=no_stop)


def _split(s1: np.ndarray, s2: np.ndarray, left: int) -> np.ndarray:
    """split[r] = min over m in 1..r-1 of s1[m] + s2[r - m]: the best way to run r laps on two new sets.

    When both sets lose time at a non-decreasing rate (the usual case) this is the sum of
    the two first laps and the r-2 cheapest later laps of either set (a min-plus
    convolution of convex sequences); otherwise it is the brute-force minimum.
    """
    d1, d2 = np.diff(s1), np.diff(s2)
    split = np.full(left + 1, np.inf)
    if np.all(np.diff(d1) >= -1e-12) and np.all(np.diff(d2) >= -1e-12):
        merged = np.sort(np.concatenate([d1[1:], d2[1:]]))
        split[2:] = d1[0] + d2[0] + np.concatenate([[0.0], np.cumsum(merged)])[:left - 1]
        return split
    m, r = np.arange(left + 1)[:, None], np.arange(left + 1)[None, :]
    parts = np.where((m >= 1) & (r - m >= 1), s1[m] + s2[np.clip(r - m, 0, left)], np.inf)
    return parts.min(axis=0)


def _keep(best_cost, best_c1, best_stops, j, cost, c1: int, stops: int) -> None:
    better = cost < best_cost[j - 1]
    idx = j[better] - 1
    best_cost[idx] = cost[better]
    best_c1[idx] = c1
    best_stops[idx] = stops
