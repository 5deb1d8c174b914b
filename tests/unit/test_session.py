"""RaceSession, the hub: race-time order, rejects counted not raised, events emitted."""

import random

import pytest

from workbench.hub.session import RaceSession
from workbench.race.simulator import TelemetrySimulator
from workbench.telemetry import CarSample, EventKind, LapRecord, RaceEvent, TrackStatus, to_wire


def lap(t, driver="VER", n=1, **kw):
    return LapRecord(t, driver, n, **kw)


def test_out_of_order_records_within_the_window_are_applied_in_order():
    hub = RaceSession("VER", reorder_window_s=1.0)
    applied = []
    hub.subscribe(lambda e: applied.append(e.session_time_s) if e.kind == "lap_completed" else None)
    times = [10.0 + 0.1 * i for i in range(30)]
    shuffled = times[:]
    random.Random(1).shuffle(shuffled)
    # shuffle only within blocks smaller than the window
    blocks = [sorted(times[i:i + 5], key=lambda t: shuffled.index(t)) for i in range(0, 30, 5)]
    for t in [t for b in blocks for t in b]:
        assert hub.submit(lap(t, n=1 + int(round((t - 10) * 10))))
    hub.flush()
    assert applied == sorted(applied) and len(applied) == 30


def test_late_record_is_rejected_and_counted_not_applied():
    hub = RaceSession("VER", reorder_window_s=0.5)
    hub.submit(lap(10.0, n=1))
    hub.submit(lap(20.0, n=2))  # applies the lap at 10 s
    assert hub.car_twin.lap == 1
    assert not hub.submit(lap(5.0, n=3, position=4))
    hub.flush()
    assert hub.car_twin.lap == 2 and hub.car_twin.position is None
    assert hub.rejected == {"late: older than records already applied": 1}


def test_bad_json_is_counted_by_reason_and_changes_nothing():
    hub = RaceSession("VER", reorder_window_s=0.0)
    assert hub.ingest(to_wire(lap(1.0, n=1, position=3)), "json") == ["accepted"]
    before = hub.car_twin.state()
    error = hub.ingest({"type": "batch", "records": [to_wire(lap(2.0, n=2, position=1)),
                                                     {**to_wire(lap(3.0, n=3)), "tyre_age_laps": -2}]}, "json")
    assert str(error) == "records[1].tyre_age_laps: -2 is below minimum 0"
    hub.ingest("not an object", "json")
    hub.ingest({"type": "lap", "session_time_s": 4, "driver": "VER", "lap_number": 0}, "json")
    assert hub.car_twin.state() == before
    assert hub.rejected == {"records[].tyre_age_laps: is below minimum 0": 1, "message: is not a JSON object": 1,
                            "lap_number: is below minimum 1": 1}
    assert [r["source"] for r in hub.last_rejects] == ["json"] * 3
    assert hub.health()["rejected_total"] == 3


def test_events_for_laps_pits_and_safety_car():
    hub = RaceSession("VER", reorder_window_s=0.0)
    seen = []
    hub.subscribe(seen.append)
    hub.submit(lap(95.0, n=1))
    hub.submit(RaceEvent(96.0, EventKind.SC_DEPLOYED, lap=2))
    hub.submit(RaceEvent(97.0, EventKind.PIT_IN, "VER", 2))
    assert hub.car_twin.in_pit and hub.environment.track_status is TrackStatus.SC
    hub.submit(RaceEvent(120.0, EventKind.SC_ENDED, lap=3))
    hub.submit(RaceEvent(121.0, EventKind.RETIREMENT, "HAM", 3))
    assert [e.kind for e in seen] == ["lap_completed", "sc_deployed", "pit_in", "sc_ended", "retirement"]
    assert hub.environment.track_status is TrackStatus.GREEN
    assert hub.field_twin.cars["HAM"].retired


