"""Compound steps learnt from the season's earlier races: the prior of `predict`'s compound offsets.

`predict_fit.fit_known_laps` shrinks each fitted compound offset towards a prior step and gives a
compound nobody has raced by lap K that step outright. Instead of the generic steps (SOFT 0,
MEDIUM +0.3, HARD +0.6 s) the prediction of a race can use the steps measured on the races run
*before* it: the bundled catalogue (``data/races/*.fit-report.json``, each fitted by ``racetwin
fit`` on a whole race) holds, per race, each dry compound's fitted offset on a new set and its
standard error against the race's reference compound.

The step transfers between circuits as seconds per compound step (SOFT -> MEDIUM -> HARD): in 2024
the three compounds of a race are three consecutive Pirelli C numbers (``PIRELLI_2024`` in
`workbench.strategy.racefit.fit`), so one step is one C number. Per earlier race, the step is the
weighted least-squares slope through zero of the fitted offsets against the number of steps from
the reference compound (weights 1/se^2; only compounds fitted on that race's laps, not its priors);
the season's step is the median over the races, one race one vote (a wet race or a circuit where the
soft was a qualifying tyre, Canada and Monaco 2024, gives an outlier). Only races dated strictly
before the predicted race count: a race's own fit, fitted on its laps after K, never informs it.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import Any

import numpy as np

from workbench.strategy.catalogue import catalogue_dir
from workbench.strategy.event_history import fold_race_name, history
from workbench.telemetry.records import DRY_COMPOUNDS

__all__ = ["SeasonSteps", "race_steps", "season_steps_before", "DRY_ORDER"]

DRY_ORDER = DRY_COMPOUNDS  # softest first; one compound step = one Pirelli C number (2024 allocations)


@dataclasses.dataclass(frozen=True)
class SeasonSteps:
    """The prior steps (s, vs SOFT) and where they came from.

    Attributes
    ----------
    steps : dict of str to float or None
        ``{"SOFT": 0, "MEDIUM": s, "HARD": 2 s}`` with ``s`` the season's step per compound; None
        when no earlier race gives one (the caller keeps its generic steps).
    step_s : float or None
        ``s``.
    races : dict of str to float
        Each earlier race's step (s per compound step), by race name.
    source : str
        One line for the fit report.
    """

    steps: dict[str, float] | None
    step_s: float | None
    races: dict[str, float]
    source: str

    def to_json(self) -> dict[str, Any]:
        """The fit report's ``compound_steps`` entry."""
        return {"steps": None if self.steps is None else {c: round(v, 3) for c, v in self.steps.items()},
                "step_s": None if self.step_s is None else round(self.step_s, 3),
                "races": {r: round(v, 3) for r, v in self.races.items()}, "from": self.source}


def race_steps(report: dict[str, Any]) -> float | None:
    """One race's step per compound (s) from its catalogue fit report's ``lap_model``; None without one.

    Weighted least squares through zero of each fitted dry compound's offset on the number of
    compound steps from the reference (weights 1/se^2). Compounds the race fit took from a prior
    (no standard error, no clean lap) are left out.
    """
    model = report.get("lap_model") or {}
    ref = model.get("reference_compound")
    if ref not in DRY_ORDER:
        return None
    num = den = 0.0
    for c, m in (model.get("compounds") or {}).items():
        if c not in DRY_ORDER or c == ref:
            continue
        se = m.get("offset_sd_s")
        if se is None or not np.isfinite(se) or se <= 0 or not m.get("clean_laps"):
            continue
        x = DRY_ORDER.index(c) - DRY_ORDER.index(ref)
        num += x * float(m["offset_s"]) / se ** 2
        den += x * x / se ** 2
    return num / den if den > 0 else None


@lru_cache(maxsize=1)
def _catalogue_steps() -> tuple[tuple[str, str, float], ...]:
    """(date, race name, step) for every catalogue race with a fit report, a history date and a step."""
    dates = {fold_race_name(r["race"]): r["date"] for r in history()}
    out = []
    for path in sorted(catalogue_dir().glob("*.fit-report.json")):
        report = json.loads(path.read_text())
        name = str(report.get("race", ""))
        date = dates.get(fold_race_name(name))
        step = race_steps(report)
        if date is not None and step is not None:
            out.append((date, name, step))
    return tuple(sorted(out))


def season_steps_before(date: str | None, race: str | None = None) -> SeasonSteps:
    """The compound steps learnt from the catalogue races dated strictly before ``date`` (ISO).

    ``date`` None (the race was not identified): no steps, since the race itself may be in the
    catalogue. ``race`` names it in the report line.
    """
    if date is None:
        return SeasonSteps(None, None, {}, "generic prior (race not identified, so no earlier race of the "
                                           "catalogue can be told from this one)")
    past = [(name, step) for d, name, step in _catalogue_steps() if d < date]
    if not past:
        return SeasonSteps(None, None, {}, f"generic prior (no catalogue race is dated before {race or date})")
    s = float(np.median([step for _, step in past]))
    steps = {c: i * s + 0.0 for i, c in enumerate(DRY_ORDER)}
    years = sorted({d[:4] for d, _, _ in _catalogue_steps() if d < date})
    other_year = "" if years == [date[:4]] else f"; from {'-'.join(dict.fromkeys([years[0], years[-1]]))} races"
    return SeasonSteps(steps, s, dict(past),
                       f"season prior: median step per compound {s:+.3f} s over the {len(past)} catalogue "
                       f"race(s) before {race or date} (data/races/*.fit-report.json{other_year})")
