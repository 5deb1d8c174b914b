"""The health strip: ingest rate, lag, rejects, the strategy engine and the explainer, at a glance."""

from __future__ import annotations

import time

import panel as pn
import param

from workbench.hub.session import RaceSession

__all__ = ["HealthStrip"]


def _chip(label: str, value: str, ok: bool = True, cls: str = "") -> str:
    colour = "#2e7d32" if ok else "#c62828"
    return (f"<span class='health-{cls}' style='display:inline-block;margin-right:14px'>"
            f"<span style='color:#666'>{label}</span> <b style='color:{colour}'>{value}</b></span>")


class HealthStrip(pn.viewable.Viewer):
    """Ingest rate (records/s seen by this session), lag, rejects, strategy engine and LLM state.

    Parameters
    ----------
    hub : RaceSession
    service : object, optional
        The `RaceService` (its source state, orchestrator and ``llm_state()``).
    """

    hub = param.ClassSelector(class_=RaceSession)
    service = param.Parameter(default=None)

    def __init__(self, **params):
        super().__init__(**params)
        self._html = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["health-strip"], height=28)
        self._last: tuple[float, int] | None = None
        self.rate = 0.0
        self.refresh()

    def _llm_state(self) -> tuple[str, bool]:
        """The explainer's chip: its state and, once it has answered, how many wordings passed the checks
        in the acceptance window; red when ``degraded``."""
        llm = self.service.llm_state() if self.service is not None else {"state": "off"}
        state = str(llm["state"])
        if state == "off":
            return "off (built-in explainer)", True
        acceptance = llm.get("acceptance") or {}
        if acceptance.get("window_calls"):
            state += f", {acceptance['accepted']}/{acceptance['window_calls']} accepted"
        return state, llm["state"] != "degraded"

    def refresh(self) -> None:
        """Recompute the rate since the last call and redraw."""
        hub, now = self.hub, time.monotonic()
        if self._last is not None and now > self._last[0]:
            self.rate = (hub.applied_seq - self._last[1]) / (now - self._last[0])
        self._last = (now, hub.applied_seq)
        health = hub.health()
        lag = health["seconds_since_last_record"]
        source = self.service.source_state() if self.service is not None else {"state": "—"}
        running = source["state"] in ("running", "listening")
        orch = getattr(self.service, "orchestrator", None)
        engine = "off"
        if orch is not None:
            st = orch.status()
            engine = f"{'busy' if st['busy'] else 'idle'}, {st['completed']} runs"
        chips = [_chip("race time", f"{hub.environment.session_time_s:.1f} s", cls="race-time"),
                 _chip("ingest", f"{self.rate:.0f} rec/s", cls="rate"),
                 _chip("lag", "—" if lag is None else f"{lag:.1f} s", ok=not running or (lag is not None and lag < 5),
                       cls="lag"),
                 _chip("rejects", str(health["rejected_total"]), ok=health["rejected_total"] == 0, cls="rejects"),
                 _chip("source", str(source["state"]), ok=source["state"] != "failed", cls="source"),
                 _chip("strategy", engine, cls="engine"), _chip("LLM", *self._llm_state(), cls="llm")]
        self._html.object = f"<div data-session-time='{hub.environment.session_time_s:.1f}'>{''.join(chips)}</div>"

    def __panel__(self):
        return self._html
