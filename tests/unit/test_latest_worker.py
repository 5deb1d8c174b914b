"""LatestOnlyWorker: the newest job runs, a waiting one is replaced, failures are counted and kept."""

import threading

from workbench.strategy.latest_worker import LatestOnlyWorker, Superseded


def test_a_waiting_job_is_replaced_by_a_newer_one():
    started, release, done = threading.Event(), threading.Event(), []

    def run(job):
        if job == "first":
            started.set()
            release.wait(10)
        done.append(job)

    worker = LatestOnlyWorker(run, "test-worker")
    try:
        worker.submit(lambda g: "first")
        assert started.wait(10) and worker.busy
        worker.submit(lambda g: "second")  # waits behind the running job...
        worker.submit(lambda g: "third")  # ...and is replaced before it starts
        release.set()
        assert worker.wait_idle(10)
        assert done == ["first", "third"]
        assert worker.counts == {"requested": 3, "completed": 2, "superseded": 1, "failed": 0}
        assert worker.generation == 3 and not worker.is_stale(3) and worker.is_stale(2)
    finally:
        worker.close()
    assert worker.is_stale(3)  # closing makes every job stale


def test_failures_and_superseded_runs_are_counted_and_the_worker_goes_on():
    def run(job):
        if job == "boom":
            raise ValueError("bad lap table")
        if job == "stale":
            raise Superseded()

    worker = LatestOnlyWorker(run, "test-worker", superseded_key="cancelled")
    try:
        for job in ("boom", "stale", "ok"):
            worker.submit(lambda g, job=job: job)
            assert worker.wait_idle(10)
        assert worker.counts == {"requested": 3, "completed": 1, "cancelled": 1, "failed": 1}
        assert worker.last_error == "ValueError: bad lap table"
    finally:
        worker.close()


def test_generation_numbers_are_given_under_the_lock_in_submit_order():
    worker = LatestOnlyWorker(lambda job: None, "test-worker")
    try:
        jobs = [worker.submit(lambda g: g) for _ in range(5)]
        assert jobs == [1, 2, 3, 4, 5]
        assert worker.wait_idle(10)
    finally:
        worker.close()
