"""Counting the app server's browser sessions, their periodic callbacks and hub subscriptions (health)."""

from __future__ import annotations

import panel as pn

from workbench.hub.session import RaceSession
from workbench.ui.race import active_refreshes

__all__ = ["view_counts"]


def view_counts(server, hub: RaceSession | None = None) -> dict[str, int]:
    """Sessions held by a Bokeh/Panel ``server``, periodic callbacks running in them, live race pages refreshing,
    and (with ``hub``) the callbacks subscribed to the hub (each live race page holds one).

    Counts what the servers hold, not what the pages believe: a session Bokeh still keeps,
    a Panel periodic callback still running on any document, or a subscription a closed page left
    on the hub, shows up here.
    """
    sessions = server.get_sessions() if server is not None else []
    running = sum(1 for callbacks in list(pn.state._periodic.values()) for cb in callbacks if cb.running)
    counts = {"sessions": len(sessions), "periodic_callbacks": running, "refreshing_pages": active_refreshes()}
    if hub is not None:
        counts["hub_subscribers"] = hub.subscriber_count
    return counts
