"""`summarize(path)`: what a recording holds — the engine of ``racetwin decode``."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from workbench.telemetry.f1udp import PACKET_NAMES
from workbench.telemetry.records import CarSample, LapRecord, SessionInfo
from workbench.telemetry.sources import file_kind, read_file_items

__all__ = ["summarize", "format_summary"]


def summarize(path: str | Path, max_examples: int = 3) -> dict[str, Any]:
    """Decode a whole file and count: packets per (format, id), decoded, rejected by reason, records,
    cars seen with their laps, session type and track."""
    packets: collections.Counter = collections.Counter()
    records: collections.Counter = collections.Counter()
    rejected: collections.Counter = collections.Counter()
    examples: dict[str, list[str]] = {}
    laps: dict[str, int] = {}
    session: dict[str, Any] = {}
    items = decoded = 0
    t_min = t_max = None
    for item in read_file_items(path):
        items += 1
        if item.packet is not None:
            packets[item.packet] += 1
        if item.error is not None:
            rejected[item.error.reason] += 1
            examples.setdefault(item.error.reason, [])
            if len(examples[item.error.reason]) < max_examples:
                examples[item.error.reason].append(str(item.error))
            continue
        decoded += 1
        for r in item.records:
            records[r.type] += 1
            t_min = r.session_time_s if t_min is None else min(t_min, r.session_time_s)
            t_max = r.session_time_s if t_max is None else max(t_max, r.session_time_s)
            if isinstance(r, CarSample):
                laps[r.driver] = max(laps.get(r.driver, 0), r.lap)
            elif isinstance(r, LapRecord):
                laps[r.driver] = max(laps.get(r.driver, 0), r.lap_number)
            elif isinstance(r, SessionInfo):
                session = {"track": r.track, "session_type": r.session_type.value, "total_laps": r.total_laps}
    return {
        "file": str(path), "kind": file_kind(path), "items": items, "decoded": decoded,
        "rejected": sum(rejected.values()),
        "decoded_pct": round(100.0 * decoded / items, 3) if items else None,
        "packets": [{"packetFormat": f, "packetId": i, "name": PACKET_NAMES.get(i, "unknown"), "count": n}
                    for (f, i), n in sorted(packets.items())],
        "rejected_by_reason": dict(rejected), "reject_examples": examples, "records": dict(records),
        "cars": sorted(laps), "laps_by_car": laps, "max_lap": max(laps.values(), default=None),
        "session_type": session.get("session_type"), "track": session.get("track"),
        "total_laps": session.get("total_laps"), "session_time_s": [t_min, t_max],
    }


def format_summary(s: dict[str, Any]) -> str:
    """The human-readable form of a `summarize` result."""
    lines = [f"{s['file']} ({s['kind']})",
             f"  items {s['items']}, decoded {s['decoded']} ({s['decoded_pct']} %), rejected {s['rejected']}"]
    if s["packets"]:
        lines.append("  packets (format, id, name: count):")
        lines += [f"    {p['packetFormat']} {p['packetId']:>2} {p['name']:<20} {p['count']}" for p in s["packets"]]
    for reason, n in sorted(s["rejected_by_reason"].items()):
        lines.append(f"  rejected {reason}: {n}  e.g. {s['reject_examples'][reason][0]}")
    lines.append("  records: " + ", ".join(f"{k} {v}" for k, v in sorted(s["records"].items())))
    lines.append(f"  cars: {len(s['cars'])} ({', '.join(s['cars'][:24])}), max lap {s['max_lap']}")
    lines.append(f"  session: {s['session_type']} at {s['track']}, total laps {s['total_laps']}, "
                 f"session time {s['session_time_s'][0]} to {s['session_time_s'][1]} s")
    return "\n".join(lines)
