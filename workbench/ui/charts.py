"""Live charts: our car's telemetry trace, the field's lap times and gaps to the leader.

Every chart owns its Bokeh figure and `ColumnDataSource` objects (one set per browser
session, nothing shared) and only *streams* what is new: the trace appends the samples
since the last tick to a bounded source (``rollover``), the lap charts append each car's
new laps. A tick therefore costs the new rows, never a redraw of the whole race (a
HoloViews re-render of 20 curves cost ~100 ms per session per lap on the 2-core test machine).
"""

from __future__ import annotations

import math

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, Legend
from bokeh.palettes import Category20_20
from bokeh.plotting import figure

from workbench.hub.session import RaceSession

__all__ = ["LapTimeChart", "GapChart", "TelemetryTrace", "TRACE_CHANNELS"]

TRACE_CHANNELS = ("speed_kph", "throttle_pct", "brake", "gear")


def _num(value) -> float:
    """A plottable float (NaN for a channel the source did not send)."""
    return float("nan") if value is None else float(value)


def _figure(title: str, height: int, **kw) -> figure:
    fig = figure(title=title, height=height, sizing_mode="stretch_width", tools="pan,wheel_zoom,reset,hover",
                 toolbar_location="above", **kw)
    fig.toolbar.logo = None
    return fig


class _FieldChart(pn.viewable.Viewer):
    """One line per car against lap number, streamed from the hub's lap records as they arrive."""

    hub = param.ClassSelector(class_=RaceSession)
    value = "lap_time_s"
    title = ""
    ylabel = ""
    css_name = "field-chart"  # names the Bokeh sources, so a browser test can find them

    def __init__(self, **params):
        super().__init__(**params)
        self.figure = _figure(self.title, 380, x_axis_label="lap", y_axis_label=self.ylabel)
        self.figure.add_layout(Legend(click_policy="hide", label_text_font_size="8pt", spacing=0), "right")
        self.sources: dict[str, ColumnDataSource] = {}
        self._values: list[float] = []
        self._seen = 0  # hub.laps already streamed
        self._pane = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", height=380)
        for driver in self.hub.field_twin.cars:  # a line (and legend entry) per car known before its first lap
            self._source(driver)
        self.refresh()

    def _source(self, driver: str) -> ColumnDataSource:
        if driver not in self.sources:
            source = ColumnDataSource({"lap": [], "value": [], "driver": []}, name=f"{self.css_name}-source")
            colour = Category20_20[len(self.sources) % 20]
            self.figure.line("lap", "value", source=source, line_width=1.5, color=colour, legend_label=driver)
            self.sources[driver] = source
        return self.sources[driver]

    def _y_range(self) -> tuple[float, float] | None:
        return None

    def refresh(self) -> int:
        """Stream the lap records that arrived since the last call; returns how many."""
        laps = self.hub.laps
        if len(laps) < self._seen:  # the hub was reset: start again
            for source in self.sources.values():
                source.data = {"lap": [], "value": [], "driver": []}
            self._seen, self._values = 0, []
        new = laps[self._seen:]
        self._seen = len(laps)
        rows: dict[str, dict[str, list]] = {}
        for record in new:
            value = _num(getattr(record, self.value))
            row = rows.setdefault(record.driver, {"lap": [], "value": [], "driver": []})
            row["lap"].append(record.lap_number)
            row["value"].append(value)
            row["driver"].append(record.driver)
            if math.isfinite(value):
                self._values.append(value)
        for driver, row in rows.items():
            self._source(driver).stream(row)
        limits = self._y_range()
        if limits is not None:
            self.figure.y_range.start, self.figure.y_range.end = limits
        return len(new)

    def __panel__(self):
        return self._pane


class LapTimeChart(_FieldChart):
    """Lap time of every car against lap number (pit and SC laps run off the top of the chart)."""

    value = "lap_time_s"
    css_name = "lap-chart"
    title = "Lap times"
    ylabel = "lap time (s)"

    def _y_range(self):
        if len(self._values) <= 10:
            return None
        lo, hi = np.quantile(self._values, [0.02, 0.9])
        return float(lo) - 1, float(hi) + 2


class GapChart(_FieldChart):
    """Gap to the leader of every car at each line crossing (the leader on top at 0)."""

    value = "gap_to_leader_s"
    css_name = "gap-chart"
    title = "Gap to leader"
    ylabel = "gap (s)"

    def _y_range(self):
        if len(self._values) <= 10:
            return None
        return min(max(self._values) + 2, 120.0), -1.0  # reversed: behind is further down


class TelemetryTrace(pn.viewable.Viewer):
    """Our car's live speed, throttle, brake and gear over the last ``window`` samples (rollover source).

    Parameters
    ----------
    hub : RaceSession
    window : int
        Samples kept in the plot (10 Hz: 600 is the last minute).
    """

    hub = param.ClassSelector(class_=RaceSession)
    window = param.Integer(default=600, bounds=(10, 20_000))

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource({"t": [], **{c: [] for c in TRACE_CHANNELS}})
        self._last_s = float("-inf")
        speed = _figure(f"{self.hub.our_driver} live", 160, y_axis_label="km/h")
        speed.line("t", "speed_kph", source=self.source, color="#1565c0")
        pedals = _figure("", 130, x_range=speed.x_range, y_axis_label="%")
        pedals.line("t", "throttle_pct", source=self.source, color="#2e7d32", legend_label="throttle")
        pedals.line("t", "brake", source=self.source, color="#c62828", legend_label="brake")
        pedals.legend.location = "top_left"
        gear = _figure("", 110, x_range=speed.x_range, x_axis_label="session time (s)", y_axis_label="gear")
        gear.step("t", "gear", source=self.source, mode="after", color="#6a1b9a")
        self._panes = [pn.pane.Bokeh(f, sizing_mode="stretch_width", height=f.height) for f in (speed, pedals, gear)]

    def refresh(self) -> int:
        """Stream the samples of our car newer than the last one sent; returns how many."""
        since = None if self._last_s == float("-inf") else self._last_s
        buffered = len(self.hub.telemetry_by_driver.get(self.hub.our_driver, ())) or 1
        new = self.hub.telemetry_since(since, limit=buffered)[-self.window:]  # our car's ring buffer
        if not new:
            return 0
        self._last_s = new[-1].session_time_s
        self.source.stream({"t": [s.session_time_s for s in new],
                            "speed_kph": [_num(s.speed_kph) for s in new],
                            "throttle_pct": [_num(s.throttle_pct) for s in new],
                            "brake": [_num(None if s.brake is None else 100.0 * s.brake) for s in new],
                            "gear": [_num(s.gear) for s in new]}, rollover=self.window)
        return len(new)

    def __panel__(self):
        return pn.Column(*self._panes, sizing_mode="stretch_width", css_classes=["telemetry-trace"])
