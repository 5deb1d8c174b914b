"""Turning raw input into records: datagrams (F1-game binary or JSON) and files (pcap, JSONL, lap tables).

Every failure is an `IngestError` with a short ``reason`` (for counting) and a
message naming the field, the value and the rule; nothing else escapes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from workbench.telemetry.f1udp import F1GameMapper, F1PacketError, decode_packet
from workbench.telemetry.pcap import is_pcap, read_pcap
from workbench.telemetry.records import Record
from workbench.telemetry.schema import TelemetryValidationError, validate_batch

__all__ = ["IngestError", "DatagramDecoder", "FileItem", "read_file_items", "ReplaySource", "file_kind"]

MAX_JSON_BYTES = 1_000_000


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
        raise IngestError("json: invalid", f"message: is not valid JSON ({exc})") from None
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

    def __init__(self) -> None:
        self.mapper = F1GameMapper()
        self.packets: dict[tuple[int, int], int] = {}

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
        try:
            return self.mapper.records(header, body)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:  # defensive: count, go on
            raise IngestError("f1: mapping_error", f"packetId {key[1]}: {type(exc).__name__}: {exc}") from None


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
        if not speed > 0:
            raise ValueError(f"speed: {speed} is not above 0")
        for error in self.errors:
            if self.on_reject is not None:
                self.on_reject(error)
        records = self.records[skip:]
        t0 = records[0].session_time_s if records else 0.0
        wall0 = time.monotonic()
        sent = 0
        for record in records:
            if stop is not None and stop.is_set():
                break
            if math.isfinite(speed):
                delay = wall0 + (record.session_time_s - t0) / speed - time.monotonic()
                if delay > 0.002:
                    await asyncio.sleep(delay)
            if sent % 256 == 0:
                await asyncio.sleep(0)
            sink(record)
            sent += 1
        return sent
