"""Issue 17 item 2: published results reach the push stream as messages (JSON-safe, numbered with the race
events), a client may ask for some kinds only, and a store keeps the result messages so that a resumed
stream numbers everything as before."""

import asyncio
import json

import numpy as np
import pytest

from workbench.hub.session import RESULT_KINDS, RaceSession
from workbench.hub.stream import RACE_KINDS, STREAM_KINDS, EventStream, parse_kinds
from workbench.store import StateStore
from workbench.telemetry import LapRecord


def _lap(t: float, driver: str, n: int) -> LapRecord:
    return LapRecord(session_time_s=t, driver=driver, lap_number=n, lap_time_s=90.0)


def _roundtrip(messages) -> list[dict]:
    return [json.loads(json.dumps(m)) for m in messages]


def test_results_are_stream_messages_numbered_with_the_race_events():
    hub = RaceSession("VER", reorder_window_s=0.0)
    stream = EventStream(hub)
    hub.ingest([_lap(90.0, "HAM", 1)], "test")
    hub.publish("strategy_results", {"generation": 3, "driver": "VER", "lap": 1, "session_time_s": 90.0,
                                     "ranked": [{"p_gain": float("nan"), "laps": (18, 36)}]})
    hub.publish("race_prediction", {"lap": 1, "predicted": [{"driver": "HAM", "p_win": float("inf")}]})
    hub.publish("strategy_recommendations", None)  # withdrawn
    hub.ingest([_lap(91.0, "VER", 1)], "test")
    kinds = [m["kind"] for m in stream.buffer]
    assert kinds == ["lap_completed", "strategy_results", "race_prediction", "strategy_recommendations",
                     "lap_completed", "car_twin"]
    assert [m["seq"] for m in stream.buffer] == [1, 2, 3, 4, 5, 6]
    results, prediction, withdrawn = list(stream.buffer)[1:4]
    assert results["driver"] == "VER" and results["lap"] == 1 and results["session_time_s"] == 90.0
    assert results["data"]["generation"] == 3
    assert results["data"]["ranked"] == [{"p_gain": None, "laps": [18, 36]}]  # JSON-safe: NaN -> null
    assert prediction["driver"] is None and prediction["lap"] == 1  # the whole field's prediction
    assert prediction["data"]["predicted"][0]["p_win"] is None
    assert withdrawn["data"] is None
    json.dumps(list(stream.buffer), allow_nan=False)  # strict JSON, as the WebSocket writes it


