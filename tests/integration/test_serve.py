"""`racetwin serve` as a real subprocess on a free port: REST follows the race lap by lap."""

import signal

import pytest

from tests.util import ServerProcess, wait_until
from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.racedef import bundled_race

SEED, CAR, SPEED = 11, "LEC", 100


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess("--speed", str(SPEED), "--seed", str(SEED), "--car", CAR,
                       tmp_path=tmp_path_factory.mktemp("serve")) as srv:
        yield srv


@pytest.fixture(scope="module")
def truth():
    """The simulator's own record of the same race."""
    sim = TelemetrySimulator(bundled_race(), seed=SEED, sample_drivers=[CAR])
    return {r.lap_number: r for r in sim.lap_records() if r.driver == CAR}


def test_car_twin_advances_lap_by_lap_like_the_simulator(server, truth):
    seen, polled = {}, []

    def six_laps_seen() -> bool:
        twin = server.get("/api/v1/car-twin").json()["car_twin"]
        polled.append(twin["lap"])
        if twin["lap"] >= 1 and twin["lap"] not in seen:
            seen[twin["lap"]] = twin
        return len(seen) >= 6

    wait_until(six_laps_seen, 60, lambda: f"the car twin to advance 6 laps: {sorted(seen)}\n{server.log()}")
    assert polled == sorted(polled), "the twin went back in race time"
    for lap, twin in seen.items():
        expected = truth[lap]
        assert twin["driver"] == CAR
        assert twin["lap_times_s"][lap - 1] == expected.lap_time_s
        assert twin["lap_times_s"][: lap] == [truth[n].lap_time_s for n in range(1, lap + 1)]
        assert twin["position"] == expected.position
        assert twin["gap_to_leader_s"] == expected.gap_to_leader_s
        assert twin["pit_stops"] == expected.stint - 1


def test_health_environment_and_field(server):
    health = server.get("/api/v1/health").json()
    assert health["api_version"] == "1.0" and health["status"] == "ok"
    assert health["components"]["source"]["seed"] == SEED
    assert health["components"]["ingest"]["accepted_total"] > 0
    env = server.get("/api/v1/environment").json()["environment"]
    assert env["track"] == "Bahrain International Circuit" and env["total_laps"] == 57
    field = server.get("/api/v1/field-twin").json()["field_twin"]
    out = [c["driver"] for c in field["cars"] if c["status"] == "OUT"]  # retired cars leave the order
    assert len(field["cars"]) == 20 and sorted(field["order"] + out) == sorted(bundled_race().drivers)


def test_rest_serves_the_twins_models_with_their_schemas(server):
    import jsonschema

    from workbench.twins import car_twin_schema, field_twin_schema
    twin = wait_until(lambda: (t := server.get("/api/v1/car-twin").json()["car_twin"])["lap"] >= 8 and t, 60,
                      "the car twin at lap 8", step_s=0.2)
    jsonschema.validate(twin, car_twin_schema())
    assert twin["tyre_model"] in ("linear", "quadratic", "logarithmic") and twin["degradation_sd_s"] > 0
    assert twin["fuel_source"] == "telemetry" and twin["fuel_burn_kg_per_lap"] > 0
    field = server.get("/api/v1/field-twin").json()["field_twin"]
    jsonschema.validate(field, field_twin_schema())
    assert field["our_driver"] == CAR and field["total_laps"] == 57
    running = [row for row in field["cars"] if row["lap"] >= 1 and not row["retired"]]
    assert running and all(row["pit_probability"] is not None for row in running)


def test_telemetry_pages_forward_at_10hz(server):
    first = server.get("/api/v1/telemetry", params={"limit": 5}).json()
    since = first["samples"][0]["session_time_s"]
    page = server.get("/api/v1/telemetry", params={"since": since, "limit": 20}).json()
    times = [s["session_time_s"] for s in page["samples"]]
    assert times[0] > since and page["next_since"] == times[-1]
    assert all(round(b - a, 3) == 0.1 for a, b in zip(times, times[1:]))
    assert {s["driver"] for s in page["samples"]} == {CAR}


@pytest.mark.parametrize("params,message", [
    ({"limit": 0}, "limit: 0 is not between 1 and 1000"),
    ({"limit": "ten"}, "limit: 'ten' is not an integer"),
    ({"since": "soon"}, "since: 'soon' is not a number"),
    ({"since": "nan"}, "since: 'nan' is not a finite number"),
])
def test_telemetry_bad_parameters_get_json_errors(server, params, message):
    response = server.get("/api/v1/telemetry", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_posted_records_are_validated(server):
    bad = server.post("/api/v1/telemetry", json={"type": "lap", "session_time_s": 1, "driver": "VER",
                                                 "lap_number": 1, "tyre_age_laps": -2})
    assert bad.status_code == 422
    assert bad.json()["error"] == {"code": "invalid_record", "message": "tyre_age_laps: -2 is below minimum 0"}
    assert server.post("/api/v1/telemetry", content=b"{not json").json()["error"]["code"] == "invalid_json"
    rejected = server.get("/api/v1/health").json()["components"]["ingest"]["rejected"]
    assert rejected.get("tyre_age_laps: is below minimum 0") == 1


def test_unknown_endpoint_is_a_json_404(server):
    response = server.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_race_page_is_served(server):
    page = server.get("/")
    assert page.status_code == 200 and "Race Twin Edge" in page.text and "bokeh" in page.text.lower()


def test_ctrl_c_stops_cleanly(tmp_path):
    with ServerProcess("--speed", "max", "--seed", "3", tmp_path=tmp_path) as srv:
        wait_until(lambda: srv.get("/api/v1/health").json()["components"]["store"]["committed_seq"] > 0, 60,
                   "records committed to the store before Ctrl-C", step_s=0.2)
        code = srv.stop(signal.SIGINT)
    assert code == 0, srv.log()
    assert "stopping" in srv.log()
    from workbench.store import StateStore
    store = StateStore(tmp_path / "state" / "racetwin.sqlite")
    sessions = store.sessions()
    assert len(sessions) == 1 and sessions[0]["meta"]["seed"] == 3 and sessions[0]["records"] > 0
    store.close()
