"""The REST API as a contract: real responses validate against the generated OpenAPI
document, writes need the bearer token, CORS is off by default, the push stream resumes,
and a short schemathesis run finds no server errors."""

import asyncio
import json
import subprocess
import sys

import jsonschema
import pytest
from tornado.websocket import websocket_connect

from tests.util import TOKEN, ServerProcess, wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess("--speed", "60", "--seed", "2", tmp_path=tmp_path_factory.mktemp("contract")) as srv:
        # responses carry data once a couple of laps are in
        wait_until(lambda: srv.get("/api/v1/car-twin").json()["car_twin"]["lap"] >= 2, 60, "two laps of our car",
                   step_s=0.2)
        yield srv


@pytest.fixture(scope="module")
def openapi(server):
    return server.get("/api/v1/openapi.json").json()


def _validator(openapi, name):
    schema = {"$ref": f"#/components/schemas/{name}", "components": openapi["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_openapi_document_is_well_formed(openapi):
    assert openapi["openapi"].startswith("3.1")
    for path in ("/api/v1/health", "/api/v1/car-twin", "/api/v1/field-twin", "/api/v1/environment",
                 "/api/v1/telemetry", "/api/v1/sessions", "/api/v1/metrics"):
        assert path in openapi["paths"], path
    for schema in openapi["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    assert openapi["paths"]["/api/v1/telemetry"]["post"]["security"] == [{"bearer": []}]


@pytest.mark.parametrize("path,params", [
    ("/api/v1/health", None), ("/api/v1/car-twin", None), ("/api/v1/field-twin", None),
    ("/api/v1/environment", None), ("/api/v1/telemetry", {"limit": 3}), ("/api/v1/sessions", None),
    ("/api/v1/metrics", None), ("/api/v1/schema/telemetry", None),
])
def test_real_responses_validate_against_openapi(server, openapi, path, params):
    response = server.get(path, params=params)
    assert response.status_code == 200
    ref = openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    _validator(openapi, ref.rsplit("/", 1)[-1]).validate(response.json())


def test_error_responses_validate_too(server, openapi):
    for response in (server.get("/api/v1/telemetry", params={"limit": 0}), server.get("/api/v1/nope"),
                     server.post("/api/v1/telemetry", token=None, json={})):
        assert response.status_code >= 400
        _validator(openapi, "ErrorResponse").validate(response.json())


def test_writes_need_the_bearer_token(server):
    record = {"type": "session", "session_time_s": 0.5, "track": "Bahrain International Circuit",
              "air_temp_c": 21.5}
    missing = server.post("/api/v1/telemetry", token=None, json=record)
    wrong = server.post("/api/v1/telemetry", token="not-the-token", json=record)
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "Bearer <token>" in missing.json()["error"]["message"]
    before = server.get("/api/v1/health").json()["components"]["ingest"]["accepted"].get("session", 0)
    posted = server.post("/api/v1/telemetry", json=record)
    after = server.get("/api/v1/health").json()["components"]["ingest"]
    if posted.status_code == 202:  # the race had not passed 0.5 s yet
        assert posted.json()["accepted"] == 1 and after["accepted"]["session"] == before + 1
    else:  # the honest answer: nothing applied, and why
        assert posted.status_code == 409 and posted.json()["accepted"] == 0
        assert posted.json()["rejected"] == {"late: older than records already applied": 1}
        assert after["rejected"]["late: older than records already applied"] >= 1


def test_oversized_body_is_refused(server):
    big = b'{"type": "batch", "records": [' + b" " * 1_000_001 + b"]}"
    response = server.post("/api/v1/telemetry", content=big)
    assert response.status_code == 413 and "above the limit" in response.json()["error"]["message"]


def test_cors_is_off_by_default(server):
    assert "Access-Control-Allow-Origin" not in server.get("/api/v1/health").headers


def test_cors_origin_when_asked(tmp_path):
    with ServerProcess("--speed", "max", "--cors-origin", "https://dash.example", tmp_path=tmp_path) as srv:
        assert srv.get("/api/v1/health").headers["Access-Control-Allow-Origin"] == "https://dash.example"


def test_metrics_report_latency_by_operation(server):
    server.get("/api/v1/car-twin")
    metrics = server.get("/api/v1/metrics").json()
    assert metrics["latency"]["http:GET /api/v1/car-twin"]["count"] >= 1
    assert metrics["latency"]["ingest"]["count"] > 100
    assert metrics["uptime_s"] > 0 and metrics["memory_rss_mb"] > 10


def _read_stream(url: str, n: int, timeout_s: float = 30) -> list[dict]:
    """The first ``n`` push-stream messages at ``url`` (each within ``timeout_s``), then a clean close."""
    async def read():
        conn = await websocket_connect(url)
        out = [json.loads(await asyncio.wait_for(conn.read_message(), timeout_s)) for _ in range(n)]
        conn.close()
        while await asyncio.wait_for(conn.read_message(), 30) is not None:
            pass  # drain until the close handshake is done, so no socket outlives the loop
        return out
    return asyncio.run(read())


def test_push_stream_numbers_messages_and_resumes(server):
    url = server.base.replace("http", "ws") + "/api/v1/stream"
    first = _read_stream(url, 5)
    seqs = [m["seq"] for m in first]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert {m["kind"] for m in first} <= {"lap_completed", "car_twin", "pit_in", "pit_out", "sc_deployed",
                                          "sc_ended", "vsc_deployed", "vsc_ended", "retirement", "track_status",
                                          "chequered_flag", "flag", "red_flag", "session_started",
                                          "strategy_results", "strategy_recommendations", "race_prediction"}
    resumed = _read_stream(f"{url}?since_seq={seqs[1]}", 3)
    assert [m["seq"] for m in resumed] == [seqs[1] + 1, seqs[1] + 2, seqs[1] + 3]
    lap = next(m for m in first + resumed if m["kind"] == "lap_completed")
    assert lap["data"]["type"] == "lap" and lap["data"]["driver"] == lap["driver"]


def test_push_stream_carries_the_published_results_and_filters_by_kind(server):
    """Issue 17 item 2: the engine's results are stream messages; ``?kinds=`` keeps some kinds only."""
    url = server.base.replace("http", "ws") + "/api/v1/stream"
    results = _read_stream(f"{url}?since_seq=0&kinds=strategy_results,strategy_recommendations", 2, 120)
    assert {m["kind"] for m in results} <= {"strategy_results", "strategy_recommendations"}
    decision = next(m for m in results if m["kind"] == "strategy_results")
    assert decision["driver"] == "VER" and decision["data"]["ranked"] and decision["lap"] == decision["data"]["lap"]
    assert results[0]["seq"] < results[1]["seq"]
    laps = _read_stream(f"{url}?kinds=lap_completed", 3, 120)
    assert {m["kind"] for m in laps} == {"lap_completed"}
    refused = _read_stream(f"{url}?kinds=lap_completed,laps", 1, 120)[0]
    assert refused["error"]["code"] == "invalid_parameter"
    assert refused["error"]["message"].startswith("kinds: 'laps' is not a stream message kind; allowed: ")
    assert "race_prediction" in refused["error"]["message"]


def test_schemathesis_finds_no_server_errors(server):
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{server.base}/api/v1/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", "15", "-H", f"Authorization: Bearer {TOKEN}",
         "--request-timeout", "10"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
