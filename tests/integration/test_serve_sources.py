"""`racetwin serve --replay` (game capture, lap table) and `--live` (UDP + WebSocket) as real processes."""

import asyncio
import json
import socket

import httpx

from tests.f1util import lap_data, packet
from tests.util import TOKEN, ServerProcess, free_port, wait_until
from workbench.service.feed_client import LiveTelemetryClient


def wait_for(server, predicate, timeout_s=60.0):
    """The health document once ``predicate(health)`` holds."""
    seen = [None]

    def reached():
        seen[0] = server.get("/api/v1/health").json()
        return seen[0] if predicate(seen[0]) else None

    return wait_until(reached, timeout_s, lambda: f"health: {json.dumps(seen[0])[:2000]}\n{server.log()[-3000:]}",
                      step_s=0.2)


def test_replay_of_the_game_capture_drives_the_twins(shared_data, tmp_path):
    capture = shared_data / "f1-udp" / "f1-25-catalunya-time-trial.pcap"
    with ServerProcess("--replay", str(capture), "--speed", "max", tmp_path=tmp_path) as server:
        health = wait_for(server, lambda h: h["components"]["source"]["state"] == "finished")
        assert health["components"]["source"]["kind"] == "replay"
        replay = health["components"]["sources"]["sources"]["replay"]
        # 1000 samples + 2 session + 2 events; repeats of the same sample (same time, same values:
        # the car waiting at t = 0) are de-duplicated
        assert replay["accepted"] + replay["duplicates"] == 1004 and replay["rejected_total"] == 0
        assert 0 < replay["duplicates"] < 1000
        car = server.get("/api/v1/car-twin").json()["car_twin"]
        env = server.get("/api/v1/environment").json()["environment"]
        samples = server.get("/api/v1/telemetry", params={"limit": 1000}).json()["samples"]
    # LapData covers only the first ~19 s of the capture (recorder cap): lap 1 in progress, no lap completed
    assert (car["driver"], car["current_lap"], car["lap"], car["compound"]) == ("C00", 1, 0, "SOFT")
    assert car["live"]["speed_kph"] > 100 and car["fuel_kg"] > 0
    assert (env["track"], env["session_type"], env["total_laps"], env["finished"]) == ("Catalunya", "time_trial", 1,
                                                                                        True)
    assert len(samples) == replay["accepted"] - 4 and max(s["speed_kph"] for s in samples) > 200


def test_replay_of_the_bahrain_lap_table_drives_the_field(shared_data, tmp_path):
    laps = shared_data / "real-races" / "2024-bahrain-race-laps.csv"
    with ServerProcess("--replay", str(laps), "--speed", "max", tmp_path=tmp_path) as server:
        wait_for(server, lambda h: h["components"]["source"]["state"] == "finished")
        car = server.get("/api/v1/car-twin").json()["car_twin"]
        field = server.get("/api/v1/field-twin").json()["field_twin"]
    assert car["driver"] == "VER" and car["lap"] == 57 and car["position"] == 1
    assert car["pit_stops"] == 2
    assert len(field["cars"]) == 20
    # the lap table has no gaps: the reader derives them at the line; at the flag they are the official ones
    gaps = {c["driver"]: c["gap_to_leader_s"] for c in field["cars"] if c["lap"] == 57}
    assert (gaps["VER"], gaps["PER"], gaps["SAI"]) == (0.0, 22.457, 25.11)


