"""The push stream for external dashboards: hub events as numbered messages with a resume point.

Framework-free: `EventStream` subscribes to a `RaceSession`, numbers every message
(``seq``), keeps the last `BUFFER` for clients that reconnect with ``since_seq``,
and hands each subscriber a bounded queue (a slow consumer is cut off, never
allowed to grow memory): a client is cut when `SUBSCRIBER_QUEUE` messages wait for
it, or when one message is not taken within `WRITE_TIMEOUT_S` (closed with code
1013; it reconnects with ``since_seq``). The WebSocket handler in `rest.py` only moves bytes.

Message format (JSON, one per WebSocket frame)::

    {"seq": 412, "kind": "lap_completed", "session_time_s": 1873.2,
     "driver": "VER", "lap": 19, "data": {...}}

``kind`` is one of `STREAM_KINDS`:

- a race event of the hub (`RACE_KINDS`: lap_completed, pit_in, pit_out, sc_deployed, sc_ended,
  vsc_deployed, vsc_ended, red_flag, retirement, chequered_flag, flag, track_status, session_started);
  for lap_completed ``data`` is the lap record (wire form), for the others ``{}``;
- ``car_twin``: our twin's state after each of its laps;
- a result the hub published (`RESULT_KINDS`, `RaceSession.publish`): ``strategy_results`` (the Monte Carlo
  decision, as ``GET /api/v1/strategy-results``), ``strategy_recommendations`` (the recommendations, again
  when the LLM's wording replaces the built-in one) and ``race_prediction`` (the predicted finish). ``data``
  is the published payload made JSON-safe (NaN and infinities become null; null when a result was
  withdrawn), ``driver`` and ``lap`` are the payload's (a prediction is for the whole field: ``driver``
  null, ``lap`` the leader lap it was made from).

A client that reconnects with ``?since_seq=N`` first receives every buffered message after N; if N is
older than the buffer it first gets ``{"kind": "gap", "data": {"oldest_seq": ...}}``. A client that wants
only some kinds subscribes with ``kinds`` (``?kinds=lap_completed,pit_in``; `parse_kinds` names an
unknown one); ``seq`` still counts every message, so its numbers have holes.

``seq`` continues across ``--resume``: the stream subscribes before the store is replayed, so the
replayed race events get their numbers again, and every result message is kept in the store's ``results``
table with its ``seq`` (`StateStore.append_result`). While the records are replayed, the stored result
messages go back into the buffer at their numbers (a result numbered 57 goes in before the race event
that would take 57); `EventStream.restored` then adds the rest and the stream goes on from the highest
number it gave out or stored. Results and records go through the store's one ordered writer queue, so
the store holds a prefix of the stream as it was numbered: after a clean stop (and up to the last group
commit after a kill) a reconnecting client sees the same messages under the same numbers and ``seq``
never goes backwards. What a kill loses is the last commit interval (at most ~0.2 s), as for the records:
messages numbered in that window are numbered again when the race goes on, and the results among them
(recomputed) may fall at other numbers.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from workbench.hub.session import RESULT_KINDS, HubEvent, RaceSession
from workbench.telemetry.records import EventKind
from workbench.telemetry.schema import json_safe, to_wire

__all__ = ["EventStream", "Subscription", "BUFFER", "SUBSCRIBER_QUEUE", "STREAM_KINDS", "RACE_KINDS",
           "parse_kinds"]

BUFFER = 10_000
SUBSCRIBER_QUEUE = 1_000
WRITE_TIMEOUT_S = 10.0  # a client that does not take one message within this (wall) time is cut

RACE_KINDS = ("lap_completed", *(k.value for k in EventKind), "track_status", "session_started")
STREAM_KINDS = (*RACE_KINDS, "car_twin", *RESULT_KINDS)  # every ``kind`` a stream message has (besides ``gap``)


def parse_kinds(text: str | Iterable[str] | None) -> frozenset[str] | None:
    """The message kinds a client asked for (``"lap_completed,pit_in"`` or a list); None for all.

    Raises
    ------
    ValueError
        A kind that is not one of `STREAM_KINDS`, or an empty selection.
    """
    if text is None:
        return None
    names = [k.strip() for k in (text.split(",") if isinstance(text, str) else text)]
    names = [k for k in names if k]
    if not names:
        raise ValueError(f"kinds: {text!r} names no kind; allowed: {', '.join(STREAM_KINDS)}")
    for name in names:
        if name not in STREAM_KINDS:
            raise ValueError(f"kinds: {name!r} is not a stream message kind; allowed: {', '.join(STREAM_KINDS)}")
    return frozenset(names)


@dataclasses.dataclass(eq=False)
class Subscription:
    """One client's bounded queue; ``cut`` is set when it fell too far behind; ``kinds`` (None: all) are
    the message kinds it receives."""

    queue: asyncio.Queue
    cut: bool = False
    on_cut: Callable[[], Any] | None = None  # called once when the stream cuts this subscriber
    kinds: frozenset[str] | None = None

    def wants(self, message: dict[str, Any]) -> bool:
        return self.kinds is None or message["kind"] in self.kinds


class EventStream:
    """Numbered hub events for push clients (see the module docstring).

    Parameters
    ----------
    hub : RaceSession
        The hub it subscribes to. With a store, result messages are kept there, and those already stored
        for ``hub.session_id`` (a resumed session) are put back as the records are replayed.
    """

    def __init__(self, hub: RaceSession):
        self.hub = hub
        self.seq = 0
        self.buffer: collections.deque[dict[str, Any]] = collections.deque(maxlen=BUFFER)
        self.subscribers: set[Subscription] = set()
        self.dropped_subscribers = 0
        self.restored_results = 0  # stored result messages put back into the buffer (a resumed session)
        stored = hub.store.results(hub.session_id) if hub.store is not None and hub.session_id else []
        self._stored: collections.deque[dict[str, Any]] = collections.deque(stored)
        hub.subscribe(self._on_event)

    def _on_event(self, event: HubEvent) -> None:
        if event.kind in RESULT_KINDS:
            payload = event.payload
            driver = lap = None
            if isinstance(payload, dict):
                driver, lap = payload.get("driver"), payload.get("lap")
            message = self._publish(event.kind, event.session_time_s, driver, lap, payload)
            store = self.hub.store
            if store is not None and self.hub.session_id is not None:
                store.append_result(self.hub.session_id, message)
            return
        data: dict[str, Any] = {}
        if event.kind == "lap_completed" and self.hub.laps and self.hub.laps[-1].driver == event.driver:
            data = to_wire(self.hub.laps[-1])
        self._publish(event.kind, event.session_time_s, event.driver, event.lap, data)
        if event.kind == "lap_completed" and event.driver == self.hub.our_driver:
            self._publish("car_twin", event.session_time_s, event.driver, event.lap, self.hub.car_twin.state())

    def _put_back_stored(self) -> None:
        """Stored result messages whose number comes next go back into the buffer (while replaying)."""
        while self._stored and self._stored[0]["seq"] <= self.seq + 1:
            message = self._stored.popleft()
            if message["seq"] == self.seq + 1:  # an older one would mean the store lost records: left out
                self.seq += 1
                self.buffer.append(message)
                self.restored_results += 1

    def restored(self) -> None:
        """The store's records were replayed (`RaceSession.restore`): put back the stored result messages
        numbered after the last replayed event and go on from the highest number given out or stored."""
        while self._stored:
            message = self._stored.popleft()
            if message["seq"] > self.seq:
                self.seq = message["seq"]
                self.buffer.append(message)
                self.restored_results += 1

    def _publish(self, kind: str, t: float, driver: str | None, lap: int | None, data: Any) -> dict[str, Any]:
        if self._stored:
            self._put_back_stored()
        self.seq += 1
        # strict JSON once, here (a numpy lap, a NaN time): every client writes it as is, and a message the store
        # could not write would leave a hole in the stored numbers and shift every seq after a --resume
        message = json_safe({"seq": self.seq, "kind": kind, "session_time_s": t, "driver": driver, "lap": lap,
                             "data": data})
        self.buffer.append(message)
        for sub in list(self.subscribers):
            if not sub.wants(message):
                continue
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:  # too slow: cut it off rather than buffer without bound
                self.cut(sub)
        return message

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

    def subscribe(self, since_seq: int | None = None,
                  kinds: frozenset[str] | None = None) -> tuple[Subscription, list[dict[str, Any]]]:
        """A new subscription, plus the buffered messages after ``since_seq`` to send first.

        ``kinds`` (from `parse_kinds`; None: every kind) limits both to those message kinds; a ``gap``
        message is always sent."""
        sub = Subscription(asyncio.Queue(maxsize=SUBSCRIBER_QUEUE), kinds=kinds)
        backlog: list[dict[str, Any]] = []
        if since_seq is not None:
            oldest = self.buffer[0]["seq"] if self.buffer else self.seq + 1
            if since_seq + 1 < oldest:
                backlog.append({"seq": None, "kind": "gap", "session_time_s": None, "driver": None, "lap": None,
                                "data": {"oldest_seq": oldest, "requested_since_seq": since_seq}})
            backlog.extend(m for m in self.buffer if m["seq"] > since_seq and sub.wants(m))
        self.subscribers.add(sub)
        return sub, backlog

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def state(self) -> dict[str, Any]:
        return {"seq": self.seq, "buffered": len(self.buffer), "subscribers": len(self.subscribers),
                "dropped_subscribers": self.dropped_subscribers}
