"""LiveTelemetryClient: stream records (a file, the simulator, your own) into a running server over WebSocket.

An adapter (tornado's WebSocket client), so it lives in service/ beside the ingest server it talks to, not in
the framework-free telemetry/ package.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.telemetry.records import Record
from workbench.telemetry.schema import to_wire

__all__ = ["LiveTelemetryClient"]


class LiveTelemetryClient:
    """A WebSocket client of the ingest server (``ws://host:8765/telemetry``).

    Parameters
    ----------
    url : str
        The ingest WebSocket URL.
    token : str, optional
        Sent as ``Authorization: Bearer <token>`` when the server requires one.
    timeout_s : float
        Limit for connecting and for each reply.

    Examples
    --------
    >>> async with LiveTelemetryClient("ws://127.0.0.1:8765/telemetry") as client:  # doctest: +SKIP
    ...     summary = await client.stream_file("race.jsonl", speed=10)
    """

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 10.0):
        self.url = url
        self.token = token
        self.timeout_s = timeout_s
        self._conn = None

    async def connect(self) -> None:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        request = HTTPRequest(self.url, headers=headers, connect_timeout=self.timeout_s,
                              request_timeout=self.timeout_s)
        self._conn = await asyncio.wait_for(websocket_connect(request), self.timeout_s)

    async def close(self) -> None:
        """Close the connection and wait (briefly) for the server's close frame."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()
            try:
                while await asyncio.wait_for(conn.read_message(), 2.0) is not None:
                    pass
            except (TimeoutError, asyncio.CancelledError):
                pass

    async def __aenter__(self) -> LiveTelemetryClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def send_message(self, message: dict | str | bytes) -> dict[str, Any]:
        """Send one raw message (record, batch, or any text) and return the server's JSON reply."""
        if self._conn is None:
            raise RuntimeError("LiveTelemetryClient: not connected (use 'async with' or connect())")
        text = message if isinstance(message, (str, bytes)) else json.dumps(message)
        await self._conn.write_message(text, binary=isinstance(text, bytes))
        reply = await asyncio.wait_for(self._conn.read_message(), self.timeout_s)
        if reply is None:
            raise ConnectionError(f"{self.url}: connection closed by the server")
        return json.loads(reply)

    async def send_records(self, records: list[Record]) -> dict[str, Any]:
        """Send records as one batch message; returns the reply."""
        return await self.send_message({"type": "batch", "records": [to_wire(r) for r in records]})

    async def stream_records(self, records: Iterable[Record], speed: float = math.inf,
                             batch_size: int = 200) -> dict[str, Any]:
        """Send records paced at ``speed`` x race time, batched; returns counts of sent/accepted/errors."""
        if not speed > 0:
            raise ValueError(f"speed: {speed} is not above 0")
        sent = accepted = 0
        errors: list[dict] = []
        batch: list[Record] = []
        t0 = wall0 = None

        async def flush() -> None:
            nonlocal accepted
            reply = await self.send_records(batch)
            accepted += reply.get("accepted", 0)  # a partly taken batch says how many, and why not the rest
            if not reply.get("ok"):
                if "results" in reply:
                    rejected: dict[str, int] = {}
                    for status in reply["results"]:
                        if status != "accepted":
                            rejected[status] = rejected.get(status, 0) + 1
                    errors.append({"reason": "not_applied", "rejected": rejected})
                else:
                    errors.append(reply.get("error", reply))
            batch.clear()

        for record in records:
            if t0 is None:
                t0, wall0 = record.session_time_s, time.monotonic()
            due = wall0 + (record.session_time_s - t0) / speed if math.isfinite(speed) else 0
            if batch and (len(batch) >= batch_size or due > time.monotonic()):
                await flush()
            delay = due - time.monotonic() if math.isfinite(speed) else 0
            if delay > 0.002:
                await asyncio.sleep(delay)
            batch.append(record)
            sent += 1
        if batch:
            await flush()
        return {"sent": sent, "accepted": accepted, "errors": errors}

    async def stream_file(self, path: str | Path, speed: float = math.inf, batch_size: int = 200) -> dict[str, Any]:
        """Stream a recording (pcap, JSONL, lap table) decoded into records."""
        from workbench.telemetry.sources import read_file_items

        records = [r for item in read_file_items(path) for r in item.records]
        return await self.stream_records(records, speed, batch_size)

    async def stream_simulator(self, simulator, speed: float = math.inf, batch_size: int = 200) -> dict[str, Any]:
        """Stream a `TelemetrySimulator` race."""
        return await self.stream_records(simulator.records(), speed, batch_size)
