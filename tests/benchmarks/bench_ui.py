"""Benchmark (prints numbers, not a pass/fail test): N browser sessions on the live page during a fast replay.

Starts `racetwin serve --speed SPEED`, opens SESSIONS pages of ``/`` in Debian's Chromium
(Playwright), each refreshing at the page's rate (``RaceDashboard.refresh_ms``, 500 ms = 2 Hz),
and for DURATION seconds samples:

- the server process's CPU time (utime + stime from /proc) -> CPU % in all and per session,
  against the same measurement with no session open;
- update lag: the race time the hub has applied (``/api/v1/environment``) minus the race
  time each page shows in its health strip, divided by SPEED -> wall seconds behind.

Run: ``python tests/benchmarks/bench_ui.py [--sessions 10] [--speed 10] [--duration 30]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.ui.conftest import launch_browser  # noqa: E402
from tests.util import ServerProcess  # noqa: E402

TICK_S = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S


def cpu_percent(pid: int, seconds: float) -> float:
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_s(pid) - c0) / (time.monotonic() - t0)


def page_race_time(page) -> float | None:
    text = page.locator(".health-race-time b").first.text_content(timeout=5000) or ""
    try:
        return float(text.split()[0])
    except (ValueError, IndexError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--strategy-runs", type=int, default=2000)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, ServerProcess(
            "--speed", str(args.speed), "--strategy-runs", str(args.strategy_runs), tmp_path=Path(tmp)) as srv:
        pid = srv.proc.pid
        time.sleep(3.0)
        idle = cpu_percent(pid, 10.0)
        with sync_playwright() as p:
            context, _ = launch_browser(p)
            try:
                pages = []
                for _ in range(args.sessions):
                    page = context.new_page()
                    page.goto(srv.base + "/")
                    pages.append(page)
                for page in pages:
                    page.wait_for_selector(".health-race-time b", state="attached", timeout=120_000)
                views = srv.get("/api/v1/health").json()["components"]["views"]
                c0, t0 = cpu_s(pid), time.monotonic()
                lags: list[float] = []
                while time.monotonic() - t0 < args.duration:
                    for page in pages:
                        hub_t = srv.get("/api/v1/environment").json()["environment"]["session_time_s"]
                        shown = page_race_time(page)
                        if shown is not None:
                            lags.append((hub_t - shown) / args.speed)
                    time.sleep(0.5)
                busy = 100 * (cpu_s(pid) - c0) / (time.monotonic() - t0)
            finally:
                context.close()
    lags.sort()
    q = statistics.quantiles(lags, n=20) if len(lags) >= 20 else [float("nan")] * 19
    print(f"sessions {args.sessions}, speed {args.speed}x, {args.duration:.0f} s measured, {os.cpu_count()} cores")
    print(f"server views while open: {views}")
    print(f"server CPU: {idle:.1f} % with no session, {busy:.1f} % with {args.sessions} sessions "
          f"-> {(busy - idle) / args.sessions:.1f} % per session")
    print(f"update lag (wall s behind the hub, {len(lags)} samples): median {statistics.median(lags):.2f}, "
          f"p95 {q[18]:.2f}, max {max(lags):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