def test_broken_subscriber_does_not_stop_the_hub():
    hub = RaceSession("VER", reorder_window_s=0.0)
    hub.subscribe(lambda e: 1 / 0)
    ok = []
    unsubscribe = hub.subscribe(ok.append)
    hub.submit(lap(1.0, n=1))
    unsubscribe()
    hub.submit(lap(2.0, n=2))
    assert hub.subscriber_errors == 2 and len(ok) == 1 and hub.car_twin.lap == 2


def test_hub_replays_a_simulated_race_to_its_final_state(race):
    sim = TelemetrySimulator(race, seed=4)
    hub = RaceSession("VER", race=race)
    for record in sim.records():
        hub.submit(record)
    hub.flush()
    laps = sim.laps_frame()
    final = laps.sort_values("LapNumber").groupby("Driver").tail(1).set_index("Driver")
    for driver, twin in hub.field_twin.cars.items():
        assert twin.lap == final.loc[driver, "LapNumber"]
        assert twin.position == final.loc[driver, "Position"]
        assert twin.pit_stops == final.loc[driver, "Stint"] - 1
    assert hub.environment.finished and hub.environment.leader_lap == race.track.laps
    assert hub.accepted["lap"] == len(laps)
    assert not hub.rejected


def test_telemetry_since_pages_forward():
    hub = RaceSession("VER", reorder_window_s=0.0)
    for i in range(50):
        hub.submit(CarSample(i / 10, "VER", 1, speed_kph=100.0 + i))
    page = hub.telemetry_since(1.0, limit=5)
    assert [s.session_time_s for s in page] == [1.1, 1.2, 1.3, 1.4, 1.5]
    assert hub.telemetry_since(None, limit=2)[-1].session_time_s == 4.9


def test_unknown_car_and_bad_window():
    from workbench.strategy.racedef import bundled_race
    with pytest.raises(KeyError, match="'XXX' is not in the race"):
        RaceSession("XXX", race=bundled_race())
    with pytest.raises(ValueError, match="reorder_window_s: -1 is below minimum 0"):
        RaceSession("VER", reorder_window_s=-1)


def test_store_keeps_every_applied_record_and_restores_the_twins(tmp_path, race):
    from workbench.store import StateStore
    store = StateStore(tmp_path / "s.sqlite", commit_interval_s=0.05)
    store.create_session("r1", {"seed": 4})
    hub = RaceSession("VER", race=race, store=store, session_id="r1")
    records = list(TelemetrySimulator(race, seed=4).records())[:3000]
    for record in records:
        hub.submit(record, source="simulator")
    hub.ingest({"type": "lap", "session_time_s": 2, "driver": "VER", "lap_number": -1}, "json")
    hub.flush()
    assert store.flush()
    assert store.committed_seq("r1") == hub.applied_seq == len(records)
    again = RaceSession("VER", race=race, store=store, session_id="r1")
    assert again.restore() == {"simulator": len(records)}
    assert again.snapshot_state() == hub.snapshot_state()
    assert store.committed_seq("r1") == len(records)  # restoring wrote nothing
    store.close()


def test_looking_at_the_twins_never_changes_them(race):
    """Views read the twins at arbitrary moments (REST, app, orchestrator); the state a hub ends
    in must not depend on when or how often they looked."""
    sim = TelemetrySimulator(race, seed=9)  # a race with a retirement: a retired car's last lap is old
    assert sim.result.retired_lap.any()
    records = list(sim.records())
    watched, unwatched = RaceSession("HAM", race=race), RaceSession("HAM", race=race)
    for i, record in enumerate(records):
        watched.submit(record)
        unwatched.submit(record)
        if i % 50 == 0:
            watched.field_twin.state()
            watched.car_twin.state()
    watched.flush()
    unwatched.flush()
    assert watched.field_twin.state() == unwatched.field_twin.state()
    assert watched.car_twin.state() == unwatched.car_twin.state()


