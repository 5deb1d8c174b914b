"""Small helpers for tests: waiting on a condition (never a bare sleep) and a real `racetwin serve` process.

Like Panel's ``panel/tests/util.py``: a test that needs something to happen waits for that
thing with `wait_until` (threads, subprocesses) or `async_wait_until` (inside a running
asyncio / tornado loop), never for a guessed number of seconds. The timeouts are hang
detectors on a loaded 2-core machine, not performance limits.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
TOKEN = "test-token-0123456789"


def _message(what: str | Callable[[], str], timeout_s: float, last: BaseException | None) -> str:
    text = what() if callable(what) else what
    out = f"timed out after {timeout_s} s waiting for {text}"
    return f"{out}; last failure: {last}" if last is not None else out


def wait_until(predicate: Callable[[], Any], timeout_s: float = 30.0, what: str | Callable[[], str] = "condition",
               step_s: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    Parameters
    ----------
    predicate : callable
        Called with no arguments every ``step_s`` seconds. It may also ``assert``: an
        `AssertionError` counts as "not yet" and the last one is reported on timeout.
    timeout_s : float
        Fail (`AssertionError`) when the condition does not hold within this many seconds.
    what : str or callable
        The condition in words, for the failure message; a callable is called only on
        failure (e.g. to append a server's log).
    step_s : float
        Seconds between two polls.
    """
    deadline = time.monotonic() + timeout_s
    last: AssertionError | None = None
    while True:
        try:
            value = predicate()
        except AssertionError as exc:
            value, last = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(_message(what, timeout_s, last)) from last
        time.sleep(step_s)


async def async_wait_until(predicate: Callable[[], Any], timeout_s: float = 30.0,
                           what: str | Callable[[], str] = "condition", step_s: float = 0.01) -> Any:
    """`wait_until` for code running on an event loop (asyncio, tornado): polls without blocking the loop.

    ``predicate`` may return an awaitable, which is awaited. Same parameters and failure as `wait_until`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: AssertionError | None = None
    while True:
        try:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
        except AssertionError as exc:
            value, last = None, exc
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(_message(what, timeout_s, last)) from last
        await asyncio.sleep(step_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`python -m workbench serve ...` on a free port; stops it with SIGINT on exit."""

    def __init__(self, *args: str, tmp_path: Path, ready_timeout_s: float = 90.0):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"serve-{self.port}.log"
        token = () if "--api-token" in args else ("--api-token", TOKEN)
        self.args = [sys.executable, "-m", "workbench", "serve", "--port", str(self.port),
                     "--data-dir", str(tmp_path / "state"), *token, *args]
        self.ready_timeout_s = ready_timeout_s
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.args, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._healthy, self.ready_timeout_s, lambda: f"{self.base}/api/v1/health:\n{self.log()}",
                       step_s=0.2)
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", timeout=10, **kw)

    def post(self, path: str, token: str | None = TOKEN, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.base}{path}", timeout=10, headers=headers, **kw)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __exit__(self, *exc) -> None:
        self.stop()
