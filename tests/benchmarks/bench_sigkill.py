"""SIGKILL loss window under load (prints numbers; not a pass/fail test).

Starts `racetwin serve --speed SPEED` (resuming after the first kill) while 8 threads read the REST API
in a loop, and SIGKILLs it KILLS times at seeded random moments. Just before each kill it reads what the
hub had applied (``applied_seq`` and race time); after the kill it opens the store and counts what
survived. The loss window is what was applied but not committed: records, race seconds, and wall
seconds (race seconds / SPEED). Committed records lost must be 0.

    python tests/benchmarks/bench_sigkill.py [KILLS] [SPEED]
"""

from __future__ import annotations

import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.util import ServerProcess  # noqa: E402
from workbench.store import StateStore  # noqa: E402

READERS = 8
PATHS = ("/api/v1/field-twin", "/api/v1/car-twin", "/api/v1/health", "/api/v1/telemetry")


def _read_loop(base: str, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=5) as client:
        i = 0
        while not stop.is_set():
            try:
                client.get(PATHS[i % len(PATHS)])
            except httpx.HTTPError:
                pass
            i += 1


def _stored(data_dir: Path) -> tuple[int, float]:
    store = StateStore(data_dir / "racetwin.sqlite")
    try:
        session = store.sessions()[-1]
        return session["last_seq"], session["last_session_time_s"] or 0.0
    finally:
        store.close()


def main(kills: int = 10, speed: float = 20.0) -> None:
    rng = random.Random(15)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for attempt in range(kills):
            resume = ("--resume",) if attempt else ()
            with ServerProcess("--speed", str(speed), "--seed", "9", "--car", "HAM", *resume,
                               tmp_path=tmp_path) as srv:
                stop = threading.Event()
                readers = [threading.Thread(target=_read_loop, args=(srv.base, stop)) for _ in range(READERS)]
                for t in readers:
                    t.start()
                time.sleep(rng.uniform(2.0, 6.0))
                health = srv.get("/api/v1/health").json()["components"]
                srv.stop(signal.SIGKILL)
                stop.set()
                for t in readers:
                    t.join()
            applied, committed = health["store"]["applied_seq"], health["store"]["committed_seq"]
            race_s = health["ingest"]["session_time_s"]
            stored_seq, stored_s = _stored(tmp_path / "state")
            rows.append({"applied": applied, "committed_reported": committed, "stored": stored_seq,
                         "lost_records": max(0, applied - stored_seq),
                         "lost_race_s": max(0.0, race_s - stored_s),
                         "committed_lost": max(0, committed - stored_seq)})
            r = rows[-1]
            print(f"kill {attempt + 1:2d}: applied {applied:6d}  stored {stored_seq:6d}  lost {r['lost_records']:4d} "
                  f"records = {r['lost_race_s']:6.2f} race s = {r['lost_race_s'] / speed:5.2f} wall s; "
                  f"committed lost {r['committed_lost']}", flush=True)
    wall = [r["lost_race_s"] / speed for r in rows]
    print(f"\n{platform.node()} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} speed={speed}x "
          f"readers={READERS} kills={kills}")
    print(f"loss window (applied, not committed), wall s: median {statistics.median(wall):.2f}, max {max(wall):.2f}")
    print(f"records lost: median {statistics.median(r['lost_records'] for r in rows):.0f}, "
          f"max {max(r['lost_records'] for r in rows)}; committed records lost: "
          f"{sum(r['committed_lost'] for r in rows)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10, float(sys.argv[2]) if len(sys.argv) > 2 else 20.0)
