"""Build F1-game UDP test packets from the layout tables (for formats without a real capture)."""

from __future__ import annotations

from workbench.telemetry.f1udp import encode_packet, zero_body


def header(fmt: int, pid: int, t: float, player: int = 0) -> dict:
    return {"packetFormat": fmt, "gameYear": fmt % 100, "gameMajorVersion": 1, "gameMinorVersion": 0,
            "packetVersion": 1, "packetId": pid, "sessionUID": 42, "sessionTime": t, "frameIdentifier": 0,
            "overallFrameIdentifier": 0, "playerCarIndex": player, "secondaryPlayerCarIndex": 255}


def packet(fmt: int, pid: int, t: float = 0.0, player: int = 0, cars: dict[int, dict] | None = None,
           **fields) -> bytes:
    """A datagram of packet ``pid`` in format ``fmt``: zeros, then ``fields`` and per-car ``cars`` overrides."""
    body = zero_body(fmt, pid)
    body.update(fields)
    for idx, values in (cars or {}).items():
        body["cars"][idx].update(values)
    return encode_packet(header(fmt, pid, t, player), body)


def lap_data(fmt: int, t: float, cars: dict[int, dict]) -> bytes:
    """LapData with the given cars active (resultStatus 2) and the given fields."""
    return packet(fmt, 2, t, cars={i: {"resultStatus": 2, **v} for i, v in cars.items()})
