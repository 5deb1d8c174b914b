"""Strategist: ranked pit-strategy recommendations from Monte Carlo results, deterministic and immediate.

Input is the strategy results (one entry per candidate strategy, in the seed's
shape ``[pit_lap, final_position, success_probability, total_time]`` or as dicts
with more detail) plus what the twins know (lap, position, track status). Output
is a list of `Recommendation` s with the seed's fields and the numbers they rest on.

Priority rules (documented, tested):

- **urgent** — the best strategy's next stop is this lap or the next (or a
  SC/VSC is out and the best strategy stops within 2 laps), *and* the gain is
  significant: at least 0.5 positions on the next-best alternative, or at least
  2.0 s of race time, or a success probability of at least 60 %;
- **moderate** — the stop is within 5 laps with a significant gain, or this/next
  lap with a small gain;
- **optional** — everything else, including the alternatives to the best plan.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

from workbench.llm.explain import BuiltinExplainer

__all__ = ["StrategyOption", "Recommendation", "Strategist", "options_from_results", "RaceContext",
           "SIGNIFICANT_POSITIONS", "SIGNIFICANT_SECONDS", "SIGNIFICANT_PROBABILITY"]

SIGNIFICANT_POSITIONS = 0.5
SIGNIFICANT_SECONDS = 2.0
SIGNIFICANT_PROBABILITY = 0.6
PRIORITIES = ("urgent", "moderate", "optional")


class StrategyInputError(ValueError):
    """Bad strategy results: the message names the field, the value and the rule."""


@dataclasses.dataclass(frozen=True)
class StrategyOption:
    """One candidate strategy and its Monte Carlo outcome."""

    pit_laps: tuple[int, ...]
    final_position: float  # expected (mean) finishing position
    success_probability: float  # probability the strategy achieves its goal (e.g. gains >= 1 place)
    total_time_s: float  # median race time
    compounds: tuple[str, ...] = ()  # the whole sequence, starting compound first
    stop_compounds: tuple[str, ...] = ()  # or: the compound fitted at each stop
    name: str = ""
    expected_points: float | None = None
    p_retired: float | None = None  # share of the simulated races that end in our retirement
    position_p: tuple[float, ...] = ()  # P(P1), P(P2), ... over all simulated races

    def median_position(self) -> int | None:
        """The median finishing position over the simulated races (None without a distribution)."""
        total = 0.0
        for k, p in enumerate(self.position_p, start=1):
            total += p
            if total >= 0.5:
                return k
        return None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        stops = ", ".join(f"L{lap}" for lap in self.pit_laps) or "no stop"
        tyres = "-".join(c[0] for c in self.compounds)
        return f"{len(self.pit_laps)}-stop ({stops}{', ' + tyres if tyres else ''})"


def _number(path: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StrategyInputError(f"{path}: {value!r} is not a finite number")
    if not lo <= value <= hi:
        raise StrategyInputError(f"{path}: {value!r} is not between {lo:g} and {hi:g}")
    return float(value)


def _from_orchestrator(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates of an HPCOrchestrator result (``{"ranked": [...], ...}``) as strategist dicts."""
    out = []
    for c in payload["ranked"]:
        stops = c.get("strategy") or []
        out.append({"pit_laps": [s["lap"] for s in stops], "stop_compounds": [s["compound"] for s in stops],
                    "final_position": c.get("mean_position"), "success_probability": c.get("success_probability"),
                    "total_time_s": (c.get("race_time_quantiles_s") or {}).get("p50"),
                    "expected_points": c.get("expected_points"), "name": c.get("label", ""),
                    "p_retired": c.get("p_retired"), "position_p": c.get("position_p") or []})
    return out


