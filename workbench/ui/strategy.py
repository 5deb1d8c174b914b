"""Strategy views: the Monte Carlo distributions of the latest decision and the recommendation cards.

Both show the hub's newest results when built. After that they are told: the served race page hands
them each published result event (`StrategyDistributions.show`, `RecommendationCards.show`, scheduled on
the session's document), and a notebook pulls the newest with ``refresh()``. The distributions draw
``strategy_results`` (published by the HPCOrchestrator) once per ``generation``. Recommendations are the
published ``strategy_recommendations`` (the service's `RecommendationService`, with the LLM's wording once
accepted); the view never decides, so a hub without a `RecommendationService` shows none.
"""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from bokeh.core.property.vectorization import value
from bokeh.models import ColumnDataSource, FactorRange
from bokeh.plotting import figure
from bokeh.transform import dodge

from workbench.hub.session import RaceSession
from workbench.ui.colours import PRIORITY_COLOURS, STRATEGY_COLOURS

__all__ = ["StrategyDistributions", "RecommendationCards", "recommendations_for"]

PRIORITIES = ("urgent", "moderate", "optional")


def recommendations_for(hub: RaceSession) -> list[dict[str, Any]]:
    """The hub's published recommendations (the `RecommendationService`'s); none where nothing publishes
    them. A view never decides: a hub without a service shows no cards."""
    published = hub.strategy_recommendations
    return [dict(r) for r in published.get("recommendations", [])] if published else []


class StrategyDistributions(pn.viewable.Viewer):
    """Finishing-position histogram per candidate strategy and their race-time spread (p10–p90).

    Bokeh figures built once per session; a new decision replaces their sources' data
    (a few hundred numbers) instead of re-rendering plots.

    Parameters
    ----------
    hub : RaceSession
    top : int
        Candidates shown, best first.
    """

    hub = param.ClassSelector(class_=RaceSession)
    top = param.Integer(default=4, bounds=(1, 10))

    def __init__(self, **params):
        super().__init__(**params)
        self._generation = None
        positions = [f"P{p:02d}" for p in range(1, 25)]
        self.positions = figure(x_range=FactorRange(*positions), height=300, sizing_mode="stretch_width",
                                tools="hover", toolbar_location=None, y_axis_label="P",
                                title="Finishing position per strategy")
        self.position_sources = [ColumnDataSource({"position": [], "probability": []}) for _ in range(self.top)]
        width = 0.8 / self.top
        for i, source in enumerate(self.position_sources):
            self.positions.vbar(x=dodge("position", -0.4 + width * (i + 0.5), range=self.positions.x_range),
                                top="probability", width=width, source=source, color=STRATEGY_COLOURS[i],
                                legend_label=f"#{i + 1}")
        self.positions.legend.location = "top_right"
        self.positions.legend.label_text_font_size = "8pt"
        self.times = figure(y_range=FactorRange(), height=220, sizing_mode="stretch_width", tools="hover",
                            toolbar_location=None, x_axis_label="race time (s)",
                            title="Race time p10–p50–p90 (s)")
        self.time_source = ColumnDataSource({"strategy": [], "p10": [], "p50": [], "p90": [], "colour": []})
        self.times.segment("p10", "strategy", "p90", "strategy", source=self.time_source, line_width=6, alpha=0.5,
                           color="colour")
        self.times.scatter("p50", "strategy", source=self.time_source, size=9, color="black")
        self._caption = pn.pane.HTML("<i>Waiting for the first strategy run…</i>", css_classes=["mc-caption"])
        self._panes = [pn.pane.Bokeh(self.positions, sizing_mode="stretch_width", height=300),
                       pn.pane.Bokeh(self.times, sizing_mode="stretch_width", height=220)]
        self.refresh()

    def refresh(self) -> bool:
        """Pull the hub's newest decision and show it if it is new; True when redrawn."""
        return self.show(self.hub.strategy_results)

    def show(self, results: dict[str, Any] | None) -> bool:
        """Draw a published decision (a ``strategy_results`` payload); True when redrawn, False for None or a
        generation already shown."""
        if not results or results.get("generation") == self._generation:
            return False
        self._generation = results.get("generation")
        ranked = results.get("ranked", [])[:self.top]
        n_positions = max((len(c["position_p"]) for c in ranked), default=20)
        shown = [p for p in range(n_positions) if max(c["position_p"][p] for c in ranked) > 0.002] if ranked else []
        self.positions.x_range.factors = [f"P{p + 1:02d}" for p in shown]
        for i, source in enumerate(self.position_sources):
            if i < len(ranked):
                source.data = {"position": [f"P{p + 1:02d}" for p in shown],
                               "probability": [ranked[i]["position_p"][p] for p in shown]}
                self.positions.legend.items[i].label = value(f"#{i + 1} {ranked[i]['label']}")
                self.positions.legend.items[i].visible = True
            else:
                source.data = {"position": [], "probability": []}
                self.positions.legend.items[i].visible = False
        self.positions.title.text = (f"Finishing position per strategy (lap {results.get('lap')}, "
                                     f"{results.get('races')} races, {results.get('reason')})")
        times = [(f"#{i + 1} {c['label']}", q["p10"], q["p50"], q["p90"], STRATEGY_COLOURS[i])
                 for i, c in enumerate(ranked) if (q := c.get("race_time_quantiles_s") or {}).get("p50") is not None]
        self.times.y_range.factors = [t[0] for t in reversed(times)]
        self.time_source.data = dict(zip(("strategy", "p10", "p50", "p90", "colour"),
                                         (list(col) for col in zip(*times)))) if times else \
            {"strategy": [], "p10": [], "p50": [], "p90": [], "colour": []}
        self._caption.object = (f"Generation {results.get('generation')}: best <b>{html.escape(ranked[0]['label'])}"
                                f"</b> — mean P{ranked[0]['mean_position']:.2f}, "
                                f"{ranked[0]['expected_points']:.1f} pts" if ranked else "")
        return True

    def __panel__(self):
        return pn.Column("#### Monte Carlo", self._caption, *self._panes, sizing_mode="stretch_width")


