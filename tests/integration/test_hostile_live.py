"""Issue 15 on real sockets: hostile WebSocket, UDP and REST input, a real `racetwin serve` process,
and a bounded, seeded fuzz suite (mutated real F1 25 packets, WebSocket messages, REST bodies).

Every fuzz run asserts: the server stays up, every request gets a non-5xx answer, every reject
is counted, and real input still applies afterwards.
"""

import asyncio
import contextlib
import json
import random
import socket
import subprocess
import sys

import httpx
import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from tests.util import REPO, TOKEN, ServerProcess, async_wait_until, free_port, wait_until
from workbench.hub.session import RaceSession
from workbench.service.ingest_server import IngestListeners
from workbench.telemetry.ingestor import TelemetryIngestor
from workbench.telemetry.pcap import read_pcap

GOOD = {"type": "car_sample", "session_time_s": 1.0, "driver": "NOR", "lap": 1, "speed_kph": 250.0}
FUZZ_CASES = 300


@pytest.fixture(scope="module")
def real_packets(shared_data):
    return [d.payload for d in read_pcap(shared_data / "f1-udp" / "f1-25-catalunya-time-trial.pcap")]


def hostile_json(rng: random.Random) -> bytes:
    """One seeded hostile JSON message: deep nesting, huge numbers, wrong types, broken text, real-looking."""
    kind = rng.randrange(8)
    if kind == 0:
        depth = rng.choice([50, 500, 5000, 100_000])
        return (b"[" * depth + b"]" * rng.choice([0, depth])) if rng.random() < 0.5 else \
            b'{"a":' * depth + b"1" + b"}" * depth
    if kind == 1:
        digits = rng.choice([30, 400, 4000, 5000])
        field = rng.choice(["session_time_s", "lap", "speed_kph", "gear"])
        return json.dumps(dict(GOOD, **{field: 0})).replace(f'"{field}": 0', f'"{field}": 1' + "0" * digits).encode()
    if kind == 2:
        return json.dumps(dict(GOOD, **{rng.choice(list(GOOD)): rng.choice(
            [None, "x" * 10_000, [], {}, True, -1e308, 1e308, "NaN", [[[[1]]]]])})).encode()
    if kind == 3:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == 4:
        text = json.dumps({"type": "batch", "records": [dict(GOOD, session_time_s=1.0 + i) for i in range(5)]})
        cut = rng.randrange(len(text))
        return text[:cut].encode()
    if kind == 5:
        return json.dumps({"type": "batch", "records": [GOOD] * rng.choice([0, 1, 10_001])}).encode()
    if kind == 6:
        return b'{"type": "car_sample", "session_time_s": NaN, "driver": "VER", "lap": 1}'
    return json.dumps(dict(GOOD, session_time_s=rng.choice([86_000.0, 86_400.0, 1e6, -1.0]))).encode()


