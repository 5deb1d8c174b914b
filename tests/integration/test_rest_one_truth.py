"""Issue 17, read through the REST API of an in-process server (127.0.0.1): one entrance into the hub
(a lap posted twice is one lap), REST and page agree on the car twin, telemetry per driver."""

from __future__ import annotations

import asyncio
import contextlib
import json

from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application

from tests.util import TOKEN
from workbench.hub.session import RaceSession
from workbench.service.server import RaceService, ServiceSettings
from workbench.service.urls import routes
from workbench.telemetry import CarSample, LapRecord, to_wire


@contextlib.asynccontextmanager
async def api(hub: RaceSession):
    """The REST routes of a service over ``hub``; yields ``call(method, path, body=None) -> (status, json)``."""
    service = RaceService(hub, None, 1.0, settings=ServiceSettings(api_token=TOKEN))
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(Application(routes(service)))
    server.add_sockets(sockets)
    base = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    client = AsyncHTTPClient()

    async def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        response = await client.fetch(base + path, method=method, raise_error=False,
                                      body=None if body is None else json.dumps(body),
                                      headers={"Authorization": f"Bearer {TOKEN}"})
        return response.code, json.loads(response.body)
    try:
        yield call
    finally:
        server.stop()


def test_a_lap_posted_twice_is_one_lap_one_event_and_a_counted_duplicate():
    async def main():
        hub = RaceSession("VER", reorder_window_s=0.0)
        completed = []
        hub.subscribe(lambda e: completed.append(e.lap) if e.kind == "lap_completed" else None)
        record = to_wire(LapRecord(95.0, "VER", 1, lap_time_s=95.0, position=1))
        async with api(hub) as call:
            first = await call("POST", "/api/v1/telemetry", record)
            second = await call("POST", "/api/v1/telemetry", record)
            hub.ingest(LapRecord(190.0, "VER", 2, lap_time_s=95.0), "simulator")  # the built-in source's lap 2 ...
            third = await call("POST", "/api/v1/telemetry", to_wire(LapRecord(190.0, "VER", 2, lap_time_s=95.0)))
            health = (await call("GET", "/api/v1/health"))[1]
        hub.flush()
        return hub, completed, first, second, third, health
    hub, completed, first, second, third, health = asyncio.run(main())
    assert first == (202, {"api_version": first[1]["api_version"], "accepted": 1, "rejected": {}})
    assert second[0] == 409 and second[1]["accepted"] == 0 and second[1]["rejected"] == {"duplicate": 1}
    assert third[0] == 409 and third[1]["rejected"] == {"duplicate": 1}  # ... posted again: one lap 2
    assert [(r.driver, r.lap_number) for r in hub.laps] == [("VER", 1), ("VER", 2)]
    assert completed == [1, 2]
    rest = health["components"]["sources"]["sources"]["rest"]
    assert (rest["messages"], rest["accepted"], rest["duplicates"]) == (3, 1, 2)
    assert health["components"]["sources"]["sources"]["simulator"]["accepted"] == 1


def test_rest_and_the_page_show_the_same_car_twin_after_a_sample_with_fuel():
    """Issue 17: REST's car twin overwrote fuel_kg with the latest sample (38.0) while the page showed the
    parameter (None). Both now read the twin's one JSON definition (`CarTwin.state`)."""
    from workbench.twins.twin_schemas import parameterized_state
    from workbench.ui.twins import CarTwinPanel, car_facts

    async def main():
        hub = RaceSession("VER", reorder_window_s=0.0)
        hub.ingest(CarSample(5.0, "VER", 1, speed_kph=250.0, fuel_kg=38.0), "ws")
        hub.flush()
        async with api(hub) as call:
            status, body = await call("GET", "/api/v1/car-twin")
        return hub, status, body["car_twin"]
    hub, status, rest = asyncio.run(main())
    twin = hub.car_twin
    assert status == 200
    assert rest == json.loads(json.dumps(twin.state()))  # REST serves the function the page reads
    assert rest["fuel_kg"] == twin.fuel_kg == 38.0 and rest["live"]["speed_kph"] == 250.0
    assert {k: v for k, v in rest.items() if k != "live"} == json.loads(json.dumps(parameterized_state(twin)))
    page = CarTwinPanel(hub=hub)
    fuel = dict(car_facts(rest))["Fuel"]
    assert fuel.startswith("38.0 kg") and fuel in page._facts.object
    assert dict(car_facts(twin.state())) == dict(car_facts(rest))


