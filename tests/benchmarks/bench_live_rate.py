"""How closely the served race follows wall time at 1x (prints numbers; not a pass/fail test).

Starts `racetwin serve` at its default speed (1x) and, for ``SECONDS`` of wall time, follows
``/api/v1/telemetry`` with ``since=``: race seconds advanced per wall second (1.0 is exact),
our car's samples per wall second (10 Hz at 1x), and the lag of the newest served sample behind
the race clock. These used to be wall-clock assertions in tests/live/test_live_serve.py; the
test keeps the functional part (samples keep arriving, 0.1 s apart in race time).

    python tests/benchmarks/bench_live_rate.py [SECONDS] [SEED]
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.util import ServerProcess, wait_until  # noqa: E402


def _samples(server: ServerProcess, **params) -> list[dict]:
    return server.get("/api/v1/telemetry", params={"limit": 1000, **params}).json()["samples"]


def main(seconds: float = 10.0, seed: int = 5) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-live-rate-") as tmp, \
            ServerProcess("--seed", str(seed), tmp_path=Path(tmp)) as server:
        first = wait_until(lambda: _samples(server, limit=1), 30, "a first live sample", step_s=0.05)
        t0, since = time.monotonic(), first[-1]["session_time_s"]
        start_race = since
        count = 0
        while time.monotonic() - t0 < seconds:  # the measurement window itself, not a wait for a condition
            page = _samples(server, since=since)
            if page:
                count += len(page)
                since = page[-1]["session_time_s"]
            time.sleep(0.1)
        wall = time.monotonic() - t0
        env = server.get("/api/v1/environment").json()["environment"]
    race = since - start_race
    print(f"live rate at 1x over {wall:.1f} s wall ({os.cpu_count()} cores, {platform.python_version()}):")
    print(f"  race time advanced   {race:8.2f} s   ({race / wall:.3f} race s per wall s; 1.000 is exact)")
    print(f"  samples (our car)    {count:8d}     ({count / wall:.2f} per wall s; 10 at 1x)")
    print(f"  hub clock - newest   {(env.get('session_time_s') or since) - since:8.2f} s   "
          "(reorder window and polling lag)")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, int(sys.argv[2]) if len(sys.argv) > 2 else 5)
