"""The race hub: one way in, results out as events — framework-free.

`session.RaceSession` (the hub: ingest, de-duplication, twins, events, ``publish``),
`stream.EventStream` (the numbered push stream with a resume point), `monitor.SystemMonitor`
(request timings and process load), `recommendations.RecommendationService` (recommendations
and their LLM wording, published as hub events) and `budget.ComputeBudget` (the server-wide
budget for on-demand simulations). Nothing here imports tornado, Panel or Bokeh, or the
adapters in `workbench.service` and `workbench.ui` (`tests/unit/test_import_contract.py`).
"""

from workbench.hub.session import HubEvent, RaceSession, TrackEnvironment

__all__ = ["HubEvent", "RaceSession", "TrackEnvironment"]
