"""Counting the app server's browser sessions and their periodic callbacks (for ``/api/v1/health``)."""

from __future__ import annotations

import panel as pn

from workbench.ui.race import active_refreshes

__all__ = ["view_counts"]


def view_counts(server) -> dict[str, int]:
    """Sessions held by a Bokeh/Panel ``server``, periodic callbacks running in them, live race pages refreshing.

    Counts what the servers hold, not what the pages believe: a session Bokeh still keeps,
    or a Panel periodic callback still running on any document, shows up here.
    """
    sessions = server.get_sessions() if server is not None else []
    running = sum(1 for callbacks in list(pn.state._periodic.values()) for cb in callbacks if cb.running)
    return {"sessions": len(sessions), "periodic_callbacks": running, "refreshing_pages": active_refreshes()}
