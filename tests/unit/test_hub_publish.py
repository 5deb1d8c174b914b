"""Issue 17 item 2: results leave the hub as events, through one thread-safe ``hub.publish``."""

import asyncio
import threading

import pytest

from workbench.hub import recommendations
from workbench.hub.session import RESULT_KINDS, RaceSession

N = 300


def _publishers(hub: RaceSession, threads: int, errors: list) -> list[threading.Thread]:
    """Threads that each publish N predictions tagged (thread, n) and check each is visible at once."""
    def work(i: int) -> None:
        for n in range(N):
            payload = {"thread": i, "n": n}
            hub.publish("race_prediction", payload)
            if threads == 1 and hub.race_prediction is not payload:  # the newest, right after the publish
                errors.append(f"after publish {n}: {hub.race_prediction}")
    return [threading.Thread(target=work, args=(i,)) for i in range(threads)]


@pytest.mark.parametrize("threads", [1, 3])
def test_publish_from_other_threads_reaches_a_subscriber_once_in_order_on_the_loop(threads):
    hub = RaceSession("VER")
    seen: list[tuple[int, int, int]] = []
    errors: list[str] = []

    async def main() -> int:
        hub.bind_loop(asyncio.get_running_loop())
        done = asyncio.Event()

        def on_event(event) -> None:
            if event.kind == "race_prediction":
                seen.append((event.payload["thread"], event.payload["n"], threading.get_ident()))
                if len(seen) == threads * N:
                    done.set()

        hub.subscribe(on_event)
        workers = _publishers(hub, threads, errors)
        for w in workers:
            w.start()
        await asyncio.wait_for(done.wait(), 60)
        for w in workers:
            w.join()
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert not errors
    assert len(seen) == threads * N  # exactly once each
    for i in range(threads):  # in each publisher's order
        assert [n for t, n, _ in seen if t == i] == list(range(N))
    assert {tid for _, _, tid in seen} == {loop_thread}  # delivered on the hub's loop, not the worker's
    assert hub.events == []  # results are not race events


def test_without_a_loop_subscribers_run_on_the_publishing_thread_one_call_at_a_time():
    hub = RaceSession("VER")
    seen, inside, overlaps = [], [0], []

    def on_event(event) -> None:
        inside[0] += 1
        if inside[0] > 1:
            overlaps.append(event.payload)
        seen.append((event.payload["thread"], event.payload["n"]))
        inside[0] -= 1

    hub.subscribe(on_event)
    errors: list[str] = []
    workers = _publishers(hub, 3, errors)
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not overlaps and len(seen) == 3 * N
    for i in range(3):
        assert [n for t, n in seen if t == i] == list(range(N))


def test_publish_takes_only_result_kinds_and_a_new_session_clears_them():
    hub = RaceSession("VER")
    with pytest.raises(ValueError, match="kind: 'lap_completed' is not one of strategy_results, "
                                         "strategy_recommendations, race_prediction"):
        hub.publish("lap_completed", {})
    for kind in RESULT_KINDS:
        hub.publish(kind, {"generation": 1, "session_time_s": 12.5})
    assert hub.strategy_results == hub.strategy_recommendations == hub.race_prediction == {
        "generation": 1, "session_time_s": 12.5}
    hub.start_new_session("s2", "test")
    assert hub.strategy_results is None and hub.strategy_recommendations is None and hub.race_prediction is None


def test_results_are_read_only_attributes_and_the_poller_is_gone():
    hub = RaceSession("VER")
    with pytest.raises(AttributeError):
        hub.strategy_results = {"generation": 1}  # only hub.publish writes results
    assert not hasattr(recommendations, "POLL_S")
    assert not hasattr(recommendations.RecommendationService, "run")


def test_the_store_receives_published_recommendations_as_events(tmp_path, race):
    from workbench.hub.recommendations import RecommendationService
    from workbench.store import StateStore
    from workbench.strategy.ai_strategist import AIStrategist

    store = StateStore(tmp_path / "s.sqlite", commit_interval_s=0.05)
    try:
        store.create_session("r1", {"seed": 1})
        hub = RaceSession("VER", race=race, store=store, session_id="r1")
        recommender = RecommendationService(hub, AIStrategist())
        recommender.attach()
        card = {"priority": "urgent", "title": "Box now", "reasoning": "fresh tyres", "explainer": "llm:x"}
        worker = threading.Thread(target=hub.publish, args=("strategy_recommendations", {
            "generation": 9, "lap": 30, "driver": "VER", "input_hash": "abc", "recommendations": [card]}),
            kwargs={"session_time_s": 2710.5})
        worker.start()
        worker.join()
        recommender.close()
        hub.publish("strategy_recommendations", {"generation": 10, "input_hash": "def", "recommendations": [card]})
        store.flush()
        rows = [a for a in store.audit_log("r1") if a["action"] == "recommendations"]
    finally:
        store.close()
    assert len(rows) == 1  # once; after close the recommender no longer listens
    assert rows[0]["session_time_s"] == 2710.5 and rows[0]["input_hash"] == "abc" and rows[0]["actor"] == "llm:x"
    assert rows[0]["detail"] == {"generation": 9, "titles": ["Box now"], "priorities": ["urgent"],
                                 "reasoning": ["fresh tyres"], "explainers": ["llm:x"]}


def test_a_result_published_by_a_subscriber_reaches_every_subscriber_after_the_event_it_came_from():
    """The recommendation service publishes inside its callback for a strategy result; a subscriber registered
    after it (a race page) must still see the strategy result first."""
    hub = RaceSession("VER")
    first_seen, later_seen = [], []

    def recommender(event) -> None:  # what RecommendationService.on_event does
        first_seen.append(event.kind)
        if event.kind == "strategy_results":
            hub.publish("strategy_recommendations", {"generation": event.payload["generation"]})

    hub.subscribe(recommender)
    hub.subscribe(lambda event: later_seen.append(event.kind))
    hub.publish("strategy_results", {"generation": 1})
    assert first_seen == later_seen == ["strategy_results", "strategy_recommendations"]
