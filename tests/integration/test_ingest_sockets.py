"""Live ingest over real sockets on 127.0.0.1: UDP (game binary + JSON) and WebSocket (JSON, token, limits)."""

import asyncio
import json
import socket

import pytest
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from tests.f1util import packet
from tests.util import async_wait_until
from workbench.hub.session import RaceSession
from workbench.service.feed_client import LiveTelemetryClient
from workbench.service.ingest_server import IngestListeners
from workbench.telemetry.ingestor import TelemetryIngestor
from workbench.telemetry.pcap import read_pcap
from workbench.telemetry.records import CarSample

GOOD = {"type": "car_sample", "session_time_s": 1.0, "driver": "VER", "lap": 1, "speed_kph": 301.5}


async def started(**kw):
    hub = RaceSession("C00", reorder_window_s=0.0)
    ingestor = TelemetryIngestor(hub)
    listeners = IngestListeners(ingestor, host="127.0.0.1", udp_port=kw.pop("udp_port", 0),
                                ws_port=kw.pop("ws_port", 0), **({"ws_open": True} if "token" not in kw else {}), **kw)
    await listeners.start()
    return hub, ingestor, listeners


def test_udp_game_packets_json_and_junk(shared_data):
    datagrams = [d.payload for d in read_pcap(shared_data / "f1-udp" / "f1-25-catalunya-time-trial.pcap")]
    junk = [b"\x00" * 10, datagrams[0] + b"\x00", packet(2025, 6)[:-5], b"{\"type\": \"car_sample\"}"]
    json_dg = json.dumps(dict(GOOD, driver="HAM", session_time_s=30.0)).encode()

    async def main():
        hub, ingestor, listeners = await started(ws_port=None)
        port = listeners.udp_port
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp = lambda: ingestor.sources.get("udp")  # noqa: E731
        counted = lambda: 0 if udp() is None else udp().messages  # noqa: E731
        try:
            for i, d in enumerate(datagrams + junk + [json_dg], start=1):
                sock.sendto(d, ("127.0.0.1", port))
                if i % 50 == 0:  # UDP has no flow control: wait for the server to catch up, so nothing is lost
                    await async_wait_until(lambda n=i: counted() == n, 10, f"{i} datagrams counted")
            await async_wait_until(lambda: counted() == len(datagrams) + len(junk) + 1, 10, "every datagram counted")
        finally:
            sock.close()
            await listeners.stop()
        hub.flush()
        m = ingestor.metrics()["sources"]["udp"]
        assert m["rejected"] == {"f1: truncated": 2, "f1: oversized": 1, "session_time_s: is missing but the field is "
                                                                           "required": 1}
        # the capture's last packet comes 530 s (wall and race time) after the one before it; sent here at
        # once, it is more than the tolerance ahead of the hub's clock, held, not confirmed: a counted future
        assert hub.rejected["future: too far ahead of the hub's clock"] == 1
        samples = [s for s in hub.telemetry if isinstance(s, CarSample)]
        assert {s.driver for s in samples} == {"C00", "HAM"}
        assert max(s.speed_kph for s in samples if s.driver == "C00") > 100
        assert hub.environment.track == "Catalunya"
    asyncio.run(main())


