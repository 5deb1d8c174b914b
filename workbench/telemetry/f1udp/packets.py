"""Parse one EA F1-game UDP datagram into ``(header, body)`` dicts, driven by `layouts.LAYOUTS`.

Each layout is compiled once into a `struct.Struct` and a plan that rebuilds the
nested fields (per-car lists, arrays) from the flat tuple. A datagram that is not a
packet we know is rejected with an `F1PacketError` whose ``reason`` is one of
`REJECT_REASONS` and whose message names the field, the value and the rule.
"""

from __future__ import annotations

import math
import operator
import re
import struct
from typing import Any

from workbench.telemetry.f1udp.layouts import FORMATS, HEADER, HEADER_SIZE, LAYOUTS, PACKET_NAMES, Struct

__all__ = ["F1PacketError", "decode_packet", "decode_header", "encode_packet", "REJECT_REASONS",
           "MAX_DATAGRAM_BYTES"]

MAX_DATAGRAM_BYTES = 2048
"""No EA packet is larger (the spec's PacketUnion is 2048 bytes); anything bigger is oversized."""

REJECT_REASONS = ("truncated", "oversized", "unknown_format", "unknown_packet_id", "bad_header")


class F1PacketError(ValueError):
    """A datagram that is not a packet we can decode; ``reason`` is a key of `REJECT_REASONS`."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def _plan(st: Struct) -> list[tuple[str, str, int, Any]]:
    plan = []
    for name, code in st.fields:
        if isinstance(code, tuple):
            sub, count = code
            plan.append((name, "struct", count, _plan(sub)))
        else:
            m = re.fullmatch(r"(\d*)([a-zA-Z?])", code)
            n = int(m[1] or 1)
            plan.append((name, "scalar", 1, None) if m[2] == "s" or n == 1 else (name, "array", n, None))
    return plan


def _flat_builder(plan):
    """A fast builder for a struct without nested structs: one itemgetter for the scalars, slices for arrays."""
    scalars, arrays, pos = [], [], 0
    for name, kind, n, _ in plan:
        if kind == "scalar":
            scalars.append((name, pos))
        else:
            arrays.append((name, pos, pos + n))
        pos += n
    names = [name for name, _ in scalars]
    get = operator.itemgetter(*[p for _, p in scalars]) if len(scalars) > 1 else None
    size = pos

    def build(values: tuple, i: int) -> tuple[dict, int]:
        chunk = values[i:i + size]
        out = dict(zip(names, get(chunk))) if get is not None else {names[0]: chunk[scalars[0][1]]} if names else {}
        for name, a, b in arrays:
            out[name] = chunk[a:b]
        return out, i + size
    return build


def _build(plan, values: tuple, i: int) -> tuple[dict, int]:
    out = {}
    for name, kind, n, sub in plan:
        if kind == "scalar":
            out[name] = values[i]
            i += 1
        elif kind == "array":
            out[name] = values[i:i + n]
            i += n
        else:
            items = []
            build = _FLAT.get(id(sub))
            if build is None:
                build = _FLAT[id(sub)] = (_flat_builder(sub) if all(k != "struct" for _, k, _, _ in sub)
                                          else lambda v, j, sub=sub: _build(sub, v, j))
            for _ in range(n):
                item, i = build(values, i)
                items.append(item)
            out[name] = items[0] if n == 1 else items
    return out, i


_FLAT: dict[int, object] = {}


_HEADER_STRUCT = struct.Struct("<" + HEADER.format())
_HEADER_NAMES = [name for name, _ in HEADER.fields]
_COMPILED = {(fmt, pid): (struct.Struct("<" + lay.body.format()), _plan(lay.body), lay)
             for fmt, table in LAYOUTS.items() for pid, lay in table.items()}


def decode_header(data: bytes) -> dict[str, Any]:
    """The 29-byte packet header as a dict (raises `F1PacketError` if too short)."""
    if len(data) < HEADER_SIZE:
        raise F1PacketError("truncated", f"datagram: {len(data)} bytes is shorter than the {HEADER_SIZE}-byte header")
    return dict(zip(_HEADER_NAMES, _HEADER_STRUCT.unpack_from(data)))


def decode_packet(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Decode one datagram into ``(header, body)``, dispatching on (packetFormat, packetId).

    Raises
    ------
    F1PacketError
        ``truncated`` / ``oversized`` when the length is not the layout's size,
        ``unknown_format`` / ``unknown_packet_id`` when no layout exists,
        ``bad_header`` when the session time is not a finite, non-negative number.
    """
    if len(data) > MAX_DATAGRAM_BYTES:
        raise F1PacketError("oversized", f"datagram: {len(data)} bytes is above the limit of {MAX_DATAGRAM_BYTES}")
    header = decode_header(data)
    fmt, pid = header["packetFormat"], header["packetId"]
    if fmt not in FORMATS:
        raise F1PacketError("unknown_format", f"packetFormat: {fmt} is not one of {', '.join(map(str, FORMATS))}")
    compiled = _COMPILED.get((fmt, pid))
    if compiled is None:
        raise F1PacketError("unknown_packet_id", f"packetId: {pid} is not a packet of format {fmt} "
                                                 f"(known: {', '.join(map(str, sorted(LAYOUTS[fmt])))})")
    st, plan, layout = compiled
    if len(data) != layout.size:
        reason = "truncated" if len(data) < layout.size else "oversized"
        raise F1PacketError(reason, f"datagram: {len(data)} bytes is not the {layout.size} bytes of a "
                                    f"{fmt} {layout.name} packet")
    t = header["sessionTime"]
    if not (math.isfinite(t) and 0 <= t <= 86_400):
        raise F1PacketError("bad_header", f"sessionTime: {t!r} is not a number of seconds between 0 and 86400")
    body, _ = _build(plan, st.unpack_from(data, HEADER_SIZE), 0)
    return header, body


def _flatten(plan, body: dict, out: list) -> None:
    for name, kind, n, sub in plan:
        value = body[name]
        if kind == "scalar":
            out.append(value)
        elif kind == "array":
            out.extend(value)
        else:
            for item in ([value] if n == 1 else value):
                _flatten(sub, item, out)


def encode_packet(header: dict[str, Any], body: dict[str, Any]) -> bytes:
    """The inverse of `decode_packet`: build a datagram from the layout tables (tests, tools)."""
    st, plan, _ = _COMPILED[(header["packetFormat"], header["packetId"])]
    values: list = []
    _flatten(plan, body, values)
    return _HEADER_STRUCT.pack(*(header[n] for n in _HEADER_NAMES)) + st.pack(*values)


def zero_body(packet_format: int, packet_id: int) -> dict[str, Any]:
    """A body of the given packet with every field zero (a template for test packets)."""
    st, plan, _ = _COMPILED[(packet_format, packet_id)]
    body, _ = _build(plan, st.unpack(bytes(st.size)), 0)
    return body


def packet_name(packet_id: int) -> str:
    return PACKET_NAMES.get(packet_id, f"id{packet_id}")
