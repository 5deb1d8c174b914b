"""TelemetryIngestor: validation, de-duplication, per-source metrics, bounded queue and back-pressure."""

import asyncio

from tests.f1util import lap_data, packet
from workbench.hub.session import RaceSession
from workbench.telemetry.ingestor import TelemetryIngestor
from workbench.telemetry.records import CarSample, LapRecord


def sample(t, driver="VER", lap=1):
    return CarSample(session_time_s=t, driver=driver, lap=lap, speed_kph=200.0)


def make(max_queue=10_000, window=0.0):
    hub = RaceSession("VER", reorder_window_s=window)
    return hub, TelemetryIngestor(hub, max_queue=max_queue)


def test_json_records_reach_the_hub_and_are_counted_per_source():
    hub, ing = make()
    assert ing.ingest_json('{"type": "car_sample", "session_time_s": 1.0, "driver": "VER", "lap": 1}', "ws") == 1
    assert ing.ingest_json({"type": "batch", "records": [
        {"type": "car_sample", "session_time_s": 2.0, "driver": "VER", "lap": 1},
        {"type": "car_sample", "session_time_s": 3.0, "driver": "HAM", "lap": 1}]}, "ws") == 2
    hub.flush()
    assert hub.accepted["car_sample"] == 3
    m = ing.metrics()["sources"]["ws"]
    assert (m["messages"], m["accepted"], m["rejected_total"], m["last_session_time_s"]) == (2, 3, 0, 3.0)


def test_bad_json_is_rejected_by_reason_with_examples_and_nothing_reaches_the_hub():
    hub, ing = make()
    assert ing.ingest_json('{"type": "car_sample", "session_time_s": 1, "driver": "VER", "lap": 1, "gear": 9}',
                           "ws") == 0
    assert ing.ingest_json("{nope", "ws") == 0
    assert ing.ingest_json([1, 2], "ws") == 0
    hub.flush()
    assert sum(hub.accepted.values()) == 0
    m = ing.metrics()["sources"]["ws"]
    assert m["rejected"] == {"gear: is above maximum 8": 1, "json: invalid": 1, "message: is not a JSON object": 1}
    assert m["last_rejects"][0]["message"] == "gear: 9 is above maximum 8"


def test_duplicates_are_dropped_and_a_lap_completes_once():
    hub, ing = make()
    assert ing.ingest_records([sample(1.0), sample(1.0), sample(2.0)], "udp") == 2
    lap = LapRecord(session_time_s=50.0, driver="VER", lap_number=1, lap_time_s=90.0)
    again = LapRecord(session_time_s=50.5, driver="VER", lap_number=1, lap_time_s=90.01)
    assert ing.ingest_records([lap], "udp") == 1 and ing.ingest_records([again], "ws") == 0
    hub.flush()
    assert len(hub.laps) == 1
    assert ing.sources["udp"].duplicates == 1 and ing.sources["ws"].duplicates == 1


def test_late_records_are_counted_not_applied():
    hub, ing = make()
    ing.ingest_records([sample(10.0)], "a")
    assert ing.ingest_records([sample(5.0)], "b") == 0
    assert ing.sources["b"].rejected == {"late: older than records already applied": 1}


def test_game_datagrams_decode_per_sender():
    hub, ing = make()
    ing.ingest_datagram(lap_data(2025, 0.1, {0: {"currentLapNum": 1}}), "udp", "a:1")
    assert ing.ingest_datagram(packet(2025, 6, 0.2, cars={0: {"speed": 250}}), "udp", "a:1") == 1
    # another sender has no lap data yet: its telemetry yields no sample
    assert ing.ingest_datagram(packet(2025, 6, 0.3, cars={0: {"speed": 250}}), "udp", "b:2") == 0
    assert ing.ingest_datagram(b"\x01\x02", "udp", "a:1") == 0
    hub.flush()
    assert hub.telemetry[-1].speed_kph == 250.0 and hub.telemetry[-1].driver == "C00"
    assert ing.sources["udp"].rejected == {"f1: truncated": 1}


def test_full_queue_drops_datagrams_and_counts_them():
    async def main():
        hub, ing = make(max_queue=3)
        results = [ing.offer_datagram(b"{}", "udp") for _ in range(5)]
        assert results == [True, True, True, False, False]
        assert ing.sources["udp"].rejected["queue_full"] == 2
        assert ing.metrics()["queue"] == {"depth": 3, "max": 3}
    asyncio.run(main())


def test_put_records_waits_for_room_then_the_consumer_drains_in_order():
    async def main():
        hub, ing = make(max_queue=2)
        for t in (1.0, 2.0):
            await ing.put_records([sample(t)], "ws")
        blocked = asyncio.ensure_future(ing.put_records([sample(3.0)], "ws"))
        await asyncio.sleep(0)  # one turn of the loop: the producer runs until it blocks (or, wrongly, finishes)
        assert not blocked.done()  # back-pressure: the producer waits, memory stays bounded
        consumer = asyncio.ensure_future(ing.run())
        await asyncio.wait_for(blocked, 5)
        await asyncio.wait_for(ing.drain(), 5)
        consumer.cancel()
        hub.flush()
        assert [s.session_time_s for s in hub.telemetry] == [1.0, 2.0, 3.0]
    asyncio.run(main())