def test_one_entrance_drops_a_repeated_lap_for_every_source_and_counts_it_per_source():
    """Issue 17: the same lap record twice (REST, then REST; simulator, then REST) is one lap, one event."""
    hub = RaceSession("VER", reorder_window_s=0.0)
    completed = []
    hub.subscribe(lambda e: completed.append((e.driver, e.lap)) if e.kind == "lap_completed" else None)
    wire = to_wire(lap(10.0, n=1, lap_time_s=90.0))
    assert hub.ingest(wire, "rest") == ["accepted"]
    assert hub.ingest(wire, "rest") == ["duplicate"]
    assert hub.ingest(lap(11.0, n=1, lap_time_s=90.1), "python") == ["duplicate"]  # a second copy of lap 1
    assert hub.submit(lap(20.0, "HAM", n=1), "simulator")
    assert hub.ingest({"type": "batch", "records": [to_wire(lap(20.0, "HAM", n=1)), to_wire(lap(30.0, n=2))]},
                      "rest") == ["duplicate", "accepted"]
    hub.flush()
    assert [(r.driver, r.lap_number) for r in hub.laps] == [("VER", 1), ("HAM", 1), ("VER", 2)]
    assert completed == [("VER", 1), ("HAM", 1), ("VER", 2)]
    metrics = hub.source_metrics()
    assert (metrics["rest"]["messages"], metrics["rest"]["accepted"], metrics["rest"]["duplicates"]) == (3, 2, 2)
    assert (metrics["python"]["duplicates"], metrics["simulator"]["accepted"]) == (1, 1)


def test_one_entrance_takes_one_record_a_list_or_wire_json_and_answers_per_record():
    hub = RaceSession("VER", reorder_window_s=0.0)
    assert hub.ingest([]) == []
    assert hub.ingest([lap(1.0, n=1), lap(2.0, n=2)], "replay") == ["accepted", "accepted"]
    assert hub.ingest(lap(0.5, n=3), "udp") == ["late: older than records already applied"]
    error = hub.ingest([], "rest", wire=True)  # a JSON array is not a message
    assert str(error) == "[] is not a JSON object" and error.reason == "message: is not a JSON object"
    assert hub.source_metrics()["rest"]["rejected"] == {"message: is not a JSON object": 1}
    assert hub.source_metrics()["udp"]["rejected"] == {"late: older than records already applied": 1}
    with pytest.raises(ValueError, match="dedup_window: 0 is below minimum 1"):
        RaceSession("VER", dedup_window=0)


def test_a_new_session_forgets_the_laps_seen_so_lap_one_counts_again():
    hub = RaceSession("VER", reorder_window_s=0.0)
    hub.ingest(lap(5.0, n=1), "udp")
    hub.start_new_session(reason="test")
    assert hub.ingest(lap(5.0, n=1), "udp") == ["accepted"]
    hub.flush()
    assert len(hub.laps) == 1 and hub.sources["udp"].accepted == 2


def test_one_ring_buffer_per_driver_our_car_keeps_more():
    hub = RaceSession("VER", reorder_window_s=0.0, telemetry_buffer=20, field_telemetry_buffer=5)
    for i in range(30):
        hub.ingest([CarSample(i / 10, "HAM", 1), CarSample(i / 10 + 0.01, "VER", 1)], "python")
    assert len(hub.telemetry_by_driver["VER"]) == 20 and len(hub.telemetry_by_driver["HAM"]) == 5
    assert hub.telemetry_since(None, limit=100)[0].session_time_s == 1.01  # our car's oldest kept
    assert [s.session_time_s for s in hub.telemetry_since(2.6, driver="HAM")] == [2.7, 2.8, 2.9]
    assert hub.telemetry_since(None, driver="LEC") == []
    merged = hub.telemetry  # every driver, race-time order
    assert [s.session_time_s for s in merged] == sorted(s.session_time_s for s in merged) and len(merged) == 25
    hub.start_new_session(reason="test")
    assert hub.telemetry_by_driver == {} and hub.telemetry == []
    with pytest.raises(ValueError, match="field_telemetry_buffer: 0 is below minimum 1"):
        RaceSession("VER", field_telemetry_buffer=0)
