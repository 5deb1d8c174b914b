"""Turning raw input into records: datagrams (F1-game binary or JSON) and files (pcap, JSONL, lap tables).

Every failure is an `IngestError` with a short ``reason`` (for counting) and a
message naming the field, the value and the rule; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import itertools
import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from workbench.telemetry.f1udp import F1GameMapper, F1PacketError, decode_packet
from workbench.telemetry.pcap import is_pcap, read_pcap
from workbench.telemetry.records import Record
from workbench.telemetry.schema import TelemetryValidationError, validate_batch

__all__ = ["IngestError", "DatagramDecoder", "FileItem", "read_file_items", "ReplaySource", "file_kind", "paced",
           "check_pace"]

MAX_JSON_BYTES = 1_000_000  # the one size limit of a JSON message: datagram, WebSocket message (default), REST body


class IngestError(ValueError):
    """Input that yields no records; ``reason`` is a stable key for counting rejects."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def decode_json_bytes(data: bytes | str) -> list[Record]:
    """Parse and validate one JSON message (record or batch)."""
    if len(data) > MAX_JSON_BYTES:
        raise IngestError("json: too large", f"message: {len(data)} bytes is above the limit of {MAX_JSON_BYTES}")
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError("json: invalid", f"message: is not valid JSON ({str(exc)[:200]})") from None
    except RecursionError:
        raise IngestError("json: too deep", "message: is nested too deeply") from None
    return validate_json(obj)


def validate_json(obj: Any) -> list[Record]:
    try:
        return validate_batch(obj)
    except TelemetryValidationError as exc:
        raise IngestError(exc.reason, str(exc)) from None
    except RecursionError:
        raise IngestError("json: too deep", "message: is nested too deeply") from None