def test_live_udp_and_websocket_feed_one_hub(tmp_path):
    udp_port, ws_port = free_port(), free_port()
    args = ("--live", "--udp-port", str(udp_port), "--ws-port", str(ws_port), "--ingest-token", "tok")
    with ServerProcess(*args, tmp_path=tmp_path) as server:
        health = wait_for(server, lambda h: h["components"]["source"].get("listeners", {}).get("websocket"))
        assert health["status"] == "ok" and health["components"]["source"]["state"] == "listening"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for d in (lap_data(2024, 1.0, {0: {"currentLapNum": 4}}), packet(2024, 6, 1.1, cars={0: {"speed": 287}}),
                      b"garbage"):
                sock.sendto(d, ("127.0.0.1", udp_port))
        finally:
            sock.close()

        async def ws():
            url = f"ws://127.0.0.1:{ws_port}/telemetry"
            async with LiveTelemetryClient(url, token="tok") as client:
                ok = await client.send_message({"type": "car_sample", "session_time_s": 5.0, "driver": "NOR",
                                                "lap": 4, "speed_kph": 250})
                bad = await client.send_message({"type": "lap", "session_time_s": 6.0, "driver": "NOR"})
            return ok, bad
        ok, bad = asyncio.run(ws())
        assert ok == {"ok": True, "accepted": 1}
        assert bad["error"]["message"] == "lap_number: None is missing but the field is required"
        # the last records leave the hub's reorder window once the feed is idle for 0.5 s
        health = wait_for(server, lambda h: h["components"]["sources"]["sources"].get("udp", {}).get("messages") == 3
                          and h["components"]["ingest"]["accepted"].get("car_sample") == 2)
        samples = server.get("/api/v1/telemetry").json()["samples"]  # our car's (the player's, C00)
        nor = server.get("/api/v1/telemetry", params={"driver": "NOR"}).json()["samples"]
        no_token = httpx.get(f"http://127.0.0.1:{ws_port}/telemetry", headers={"Upgrade": "websocket",
                                                                               "Connection": "Upgrade"})
    sources = health["components"]["sources"]["sources"]
    assert sources["udp"]["accepted"] == 1 and sources["udp"]["rejected"] == {"f1: truncated": 1}
    assert sources["ws"]["accepted"] == 1 and sources["ws"]["rejected"] == {
        "lap_number: is missing but the field is required": 1}
    assert [(s["driver"], s["speed_kph"]) for s in samples] == [("C00", 287.0)]
    assert [(s["driver"], s["speed_kph"]) for s in nor] == [("NOR", 250.0)]
    assert no_token.status_code == 401 and no_token.json()["error"]["reason"] == "unauthorized"


def test_bad_replay_arguments_fail_clearly(tmp_path):
    import subprocess
    import sys

    from tests.util import REPO

    def serve(*args):
        return subprocess.run([sys.executable, "-m", "workbench", "serve", "--data-dir", str(tmp_path), *args],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    proc = serve("--replay", str(tmp_path / "missing.pcap"))
    assert proc.returncode == 2 and "is not a file" in proc.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not json\n")
    proc = serve("--replay", str(empty))
    assert proc.returncode == 2 and "holds no valid records (1 rejected)" in proc.stderr
    proc = serve("--replay", str(empty), "--live")
    assert proc.returncode == 2 and "choose one source" in proc.stderr


def test_feed_streams_a_lap_table_into_a_live_server(shared_data, tmp_path):
    import subprocess
    import sys

    from tests.util import REPO

    ws_port = free_port()
    laps = shared_data / "real-races" / "2024-bahrain-race-laps.csv"
    with ServerProcess("--live", "--no-udp", "--ws-port", str(ws_port), "--car", "VER", tmp_path=tmp_path) as server:
        wait_for(server, lambda h: h["components"]["source"].get("listeners", {}).get("websocket"))
        url = f"ws://127.0.0.1:{ws_port}/telemetry"
        proc = subprocess.run([sys.executable, "-m", "workbench", "feed", str(laps), "--url", url, "--token", TOKEN],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"sent": 1129, "accepted": 1129, "errors": []}
        wait_for(server, lambda h: h["components"]["ingest"]["accepted"].get("lap") == 1129)
        car = server.get("/api/v1/car-twin").json()["car_twin"]
        bad = subprocess.run([sys.executable, "-m", "workbench", "feed", str(laps), "--url",
                              f"ws://127.0.0.1:{free_port()}/telemetry"], cwd=REPO, capture_output=True, text=True,
                             timeout=120)
    assert (car["driver"], car["lap"], car["position"]) == ("VER", 57, 1)
    assert bad.returncode == 1 and "cannot reach" in bad.stderr


def test_a_busy_ingest_port_stops_serve_before_it_touches_the_data_dir(tmp_path):
    import subprocess
    import sys

    from tests.util import REPO

    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    try:
        busy = holder.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "workbench", "serve", "--live", "--udp-port", str(busy),
                               "--no-ws", "--port", str(free_port()), "--data-dir", str(tmp_path / "state")],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        holder.close()
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"racetwin serve: --udp-port: 127.0.0.1:{busy} cannot be bound (Address already "
                                   f"in use); is another racetwin serve running?")
    assert not (tmp_path / "state").exists()  # no token written, no empty session added
