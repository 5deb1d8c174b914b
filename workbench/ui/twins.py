"""Views of the twins: our car (degradation fit with its uncertainty band, fuel, pit window) and the
field's threats and opportunities around us."""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from workbench.hub.session import RaceSession
from workbench.telemetry.records import DRY_COMPOUNDS
from workbench.ui.colours import COMPOUND_COLOURS

__all__ = ["CarTwinPanel", "FieldPanel", "car_facts", "degradation_frame"]


def _fmt(value, spec: str = ".1f", unit: str = "") -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:{spec}}{unit}"


def degradation_frame(twin, compound: str, max_age: int) -> pd.DataFrame | None:
    """The car's degradation fit on ``compound`` after its last lap: mean and ±2 sd against tyre age
    0..``max_age``; None before its first lap on it."""
    fit = twin.fit_after_last_lap(compound)
    if fit is None:
        return None
    ages = np.arange(0, max_age + 1, dtype=float)
    mean, sd = fit.degradation_s(ages), fit.degradation_sd_s(ages)
    return pd.DataFrame({"age": ages, "deg_s": mean, "lo": mean - 2 * sd, "hi": mean + 2 * sd})


def car_facts(state: dict) -> list[tuple[str, str]]:
    """The car panel's facts (label, text) from a car twin's JSON (`CarTwin.state`, as ``/api/v1/car-twin``
    serves it): the page shows the same numbers as REST."""
    t = state
    window = "—"
    if t["pit_window_ideal_lap"] is not None:
        window = (f"L{t['pit_window_earliest_lap']}–{t['pit_window_latest_lap']}, ideal L{t['pit_window_ideal_lap']} "
                  f"→ {t['pit_window_compound']} ({t['pit_window_stops_to_go']} to go)")
    cliff = t["cliff_risk"]
    return [("Position", f"P{t['position']}" if t["position"] else "—"),
            ("Tyre", f"{t['compound'] or '—'} age {_fmt(t['tyre_age_laps'], 'd')}"),
            ("Degradation now", f"{_fmt(t['degradation_s'], '.2f', ' s')} ± {_fmt(t['degradation_sd_s'], '.2f')}"
                                f", {_fmt(t['degradation_rate_s_per_lap'], '.3f', ' s/lap')}"),
            ("Cliff risk", _fmt(None if cliff is None else 100 * cliff, ".0f", " %")),
            ("Fuel", f"{_fmt(t['fuel_kg'], '.1f', ' kg')}, {_fmt(t['fuel_burn_kg_per_lap'], '.2f', ' kg/lap')}, "
                     f"{_fmt(t['fuel_laps_left'], '.1f')} laps ({t['fuel_source']})"),
            ("Pit window", window)]


class CarTwinPanel(pn.viewable.Viewer):
    """Our car's twin: degradation fit with a ±2 sd band at its tyre age, fuel and the pit window.

    Parameters
    ----------
    hub : RaceSession
    """

    hub = param.ClassSelector(class_=RaceSession)

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource({"age": [], "deg_s": [], "lo": [], "hi": []})
        self.figure = figure(height=260, sizing_mode="stretch_width", tools="hover,reset", toolbar_location=None,
                             x_axis_label="tyre age (laps)", y_axis_label="time lost (s)")
        self._band = self.figure.varea("age", "lo", "hi", source=self.source, fill_alpha=0.3, color="#9e9e9e")
        self._mean = self.figure.line("age", "deg_s", source=self.source, line_width=2, color="#9e9e9e")
        self._now = Span(location=0, dimension="height", line_color="black", line_dash="dashed", line_width=1)
        self.figure.add_layout(self._now)
        self._plot = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", height=260)
        self._facts = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["car-twin"])
        self.refresh()

    def _update_figure(self) -> None:
        twin = self.hub.car_twin
        compound = twin.compound.value if twin.compound is not None else None
        if compound is None or compound not in DRY_COMPOUNDS:
            self.source.data = {"age": [], "deg_s": [], "lo": [], "hi": []}
            self.figure.title.text = "Degradation: no dry stint yet"
            return
        age = twin.tyre_age_laps or 0
        df = degradation_frame(twin, compound, max(age + 12, 20))
        if df is None:
            self.source.data = {"age": [], "deg_s": [], "lo": [], "hi": []}
            self.figure.title.text = f"Degradation: no lap on {compound} yet"
            return
        colour = COMPOUND_COLOURS[compound] if compound != "HARD" else "#9e9e9e"
        self.source.data = {c: df[c].to_numpy() for c in ("age", "deg_s", "lo", "hi")}
        self._band.glyph.fill_color = self._mean.glyph.line_color = colour
        self._now.location = age
        self.figure.title.text = f"{twin.driver} {compound}: wear fit ±2 sd ({twin.tyre_model or 'prior'})"

    def _facts_html(self) -> str:
        rows = car_facts(self.hub.car_twin.state())  # the twin's JSON, exactly what REST serves
        body = "".join(f"<tr><th style='text-align:left;padding-right:8px'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table class='car-twin-facts'>{body}</table>"

    def refresh(self) -> None:
        """Redraw from the car twin (call when a lap completes)."""
        self._update_figure()
        self._facts.object = self._facts_html()

    def __panel__(self):
        return pn.Column("#### Our car", self._facts, self._plot, sizing_mode="stretch_width")


def _table(rows: list[dict], columns: dict[str, str], empty: str) -> str:
    if not rows:
        return f"<p><i>{empty}</i></p>"
    head = "".join(f"<th style='padding:0 6px'>{v}</th>" for v in columns.values())
    body = "".join("<tr>" + "".join(f"<td style='padding:0 6px'>{_cell(r.get(k))}</td>" for k in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "—" if value is None else str(value)


class FieldPanel(pn.viewable.Viewer):
    """The field around us: undercut/overcut threats from behind and opportunities ahead, most likely first.

    Parameters
    ----------
    hub : RaceSession
    top : int
        Rows shown in each list.
    """

    hub = param.ClassSelector(class_=RaceSession)
    top = param.Integer(default=4, bounds=(1, 20))

    def __init__(self, **params):
        super().__init__(**params)
        self._html = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["field-twin"])
        self.refresh()

    def refresh(self) -> None:
        """Re-read threats and opportunities (call when a lap completes)."""
        field = self.hub.field_twin
        threats = field.threats()[:self.top]
        opportunities = field.opportunities()[:self.top]
        self._html.object = (
            "<b>Threats</b>" + _table(threats, {"kind": "kind", "rival": "rival", "gap_s": "gap s", "gain_s": "gain s",
                                                "probability": "P"}, "none within a pit loss behind")
            + "<b>Opportunities</b>" + _table(opportunities, {"kind": "kind", "rival": "rival", "gap_s": "gap s",
                                                               "expected_gain_s": "gain s", "probability": "P"},
                                               "none now"))

    def __panel__(self):
        return pn.Column("#### Field", self._html, sizing_mode="stretch_width")