def test_a_client_can_ask_for_some_kinds_only_and_a_wrong_kind_is_named():
    assert set(RESULT_KINDS) <= set(STREAM_KINDS) and "car_twin" in STREAM_KINDS
    assert set(RACE_KINDS) >= {"lap_completed", "pit_in", "sc_deployed", "track_status", "chequered_flag"}
    assert parse_kinds(None) is None
    assert parse_kinds("lap_completed, race_prediction") == {"lap_completed", "race_prediction"}
    with pytest.raises(ValueError, match=r"kinds: 'laps' is not a stream message kind; allowed: lap_completed, "
                                         r"pit_in, .*strategy_results, strategy_recommendations, race_prediction"):
        parse_kinds("lap_completed,laps")
    with pytest.raises(ValueError, match="kinds: ' , ' names no kind; allowed: lap_completed"):
        parse_kinds(" , ")

    async def main():
        hub = RaceSession("VER", reorder_window_s=0.0)
        stream = EventStream(hub)
        hub.ingest([_lap(90.0, "HAM", 1)], "test")
        hub.publish("race_prediction", {"lap": 1, "predicted": []})
        races, _ = stream.subscribe(kinds=parse_kinds(",".join(RACE_KINDS)))
        results, backlog = stream.subscribe(since_seq=0, kinds=parse_kinds("race_prediction"))
        hub.ingest([_lap(91.0, "VER", 1)], "test")
        hub.publish("race_prediction", {"lap": 1, "predicted": []})
        got = {name: [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
               for name, sub in (("races", races), ("results", results))}
        return backlog, got
    backlog, got = asyncio.run(main())
    assert [(m["seq"], m["kind"]) for m in backlog] == [(2, "race_prediction")]  # the backlog is filtered too
    assert [(m["seq"], m["kind"]) for m in got["races"]] == [(3, "lap_completed")]  # no car_twin, no result
    assert [(m["seq"], m["kind"]) for m in got["results"]] == [(5, "race_prediction")]  # seq counts every message


def test_a_resumed_stream_puts_stored_results_back_at_their_numbers(tmp_path):
    store = StateStore(tmp_path / "s.sqlite", commit_interval_s=0.05)
    try:
        store.create_session("r1", {"seed": 1})
        hub = RaceSession("VER", store=store, session_id="r1", reorder_window_s=0.0)
        stream = EventStream(hub)
        hub.publish("race_prediction", {"lap": 0, "predicted": []})  # before any race event
        for n in range(1, 4):
            hub.ingest([_lap(90.0 * n, "HAM", n), _lap(90.0 * n + 1, "VER", n)], "simulator")
            hub.publish("strategy_results", {"generation": n, "driver": "VER", "lap": n, "x": float("nan")})
            hub.publish("strategy_recommendations", {"generation": n, "recommendations": []})
        before, seq = _roundtrip(stream.buffer), stream.seq
        assert before[-1]["kind"] == "strategy_recommendations" and seq == 1 + 3 * (3 + 2)
        store.flush()
        assert [m["seq"] for m in store.results("r1")] == [m["seq"] for m in before if m["kind"] in RESULT_KINDS]
        assert len(store.results("r1", "strategy_results")) == 3

        again = RaceSession("VER", store=store, session_id="r1", reorder_window_s=0.0)
        resumed = EventStream(again)
        again.restore()
        resumed.restored()
        assert resumed.seq == seq and _roundtrip(resumed.buffer) == before  # same messages, same numbers
        assert resumed.restored_results == 7
        _, backlog = resumed.subscribe(since_seq=seq - 3)  # a client that saw up to seq - 3 reconnects
        assert [m["seq"] for m in backlog] == [seq - 2, seq - 1, seq]
        again.ingest([_lap(400.0, "HAM", 4)], "simulator")
        assert resumed.buffer[-1]["seq"] == seq + 1  # goes on, never below a number given out before
    finally:
        store.close()


def test_a_result_with_numpy_numbers_is_stored_and_resumes_at_its_number(tmp_path):
    """A payload's lap as a numpy integer and a NaN time must not keep its message out of the store: a hole in
    the stored numbers would shift every seq after a --resume."""
    store = StateStore(tmp_path / "s.sqlite", commit_interval_s=0.05)
    try:
        store.create_session("r1", {"seed": 1})
        hub = RaceSession("VER", store=store, session_id="r1", reorder_window_s=0.0)
        stream = EventStream(hub)
        for n in range(1, 4):
            hub.ingest([_lap(90.0 * n, "VER", n)], "simulator")
            hub.publish("strategy_results", {"generation": n, "driver": "VER", "lap": np.int64(n)},
                        session_time_s=float("nan") if n == 2 else None)
        before, seq = _roundtrip(stream.buffer), stream.seq
        results = [m for m in before if m["kind"] == "strategy_results"]
        assert [m["lap"] for m in results] == [1, 2, 3] and results[1]["session_time_s"] is None
        store.flush()
        assert [m["seq"] for m in store.results("r1")] == [m["seq"] for m in results]  # every one stored
        again = RaceSession("VER", store=store, session_id="r1", reorder_window_s=0.0)
        resumed = EventStream(again)
        again.restore()
        resumed.restored()
        assert resumed.seq == seq and _roundtrip(resumed.buffer) == before
    finally:
        store.close()