def test_telemetry_is_our_cars_by_default_another_drivers_on_request_and_a_bad_driver_is_named():
    """Issue 17: /api/v1/telemetry returned every driver's samples from one shared deque."""
    async def main():
        hub = RaceSession("VER", reorder_window_s=0.0, field_telemetry_buffer=50)
        hub.field_twin.car("LEC")  # in the session, no sample yet
        for i in range(300):  # a fast feed of another car must not push our car's samples out
            hub.ingest(CarSample(i / 10, "HAM", 1, speed_kph=200.0 + i % 50), "udp")
            if i % 10 == 0:
                hub.ingest(CarSample(i / 10 + 0.05, "VER", 1, speed_kph=100.0 + i), "udp")
        hub.flush()
        async with api(hub) as call:
            return hub, {name: await call("GET", path) for name, path in (
                ("ours", "/api/v1/telemetry?limit=1000"),
                ("ours_since", "/api/v1/telemetry?since=10.0&limit=3"),
                ("ham", "/api/v1/telemetry?driver=HAM&limit=1000"),
                ("lec", "/api/v1/telemetry?driver=LEC"),
                ("invalid", "/api/v1/telemetry?driver=ver%21"),
                ("unknown", "/api/v1/telemetry?driver=ZZZ"))}
    hub, answers = asyncio.run(main())
    status, ours = answers["ours"]
    assert status == 200 and ours["driver"] == "VER" and len(ours["samples"]) == 30
    assert {s["driver"] for s in ours["samples"]} == {"VER"} and ours["next_since"] == 29.05
    status, page = answers["ours_since"]
    assert [s["session_time_s"] for s in page["samples"]] == [10.05, 11.05, 12.05] and page["next_since"] == 12.05
    status, ham = answers["ham"]
    assert status == 200 and ham["driver"] == "HAM" and {s["driver"] for s in ham["samples"]} == {"HAM"}
    assert len(ham["samples"]) == 50 and ham["samples"][0]["session_time_s"] == 25.0  # its own ring buffer
    assert answers["lec"] == (200, {"api_version": ours["api_version"], "driver": "LEC", "samples": [],
                                    "next_since": None})
    status, invalid = answers["invalid"]
    assert status == 400 and invalid["error"] == {
        "code": "invalid_parameter",
        "message": "driver: 'ver!' does not match pattern ^[A-Z0-9]{2,4}$ (a driver code, e.g. VER)"}
    status, unknown = answers["unknown"]
    assert status == 404 and unknown["error"] == {
        "code": "unknown_driver", "message": "driver: 'ZZZ' is not a car in this session (known: HAM, LEC, VER)"}
    assert [s.driver for s in hub.telemetry_since(None, limit=1)] == ["VER"]


def test_recommendations_reach_rest_as_a_hub_event_without_a_poller(race):
    """Issue 17 item 2: a strategy result published from a worker thread is on REST right after the publish,
    and the recommendations decided from it (the RecommendationService is a hub subscriber) on the next
    turn of the loop: no 0.25 s poll between them."""
    import threading

    from workbench.hub.recommendations import RecommendationService
    from workbench.strategy.ai_strategist import AIStrategist

    payload = {"generation": 4, "lap": 24, "driver": "VER", "session_time_s": 2300.0,
               "ranked": [{"strategy": [{"lap": 25, "compound": "HARD"}], "mean_position": 3.0,
                           "success_probability": 0.72, "race_time_quantiles_s": {"p50": 5400.1},
                           "label": "1-stop (L25 HARD)"},
                          {"strategy": [{"lap": 28, "compound": "HARD"}], "mean_position": 4.0,
                           "success_probability": 0.4, "race_time_quantiles_s": {"p50": 5410.0},
                           "label": "1-stop (L28 HARD)"}]}

    async def main():
        hub = RaceSession("VER", race=race)
        hub.bind_loop(asyncio.get_running_loop())
        recommender = RecommendationService(hub, AIStrategist())
        recommender.attach()
        async with api(hub) as call:
            before = (await call("GET", "/api/v1/strategy-recommendations"))[1]
            worker = threading.Thread(target=hub.publish, args=("strategy_results", payload))
            worker.start()
            worker.join()  # published; its event waits for this loop
            results = (await call("GET", "/api/v1/strategy-results"))[1]
            recs = (await call("GET", "/api/v1/strategy-recommendations"))[1]
        recommender.close()
        return before, results, recs, recommender

    before, results, recs, recommender = asyncio.run(main())
    assert before["generation"] is None and before["recommendations"] == []
    assert results["strategy_results"]["generation"] == 4
    assert recs["generation"] == 4 and recs["lap"] == 24 and recs["recommendations"]
    assert recs["recommendations"][0]["priority"] in ("urgent", "moderate", "optional")
    assert recommender.published == 1
