"""Load benchmark for the REST API (prints numbers; not a pass/fail test).

Starts `racetwin serve --speed 10` on a free port, then 50 concurrent async
clients GET /api/v1/car-twin, /field-twin, /environment and /health in a loop for
DURATION_S seconds, and prints requests/s, latency quantiles and the ingest lag
the server reports while under load.

    python tests/benchmarks/api_load.py [DURATION_S]
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.util import ServerProcess  # noqa: E402

CLIENTS = 50
PATHS = ("/api/v1/car-twin", "/api/v1/field-twin", "/api/v1/environment", "/api/v1/health")


async def client(base: str, until: float, latencies: list[float], errors: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        i = 0
        while time.monotonic() < until:
            t0 = time.perf_counter()
            response = await http.get(PATHS[i % len(PATHS)])
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200:
                errors.append(response.status_code)
            i += 1


async def main(base: str, duration_s: float) -> tuple[list[float], list[int], float]:
    latencies: list[float] = []
    errors: list[int] = []
    t0 = time.monotonic()
    await asyncio.gather(*(client(base, t0 + duration_s, latencies, errors) for _ in range(CLIENTS)))
    return latencies, errors, time.monotonic() - t0


def wrk(base: str, duration_s: float) -> None:
    """The same load from wrk (Debian package), a C client that leaves the CPU to the server."""
    for path in PATHS:
        out = subprocess.run(["wrk", "-t1", f"-c{CLIENTS}", f"-d{max(1, int(duration_s / len(PATHS)))}s",
                              "--latency", base + path], capture_output=True, text=True).stdout
        keep = [line.strip() for line in out.splitlines()
                if line.strip().startswith(("50%", "99%", "Requests/sec", "Non-2xx"))]
        print(f"wrk {path}: " + "; ".join(keep))


if __name__ == "__main__":
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    with tempfile.TemporaryDirectory() as tmp, ServerProcess("--speed", "10", tmp_path=Path(tmp)) as srv:
        if shutil.which("wrk"):
            wrk(srv.base, duration)
        latencies, errors, wall = asyncio.run(main(srv.base, duration))
        health = srv.get("/api/v1/health").json()["components"]
        metrics = srv.get("/api/v1/metrics").json()
    ms = np.array(latencies) * 1000
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; "
          f"{CLIENTS} clients x {duration:.0f} s against racetwin serve --speed 10 (client and server share them)")
    print(f"httpx requests: {len(ms)}  errors: {len(errors)}  throughput: {len(ms) / wall:.0f} req/s")
    print(f"client latency ms: p50 {np.percentile(ms, 50):.2f}  p95 {np.percentile(ms, 95):.2f}  "
          f"p99 {np.percentile(ms, 99):.2f}  max {ms.max():.2f}")
    server_side = {k: v for k, v in metrics["latency"].items() if k.startswith("http:GET")}
    for op, s in sorted(server_side.items()):
        print(f"server {op}: p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms  n={s['count']}")
    print(f"ingest under load: per-record p99 {metrics['latency']['ingest']['p99_ms']} ms; "
          f"seconds since last record at the end: {health['ingest']['seconds_since_last_record']:.3f}")
