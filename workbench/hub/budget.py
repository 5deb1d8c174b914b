"""A server-wide CPU budget for on-demand runs (what-if pages, ad-hoc predictions).

Every browser session may ask for a Monte Carlo run at any moment; left alone, four tabs of
``/whatif?runs=100000`` run 800,000 races at once and starve the live strategy runs. All
on-demand work goes through one `ComputeBudget`: one shared worker thread runs one job at a
time, at most ``max_waiting`` more wait in a queue, and anything beyond that is refused at
once with `Busy` (a clear message the page shows) instead of queuing without bound.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Busy", "ComputeBudget", "shared_budget", "MAX_WAITING"]

MAX_WAITING = 2  # jobs allowed to wait behind the running one, server-wide


class Busy(RuntimeError):
    """The budget is full: one job running and ``max_waiting`` waiting."""


class ComputeBudget:
    """One worker thread and a bounded wait list for on-demand CPU work.

    Parameters
    ----------
    max_waiting : int
        Jobs that may wait behind the running one; more are refused with `Busy`.
    """

    def __init__(self, max_waiting: int = MAX_WAITING):
        if max_waiting < 0:
            raise ValueError(f"max_waiting: {max_waiting} is below minimum 0")
        self.max_waiting = max_waiting
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="racetwin-ondemand")
        self._lock = threading.Lock()
        self._pending = 0  # running + waiting
        self.completed = 0
        self.refused = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        """Queue ``fn(*args)`` on the shared worker; raises `Busy` when the wait list is full."""
        with self._lock:
            if self._pending > self.max_waiting:
                self.refused += 1
                raise Busy(f"busy: {self._pending} on-demand run(s) already running or waiting (the server runs one "
                           f"at a time, {self.max_waiting} may wait); try again when one finishes")
            self._pending += 1
        future = self._pool.submit(fn, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._pending -= 1
            self.completed += 1

    def state(self) -> dict[str, int]:
        """Running + waiting jobs, completed and refused counts (for health)."""
        with self._lock:
            return {"pending": self._pending, "max_waiting": self.max_waiting, "completed": self.completed,
                    "refused": self.refused}


_shared: ComputeBudget | None = None
_shared_lock = threading.Lock()


def shared_budget() -> ComputeBudget:
    """The process-wide budget every on-demand run goes through."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ComputeBudget()
        return _shared