def mutate_packet(rng: random.Random, p: bytes) -> bytes:
    """One seeded mutation of a real F1 25 packet: bit flips, truncation, extension, splices, header swaps."""
    b = bytearray(p)
    kind = rng.randrange(5)
    if kind == 0:
        for _ in range(rng.randrange(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del b[rng.randrange(len(b)):]
    elif kind == 2:
        b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    elif kind == 3:
        i = rng.randrange(len(b))
        b[i:i + 8] = bytes(rng.randrange(256) for _ in range(8))
    else:
        b[6] = rng.randrange(256)  # packetId
    return bytes(b)


def test_udp_fuzz_of_mutated_real_packets_then_real_packets_still_apply(real_packets):
    rng = random.Random(1501)
    fuzz = [mutate_packet(rng, rng.choice(real_packets[4000:6000])) for _ in range(FUZZ_CASES)]
    fuzz += [hostile_json(rng) for _ in range(FUZZ_CASES // 3)]
    fuzz = [d for d in fuzz if 0 < len(d) <= 65_000]

    async def main():
        hub = RaceSession("C00")
        ingestor = TelemetryIngestor(hub)
        listeners = IngestListeners(ingestor, udp_port=0, ws_port=None)
        await listeners.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp = lambda: ingestor.sources.get("udp")  # noqa: E731
        counted = lambda: 0 if udp() is None else udp().messages  # noqa: E731
        try:
            sent = 0
            for d in [*real_packets[:4000:10], *fuzz]:
                sock.sendto(d, ("127.0.0.1", listeners.udp_port))
                sent += 1
                if sent % 50 == 0:  # UDP has no flow control: let the server catch up, so none is lost
                    await async_wait_until(lambda n=sent: counted() == n, what=f"{sent} datagrams counted")
            await async_wait_until(lambda: counted() == sent, what=f"all {sent} datagrams counted")
            before = hub.applied_seq
            hub.flush()
            for d in real_packets[6000:7500]:  # the real feed goes on
                sock.sendto(d, ("127.0.0.1", listeners.udp_port))
                sent += 1
                if sent % 50 == 0:
                    await async_wait_until(lambda n=sent: counted() == n, what=f"{sent} datagrams counted")
            await async_wait_until(lambda: counted() == sent, what=f"all {sent} datagrams counted")
            await ingestor.drain()
            hub.flush()
            return sent, before, hub, ingestor, listeners.problems(), ingestor.consumer_state()
        finally:
            sock.close()
            await listeners.stop()
    sent, before, hub, ingestor, problems, consumer = asyncio.run(main())
    m = ingestor.sources["udp"]
    assert m.messages == sent  # every datagram counted: accepted or rejected by reason
    assert sum(m.rejected.values()) > FUZZ_CASES // 2
    assert not any(r.startswith("internal") for r in m.rejected), m.rejected
    assert consumer == {"running": True, "restarts": 0, "last_error": None} and problems == []
    assert hub.applied_seq > before  # the real packets after the fuzz applied


def test_websocket_fuzz_every_message_answered_counted_and_connection_kept():
    rng = random.Random(1502)
    messages = [hostile_json(rng) for _ in range(FUZZ_CASES)]

    async def main():
        hub = RaceSession("VER")
        ingestor = TelemetryIngestor(hub)
        listeners = IngestListeners(ingestor, udp_port=None, ws_port=0, token="tok", max_message_bytes=200_000)
        await listeners.start()
        url = f"ws://127.0.0.1:{listeners.ws_port}/telemetry?token=tok"
        replies, closed = [], 0
        try:
            conn = await websocket_connect(url, max_message_size=10_000_000)
            for message in messages:
                await conn.write_message(message, binary=True)
                reply = await conn.read_message()
                if reply is None:  # above 4x the limit tornado closes (1009): counted, then reconnect
                    closed += 1
                    conn.close()
                    conn = await websocket_connect(url, max_message_size=10_000_000)
                    continue
                replies.append(json.loads(reply))
            await conn.write_message(json.dumps(dict(GOOD, session_time_s=2.0)))
            last = json.loads(await conn.read_message())
            conn.close()
            return replies, closed, last, ingestor
        finally:
            await listeners.stop()
    replies, closed, last, ingestor = asyncio.run(main())
    assert len(replies) + closed == FUZZ_CASES
    assert all(isinstance(r.get("ok"), bool) for r in replies)
    assert last == {"ok": True, "accepted": 1}
    m = ingestor.sources["ws"]
    rejected_replies = sum(1 for r in replies if "error" in r)
    assert sum(m.rejected.values()) >= rejected_replies > FUZZ_CASES // 2
    assert not any(r.startswith("internal") for r in m.rejected), m.rejected


def test_websocket_needs_the_token_or_ws_open_and_checks_origin():
    with pytest.raises(ValueError, match="token: none given for the ingest WebSocket"):
        IngestListeners(TelemetryIngestor(RaceSession("VER")), udp_port=None, ws_port=0)

    async def main():
        ingestor = TelemetryIngestor(RaceSession("VER"))
        listeners = IngestListeners(ingestor, udp_port=None, ws_port=0, token="tok",
                                    allowed_origins=("https://dash.example",))
        await listeners.start()
        base = f"ws://127.0.0.1:{listeners.ws_port}/telemetry"
        codes = []
        try:
            for url, headers in ((base, {}), (base + "?token=tok", {"Origin": "https://evil.example"})):
                try:
                    await websocket_connect(HTTPRequest(url, headers=headers))
                except HTTPClientError as exc:
                    codes.append(exc.code)
            ok = await websocket_connect(HTTPRequest(base + "?token=tok", headers={"Origin": "https://dash.example"}))
            ok.close()
        finally:
            await listeners.stop()
        return codes, dict(ingestor.sources["ws"].rejected)
    codes, rejected = asyncio.run(main())
    assert codes == [401, 403]
    assert rejected == {"unauthorized": 1, "forbidden_origin": 1}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    with ServerProcess("--speed", "20", "--seed", "4", "--strategy-runs", "0", "--predict-runs", "0",
                       tmp_path=tmp) as srv:
        yield srv, tmp


def _raw_post(port: int, headers: str) -> int:
    """Send only the request head of a POST (no body); return the status of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"POST /api/v1/telemetry HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
        head = s.recv(4096).decode("latin-1")
        return int(head.split()[1])


def test_rest_checks_token_and_size_before_reading_the_body(live_server):
    srv, _ = live_server
    # 99 MB announced, none sent: the answer comes without waiting for (or buffering) the body
    assert _raw_post(srv.port, "Content-Length: 99000000\r\n") == 401
    assert _raw_post(srv.port, f"Authorization: Bearer {TOKEN}\r\nContent-Length: 99000000\r\n") == 413


def test_rest_late_and_batch_answers_are_honest_and_health_shows_no_paths(live_server):
    srv, tmp = live_server
    # "late" needs a hub clock past 0 s: the simulated race may not have sent its first record yet
    wait_until(lambda: (srv.get("/api/v1/environment").json()["environment"]["session_time_s"] or 0.0) > 0.5,
               timeout_s=60, what="the simulated race to move the hub's clock")
    late = srv.post("/api/v1/telemetry", json=dict(GOOD, session_time_s=0.0))
    assert late.status_code == 409 and late.json()["rejected"] == {"late: older than records already applied": 1}
    now = srv.get("/api/v1/environment").json()["environment"]["session_time_s"]
    batch = {"type": "batch", "records": [dict(GOOD, session_time_s=0.0), dict(GOOD, session_time_s=now + 30.0)]}
    answer = srv.post("/api/v1/telemetry", json=batch)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1
    assert answer.json()["results"] == ["late: older than records already applied", "accepted"]
    for path in ("/api/v1/health", "/api/v1/sessions", "/api/v1/metrics"):
        assert str(tmp) not in srv.get(path).text and "/tmp/" not in srv.get(path).text


def test_rest_fuzz_never_answers_5xx_and_the_server_keeps_ingesting(live_server):
    srv, _ = live_server
    rng = random.Random(1503)
    statuses = []
    with httpx.Client(base_url=srv.base, timeout=20, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for _ in range(FUZZ_CASES):
            statuses.append(client.post("/api/v1/telemetry", content=hostile_json(rng)).status_code)
        now = srv.get("/api/v1/environment").json()["environment"]["session_time_s"]
        good = client.post("/api/v1/telemetry", json=dict(GOOD, session_time_s=now + 20.0))
        health = client.get("/api/v1/health").json()
    assert max(statuses) < 500, sorted(set(statuses))
    assert set(statuses) <= {202, 400, 409, 413, 422}
    assert good.status_code == 202 and good.json()["accepted"] == 1
    assert health["status"] == "ok" and health["problems"] == []
    rest = health["components"]["sources"]["sources"]["rest"]
    hub = health["components"]["ingest"]["rejected"]
    assert rest["rejected_total"] >= sum(s in (400, 413, 422) for s in statuses)
    # every body not applied is counted: by reason per source, repeats as duplicates, held-then-dropped
    # future records in the hub
    assert rest["rejected_total"] + rest["duplicates"] + hub.get("future: too far ahead of the hub's clock", 0) \
        >= sum(s != 202 for s in statuses)


def _cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_token_persists_rotates_and_resume_chooses_a_session(tmp_path):
    state = tmp_path / "state"
    runs = []
    for extra in ((), ("--resume",), ("--rotate-token",)):
        with ServerProcess("--speed", "max", "--seed", "2", "--strategy-runs", "0", "--predict-runs", "0",
                           "--api-token", "", *extra, tmp_path=tmp_path) as srv:
            token = (state / "api-token").read_text().strip()
            ok = srv.post("/api/v1/telemetry", token=token, json=dict(GOOD, session_time_s=1e4)).status_code
            runs.append((token, ok))
    assert runs[0][0] == runs[1][0] != runs[2][0]  # kept across a restart and --resume; rotated on request
    assert all(code in (202, 409) for _, code in runs)
    listed = json.loads(_cli("sessions", "--data-dir", str(state), "--json").stdout)
    assert len(listed) == 2 and sum(s["resume_default"] for s in listed) == 1
    bad = _cli("serve", "--data-dir", str(state), "--port", str(free_port()), "--resume", "nope")
    assert bad.returncode == 2 and bad.stderr.startswith("racetwin serve: --resume: 'nope' is not a session")
    assert "Traceback" not in bad.stderr


def test_push_stream_client_that_never_reads_is_cut_in_bounded_time(monkeypatch):
    """A raw WebSocket client that completes the handshake and then never reads: the server's writes
    stall, and it is cut after WRITE_TIMEOUT_S (here 0.5 s) or 1,000 waiting messages, whichever first."""
    import base64

    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.web import Application

    import workbench.service.rest as rest
    from workbench.hub.stream import SUBSCRIBER_QUEUE
    from workbench.service.server import RaceService
    from workbench.service.urls import routes
    from workbench.telemetry.records import LapRecord

    monkeypatch.setattr(rest, "WRITE_TIMEOUT_S", 0.5)

    async def main():
        hub = RaceSession("VER", reorder_window_s=0.0, dedup_window=100)  # lap numbers repeat every 200
        service = RaceService(hub, None, 1.0)
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTPServer(Application(routes(service)))
        server.add_sockets(sockets)
        port = sockets[0].getsockname()[1]
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        key = base64.b64encode(b"0123456789abcdef").decode()
        raw.sendall((f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        await async_wait_until(lambda: service.stream.subscribers, 10, "the raw client to subscribe")

        async def flood() -> None:
            n = 0
            while True:
                for _ in range(20):  # our car's laps: each also publishes the twin's state (a few KB)
                    n += 1
                    hub.submit(LapRecord(session_time_s=float(n), driver="VER", lap_number=n % 200 + 1,
                                         lap_time_s=90.0, team="x" * 2000))
                await asyncio.sleep(0.01)  # the behaviour under test: a steady feed the stream tries to write out

        feeder = asyncio.ensure_future(flood())
        try:
            await async_wait_until(lambda: service.stream.dropped_subscribers, 20, "the slow subscriber to be cut")
            queued = max((s.queue.qsize() for s in service.stream.subscribers), default=0)
            return service.stream.dropped_subscribers, queued
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            raw.close()
            server.stop()
    dropped, queued = asyncio.run(main())
    assert dropped == 1 and queued <= SUBSCRIBER_QUEUE
