"""Issue 15, store and process: the push stream's ``seq`` continues across ``--resume``; ``--resume`` picks the
newest simulator session holding records (never an empty one a mistaken start added) or the one named."""

import json

import pytest

from workbench.service.server import ServiceConfig, build_service, pick_resume_session


def _service(**kw):
    """The service over the store in ``data_dir``, without the strategy engine and the predictor."""
    return build_service(ServiceConfig(strategy_runs=0, predict_runs=0, **kw))


def _run(tmp_path, n_records, resume=False):
    service = _service(seed=5, car="VER", speed=float("inf"), data_dir=tmp_path, resume=resume)
    records = list(service.simulator.records())
    service.ingestor.ingest_records(records[service.skip:n_records], "simulator")
    service.hub.flush()
    seq, last = service.stream.seq, service.stream.buffer[-1] if service.stream.buffer else None
    service.hub.store.flush()
    sid = service.hub.session_id
    service.hub.store.close()
    return sid, seq, last


def test_stream_seq_continues_across_resume(tmp_path):
    sid, seq, last = _run(tmp_path, 3000)
    assert seq > 10
    resumed = _service(seed=5, car="VER", speed=float("inf"), data_dir=tmp_path, resume=True)
    try:
        assert resumed.hub.session_id == sid and resumed.skip == 3000
        assert resumed.stream.seq == seq and resumed.stream.buffer[-1] == last  # same events, same numbers
        records = list(resumed.simulator.records())
        resumed.ingestor.ingest_records(records[3000:4000], "simulator")
        resumed.hub.flush()
        assert resumed.stream.seq > seq and resumed.stream.buffer[-1]["seq"] == resumed.stream.seq
    finally:
        resumed.hub.store.close()


def test_result_messages_keep_their_numbers_across_resume(tmp_path):
    """Issue 17 item 2: results are stream messages too but not stored records; the store keeps them, so a
    client reconnecting after ``--resume`` sees the same messages under the same numbers, never a lower one."""
    service = _service(seed=5, car="VER", speed=float("inf"), data_dir=tmp_path)
    hub, stream = service.hub, service.stream
    records = list(service.simulator.records())
    for i in range(3):
        service.ingestor.ingest_records(records[i * 1000:(i + 1) * 1000], "simulator")
        hub.flush()
        hub.publish("race_prediction", {"lap": hub.field_twin.leader_lap, "n": i, "p": float("nan")})
    before, seq = [json.loads(json.dumps(m)) for m in stream.buffer], stream.seq
    assert before[-1]["kind"] == "race_prediction" and before[-1]["data"] == {
        "lap": hub.field_twin.leader_lap, "n": 2, "p": None}
    hub.store.flush()
    hub.store.close()
    resumed = _service(seed=5, car="VER", speed=float("inf"), data_dir=tmp_path, resume=True)
    try:
        assert resumed.stream.seq == seq  # race events alone would end 3 lower
        assert [json.loads(json.dumps(m)) for m in resumed.stream.buffer] == before
        _, backlog = resumed.stream.subscribe(since_seq=seq - 10)  # a client reconnects with its last seq
        assert [m["seq"] for m in backlog] == list(range(seq - 9, seq + 1))
        resumed.ingestor.ingest_records(list(resumed.simulator.records())[3000:4000], "simulator")
        resumed.hub.flush()
        seqs = [m["seq"] for m in resumed.stream.buffer]
        assert seqs == sorted(set(seqs)) and seqs[-1] > seq
    finally:
        resumed.hub.store.close()


def test_resume_skips_an_empty_session_and_takes_a_named_one(tmp_path):
    sid, _, _ = _run(tmp_path, 500)
    empty, _, _ = _run(tmp_path, 0)  # a mistaken start: a session with no records
    from workbench.service.server import STORE_FILE
    from workbench.store import StateStore

    store = StateStore(tmp_path / STORE_FILE)
    try:
        sessions = store.sessions()
    finally:
        store.close()
    assert [s["session_id"] for s in sessions] == [sid, empty]
    assert pick_resume_session(sessions, True)["session_id"] == sid
    assert pick_resume_session(sessions, empty)["session_id"] == empty
    with pytest.raises(ValueError, match="--resume: 'nope' is not a session in the store"):
        pick_resume_session(sessions, "nope")


def test_a_new_game_session_is_a_new_session_in_the_store(tmp_path):
    from workbench.telemetry.records import CarSample

    service = _service(seed=0, car="C00", speed=1.0, data_dir=tmp_path, source="live")
    hub, ingestor = service.hub, service.ingestor
    try:
        first = hub.session_id
        assert ingestor.ingest_records([CarSample(500.0, "C00", 9, speed_kph=280.0)], "udp") == 1
        ingestor.start_new_session("new F1-game session from udp test (UID 7)")
        assert hub.session_id != first and hub.sessions_started == 1
        assert ingestor.ingest_records([CarSample(0.5, "C00", 1, speed_kph=80.0)], "udp") == 1  # not late
        hub.flush()
        hub.store.flush()
        sessions = {s["session_id"]: s for s in hub.store.sessions()}
        assert sessions[first]["records"] == 1 and sessions[hub.session_id]["records"] == 1
        assert sessions[hub.session_id]["meta"]["previous"] == first
        assert "UID 7" in sessions[hub.session_id]["meta"]["started_by"]
    finally:
        hub.store.close()
