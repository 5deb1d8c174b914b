"""RaceSession: the hub that owns the twins and applies records in race-time order.

Every source (simulator, replay, WebSocket, UDP, REST, notebooks) hands records or
wire JSON to one `RaceSession` through one call, `RaceSession.ingest`. It validates,
drops repeats (and a second copy of a lap already completed), counts per source,
orders by session time within a small reorder window, updates the `FieldTwin`
(and so our `CarTwin`) and the track environment, keeps recent telemetry, and emits
`HubEvent` s (lap completed, pit in/out, SC/VSC, track status, retirement) to
subscribers. Bad input is counted by reason with the last examples kept; nothing is raised into the caller's loop.

Everything computed from the hub leaves it the same way: the strategy engine, the recommendations
(and their LLM wording) and the finish predictor call `RaceSession.publish` from whatever thread they
run on; the hub keeps the newest payload of each kind (``strategy_results``,
``strategy_recommendations``, ``race_prediction``: what REST reads and a new page starts from) and hands
the event to the same subscribers (the push stream, the store through it, the open pages, the
recommendations), on the hub's event loop when one is bound (`bind_loop`).
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import param

from workbench.race.definition import RaceDefinition
from workbench.store import StateStore
from workbench.telemetry.ingestor import ACCEPTED, DUPLICATE, LATE, PENDING, TRUSTED_SOURCES, SourceMetrics
from workbench.telemetry.records import (
    CarSample,
    EventKind,
    LapRecord,
    RaceEvent,
    Record,
    SessionInfo,
    TrackStatus,
)
from workbench.telemetry.sources import IngestError, validate_json
from workbench.twins import CarTwin, FieldTwin
from workbench.twins.context import TwinContext

__all__ = ["RaceSession", "HubEvent", "TrackEnvironment", "RESULT_KINDS"]

_RECORD_TYPES = (CarSample, LapRecord, SessionInfo, RaceEvent)
log = logging.getLogger("racetwin.ingest")

_STATUS_EVENTS = {EventKind.SC_DEPLOYED: TrackStatus.SC, EventKind.VSC_DEPLOYED: TrackStatus.VSC,
                  EventKind.RED_FLAG: TrackStatus.RED, EventKind.SC_ENDED: TrackStatus.GREEN,
                  EventKind.VSC_ENDED: TrackStatus.GREEN}


ENV_CLOCK_STEP_S = 0.5  # samples move the environment's (watchable) clock in steps of this much race time
FUTURE_TOLERANCE_S = 60.0  # default: a record may be this far (race s) ahead of the hub's newest record ...
FUTURE_RATE = 1.0  # ... plus this many race seconds per wall second since the hub last took a record (live: 1x)
FUTURE = "future: too far ahead of the hub's clock"
FUTURE_CONFIRM = 8  # consecutive far-ahead records of one source, in order and agreeing, move the clock


RESULT_KINDS = ("strategy_results", "strategy_recommendations", "race_prediction")  # what `publish` takes


@dataclasses.dataclass(frozen=True)
class HubEvent:
    """Something the hub noticed or published.

    ``kind`` is lap_completed, pit_in, pit_out, sc_deployed, sc_ended, vsc_deployed, vsc_ended,
    red_flag, retirement, chequered_flag, flag, track_status or session_started (race events, kept in
    ``hub.events``), or one of `RESULT_KINDS` (a result published with `RaceSession.publish`; its
    ``payload`` is the result).
    """

    kind: str
    session_time_s: float
    driver: str | None = None
    lap: int | None = None
    detail: str | None = None
    payload: Any = dataclasses.field(default=None, compare=False, repr=False)


class TrackEnvironment(param.Parameterized):
    """Track, session and weather state."""

    track = param.String(default=None, allow_None=True)
    session_type = param.String(default="race")
    total_laps = param.Integer(default=None, allow_None=True)
    track_length_m = param.Number(default=None, allow_None=True)
    track_status = param.Selector(default=TrackStatus.GREEN, objects=list(TrackStatus))
    air_temp_c = param.Number(default=None, allow_None=True)
    track_temp_c = param.Number(default=None, allow_None=True)
    rainfall = param.Boolean(default=None, allow_None=True)
    leader_lap = param.Integer(default=0)
    session_time_s = param.Number(default=0.0)
    finished = param.Boolean(default=False)

    def state(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.param if k != "name"}
        out["track_status"] = self.track_status.value
        return out


class RaceSession:
    """The hub: one per race, shared by every source and view.

    Parameters
    ----------
    our_driver : str
        The driver whose car is `car_twin`.
    race : RaceDefinition, optional
        When given, twins for every entry exist from the start and the
        environment knows the track before any telemetry arrives.
    reorder_window_s : float
        Records are held this long (in race time) so that slightly out-of-order
        arrivals are applied in order; anything older than what was already
        applied is rejected as late.
    telemetry_buffer : int
        How many recent car samples of our car to keep (its ring buffer, read by
        ``/api/v1/telemetry``; 10 minutes at 10 Hz by default).
    field_telemetry_buffer : int
        How many recent car samples of every other car to keep (one ring buffer per driver,
        so a fast feed of 20 cars never pushes our car's samples out).
    store : StateStore, optional
        Receives every applied record (with its source and sequence number) under
        ``session_id``; the hub never waits for the disk.
    session_id : str, optional
        This race's id in the store.
    future_tolerance_s : float
        A record more than this many race seconds ahead of the newest record taken, plus
        ``future_rate`` race seconds per wall second since then, is rejected as ``future``
        (one bad clock value must not move the hub's clock and make every real record late).
        Unless confirmed: `FUTURE_CONFIRM` consecutive far-ahead records of one source, in
        time order and each within the tolerance of the one before (a fast replay over a long
        gap, a feed coming back), are held, then all taken. ``inf`` turns the check off. The
        first record of a session sets the clock.
    future_rate : float
        Race seconds per wall second a paused feed may jump ahead when it comes back.
    dedup_window : int
        How many recent record keys `ingest` remembers to drop repeats (a lap is keyed by
        driver and lap number, so a second copy of a completed lap is a duplicate).
    trusted_sources : tuple of str
        Sources whose records are not checked for being too far in the future (built-in
        simulator and replay, and Python callers).
    """

    def __init__(self, our_driver: str, race: RaceDefinition | None = None, reorder_window_s: float = 0.5,
                 telemetry_buffer: int = 6000, field_telemetry_buffer: int = 1000, store: StateStore | None = None,
                 session_id: str | None = None,
                 future_tolerance_s: float = FUTURE_TOLERANCE_S, future_rate: float = FUTURE_RATE,
                 dedup_window: int = 50_000, trusted_sources: tuple[str, ...] = TRUSTED_SOURCES):
        if dedup_window < 1:
            raise ValueError(f"dedup_window: {dedup_window} is below minimum 1")
        if reorder_window_s < 0:
            raise ValueError(f"reorder_window_s: {reorder_window_s} is below minimum 0")
        if not future_tolerance_s >= 0:
            raise ValueError(f"future_tolerance_s: {future_tolerance_s} is below minimum 0")
        if not future_rate >= 0:
            raise ValueError(f"future_rate: {future_rate} is below minimum 0")
        self.race = race
        self.our_driver = our_driver
        self.reorder_window_s = reorder_window_s
        self.future_tolerance_s = future_tolerance_s
        self.future_rate = future_rate
        for name, value in (("telemetry_buffer", telemetry_buffer), ("field_telemetry_buffer", field_telemetry_buffer)):
            if value < 1:
                raise ValueError(f"{name}: {value} is below minimum 1")
        self.telemetry_buffer = telemetry_buffer
        self.field_telemetry_buffer = field_telemetry_buffer
        self.telemetry_by_driver: dict[str, collections.deque[CarSample]] = {}  # one ring buffer per driver
        self._new_twins()
        self.events: list[HubEvent] = []
        self.accepted = collections.Counter()
        self.rejected = collections.Counter()
        self.last_rejects: collections.deque[dict] = collections.deque(maxlen=20)
        self.subscriber_errors = 0
        self._latest: dict[str, Any] = {}  # the newest payload of each RESULT_KINDS kind (see `publish`)
        self._dispatch_lock = threading.RLock()  # one subscriber call at a time when no loop is bound
        self._pending: collections.deque[HubEvent] = collections.deque()  # events raised while dispatching
        self._dispatching = False
        self._loop: Any = None  # the asyncio loop subscribers run on (`bind_loop`)
        self._loop_thread: int | None = None
        self.lap_version = 0  # bumps on every lap record: cheap change detection for views
        self.last_applied_wall_s: float | None = None
        self.applied_seq = 0  # records applied so far; the store's sequence numbers
        self.session_time_s = 0.0  # race time of the newest record applied
        self.store = store
        self.session_id = session_id
        self.sessions_started = 0  # new game sessions started in this process (see `start_new_session`)
        if store is not None and session_id is None:
            raise ValueError("session_id: None is not allowed when a store is given")
        self._persist = True
        self._heap: list[tuple[float, int, Record, str]] = []
        self._seq = itertools.count()
        self._newest_s = float("-inf")
        self._newest_wall_s = time.monotonic()
        self._applied_until_s = float("-inf")
        self._held: dict[str, list[Record]] = {}  # far-ahead records per source, waiting for confirmation
        self._confirmed: collections.deque[int] = collections.deque(maxlen=16 * FUTURE_CONFIRM)
        self._subscribers: list[Callable[[HubEvent], None]] = []
        self.dedup_window = dedup_window
        self.trusted_sources = trusted_sources
        self.sources: dict[str, SourceMetrics] = {}  # per-source counters (health: components.sources)
        self._seen: collections.OrderedDict = collections.OrderedDict()  # recent record keys (de-duplication)

    def _new_twins(self) -> None:
        """Fresh twins and environment for the race (at construction and when a new session starts)."""
        race, our_driver = self.race, self.our_driver
        self.field_twin = FieldTwin(name="FieldTwin", our_driver=our_driver,
                                    context=TwinContext.from_race(race) if race is not None else None)
        if getattr(self, "environment", None) is None:
            self.environment = TrackEnvironment(name="TrackEnvironment")
        else:  # keep the object (views watch it), reset its values
            self.environment.param.update({k: p.default for k, p in self.environment.param.objects().items()
                                           if k != "name"})
        if race is not None:
            race.car(our_driver)  # raises naming the unknown driver
            for entry in sorted(race.cars, key=lambda e: e.grid):
                twin = self.field_twin.car(entry.driver)
                twin.param.update(team=entry.team, position=entry.grid)
            self.field_twin.order = [e.driver for e in sorted(race.cars, key=lambda e: e.grid)]
            self.environment.param.update(track=race.track.name, total_laps=race.track.laps,
                                          track_length_m=race.track.length_m)
        self.car_twin: CarTwin = self.field_twin.car(our_driver)
        self.laps: list[LapRecord] = []
        self.telemetry_by_driver.clear()

    # -- input: the one way in ---------------------------------------------------------
    def ingest(self, records: Record | list[Record] | Any, source: str = "python", *,
               check_future: bool | None = None, wire: bool | None = None) -> list[str] | IngestError:
        """Take records from any source: the one way into the hub.

        De-duplicates (an exact repeat, or a second copy of a lap already completed, is
        ``duplicate``), checks the clock (late; for untrusted sources too far in the
        future), queues in race-time order and counts everything under ``source``
        (see `source_metrics`).

        Parameters
        ----------
        records : Record, list of Record, or wire JSON
            One typed record or a list of them, or a decoded wire message (a record dict
            or ``{"type": "batch", "records": [...]}``), which is validated first; a bad
            message is rejected whole and counted once under its reason.
        source : str
            Who sent it: ``rest``, ``udp``, ``ws``, ``simulator``, ``replay``, ``python`` ...
        check_future : bool, optional
            Reject records too far ahead of the hub's clock (see ``future_tolerance_s``);
            default: for every source not in ``trusted_sources``.
        wire : bool, optional
            ``records`` is a decoded wire message, whatever its type (the REST body);
            default: a typed record or a list of them is not, anything else is.

        Returns
        -------
        list of str or IngestError
            One status per record: ``accepted``, ``duplicate`` or the reject reason
            (``late: ...``, ``future: ...``, ``pending: ...``); or, for wire JSON that
            failed validation, the `IngestError` naming field, value and rule.
            Never raises for bad input: a failure inside the hub is counted as
            ``internal: <type>`` for that record.
        """
        m = self.source(source)
        if wire is None:
            wire = not (isinstance(records, _RECORD_TYPES) or isinstance(records, list) and all(
                isinstance(r, _RECORD_TYPES) for r in records))
        if not wire and isinstance(records, _RECORD_TYPES):
            records = [records]
        elif wire:
            try:
                records = validate_json(records)
            except IngestError as exc:
                self.count_reject(source, exc)
                self._reject(exc.reason, str(exc), source)
                return exc
            m.messages += 1
        if check_future is None:
            check_future = source not in self.trusted_sources
        statuses: list[str | None] = []
        for record in records:
            try:
                key = self._key(record)
                if key in self._seen:
                    m.duplicates += 1
                    statuses.append(DUPLICATE)
                    continue
                reason = self._offer(record, source, check_future)
                statuses.append(reason)
                if reason is None or reason == PENDING:
                    self._seen[key] = None
                    if len(self._seen) > self.dedup_window:
                        self._seen.popitem(last=False)
            except Exception as exc:  # the guard: one bad record never stops the rest
                reason = f"internal: {type(exc).__name__}"
                self.count_reject(source, IngestError(reason, f"record {type(record).__name__}: {exc}"))
                statuses.append(reason)
                n = m.rejected[reason]
                if n & (n - 1) == 0:  # logged the 1st, 2nd, 4th ... time: a flood never floods the log
                    log.warning("ingest record %s from %s failed (%d so far): %s: %s", type(record).__name__,
                                source, n, type(exc).__name__, str(exc)[:200])
        for i, (record, reason) in enumerate(zip(records, statuses, strict=True)):
            if reason == PENDING:  # held ahead of the clock: confirmed by later records of this batch?
                reason = statuses[i] = self.held_outcome(record, source)
            if reason is None:
                m.accepted += 1
                m.last_session_time_s = record.session_time_s
                statuses[i] = ACCEPTED
            elif reason not in (DUPLICATE, PENDING) and not reason.startswith("internal: "):
                m.rejected[reason] += 1
        m.last_wall_s = time.monotonic()
        return statuses

    def submit(self, record: Record, source: str = "python") -> bool:
        """`ingest` one typed record from a trusted source; True when it was taken.

        A thin wrapper kept for the many callers that hand one record at a time
        (never checked for being too far in the future).
        """
        return self.ingest([record], source, check_future=False)[0] == ACCEPTED

    @staticmethod
    def _key(record: Record):
        return ("lap", record.driver, record.lap_number) if isinstance(record, LapRecord) else record

    def source(self, name: str) -> SourceMetrics:
        """The counters of source ``name`` (created on first use)."""
        m = self.sources.get(name)
        if m is None:
            m = self.sources[name] = SourceMetrics()
        return m

    def count_reject(self, source: str, error: Exception) -> None:
        """Count a message of ``source`` refused before it became records (decode error, queue full,
        unauthorized ...) under its reason, keeping the example."""
        reason = getattr(error, "reason", type(error).__name__)
        m = self.source(source)
        m.messages += 1
        m.rejected[reason] += 1
        m.last_rejects.append({"reason": reason, "message": str(error)[:300], "wall_time": time.time()})

    def source_metrics(self) -> dict[str, dict[str, Any]]:
        """Per-source counters (messages, accepted, duplicates, rejects by reason, lag)."""
        return {name: m.state() for name, m in sorted(self.sources.items())}

    def _offer(self, record: Record, source: str, check_future: bool) -> str | None:
        """Queue a typed record; None when taken, else the reject reason (`LATE`, `FUTURE`) or `PENDING`.

        With ``check_future`` a record too far ahead of the hub's clock (see
        ``future_tolerance_s``) is held until confirmed, else rejected as `FUTURE`.
        """
        t = record.session_time_s
        if t < self._applied_until_s:
            self._reject(LATE, f"session_time_s: {t} is before {self._applied_until_s} already applied", source)
            return LATE
        now = time.monotonic()
        if check_future and self._newest_s != float("-inf"):
            limit = self._newest_s + self.future_tolerance_s + self.future_rate * (now - self._newest_wall_s)
            if t > limit:
                return self._hold(record, source)
            self._drop_held(source)
        self._push(record, source, now)
        return None

    def _push(self, record: Record, source: str, now: float) -> None:
        t = record.session_time_s
        heapq.heappush(self._heap, (t, next(self._seq), record, source))
        if t >= self._newest_s:
            self._newest_s = t
            self._newest_wall_s = now
        self._drain(self._newest_s - self.reorder_window_s)

    def _hold(self, record: Record, source: str) -> str:
        """A far-ahead record: held until `FUTURE_CONFIRM` agreeing ones from ``source`` confirm it."""
        held = self._held.setdefault(source, [])
        step = record.session_time_s - held[-1].session_time_s if held else 0.0
        if held and not 0 <= step <= self.future_tolerance_s:  # out of order or not agreeing: start over
            self._drop_held(source)
            held = self._held.setdefault(source, [])
        held.append(record)
        if len(held) < FUTURE_CONFIRM:
            return PENDING
        del self._held[source]
        now = time.monotonic()
        for r in sorted(held, key=lambda r: r.session_time_s):
            self._confirmed.append(id(r))
            self._push(r, source, now)
        return None

    def _drop_held(self, source: str) -> None:
        for r in self._held.pop(source, ()):
            self._reject(FUTURE, f"session_time_s: {r.session_time_s} is more than {self.future_tolerance_s} s "
                                 f"ahead of the hub's clock {self._newest_s} and was not confirmed", source)

    def held_outcome(self, record: Record, source: str) -> str | None:
        """What became of a record `offer` answered `PENDING`: None (taken), `PENDING` or `FUTURE`."""
        if any(r is record for r in self._held.get(source, ())):
            return PENDING
        return None if id(record) in self._confirmed else FUTURE

    def start_new_session(self, session_id: str | None = None, reason: str = "new session") -> None:
        """End the current session (what is held is applied) and start a fresh one on a new clock.

        Twins, laps, telemetry, the clock and de-duplication start over (per-source counters
        go on); the environment object is kept (views watch it) with its values reset. With a
        store, ``session_id`` must be a session already created there. Emits a ``session_started`` event.
        """
        if self.store is not None and session_id is None:
            raise ValueError("session_id: None is not allowed when a store is given")
        self.flush()
        self._heap.clear()
        self._held.clear()
        self._seen.clear()  # a new session's laps start again at 1
        self._newest_s = self._applied_until_s = float("-inf")
        self._newest_wall_s = time.monotonic()
        self.session_time_s = 0.0
        self.applied_seq = 0
        self.session_id = session_id
        with self._dispatch_lock:
            self._latest.clear()  # a new session's results start again
        self._new_twins()
        self.lap_version += 1
        self.sessions_started += 1
        self._emit(HubEvent("session_started", 0.0, detail=f"{reason}; session {session_id}"))

    def flush(self) -> None:
        """Apply everything held in the reorder window (end of a source, or a pause).

        Unconfirmed far-ahead records are rejected as `FUTURE` then."""
        for source in list(self._held):
            self._drop_held(source)
        self._drain(float("inf"))

    def _drain(self, until_s: float) -> None:
        while self._heap and self._heap[0][0] <= until_s:
            t, _, record, source = heapq.heappop(self._heap)
            self._applied_until_s = t
            self._apply(record, source)

    def _reject(self, reason: str, message: str, source: str) -> None:
        self.rejected[reason] += 1
        self.last_rejects.append({"reason": reason, "message": message, "source": source,
                                  "wall_time": time.time()})

    # -- applying ---------------------------------------------------------------
    def _apply(self, record: Record, source: str) -> None:
        self.accepted[record.type] += 1
        self.applied_seq += 1
        self.last_applied_wall_s = time.monotonic()
        t = record.session_time_s
        if t > self.session_time_s:
            self.session_time_s = t  # plain attribute: exact, and cheap on the 10-200 Hz sample path
            if not isinstance(record, CarSample) or t - self.environment.session_time_s >= ENV_CLOCK_STEP_S:
                self.environment.session_time_s = t
        if self.store is not None and self._persist:
            self.store.append_record(self.session_id, self.applied_seq, record, source)
        if isinstance(record, CarSample):
            buffer = self.telemetry_by_driver.get(record.driver)
            if buffer is None:
                size = self.telemetry_buffer if record.driver == self.our_driver else self.field_telemetry_buffer
                buffer = self.telemetry_by_driver[record.driver] = collections.deque(maxlen=size)
            buffer.append(record)
            self.field_twin.update_state(record)
        elif isinstance(record, LapRecord):
            self.laps.append(record)
            self.field_twin.update_state(record)
            self.environment.leader_lap = self.field_twin.leader_lap
            self.lap_version += 1
            self._emit(HubEvent("lap_completed", record.session_time_s, record.driver, record.lap_number))
        elif isinstance(record, SessionInfo):
            self.environment.param.update({k: getattr(record, k) for k in (
                "track", "total_laps", "track_length_m", "air_temp_c", "track_temp_c", "rainfall")
                if getattr(record, k) is not None} | {"session_type": record.session_type.value})
            if record.total_laps is not None:
                self.field_twin.set_total_laps(record.total_laps)
            self._set_status(record.track_status, record.session_time_s)
        elif isinstance(record, RaceEvent):
            self._apply_event(record)

    def _apply_event(self, e: RaceEvent) -> None:
        if e.kind in _STATUS_EVENTS:
            self._set_status(_STATUS_EVENTS[e.kind], e.session_time_s, emit=False)
        if e.kind is EventKind.RETIREMENT and e.driver:
            self.field_twin.retire(e.driver)
        if e.kind in (EventKind.PIT_IN, EventKind.PIT_OUT) and e.driver:
            self.field_twin.car(e.driver).in_pit = e.kind is EventKind.PIT_IN
        if e.kind is EventKind.CHEQUERED_FLAG:
            self.environment.finished = True
        self._emit(HubEvent(e.kind.value, e.session_time_s, e.driver, e.lap, e.detail))

    def _set_status(self, status: TrackStatus, t: float, emit: bool = True) -> None:
        if status is self.environment.track_status:
            return
        self.environment.track_status = status
        self.field_twin.track_status = status
        if emit:
            self._emit(HubEvent("track_status", t, detail=status.value))

    # -- output -----------------------------------------------------------------
    def subscribe(self, callback: Callable[[HubEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every hub event; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    @property
    def subscriber_count(self) -> int:
        """Callbacks subscribed now (health: a closed page must leave none behind)."""
        return len(self._subscribers)

    def _emit(self, event: HubEvent) -> None:
        self.events.append(event)
        self._dispatch(event)

    def _dispatch(self, event: HubEvent) -> None:
        """Hand ``event`` to every subscriber, after any event already being dispatched: an event a
        subscriber raises (the recommendation service publishing on a strategy result) waits until every
        subscriber has seen the current one, so all subscribers see events in the same order."""
        with self._dispatch_lock:
            self._pending.append(event)
            if self._dispatching:
                return  # nested (a subscriber published): the outer loop below delivers it next, in order
            self._dispatching = True
            try:
                while self._pending:
                    self._deliver(self._pending.popleft())
            finally:
                self._dispatching = False

    def _deliver(self, event: HubEvent) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a broken view must not stop the race
                self.subscriber_errors += 1
                n = self.subscriber_errors
                if n & (n - 1) == 0:  # logged the 1st, 2nd, 4th ... time: a broken view never floods the log
                    log.warning("hub subscriber %r failed on %s (%d so far)", callback, event.kind, n,
                                exc_info=True)

    def bind_loop(self, loop) -> None:
        """Run subscribers on ``loop`` (the service's event loop; call from its thread): results published
        from other threads reach them there, in publish order."""
        self._loop, self._loop_thread = loop, threading.get_ident()

    def publish(self, kind: str, payload: Any, session_time_s: float | None = None) -> None:
        """Publish a result computed from the hub: the one way out, safe to call from any thread.

        The hub keeps ``payload`` as the newest of its kind at once (``hub.strategy_results``,
        ``hub.strategy_recommendations``, ``hub.race_prediction``: REST and the page read these) and hands
        a `HubEvent` with it to every subscriber exactly once, in publish order: on the bound loop
        (`bind_loop`) when there is one, else on the caller's thread, one subscriber call at a time.

        Parameters
        ----------
        kind : str
            One of `RESULT_KINDS`.
        payload : Any
            The result (a JSON-ready dict, or None to withdraw one).
        session_time_s : float, optional
            The race time the result is for (the event's); default the payload's ``session_time_s``,
            else the hub's clock.

        Raises
        ------
        ValueError
            ``kind`` is not one of `RESULT_KINDS`.
        """
        if kind not in RESULT_KINDS:
            raise ValueError(f"kind: {kind!r} is not one of {', '.join(RESULT_KINDS)}")
        with self._dispatch_lock:
            self._latest[kind] = payload
            t = session_time_s
            if t is None and isinstance(payload, dict):
                t = payload.get("session_time_s")
            event = HubEvent(kind, self.session_time_s if t is None else t, payload=payload)
            loop = self._loop
            if loop is not None and threading.get_ident() != self._loop_thread and not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(self._dispatch, event)  # FIFO: subscribers see publish order
                    return
                except RuntimeError:  # the loop closed meanwhile: deliver here
                    pass
            self._dispatch(event)

    @property
    def strategy_results(self) -> dict | None:
        """The newest ranked strategies (published by the HPCOrchestrator), or None."""
        return self._latest.get("strategy_results")

    @property
    def strategy_recommendations(self) -> dict | None:
        """The newest recommendations (published by the RecommendationService), or None."""
        return self._latest.get("strategy_recommendations")

    @property
    def race_prediction(self) -> dict | None:
        """The newest finish prediction (published by the LivePredictor), or None."""
        return self._latest.get("race_prediction")

    @property
    def telemetry(self) -> list[CarSample]:
        """Every driver's buffered samples in race-time order (a copy; views page one driver with
        `telemetry_since`)."""
        return list(heapq.merge(*self.telemetry_by_driver.values(), key=lambda s: s.session_time_s))

    def drivers(self) -> list[str]:
        """The drivers this session knows: the race's entries and every car a record named."""
        return sorted(set(self.field_twin.cars) | set(self.telemetry_by_driver))

    def telemetry_since(self, since_s: float | None = None, limit: int = 100,
                        driver: str | None = None) -> list[CarSample]:
        """Samples of ``driver`` (default: our car) with session time after ``since_s``, oldest first,
        at most ``limit``; without ``since_s`` the newest ``limit``."""
        buffer = self.telemetry_by_driver.get(self.our_driver if driver is None else driver)
        if not buffer:
            return []
        if since_s is None:
            return list(itertools.islice(buffer, max(0, len(buffer) - limit), None))
        # the buffer is in race-time order (the hub applies in order): find the first newer sample
        lo, hi = 0, len(buffer)
        while lo < hi:
            mid = (lo + hi) // 2
            if buffer[mid].session_time_s > since_s:
                hi = mid
            else:
                lo = mid + 1
        return list(itertools.islice(buffer, lo, lo + limit))

    def health(self) -> dict[str, Any]:
        """Ingest counters and lag, for ``/api/v1/health``."""
        lag = None if self.last_applied_wall_s is None else time.monotonic() - self.last_applied_wall_s
        return {
            "accepted": dict(self.accepted), "accepted_total": sum(self.accepted.values()),
            "rejected": dict(self.rejected), "rejected_total": sum(self.rejected.values()),
            "last_rejects": list(self.last_rejects), "queued": len(self._heap),
            "session_time_s": self.session_time_s, "seconds_since_last_record": lag,
            "subscriber_errors": self.subscriber_errors,
        }

    def restore(self) -> dict[str, int]:
        """Rebuild the twins by re-applying this session's stored records (nothing is re-written).

        Returns the number of records restored per source. The hub is deterministic, so
        the twins end exactly as they were when the last of these records was applied.
        """
        if self.store is None:
            raise ValueError("store: None; a hub without a store has nothing to restore")
        by_source: collections.Counter = collections.Counter()
        self._persist = False
        try:
            for _, source, record in self.store.records(self.session_id):
                self.ingest([record], source, check_future=False)
                by_source[source] += 1
            self.flush()
        finally:
            self._persist = True
        return dict(by_source)

    def snapshot_state(self) -> dict[str, Any]:
        """A JSON-ready picture of the twins and environment (stored every few seconds)."""
        return {"applied_seq": self.applied_seq, "car_twin": self.car_twin.state(),
                "field_twin": self.field_twin.state(), "environment": self.environment.state()}

    def close(self) -> None:
        self.flush()
