"""The live race page: every view of the race, refreshed from the hub by one periodic callback per session.

Each browser session owns its widgets, its HoloViews streams and its periodic
callback (stopped when the session closes); all sessions read the one shared
`RaceSession` and never write to it. The components are `pn.viewable.Viewer`
classes, so a notebook renders any of them (or the whole page) on a hub it drives.
"""

from __future__ import annotations

import threading

import panel as pn
import param

from workbench.hub.session import RaceSession
from workbench.ui.charts import GapChart, LapTimeChart, TelemetryTrace
from workbench.ui.colours import COMPOUND_COLOURS
from workbench.ui.health import HealthStrip
from workbench.ui.prediction import PredictionPanel
from workbench.ui.strategy import RecommendationCards, StrategyDistributions
from workbench.ui.tower import TOWER_COLUMNS, TimingTower
from workbench.ui.twins import CarTwinPanel, FieldPanel

__all__ = ["RaceDashboard", "TimingTower", "LapTimeChart", "GapChart", "TelemetryTrace", "CarTwinPanel",
           "FieldPanel", "PredictionPanel", "StrategyDistributions", "RecommendationCards", "HealthStrip",
           "COMPOUND_COLOURS",
           "TOWER_COLUMNS", "active_refreshes"]

_active = 0
_active_lock = threading.Lock()


def active_refreshes() -> int:
    """Race pages in this process whose periodic refresh is running (served sessions only)."""
    return _active


def _count(delta: int) -> None:
    global _active
    with _active_lock:
        _active += delta


class RaceDashboard(pn.viewable.Viewer):
    """The live race page: header, health strip, timing tower, live trace, lap and gap charts, our car's twin,
    the field's threats and opportunities, recommendations, the predicted finish and the Monte Carlo
    distributions.

    Parameters
    ----------
    hub : RaceSession
        The race every component reads.
    service : RaceService, optional
        Adds the source, strategy engine and LLM state to the health strip.
    refresh_ms : int
        How often this session pulls from the hub (the live trace moves at this rate;
        lap-based views redraw only when a lap completes).
    """

    hub = param.ClassSelector(class_=RaceSession)
    service = param.Parameter(default=None)
    refresh_ms = param.Integer(default=500, bounds=(100, None), doc="How often a session pulls from the hub.")

    def __init__(self, **params):
        super().__init__(**params)
        hub = self.hub
        self.header = pn.pane.Markdown(self._header_text(), css_classes=["race-header"])
        self.health = HealthStrip(hub=hub, service=self.service)
        self.tower = TimingTower(hub=hub)
        self.trace = TelemetryTrace(hub=hub)
        self.lap_chart = LapTimeChart(hub=hub)
        self.gap_chart = GapChart(hub=hub)
        self.car_panel = CarTwinPanel(hub=hub)
        self.field_panel = FieldPanel(hub=hub)
        self.distributions = StrategyDistributions(hub=hub)
        self.recommendations = RecommendationCards(hub=hub)
        self.prediction = PredictionPanel(hub=hub)
        self.trace.refresh()
        self._seen_version = hub.lap_version
        self._callback = None
        self.refreshes = 0

    def _header_text(self) -> str:
        env, car = self.hub.environment, self.hub.car_twin
        total = env.total_laps or "?"
        place = self.hub.field_twin.live_position(car.driver)  # the tower's place, not the stale line record
        ours = "OUT" if car.retired else f"P{place}" if place else "—"
        return (f"### {env.track or 'No session'} — lap {env.leader_lap}/{total} — {env.track_status.value}"
                f" — our car {car.driver} {ours}{' — FINISHED' if env.finished else ''}")

    def refresh(self) -> None:
        """Pull the hub's state into this session's views (cheap when nothing changed), in one batch."""
        with pn.io.hold():
            self.refreshes += 1
            self.header.object = self._header_text()
            self.health.refresh()
            self.trace.refresh()
            if self.hub.lap_version != self._seen_version:
                self._seen_version = self.hub.lap_version
                self.tower.refresh()
                self.lap_chart.refresh()
                self.gap_chart.refresh()
                self.car_panel.refresh()
                self.field_panel.refresh()
            self.distributions.refresh()
            self.recommendations.refresh()
            self.prediction.refresh()

    def start_refresh(self) -> None:
        """Pull from the hub every ``refresh_ms`` in this browser session; stop when it closes."""
        if pn.state.curdoc is None or pn.state.curdoc.session_context is None or self._callback is not None:
            return
        self._callback = pn.state.add_periodic_callback(self.refresh, period=self.refresh_ms)
        _count(+1)
        pn.state.on_session_destroyed(self._stop_refresh)

    def _stop_refresh(self, session_context) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
            _count(-1)

    def __panel__(self):
        right = pn.Column(self.recommendations, self.car_panel, self.field_panel, width=440)
        left = pn.Column(self.tower, self.prediction, width=720)
        middle = pn.Column(self.trace, self.lap_chart, self.gap_chart, sizing_mode="stretch_width")
        return pn.Column(self.header, self.health, pn.Row(left, middle, right, sizing_mode="stretch_width"),
                         self.distributions, sizing_mode="stretch_width")
