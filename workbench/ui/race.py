"""The live race page: every view of the race, fed from the hub per browser session.

Each browser session owns its widgets, its Bokeh sources, one periodic callback and one hub
subscription (both ended when the session is destroyed); all sessions read the one shared
`RaceSession` and never write to it. Two kinds of views:

- **Lap- and clock-driven** (periodic, every ``refresh_ms``): the header, the health strip and the live
  trace each tick; the timing tower, lap and gap charts, car twin and field panels when
  ``hub.lap_version`` moved.
- **Event-driven** (the results the hub publishes): the recommendation cards, the predicted finish and the
  Monte Carlo distributions. The page subscribes to the hub (`RaceSession.subscribe`); on a
  ``strategy_results``, ``strategy_recommendations`` or ``race_prediction`` event it schedules the update,
  with the event's payload, on its own document (``doc.add_next_tick_callback``, the one Bokeh call that
  is safe from any thread; the callback runs with the document's lock held), so these views change when a
  result is published and the periodic callback never reads results. The subscription is dropped in
  ``on_session_destroyed``: a closed session leaves no subscriber on the hub.

The components are `pn.viewable.Viewer` classes, so a notebook renders any of them (or the whole page)
on a hub it drives and pulls with ``refresh()`` (there is no server session to schedule on).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import panel as pn
import param
from panel.io.state import set_curdoc

from workbench.hub.session import RESULT_KINDS, HubEvent, RaceSession
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
        How often this session pulls the lap- and clock-driven views from the hub (the live trace moves at
        this rate; lap-based views redraw only when a lap completes). The result views are event-driven.
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
        self._doc = None  # the session's document, while the page follows the hub's result events
        self._unsubscribe = None
        self.refreshes = 0
        self.results_shown = 0  # result events applied to this page (served sessions)

    def _header_text(self) -> str:
        env, car = self.hub.environment, self.hub.car_twin
        total = env.total_laps or "?"
        place = self.hub.field_twin.live_position(car.driver)  # the tower's place, not the stale line record
        ours = "OUT" if car.retired else f"P{place}" if place else "—"
        return (f"### {env.track or 'No session'} — lap {env.leader_lap}/{total} — {env.track_status.value}"
                f" — our car {car.driver} {ours}{' — FINISHED' if env.finished else ''}")

    def refresh(self) -> None:
        """Pull everything from the hub, result views included (a notebook; cheap when nothing changed)."""
        with pn.io.hold():
            self._refresh_race()
            self.distributions.refresh()
            self.recommendations.refresh()
            self.prediction.refresh()

    def _refresh_race(self) -> None:
        """The periodic part: the lap- and clock-driven views (never the results: those come as events)."""
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

    def show_result(self, kind: str, payload: Any) -> bool:
        """Show a published result (one of `RESULT_KINDS` and its payload) in the views that show it; True
        when one redrew."""
        if kind == "strategy_results":
            drawn = self.distributions.show(payload)
        elif kind == "strategy_recommendations":
            drawn = self.recommendations.show(payload)
        elif kind == "race_prediction":
            drawn = self.prediction.show(payload)
        else:
            return False
        self.results_shown += 1
        return drawn

    def start_refresh(self) -> None:
        """In a served session: refresh the lap-driven views every ``refresh_ms`` and follow the hub's result
        events; both end when the session is destroyed. Outside a server session it does nothing."""
        doc = pn.state.curdoc
        if doc is None or doc.session_context is None or self._callback is not None:
            return
        self._callback = pn.state.add_periodic_callback(self._refresh_race, period=self.refresh_ms)
        self._doc = doc
        self._unsubscribe = self.hub.subscribe(self._on_hub_event)
        _count(+1)
        pn.state.on_session_destroyed(self._stop_refresh)

    def _on_hub_event(self, event: HubEvent) -> None:
        """Hub subscriber (any thread): a result is scheduled on this session's document, never drawn here."""
        doc = self._doc
        if doc is None or event.kind not in RESULT_KINDS:
            return
        doc.add_next_tick_callback(functools.partial(self._show_on_doc, doc, event.kind, event.payload))

    def _show_on_doc(self, doc, kind: str, payload: Any) -> None:
        if self._doc is not doc:
            return  # the session was destroyed meanwhile
        with set_curdoc(doc), pn.io.hold(doc):
            self.show_result(kind, payload)

    def _stop_refresh(self, session_context) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._doc = None
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