def options_from_results(results: Any) -> list[StrategyOption]:
    """Normalize strategy results: an orchestrator result, a dict, a list of dicts, or lists in the
    seed's 4-value shape ``[pit_lap, final_position, success_probability, total_time]``."""
    if isinstance(results, dict) and isinstance(results.get("ranked"), list):
        results = _from_orchestrator(results)
    elif isinstance(results, dict):
        results = results.get("candidates", [results])
    if not isinstance(results, Sequence) or isinstance(results, (str, bytes)) or not results:
        raise StrategyInputError(f"simulation_results: {results!r} is not a non-empty list of strategy results")
    options = []
    for i, item in enumerate(results):
        path = f"simulation_results[{i}]"
        if isinstance(item, (list, tuple)):
            if len(item) != 4:
                raise StrategyInputError(f"{path}: {list(item)!r} is not [pit_lap, final_position, "
                                         "success_probability, total_time]")
            item = dict(zip(("pit_lap", "final_position", "success_probability", "total_time"), item))
        if not isinstance(item, dict):
            raise StrategyInputError(f"{path}: {item!r} is not an object or a 4-value list")
        laps = item.get("pit_laps", item.get("pit_lap"))
        laps = [laps] if isinstance(laps, (int, float)) and not isinstance(laps, bool) else laps
        if not isinstance(laps, (list, tuple)):
            raise StrategyInputError(f"{path}.pit_lap: {laps!r} is not a lap number or a list of lap numbers")
        pit_laps = tuple(int(_number(f"{path}.pit_laps[{j}]", lap, 1, 200)) for j, lap in enumerate(laps))
        total = item.get("total_time_s", item.get("total_time"))
        points = item.get("expected_points")
        retired = item.get("p_retired")
        dist = item.get("position_p") or []
        if not isinstance(dist, (list, tuple)):
            raise StrategyInputError(f"{path}.position_p: {dist!r} is not a list of probabilities")
        options.append(StrategyOption(
            pit_laps=pit_laps,
            final_position=_number(f"{path}.final_position", item.get("final_position"), 1, 30),
            success_probability=_number(f"{path}.success_probability", item.get("success_probability"), 0, 1),
            total_time_s=_number(f"{path}.total_time", total, 0, 86_400),
            compounds=tuple(str(c).upper() for c in item.get("compounds", ())),
            stop_compounds=tuple(str(c).upper() for c in item.get("stop_compounds", ())),
            name=str(item.get("name", "")),
            expected_points=None if points is None else _number(f"{path}.expected_points", points, 0, 100),
            p_retired=None if retired is None else _number(f"{path}.p_retired", retired, 0, 1),
            position_p=tuple(_number(f"{path}.position_p[{j}]", p, 0, 1) for j, p in enumerate(dist)),
        ))
    return options


@dataclasses.dataclass(frozen=True)
class RaceContext:
    lap: int
    total_laps: int | None = None
    position: int | None = None
    track_status: str = "GREEN"
    driver: str | None = None


Priority = Literal["urgent", "moderate", "optional"]
Action = Literal["pit", "stay_out"]


def _field(description: str, **kw: Any) -> Any:
    return dataclasses.field(metadata={"description": description}, **kw)


@dataclasses.dataclass
class Recommendation:
    """The seed's recommendation fields, plus the numbers behind them and who worded it.

    The one definition of the shape: the REST model (`workbench.service.api_models.RecommendationItem`)
    and the OpenAPI document are derived from these fields, their types and descriptions.
    """

    priority: Priority = _field("How soon it matters: urgent (this lap or next), moderate, optional.")
    title: str = _field("One line: the action and its lap.")
    description: str = _field("The plan in words (stops, laps, compounds).")
    expected_benefit: dict[str, float | None] = _field(
        "Expected gain over the runner-up plan: positions, seconds, success probability.")
    reasoning: str = _field("Why: the built-in reasoning, or an LLM rationale that passed the checks.")
    execution_lap: int | None = _field("The lap of the next stop (null when staying out).")
    risks: list[str] = _field("What could go wrong, worst first.")
    alternatives: list[str] = _field("The next-best plans in words.")
    action: Action = _field("pit or stay_out.")
    numbers: dict[str, Any] = _field("The numbers behind the card (every figure the text may name).")
    explainer: str = _field("built-in, or llm:<model> when an LLM's wording passed the checks.",
                            default="built-in")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Strategist:
    """Turns strategy results and twin state into ranked recommendations (no randomness, no I/O)."""

    def recommend(self, results: Any, context: RaceContext) -> list[Recommendation]:
        options = sorted(options_from_results(results), key=lambda o: (o.final_position, o.total_time_s))
        best, rest = options[0], options[1:]
        runner_up = rest[0] if rest else None
        future = [lap for lap in best.pit_laps if lap >= context.lap]
        next_stop = future[0] if future else None
        laps_until = None if next_stop is None else next_stop - context.lap
        gain_positions = (runner_up.final_position - best.final_position) if runner_up else 0.0
        gain_seconds = (runner_up.total_time_s - best.total_time_s) if runner_up else 0.0
        vs_now = (context.position - best.final_position) if context.position else None
        significant = (gain_positions >= SIGNIFICANT_POSITIONS or gain_seconds >= SIGNIFICANT_SECONDS
                       or best.success_probability >= SIGNIFICANT_PROBABILITY)
        neutralised = context.track_status in ("SC", "VSC")
        if laps_until is not None and (laps_until <= 1 or (neutralised and laps_until <= 2)):
            priority = "urgent" if significant else "moderate"
        elif laps_until is not None and laps_until <= 5 and significant:
            priority = "moderate"
        else:
            priority = "optional"
        numbers = {
            "lap": context.lap, "position": context.position, "next_stop_lap": next_stop,
            "laps_until_stop": laps_until, "expected_final_position": round(best.final_position, 2),
            "success_probability": round(best.success_probability, 3),
            "race_time_s": round(best.total_time_s, 1),
            "gain_positions_vs_alternative": round(gain_positions, 2),
            "gain_seconds_vs_alternative": round(gain_seconds, 1),
            "positions_vs_now": None if vs_now is None else round(vs_now, 2),
            "expected_points": best.expected_points, "track_status": context.track_status,
            "strategy": best.label, "compounds": list(best.compounds),
            "alternative": runner_up.label if runner_up else None,
        }
        action = "pit" if laps_until is not None and laps_until <= 1 else "stay_out"
        compound = _next_compound(best, next_stop)
        if action == "pit":
            title = f"Box this lap for {compound}" if laps_until == 0 else f"Box next lap (lap {next_stop}) for " \
                                                                             f"{compound}"
        elif next_stop is not None:
            title = f"Stay out; plan the stop on lap {next_stop} for {compound}"
        else:
            title = "Stay out to the flag"
        risks = []
        if runner_up and gain_positions < SIGNIFICANT_POSITIONS and gain_seconds < SIGNIFICANT_SECONDS:
            risks.append(f"The margin over '{runner_up.label}' is small: {gain_positions:.2f} positions, "
                         f"{gain_seconds:.1f} s.")
        if best.success_probability < 0.5:
            risks.append(f"Success probability is only {best.success_probability:.0%}.")
        if neutralised:
            risks.append(f"{context.track_status} is out: the picture changes when it ends.")
        primary = Recommendation(
            priority=priority, title=title, description="", reasoning="",
            expected_benefit={"positions": numbers["gain_positions_vs_alternative"],
                              "seconds": numbers["gain_seconds_vs_alternative"],
                              "probability": numbers["success_probability"]},
            execution_lap=next_stop, risks=risks, alternatives=[o.label for o in rest[:3]], action=action,
            numbers=numbers)
        recommendations = [primary]
        for alt in rest[:2]:
            alt_next = next((lap for lap in alt.pit_laps if lap >= context.lap), None)
            recommendations.append(Recommendation(
                priority="optional", title=f"Alternative: {alt.label}", description="", reasoning="",
                expected_benefit={"positions": round(best.final_position - alt.final_position, 2),
                                  "seconds": round(best.total_time_s - alt.total_time_s, 1),
                                  "probability": round(alt.success_probability, 3)},
                execution_lap=alt_next, risks=[f"Expected to finish {alt.final_position - best.final_position:.2f} "
                                               f"positions behind the recommended plan."],
                alternatives=[best.label], action="pit" if alt_next is not None and alt_next - context.lap <= 1
                else "stay_out",
                numbers={"lap": context.lap, "next_stop_lap": alt_next,
                         "expected_final_position": round(alt.final_position, 2),
                         "success_probability": round(alt.success_probability, 3),
                         "race_time_s": round(alt.total_time_s, 1), "strategy": alt.label}))
        why = _behind_now(best, context, options, numbers)
        if why:
            risks.insert(0, why)
        BuiltinExplainer().explain(recommendations)
        return sorted(recommendations, key=lambda r: PRIORITIES.index(r.priority))