def test_websocket_records_errors_and_other_connections():
    async def main():
        hub, ingestor, listeners = await started(udp_port=None, max_message_bytes=2000)
        url = f"ws://127.0.0.1:{listeners.ws_port}/telemetry"
        try:
            async with LiveTelemetryClient(url) as a, LiveTelemetryClient(url) as b:
                assert await a.send_message(GOOD) == {"ok": True, "accepted": 1}
                bad = await a.send_message(dict(GOOD, session_time_s=2.0, speed_kph=-3))
                assert bad["ok"] is False
                assert bad["error"] == {"reason": "speed_kph: is below minimum 0",
                                        "message": "speed_kph: -3 is below minimum 0"}
                assert (await a.send_message("not json"))["error"]["reason"] == "json: invalid"
                big = await a.send_message(json.dumps({"type": "batch", "records": [GOOD] * 40}))
                assert big["error"]["reason"] == "too_large" and "above the limit of 2000" in big["error"]["message"]
                # the same connection and the other one still work
                assert await a.send_message(dict(GOOD, session_time_s=3.0)) == {"ok": True, "accepted": 1}
                assert await b.send_message(dict(GOOD, driver="LEC", session_time_s=4.0)) == {"ok": True,
                                                                                             "accepted": 1}
            await async_wait_until(lambda: ingestor.sources["ws"].accepted == 3, 10, "3 WebSocket records accepted")
        finally:
            await listeners.stop()
        hub.flush()
        assert [(s.driver, s.session_time_s) for s in hub.telemetry] == [("VER", 1.0), ("VER", 3.0), ("LEC", 4.0)]
        assert ingestor.sources["ws"].rejected == {"speed_kph: is below minimum 0": 1, "json: invalid": 1,
                                                   "too_large": 1}
    asyncio.run(main())


def test_websocket_message_above_the_hard_limit_closes_only_that_connection():
    async def main():
        hub, ingestor, listeners = await started(udp_port=None, max_message_bytes=1000)
        url = f"ws://127.0.0.1:{listeners.ws_port}/telemetry"
        try:
            other = await websocket_connect(url)
            huge = await websocket_connect(url)
            await huge.write_message("x" * 5000)  # above 4 x 1000: tornado closes this connection (1009)
            assert await huge.read_message() is None and huge.close_code == 1009
            huge.close()
            await other.write_message(json.dumps(GOOD))
            assert json.loads(await other.read_message()) == {"ok": True, "accepted": 1}
            other.close()
        finally:
            await listeners.stop()
    asyncio.run(main())


def test_websocket_token_is_required_when_configured():
    async def main():
        hub, ingestor, listeners = await started(udp_port=None, token="s3cret")
        url = f"ws://127.0.0.1:{listeners.ws_port}/telemetry"
        try:
            with pytest.raises(HTTPClientError) as err:
                await websocket_connect(url)
            assert err.value.code == 401
            with pytest.raises(HTTPClientError):
                await websocket_connect(url + "?token=wrong")
            async with LiveTelemetryClient(url, token="s3cret") as client:
                assert (await client.send_message(GOOD))["ok"] is True
            conn = await websocket_connect(url + "?token=s3cret")
            await conn.write_message(json.dumps(dict(GOOD, session_time_s=2.0)))
            assert json.loads(await conn.read_message())["ok"] is True
            conn.close()
        finally:
            await listeners.stop()
        assert ingestor.sources["ws"].rejected == {"unauthorized": 2}
    asyncio.run(main())


def test_client_streams_the_simulator_into_the_server(race):
    from workbench.race.simulator import TelemetrySimulator

    sim = TelemetrySimulator(race, seed=3, sample_drivers=[])
    records = list(sim.records())

    async def main():
        hub, ingestor, listeners = await started(udp_port=None)
        try:
            async with LiveTelemetryClient(f"ws://127.0.0.1:{listeners.ws_port}/") as client:
                summary = await client.stream_simulator(sim, batch_size=500)
            await async_wait_until(lambda: ingestor.sources["ws"].accepted == len(records), 10,
                                   "every WebSocket record accepted")
        finally:
            await listeners.stop()
        hub.flush()
        assert summary == {"sent": len(records), "accepted": len(records), "errors": []}
        assert len(hub.laps) == len(sim.lap_records())
    asyncio.run(main())


def test_busy_port_is_reported_not_fatal():
    async def main():
        holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        holder.bind(("127.0.0.1", 0))
        try:
            hub, ingestor, listeners = await started(udp_port=holder.getsockname()[1], ws_port=None)
            assert listeners.udp_transport is None and "udp port" in listeners.errors[0]
            assert listeners.state()["udp"] is None
            await listeners.stop()
        finally:
            holder.close()
    asyncio.run(main())