class DatagramDecoder:
    """Decode the datagrams of one sender: F1-game binary packets or JSON records.

    Keeps the game-state mapper of that sender, so lap completions and pit
    transitions are detected across packets. ``packets`` counts decoded binary
    packets by (packetFormat, packetId).
    """

    # A game session restarted with the same UID: its clock goes back from at least this far ...
    RESTART_FROM_S = 10.0
    # ... to below this.
    RESTART_TO_S = 1.0
    # Consecutive packets of a new session (new UID, or the clock back near zero) needed before it is
    # believed: one bit-flipped or forged header must never end a session.
    CONFIRM_PACKETS = 10
    # A game's clock moves ~16 ms per packet; a packet this far ahead of the sender's clock (a bit flip, a
    # forged header, a gap in the feed) is held back until CONFIRM_PACKETS consecutive packets agree. The
    # sender's clock is the median of its last RECENT packets' times, so flipped packets cannot ratchet it;
    # a packet may run MAX_STEP_S ahead of the newest recent one (see _follow_session).
    MAX_STEP_S = 2.0
    RECENT = 9

    def __init__(self) -> None:
        self.mapper = F1GameMapper()
        self.packets: dict[tuple[int, int], int] = {}
        self.session_uid: int | None = None
        self.session_time_s: float | None = None  # this sender's clock (median of its recent packets)
        self._recent: collections.deque[float] = collections.deque(maxlen=self.RECENT)
        self.new_sessions = 0  # game sessions started after the first (new UID or clock back to zero)
        self._candidate: tuple | None = None
        self._candidate_n = 0

    def decode(self, data: bytes) -> list[Record]:
        """The records in one datagram; raises `IngestError` for anything else."""
        if data[:1] in (b"{", b"[", b" ", b"\n", b"\t", b"\r"):
            return decode_json_bytes(data)
        try:
            header, body = decode_packet(data)
        except F1PacketError as exc:
            raise IngestError(f"f1: {exc.reason}", str(exc)) from None
        key = (header["packetFormat"], header["packetId"])
        self.packets[key] = self.packets.get(key, 0) + 1
        self._follow_session(header)
        try:
            return self.mapper.records(header, body)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:  # defensive: count, go on
            raise IngestError("f1: mapping_error", f"packetId {key[1]}: {type(exc).__name__}: {exc}") from None

    def _follow_session(self, header: dict) -> None:
        """Follow the game session; a new one (new non-zero UID, or the clock back to ~0) gets a fresh mapper.

        A packet that claims a new session is rejected (``f1: other_session``) until
        `CONFIRM_PACKETS` consecutive packets agree; then the new session starts.
        """
        uid, t = header.get("sessionUID") or None, header.get("sessionTime")
        if t is not None and not math.isfinite(t):
            t = None
        changed_uid = uid is not None and self.session_uid is not None and uid != self.session_uid
        restarted = (t is not None and self.session_time_s is not None
                     and self.session_time_s >= self.RESTART_FROM_S and t < self.RESTART_TO_S)
        # ahead of the median by more than the step plus how far the recent packets already run ahead of it
        # (a sparse feed at 1 packet/s has its median a few seconds behind its newest packet)
        jumped = (t is not None and self.session_time_s is not None
                  and t > self.session_time_s + self.MAX_STEP_S + (max(self._recent) - self.session_time_s))
        if changed_uid or restarted or jumped:
            claim = ("uid", uid) if changed_uid else ("restart", self.session_uid) if restarted else ("jump",)
            if claim == self._candidate:
                self._candidate_n += 1
            else:
                self._candidate, self._candidate_n = claim, 1
            if self._candidate_n < self.CONFIRM_PACKETS:
                if claim[0] == "jump":
                    raise IngestError("f1: clock_jump", f"sessionTime {t}: more than {self.MAX_STEP_S} s ahead of "
                                                        f"this sender's clock {self.session_time_s}; taken after "
                                                        f"{self.CONFIRM_PACKETS} consecutive packets agree")
                raise IngestError("f1: other_session",
                                  f"sessionUID {uid} / sessionTime {t}: not the current game session "
                                  f"(UID {self.session_uid}, time {self.session_time_s}); a new session is "
                                  f"started after {self.CONFIRM_PACKETS} consecutive packets")
            if claim[0] != "jump":
                self.mapper = F1GameMapper()
                self.new_sessions += 1
            self._recent.clear()
        self._candidate, self._candidate_n = None, 0
        if uid is not None:
            self.session_uid = uid
        if t is not None:
            self._recent.append(t)
            self.session_time_s = statistics.median(self._recent)


@dataclasses.dataclass
class FileItem:
    """One unit read from a file: its records, or the error that replaced them."""

    records: list[Record]
    error: IngestError | None = None
    packet: tuple[int, int] | None = None  # (packetFormat, packetId) for F1 datagrams


def file_kind(path: str | Path) -> str:
    """``pcap``, ``laps-csv``, ``openf1-json`` or ``jsonl``, from the content and suffix.

    A folder is OpenF1 (one JSON file per endpoint); a JSON file is OpenF1 when it is a combined
    object of endpoint lists or a list of OpenF1 records (what ``/v1/laps`` returns).
    """
    path = Path(path)
    if path.is_dir():
        return "openf1-json"
    with open(path, "rb") as f:
        magic = f.read(4)
    if is_pcap(path) or magic == b"\x0a\x0d\x0d\x0a" or path.suffix.lower() in (".pcap", ".pcapng", ".cap"):
        return "pcap"
    if path.suffix.lower() == ".csv":
        return "laps-csv"
    from workbench.telemetry.openf1 import MAX_FILE_BYTES, looks_like_openf1

    with open(path, "rb") as f:
        head = f.read(64).lstrip()[:1]
        if head in (b"{", b"["):
            f.seek(0)
            try:
                obj = json.loads(f.readline())
            except ValueError:
                obj = None
                if path.stat().st_size <= MAX_FILE_BYTES:
                    f.seek(0)
                    try:
                        obj = json.load(f)
                    except (ValueError, RecursionError):
                        obj = None
            if looks_like_openf1(obj):
                return "openf1-json"
    return "jsonl"