def _behind_now(best: StrategyOption, context: RaceContext, options: list[StrategyOption],
                numbers: dict[str, Any]) -> str | None:
    """Why the recommended plan's expected finish is behind where we are now (None when it is not).

    A leader told "expected finish P4" must see why: the mean counts every simulated race, including
    those that end in a retirement (classified at the back), and the rivals' pace and stops. The numbers
    quoted go into ``numbers`` so that any wording of them can be checked.
    """
    if not context.position or best.final_position - context.position < SIGNIFICANT_POSITIONS:
        return None
    all_behind = all(o.final_position - context.position >= SIGNIFICANT_POSITIONS for o in options)
    numbers["behind_now_positions"] = round(best.final_position - context.position, 2)
    head = (f"Every candidate plan is expected to finish behind our P{context.position}"
            if all_behind else f"This plan is expected to finish behind our P{context.position}")
    head += f" (P{best.final_position:.2f} on average over the simulated races)"
    if not best.position_p:
        return (f"{head}: the mean counts every race, with the rivals' pace, their stops and retirements; "
                "no plan avoids that loss.")
    median = best.median_position()
    at_or_ahead = sum(best.position_p[:context.position])
    numbers.update({"median_final_position": median, "p_at_or_ahead_now": round(at_or_ahead, 3)})
    parts = [f"the median finish is P{median}", f"{at_or_ahead:.0%} of the races end at P{context.position} or "
                                               "better"]
    if best.p_retired is not None:
        numbers["p_retired"] = round(best.p_retired, 3)
        parts.append(f"{best.p_retired:.0%} end in a retirement, classified at the back, which pulls the mean "
                     "down")
    return f"{head}: {', '.join(parts)}."


def _next_compound(option: StrategyOption, next_stop: int | None) -> str:
    if next_stop is not None and option.stop_compounds:
        return option.stop_compounds[option.pit_laps.index(next_stop)]
    if next_stop is None or not option.compounds:
        return "the next set"
    index = option.pit_laps.index(next_stop) + 1
    return option.compounds[index] if index < len(option.compounds) else "the next set"