def _card(rec: dict[str, Any]) -> str:
    esc = html.escape
    numbers = rec.get("numbers") or {}
    shown = {k: v for k, v in numbers.items() if v is not None and not isinstance(v, (list, dict))}
    table = "".join(f"<tr><td style='padding-right:8px;color:#555'>{esc(str(k))}</td><td>{esc(str(v))}</td></tr>"
                    for k, v in shown.items())
    risks = "".join(f"<li>{esc(str(r))}</li>" for r in rec.get("risks") or [])
    colour = PRIORITY_COLOURS.get(rec.get("priority"), "#546e7a")
    explainer = rec.get("explainer") or "built-in"
    return (f"<div class='rec-card rec-{esc(str(rec.get('priority')))}' style='border-left:6px solid {colour};"
            f"padding:4px 8px;margin:4px 0;background:#fafafa'>"
            f"<div><b>{esc(str(rec.get('title', '')))}</b> <span class='rec-explainer' style='float:right;"
            f"font-size:80%;color:#555'>explained by {esc(str(explainer))}</span></div>"
            f"<div>{esc(str(rec.get('description') or ''))}</div>"
            f"<div style='font-size:90%;color:#333'>{esc(str(rec.get('reasoning') or ''))}</div>"
            + (f"<ul style='margin:2px 0'>{risks}</ul>" if risks else "")
            + f"<details><summary>numbers</summary><table style='font-size:85%'>{table}</table></details></div>")


class RecommendationCards(pn.viewable.Viewer):
    """Recommendations grouped urgent / moderate / optional, each with its explainer and numbers.

    Parameters
    ----------
    hub : RaceSession
    """

    hub = param.ClassSelector(class_=RaceSession)

    def __init__(self, **params):
        super().__init__(**params)
        self._key = None
        self._html = pn.pane.HTML("<i>No recommendation yet.</i>", sizing_mode="stretch_width",
                                  css_classes=["recommendations"])
        self.recommendations: list[dict[str, Any]] = []
        self.refresh()

    def refresh(self) -> bool:
        """Pull: redraw when the hub's published recommendations changed; True when redrawn."""
        published = self.hub.strategy_recommendations
        key = id(published)
        if key == self._key:
            return False
        self._key = key
        return self._draw(recommendations_for(self.hub))

    def show(self, payload: dict[str, Any] | None) -> bool:
        """Draw a published ``strategy_recommendations`` payload's cards. True when redrawn."""
        if not payload:
            return False  # withdrawn: the cards shown stay until the next decision
        return self._draw([dict(r) for r in payload.get("recommendations", [])])

    def _draw(self, recommendations: list[dict[str, Any]]) -> bool:
        self.recommendations = recommendations
        if not recommendations:
            return False
        parts = []
        for priority in PRIORITIES:
            group = [r for r in self.recommendations if r.get("priority") == priority]
            if group:
                parts.append(f"<h4 style='margin:6px 0 2px;color:{PRIORITY_COLOURS[priority]}'>"
                             f"{priority.capitalize()}</h4>" + "".join(_card(r) for r in group))
        self._html.object = "".join(parts)
        return True

    def __panel__(self):
        return pn.Column("#### Recommendations", self._html, sizing_mode="stretch_width")
