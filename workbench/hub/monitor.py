"""SystemMonitor: latency histograms, uptime, memory and drop counters for /api/v1/metrics."""

from __future__ import annotations

import collections
import resource
import time
from typing import Any

import numpy as np

__all__ = ["SystemMonitor"]

RESERVOIR = 4096  # latest observations kept per operation


class SystemMonitor:
    """Collects latencies by operation name (e.g. ``http:/api/v1/car-twin``, ``ingest``)."""

    def __init__(self):
        self.started = time.monotonic()
        self._latency_ms: dict[str, collections.deque] = collections.defaultdict(
            lambda: collections.deque(maxlen=RESERVOIR))
        self._counts: collections.Counter = collections.Counter()
        self.dropped: collections.Counter = collections.Counter()

    def observe(self, operation: str, seconds: float) -> None:
        self._latency_ms[operation].append(seconds * 1000.0)
        self._counts[operation] += 1

    def summary(self) -> dict[str, Any]:
        latency = {}
        for op, values in self._latency_ms.items():
            arr = np.fromiter(values, dtype=float)
            q = np.percentile(arr, [50, 95, 99]) if arr.size else [None] * 3
            latency[op] = {"count": self._counts[op], "p50_ms": _f(q[0]), "p95_ms": _f(q[1]),
                           "p99_ms": _f(q[2]), "max_ms": _f(arr.max()) if arr.size else None}
        return {"uptime_s": time.monotonic() - self.started, "memory_rss_mb": _rss_mb(),
                "latency": latency, "dropped": dict(self.dropped)}


def _rss_mb() -> float:
    """Current resident memory (Linux /proc), else the peak from getrusage."""
    try:
        pages = int(open("/proc/self/statm").read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _f(value) -> float | None:
    return None if value is None else round(float(value), 4)
