"""TelemetryIngestor: every source's way into the hub — decode, validate, de-duplicate, queue, count.

Sources hand it raw datagrams (F1-game binary or JSON), JSON messages or typed
records. It validates and normalizes them into records, drops exact repeats (and a
second copy of a lap already completed), and submits them to the `RaceSession`,
which orders them by race time. Per source it counts accepted records, rejects by
reason (with the last few examples), duplicates and lag.

Back-pressure: async sources go through one bounded queue (``max_queue`` items).
`put_records` waits for room (a WebSocket client is slowed down through TCP);
`offer_datagram` never waits: when the queue is full the datagram is dropped and
counted as ``queue_full`` (UDP has no way to slow a sender). Memory stays bounded
either way.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from typing import Any

from workbench.telemetry.records import LapRecord, Record
from workbench.telemetry.sources import DatagramDecoder, IngestError, decode_json_bytes, validate_json

__all__ = ["TelemetryIngestor", "SourceMetrics"]


@dataclasses.dataclass
class SourceMetrics:
    """Counters of one source (``udp``, ``ws``, ``replay`` …)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    last_rejects: collections.deque = dataclasses.field(default_factory=lambda: collections.deque(maxlen=5))
    messages: int = 0
    last_wall_s: float | None = None
    last_session_time_s: float | None = None

    def state(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"messages": self.messages, "accepted": self.accepted, "duplicates": self.duplicates,
                "rejected": dict(self.rejected), "rejected_total": sum(self.rejected.values()),
                "last_rejects": list(self.last_rejects), "last_session_time_s": self.last_session_time_s,
                "lag_s": None if self.last_wall_s is None else round(now - self.last_wall_s, 3)}


class TelemetryIngestor:
    """The validated, de-duplicated, bounded entry to a `RaceSession`.

    Parameters
    ----------
    hub : RaceSession
        Where accepted records go (``hub.submit(record, source)``).
    max_queue : int
        Items the async queue holds before `put_records` waits and `offer_datagram` drops.
    dedup_window : int
        How many recent record keys are remembered for de-duplication.
    max_senders : int
        Datagram senders whose game state is tracked at once (least recent forgotten).
    """

    def __init__(self, hub, max_queue: int = 10_000, dedup_window: int = 50_000, max_senders: int = 64):
        if max_queue < 1:
            raise ValueError(f"max_queue: {max_queue} is below minimum 1")
        self.hub = hub
        self.max_queue = max_queue
        self.dedup_window = dedup_window
        self.max_senders = max_senders
        self.sources: dict[str, SourceMetrics] = {}
        self._seen: collections.OrderedDict = collections.OrderedDict()
        self._decoders: collections.OrderedDict[tuple[str, Any], DatagramDecoder] = collections.OrderedDict()
        self._queue: asyncio.Queue | None = None

    # -- metrics ----------------------------------------------------------------------
    def source(self, name: str) -> SourceMetrics:
        m = self.sources.get(name)
        if m is None:
            m = self.sources[name] = SourceMetrics()
        return m

    def reject(self, source: str, error: IngestError | Exception) -> None:
        """Count a rejected message of ``source`` under its reason, keeping the example."""
        reason = getattr(error, "reason", type(error).__name__)
        m = self.source(source)
        m.messages += 1
        m.rejected[reason] += 1
        m.last_rejects.append({"reason": reason, "message": str(error)[:300], "wall_time": time.time()})

    def metrics(self) -> dict[str, Any]:
        """Per-source counters and the queue depth, for ``/api/v1/health``."""
        return {"queue": {"depth": 0 if self._queue is None else self._queue.qsize(), "max": self.max_queue},
                "sources": {name: m.state() for name, m in sorted(self.sources.items())}}

    # -- synchronous path ---------------------------------------------------------------
    def _key(self, record: Record):
        return ("lap", record.driver, record.lap_number) if isinstance(record, LapRecord) else record

    def ingest_records(self, records: list[Record], source: str) -> int:
        """Submit typed records; returns how many the hub took (duplicates and late ones are counted)."""
        m = self.source(source)
        taken = 0
        for record in records:
            key = self._key(record)
            if key in self._seen:
                m.duplicates += 1
                continue
            self._seen[key] = None
            if len(self._seen) > self.dedup_window:
                self._seen.popitem(last=False)
            if self.hub.submit(record, source):
                taken += 1
                m.last_session_time_s = record.session_time_s
            else:
                m.rejected["late: older than records already applied"] += 1
        m.accepted += taken
        m.last_wall_s = time.monotonic()
        return taken

    def ingest_datagram(self, data: bytes, source: str = "udp", sender: Any = None) -> int:
        """Decode one datagram (F1-game packet or JSON) and submit its records; never raises."""
        key = (source, sender)
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = DatagramDecoder()
            if len(self._decoders) > self.max_senders:
                self._decoders.popitem(last=False)
        else:
            self._decoders.move_to_end(key)
        try:
            records = decoder.decode(data)
        except IngestError as exc:
            self.reject(source, exc)
            return 0
        self.source(source).messages += 1
        return self.ingest_records(records, source)

    def ingest_json(self, message: Any, source: str = "json") -> int:
        """Validate one JSON message (text, bytes or decoded object) and submit it; never raises."""
        try:
            records = decode_json_bytes(message) if isinstance(message, (str, bytes)) else validate_json(message)
        except IngestError as exc:
            self.reject(source, exc)
            return 0
        self.source(source).messages += 1
        return self.ingest_records(records, source)

    # -- async, bounded path ------------------------------------------------------------
    def _q(self) -> asyncio.Queue:
        if self._queue is None:
            self._queue = asyncio.Queue(self.max_queue)
        return self._queue

    def offer_datagram(self, data: bytes, source: str = "udp", sender: Any = None) -> bool:
        """Queue a datagram without waiting; when the queue is full drop it (counted ``queue_full``)."""
        try:
            self._q().put_nowait(("datagram", data, source, sender))
            return True
        except asyncio.QueueFull:
            self.reject(source, IngestError("queue_full", f"queue: {self.max_queue} items waiting; datagram dropped"))
            return False

    async def put_records(self, records: list[Record], source: str) -> None:
        """Queue validated records, waiting while the queue is full (back-pressure)."""
        await self._q().put(("records", records, source, None))

    async def run(self, stop: asyncio.Event | None = None, idle_flush_s: float = 0.5) -> None:
        """Consume the queue into the hub until cancelled or ``stop`` is set.

        When nothing arrives for ``idle_flush_s`` wall seconds the hub's reorder
        window is flushed, so the last records of a paused live feed are applied.
        """
        q = self._q()
        while stop is None or not stop.is_set():
            try:
                kind, payload, source, sender = await asyncio.wait_for(q.get(), idle_flush_s)
            except TimeoutError:
                self.hub.flush()
                continue
            try:
                if kind == "datagram":
                    self.ingest_datagram(payload, source, sender)
                else:
                    self.ingest_records(payload, source)
            finally:
                q.task_done()

    async def drain(self) -> None:
        """Wait until everything queued so far has reached the hub."""
        await self._q().join()