def read_file_items(path: str | Path) -> Iterator[FileItem]:
    """Read a recording (pcap of game or JSON datagrams, JSONL, lap table) as `FileItem` s in file order."""
    kind = file_kind(path)
    if kind == "pcap":
        decoder = DatagramDecoder()
        for dg in read_pcap(path):
            data = dg.payload
            packet = (int.from_bytes(data[0:2], "little"), data[6]) if len(data) >= 7 and data[:1] != b"{" else None
            try:
                yield FileItem(decoder.decode(data), packet=packet)
            except IngestError as exc:
                yield FileItem([], exc, packet)
    elif kind in ("laps-csv", "openf1-json"):
        from workbench.telemetry.laptable import read_fastf1_laps, read_openf1

        try:
            records = read_fastf1_laps(path) if kind == "laps-csv" else read_openf1(path)
        except (ValueError, KeyError, TypeError) as exc:  # the readers raise ValueError; the rest: defensive
            yield FileItem([], IngestError("laps: invalid", str(exc)[:300]))
            return
        for record in records:
            yield FileItem([record])
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    yield FileItem(decode_json_bytes(line))
                except IngestError as exc:
                    yield FileItem([], IngestError(exc.reason, f"line {n}: {exc}"))


class ReplaySource:
    """Replays a recording into a sink paced by race time, like the live sources.

    Parameters
    ----------
    path : path
        A pcap (F1-game or JSON datagrams), JSONL of our records, or a lap table.
    on_reject : callable, optional
        Called with each `IngestError` (the service counts them per source).
    """

    kind = "replay"

    def __init__(self, path: str | Path, on_reject: Callable[[IngestError], Any] | None = None):
        self.path = Path(path)
        self.on_reject = on_reject
        self.seed = None
        items = list(read_file_items(self.path))
        self.records: list[Record] = [r for item in items for r in item.records]
        self.errors = [item.error for item in items if item.error is not None]
        self.drivers = list(dict.fromkeys(r.driver for r in self.records if getattr(r, "driver", None)))

    async def stream(self, sink: Callable[[Record], Any], speed: float = 1.0,
                     stop: asyncio.Event | None = None, skip: int = 0) -> int:
        """Feed the records to ``sink`` at ``speed`` x race time (``inf``: unpaced); returns the count sent.

        The first ``skip`` records are passed over (already applied before a restart).
        """
        check_pace(speed, skip)
        for error in self.errors:
            if self.on_reject is not None:
                self.on_reject(error)
        return await paced(self.records, sink, speed, stop, skip)


def check_pace(speed: float, skip: int) -> None:
    """Refuse a pace `paced` cannot keep: ``speed`` must be above 0, ``skip`` at least 0."""
    if not speed > 0:
        raise ValueError(f"speed: {speed} is not above 0")
    if skip < 0:
        raise ValueError(f"skip: {skip} is below minimum 0")


async def paced(records: Iterable[Record], sink: Callable[[Record], Any], speed: float = 1.0,
                stop: asyncio.Event | None = None, skip: int = 0) -> int:
    """Feed ``records`` (in session-time order) to ``sink`` at ``speed`` x race time; the count sent.

    The one pacing loop of every source (the simulator, a replay). ``speed`` ``inf`` sends
    unpaced. The first ``skip`` records are passed over (already delivered before a restart) and
    pacing starts at the race time of the first record sent. Yields to the event loop every 256
    records, so an unpaced source never starves other tasks; stops early when ``stop`` is set.
    """
    check_pace(speed, skip)
    wall0: float | None = None
    t0 = 0.0
    sent = 0
    for record in itertools.islice(records, skip, None):
        if stop is not None and stop.is_set():
            break
        if wall0 is None:
            wall0, t0 = time.monotonic(), record.session_time_s
        if math.isfinite(speed):
            delay = wall0 + (record.session_time_s - t0) / speed - time.monotonic()
            if delay > 0.002:
                await asyncio.sleep(delay)
        if sent % 256 == 0:
            await asyncio.sleep(0)
        sink(record)
        sent += 1
    return sent
