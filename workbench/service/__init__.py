"""The service layer: the RaceSession hub, REST handlers and the CLI.

Only `session` is imported here; the HTTP server pulls in tornado/Panel when
`racetwin serve` starts it.
"""

from workbench.service.session import HubEvent, RaceSession, TrackEnvironment

__all__ = ["HubEvent", "RaceSession", "TrackEnvironment"]
