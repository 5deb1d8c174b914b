"""The push stream for external dashboards: hub events as numbered messages with a resume point.

Framework-free: `EventStream` subscribes to a `RaceSession`, numbers every message
(``seq``), keeps the last `BUFFER` for clients that reconnect with ``since_seq``,
and hands each subscriber a bounded queue (a slow consumer is cut off, never
allowed to grow memory): a client is cut when `SUBSCRIBER_QUEUE` messages wait for
it, or when one message is not taken within `WRITE_TIMEOUT_S` (closed with code
1013; it reconnects with ``since_seq``). ``seq`` continues across ``--resume``: the
stream subscribes before the store is replayed, so the same events get the same numbers.
The WebSocket handler in `rest.py` only moves bytes.

Message format (JSON, one per WebSocket frame)::

    {"seq": 412, "kind": "lap_completed", "session_time_s": 1873.2,
     "driver": "VER", "lap": 19, "data": {...}}

``kind`` is a hub event kind (lap_completed, pit_in, pit_out, sc_deployed, sc_ended,
vsc_deployed, vsc_ended, red_flag, retirement, chequered_flag, flag, track_status)
or ``car_twin`` (our twin's state after each of its laps). Results the hub publishes
(strategy results, recommendations, predictions) reach the stream as hub events too but are not
forwarded: REST serves them, and the stream's kinds (and ``seq`` across ``--resume``) stay as they were.
For lap_completed,
``data`` is the lap record (wire form). A client that reconnects with
``?since_seq=N`` first receives every buffered message after N; if N is older than
the buffer it first gets ``{"kind": "gap", "data": {"oldest_seq": ...}}``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Callable
from typing import Any

from workbench.hub.session import RESULT_KINDS, HubEvent, RaceSession
from workbench.telemetry.schema import to_wire

__all__ = ["EventStream", "Subscription", "BUFFER", "SUBSCRIBER_QUEUE"]

BUFFER = 10_000
SUBSCRIBER_QUEUE = 1_000
WRITE_TIMEOUT_S = 10.0  # a client that does not take one message within this (wall) time is cut


@dataclasses.dataclass(eq=False)
class Subscription:
    """One client's bounded queue; ``cut`` is set when it fell too far behind."""

    queue: asyncio.Queue
    cut: bool = False
    on_cut: Callable[[], Any] | None = None  # called once when the stream cuts this subscriber


class EventStream:
    def __init__(self, hub: RaceSession):
        self.hub = hub
        self.seq = 0
        self.buffer: collections.deque[dict[str, Any]] = collections.deque(maxlen=BUFFER)
        self.subscribers: set[Subscription] = set()
        self.dropped_subscribers = 0
        hub.subscribe(self._on_event)

    def _on_event(self, event: HubEvent) -> None:
        if event.kind in RESULT_KINDS:
            return  # results are served by REST (/api/v1/strategy-*); the stream's kinds are the race events
        data: dict[str, Any] = {}
        if event.kind == "lap_completed" and self.hub.laps and self.hub.laps[-1].driver == event.driver:
            data = to_wire(self.hub.laps[-1])
        self._publish(event.kind, event.session_time_s, event.driver, event.lap, data)
        if event.kind == "lap_completed" and event.driver == self.hub.our_driver:
            self._publish("car_twin", event.session_time_s, event.driver, event.lap, self.hub.car_twin.state())

    def _publish(self, kind: str, t: float, driver: str | None, lap: int | None, data: dict) -> None:
        self.seq += 1
        message = {"seq": self.seq, "kind": kind, "session_time_s": t, "driver": driver, "lap": lap, "data": data}
        self.buffer.append(message)
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:  # too slow: cut it off rather than buffer without bound
                self.cut(sub)

    def cut(self, sub: Subscription) -> None:
        """Cut a subscriber that fell behind (its connection is closed by ``on_cut``)."""
        if sub.cut:
            return
        self.subscribers.discard(sub)
        sub.cut = True
        self.dropped_subscribers += 1
        if sub.on_cut is not None:
            try:
                sub.on_cut()
            except Exception:  # a broken connection must not stop the stream
                pass

    def subscribe(self, since_seq: int | None = None) -> tuple[Subscription, list[dict[str, Any]]]:
        """A new subscription, plus the buffered messages after ``since_seq`` to send first."""
        sub = Subscription(asyncio.Queue(maxsize=SUBSCRIBER_QUEUE))
        backlog: list[dict[str, Any]] = []
        if since_seq is not None:
            oldest = self.buffer[0]["seq"] if self.buffer else self.seq + 1
            if since_seq + 1 < oldest:
                backlog.append({"seq": None, "kind": "gap", "session_time_s": None, "driver": None, "lap": None,
                                "data": {"oldest_seq": oldest, "requested_since_seq": since_seq}})
            backlog.extend(m for m in self.buffer if m["seq"] > since_seq)
        self.subscribers.add(sub)
        return sub, backlog

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def state(self) -> dict[str, Any]:
        return {"seq": self.seq, "buffered": len(self.buffer), "subscribers": len(self.subscribers),
                "dropped_subscribers": self.dropped_subscribers}
