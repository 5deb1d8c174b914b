"""A background thread that runs only the newest job: the shape of every live computation on the hub.

The strategy orchestrator and the live predictor both take a snapshot of the race on the
event loop and hand it to a thread; while one job runs, a newer snapshot replaces any job
still waiting (the old one would only describe a race that has moved on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LatestOnlyWorker", "Superseded"]

log = logging.getLogger(__name__)

J = TypeVar("J")


class Superseded(Exception):
    """Raised by a running job that sees a newer one was submitted; counted, not logged as a failure."""


class LatestOnlyWorker(Generic[J]):
    """A daemon thread running ``run(job)`` for the newest submitted job only.

    Parameters
    ----------
    run : callable
        Does one job (in the worker thread). It may raise `Superseded` when it notices, e.g. by
        comparing `generation`, that a newer job is waiting; any other exception counts as ``failed``
        and is kept in `last_error`.
    name : str
        The thread's name.
    superseded_key : str
        The name under which replaced and superseded jobs are counted in `counts`.

    Attributes
    ----------
    counts : dict
        ``requested``, ``completed``, ``failed`` and ``superseded_key``.
    generation : int
        The number of the newest job (1 for the first).
    """

    def __init__(self, run: Callable[[J], None], name: str, superseded_key: str = "superseded"):
        self._run, self.superseded_key = run, superseded_key
        self.counts = {"requested": 0, "completed": 0, superseded_key: 0, "failed": 0}
        self.last_error: str | None = None
        self.generation = 0
        self.closed = False
        self._pending: J | None = None
        self._busy = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """Whether a job is running now."""
        return self._busy

    def submit(self, make_job: Callable[[int], J]) -> J:
        """Queue ``make_job(generation)`` (built under the worker's lock), replacing a job still waiting."""
        with self._cond:
            self.generation += 1
            self.counts["requested"] += 1
            if self._pending is not None:
                self.counts[self.superseded_key] += 1  # replaced before it started
            job = self._pending = make_job(self.generation)
            self._cond.notify_all()
            return job

    def is_stale(self, generation: int) -> bool:
        """True when a newer job than ``generation`` was submitted, or the worker is closing."""
        return generation != self.generation or self.closed

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self.closed:
                    self._cond.wait()
                if self.closed:
                    return
                job, self._pending, self._busy = self._pending, None, True
            outcome = "completed"
            try:
                self._run(job)
            except Superseded:
                outcome = self.superseded_key
            except Exception as exc:  # reported in counts and last_error; the worker goes on
                outcome = "failed"
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: job failed: %s", self._thread.name, self.last_error)
                log.debug("%s: job failed", self._thread.name, exc_info=True)
            finally:
                with self._cond:
                    self.counts[outcome] += 1
                    self._busy = False
                    self._cond.notify_all()

    def wait_idle(self, timeout_s: float | None = None) -> bool:
        """Block until nothing is waiting or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout_s)

    def close(self, join_timeout_s: float = 30.0) -> None:
        """Stop the thread after the running job (a waiting one is dropped)."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()
        self._thread.join(timeout=join_timeout_s)
