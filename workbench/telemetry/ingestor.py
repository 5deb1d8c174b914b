"""TelemetryIngestor: the network and file sources' adapter to the hub — decode, validate, queue.

Sources hand it raw datagrams (F1-game binary or JSON), JSON messages or typed
records. It decodes and validates them into records and hands them to the hub's one
entrance, ``hub.ingest(records, source)`` (`RaceSession.ingest`), which drops exact
repeats (and a second copy of a lap already completed), orders by race time and
counts per source: accepted records, rejects by reason (with the last few examples),
duplicates and lag. Decode errors found here are counted in the same per-source
counters (``hub.count_reject``).

Back-pressure: async sources go through one bounded queue (``max_queue`` items).
`put_records` waits for room (a WebSocket client is slowed down through TCP);
`offer_datagram` never waits: when the queue is full the datagram is dropped and
counted as ``queue_full`` (UDP has no way to slow a sender). Memory stays bounded
either way.

Nothing can stop it: every item is decoded and applied under a guard that counts
any failure by reason (``internal: <ExceptionType>``) and goes on; `run_supervised`
restarts the consumer if it ever stops and records why (health reads
`consumer_state`). Records from untrusted sources (everything but the built-in
simulator, replay and Python callers) too far ahead of the hub's clock are rejected
as ``future`` (see `RaceSession.ingest`). A new F1-game session (new session UID, or its clock
back to zero, confirmed over several packets) starts a new session in the hub
(``on_new_session``) instead of making every later record ``late``.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from workbench.telemetry.records import Record
from workbench.telemetry.sources import DatagramDecoder, IngestError, decode_json_bytes, validate_json

__all__ = ["TelemetryIngestor", "SourceMetrics", "ACCEPTED", "DUPLICATE", "TRUSTED_SOURCES"]

log = logging.getLogger("racetwin.ingest")

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
PENDING = "pending: ahead of the hub's clock, waiting for confirmation"  # see RaceSession.ingest
LATE = "late: older than records already applied"
TRUSTED_SOURCES = ("simulator", "replay", "python")  # built in: never checked for records in the future


@dataclasses.dataclass
class SourceMetrics:
    """Counters of one source (``udp``, ``ws``, ``rest``, ``replay`` …), kept by the hub."""

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
    """The decoding, bounded adapter from network and file sources to a `RaceSession`.

    Parameters
    ----------
    hub : RaceSession
        Where records go: ``hub.ingest(records, source)``, the hub's one entrance, which
        de-duplicates and keeps the per-source counters.
    max_queue : int
        Items the async queue holds before `put_records` waits and `offer_datagram` drops.
    max_senders : int
        Datagram senders whose game state is tracked at once (least recent forgotten).
    on_new_session : callable, optional
        ``on_new_session(reason)`` starts a new session in the hub when a new F1-game
        session begins (the service creates the store session); default
        ``hub.start_new_session(reason=reason)``.
    """

    def __init__(self, hub, max_queue: int = 10_000, max_senders: int = 64,
                 on_new_session: Callable[[str], Any] | None = None):
        if max_queue < 1:
            raise ValueError(f"max_queue: {max_queue} is below minimum 1")
        self.hub = hub
        self.on_new_session = on_new_session
        self.consumer_restarts = 0
        self.consumer_error: str | None = None
        self.consumer_running = False
        self.max_queue = max_queue
        self.max_senders = max_senders
        self._decoders: collections.OrderedDict[tuple[str, Any], DatagramDecoder] = collections.OrderedDict()
        self._queue: asyncio.Queue | None = None

    # -- metrics (kept by the hub) ------------------------------------------------------
    @property
    def sources(self) -> dict[str, SourceMetrics]:
        """The hub's per-source counters."""
        return self.hub.sources

    def source(self, name: str) -> SourceMetrics:
        """The hub's counters of source ``name``."""
        return self.hub.source(name)

    def reject(self, source: str, error: IngestError | Exception) -> None:
        """Count a rejected message of ``source`` under its reason, keeping the example (in the hub)."""
        self.hub.count_reject(source, error)

    def metrics(self) -> dict[str, Any]:
        """Per-source counters (the hub's) and the queue depth, for ``/api/v1/health``."""
        return {"queue": {"depth": 0 if self._queue is None else self._queue.qsize(), "max": self.max_queue},
                "consumer": self.consumer_state(), "sources": self.hub.source_metrics()}

    def consumer_state(self) -> dict[str, Any]:
        """Whether the queue consumer runs, how often it was restarted and the last cause."""
        return {"running": self.consumer_running, "restarts": self.consumer_restarts, "last_error": self.consumer_error}

    def _guard_failed(self, source: str, exc: Exception, what: str) -> None:
        """An unexpected failure while handling one item: counted and logged, never raised."""
        reason = f"internal: {type(exc).__name__}"
        self.reject(source, IngestError(reason, f"{what}: {type(exc).__name__}: {exc}"))
        n = self.source(source).rejected[reason]
        if n & (n - 1) == 0:  # logged the 1st, 2nd, 4th, 8th ... time: a flood never floods the log
            log.warning("ingest %s from %s failed (%d so far): %s: %s", what, source, n, type(exc).__name__,
                        str(exc)[:200])

    # -- synchronous path ---------------------------------------------------------------
    def ingest_records(self, records: list[Record], source: str) -> int:
        """Hand typed records to the hub; returns how many it took (duplicates, late and future ones are counted)."""
        return sum(status == ACCEPTED for status in self.ingest_records_detailed(records, source))

    def ingest_records_detailed(self, records: list[Record], source: str) -> list[str]:
        """Hand typed records to the hub (`RaceSession.ingest`); one status per record: ``accepted``,
        ``duplicate`` or the hub's reject reason. Never raises."""
        try:
            return self.hub.ingest(list(records), source)
        except Exception as exc:  # the hub guards each record; this is the last line
            self._guard_failed(source, exc, "records")
            return [f"internal: {type(exc).__name__}"] * len(records)

    def _decoder(self, source: str, sender: Any) -> DatagramDecoder:
        key = (source, sender)
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = DatagramDecoder()
            if len(self._decoders) > self.max_senders:
                self._decoders.popitem(last=False)
        else:
            self._decoders.move_to_end(key)
        return decoder

    def ingest_datagram(self, data: bytes, source: str = "udp", sender: Any = None) -> int:
        """Decode one datagram (F1-game packet or JSON) and submit its records; never raises."""
        try:
            decoder = self._decoder(source, sender)
            sessions = decoder.new_sessions
            try:
                records = decoder.decode(data)
            finally:
                for field, n in decoder.mapper.take_out_of_range().items():
                    self.source(source).rejected[f"f1: out of range: {field}"] += n
            if decoder.new_sessions != sessions:
                self.start_new_session(f"new F1-game session from {source} {sender} (UID {decoder.session_uid})")
        except IngestError as exc:
            self.reject(source, exc)
            return 0
        except Exception as exc:  # the guard: count, log, go on
            self._guard_failed(source, exc, "datagram")
            return 0
        self.source(source).messages += 1
        return self.ingest_records(records, source)

    def start_new_session(self, reason: str) -> None:
        """Start a new session in the hub (``on_new_session``); the hub forgets its de-duplication keys."""
        if self.on_new_session is not None:
            self.on_new_session(reason)
        else:
            self.hub.start_new_session(reason=reason)
        log.info("new session: %s", reason)

    def ingest_json(self, message: Any, source: str = "json") -> int:
        """Validate one JSON message (text, bytes or decoded object) and submit it; never raises."""
        result = self.ingest_json_detailed(message, source)
        return 0 if isinstance(result, IngestError) else result.count(ACCEPTED)

    def ingest_json_detailed(self, message: Any, source: str = "json") -> list[str] | IngestError:
        """Like `ingest_json`, but returns one status per record, or the `IngestError` that rejected it."""
        try:
            records = decode_json_bytes(message) if isinstance(message, (str, bytes)) else validate_json(message)
        except IngestError as exc:
            self.reject(source, exc)
            return exc
        except Exception as exc:  # the guard
            self._guard_failed(source, exc, "message")
            return IngestError(f"internal: {type(exc).__name__}", f"message: could not be read ({type(exc).__name__})")
        self.source(source).messages += 1
        return self.ingest_records_detailed(records, source)

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

    async def submit_records(self, records: list[Record], source: str) -> list[str]:
        """Queue validated records and wait until the consumer has handed them to the hub.

        Returns one status per record (see `ingest_records_detailed`): an honest answer
        for the sender, in arrival order with every other source.
        """
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._q().put(("records", records, source, done))
        return await done

    def _handle(self, kind: str, payload: Any, source: str, sender: Any) -> None:
        try:
            if kind == "datagram":
                self.ingest_datagram(payload, source, sender)
            elif sender is None:
                self.ingest_records(payload, source)
            else:  # a future waiting for the statuses
                statuses = self.ingest_records_detailed(payload, source)
                if not sender.done():
                    sender.set_result(statuses)
        except Exception as exc:  # the guard (ingest_* never raise; this is the last line)
            self._guard_failed(source, exc, kind)
            if kind != "datagram" and sender is not None and not sender.done():
                sender.set_result([f"internal: {type(exc).__name__}"] * len(payload))

    async def run(self, stop: asyncio.Event | None = None, idle_flush_s: float = 0.5) -> None:
        """Consume the queue into the hub until cancelled or ``stop`` is set.

        When nothing arrives for ``idle_flush_s`` wall seconds the hub's reorder
        window is flushed, so the last records of a paused live feed are applied.
        """
        q = self._q()
        self.consumer_running = True
        try:
            while stop is None or not stop.is_set():
                try:
                    kind, payload, source, sender = await asyncio.wait_for(q.get(), idle_flush_s)
                except TimeoutError:
                    self.hub.flush()
                    continue
                try:
                    self._handle(kind, payload, source, sender)
                finally:
                    q.task_done()
        finally:
            self.consumer_running = False

    async def run_supervised(self, stop: asyncio.Event | None = None, idle_flush_s: float = 0.5,
                             restart_delay_s: float = 0.1) -> None:
        """`run`, restarted whenever it fails (counted in ``consumer_restarts``, cause in ``consumer_error``)."""
        while stop is None or not stop.is_set():
            try:
                await self.run(stop, idle_flush_s)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.consumer_restarts += 1
                self.consumer_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                log.exception("ingest consumer failed; restarting")
                await asyncio.sleep(restart_delay_s)

    async def drain(self) -> None:
        """Wait until everything queued so far has reached the hub."""
        await self._q().join()
