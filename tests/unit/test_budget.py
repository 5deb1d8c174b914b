"""Issue 15: one server-wide worker for on-demand runs, a bounded wait list, a clear busy answer."""

import threading

import pytest

from workbench.service.budget import Busy, ComputeBudget


def test_one_runs_a_bounded_number_waits_and_the_rest_are_refused_busy():
    budget = ComputeBudget(max_waiting=1)
    release, started, order = threading.Event(), threading.Event(), []

    def job(name):
        started.set()
        release.wait(30)
        order.append((name, threading.current_thread().name))
        return name

    first = budget.submit(job, "a")
    assert started.wait(30)
    second = budget.submit(job, "b")
    with pytest.raises(Busy, match=r"busy: 2 on-demand run\(s\) already running or waiting"):
        budget.submit(job, "c")
    assert budget.state() == {"pending": 2, "max_waiting": 1, "completed": 0, "refused": 1}
    release.set()
    assert first.result(30) == "a" and second.result(30) == "b"
    assert [n for n, _ in order] == ["a", "b"] and len({t for _, t in order}) == 1  # one shared worker
    assert budget.submit(job, "d").result(30) == "d"  # room again
    with pytest.raises(ValueError, match="max_waiting: -1 is below minimum 0"):
        ComputeBudget(-1)
