"""Issue 15: one server-wide worker for on-demand runs, a bounded wait list, a clear busy answer."""

import threading

import pytest

from workbench.hub.budget import Busy, ComputeBudget


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


def test_four_what_if_tabs_share_one_worker_and_the_fourth_is_told_busy(race, monkeypatch):
    """The report: four tabs of /whatif?runs=100000 ran 800,000 races at once. Now one runs, two wait,
    the fourth is answered 'busy' at once."""
    import asyncio

    import workbench.hub.budget as budget_module
    from workbench.ui.whatif import WhatIfExplorer

    monkeypatch.setattr(budget_module, "_shared", ComputeBudget(max_waiting=2))
    pages = [WhatIfExplorer(race=race, runs=100, backend="numpy", seed=i) for i in range(4)]

    async def main():
        await asyncio.gather(*(page.run() for page in pages))
    asyncio.run(main())
    busy = [p for p in pages if "whatif-busy" in p.status.object]
    done = [p for p in pages if p.runs_done == 1]
    assert len(busy) == 1 and len(done) == 3
    assert "busy: 3 on-demand run(s) already running or waiting" in busy[0].status.object
    assert budget_module.shared_budget().state() == {"pending": 0, "max_waiting": 2, "completed": 3, "refused": 1}
