"""Live ingest listeners on the service's event loop: UDP (F1-game binary or JSON) and a WebSocket server.

- UDP (default port 20777): an `asyncio.DatagramProtocol`; every datagram is
  offered to the `TelemetryIngestor` queue (dropped and counted when full).
- WebSocket (default port 8765, paths ``/`` and ``/telemetry``): each text (or
  UTF-8 binary) message is one JSON record or batch. The reply comes after the
  records reached the hub and says what happened to them:
  ``{"ok": true, "accepted": n}`` when all were taken, else
  ``{"ok": false, "accepted": n, "results": [status per record]}`` (a status is
  ``accepted``, ``duplicate``, ``late: ...`` or ``future: ...``), or
  ``{"ok": false, "error": {"reason", "message"}}`` for a message that is not valid;
  a bad message never closes the connection or any other.
  Access: the upgrade needs the token (``?token=...`` or ``Authorization: Bearer ...``),
  else HTTP 401 with a JSON error; only ``ws_open=True`` (``racetwin serve --ws-open``)
  lets anyone in. A browser's ``Origin`` must be one of ``allowed_origins`` (else
  HTTP 403): a web page the engineer happens to visit cannot feed the hub.
  Messages above ``max_message_bytes`` get an error reply; above four times that
  tornado closes the connection (code 1009).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from workbench.telemetry.ingestor import ACCEPTED, TelemetryIngestor
from workbench.telemetry.sources import MAX_JSON_BYTES, IngestError, decode_json_bytes

__all__ = ["UdpIngestProtocol", "IngestWebSocket", "IngestListeners", "DEFAULT_UDP_PORT", "DEFAULT_WS_PORT"]

log = logging.getLogger("racetwin.ingest")

DEFAULT_UDP_PORT = 20777
DEFAULT_WS_PORT = 8765
DEFAULT_MAX_MESSAGE_BYTES = MAX_JSON_BYTES  # the one JSON size limit (telemetry.sources)
UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
REPLY_TIMEOUT_S = 10.0  # a WebSocket sender waits at most this long for its records to reach the hub


class UdpIngestProtocol(asyncio.DatagramProtocol):
    """Hands every datagram to the ingestor's bounded queue, keyed by sender."""

    def __init__(self, ingestor: TelemetryIngestor, source: str = "udp"):
        self.ingestor = ingestor
        self.source = source
        self.errors = 0

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.ingestor.offer_datagram(data, self.source, sender=f"{addr[0]}:{addr[1]}")

    def error_received(self, exc: Exception) -> None:
        self.errors += 1
        log.warning("UDP receive error: %s", exc)


def _token_ok(handler: RequestHandler, token: str | None) -> bool:
    if not token:
        return True
    given = handler.get_query_argument("token", None)
    auth = handler.request.headers.get("Authorization", "")
    if given is None and auth.startswith("Bearer "):
        given = auth[len("Bearer "):]
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class IngestWebSocket(WebSocketHandler):
    """One WebSocket client feeding JSON records (see the module notes)."""

    def initialize(self, ingestor: TelemetryIngestor, token: str | None, max_message_bytes: int,
                   clients: set, source: str = "ws", allowed_origins: tuple[str, ...] = ()) -> None:
        self.ingestor = ingestor
        self.clients = clients
        self.token = token
        self.max_message_bytes = max_message_bytes
        self.source = source
        self.allowed_origins = allowed_origins

    def check_origin(self, origin: str) -> bool:
        """Only called when the client sent ``Origin`` (browsers do; machine clients need not)."""
        if origin in self.allowed_origins:
            return True
        self.ingestor.reject(self.source, IngestError("forbidden_origin", f"Origin: {origin[:100]!r} is not allowed"))
        return False

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not _token_ok(self, self.token):
            self.set_status(401)
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"ok": False, "error": {
                "reason": "unauthorized", "message": "token: missing or wrong; pass ?token=... or "
                                                     "'Authorization: Bearer ...'"}}))
            self.ingestor.reject(self.source, IngestError("unauthorized", "token: missing or wrong"))
            return
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.clients.add(self)

    def on_close(self) -> None:
        self.clients.discard(self)

    def _reply(self, payload: dict) -> None:
        try:
            self.write_message(json.dumps(payload))
        except WebSocketClosedError:
            pass

    async def on_message(self, message: str | bytes) -> None:
        try:
            await self._on_message(message)
        except Exception as exc:  # the guard: never close the connection without a reply
            self.ingestor.reject(self.source, IngestError(f"internal: {type(exc).__name__}", str(exc)[:200]))
            self._reply({"ok": False, "error": {"reason": f"internal: {type(exc).__name__}",
                                                "message": "message: could not be handled; it was counted"}})

    async def _on_message(self, message: str | bytes) -> None:
        try:
            if len(message) > self.max_message_bytes:
                raise IngestError("too_large", f"message: {len(message)} bytes is above the limit of "
                                               f"{self.max_message_bytes}")
            records = decode_json_bytes(message)
        except IngestError as exc:
            self.ingestor.reject(self.source, exc)
            self._reply({"ok": False, "error": {"reason": exc.reason, "message": str(exc)}})
            return
        self.ingestor.source(self.source).messages += 1
        try:
            statuses = await asyncio.wait_for(self.ingestor.submit_records(records, self.source), REPLY_TIMEOUT_S)
        except TimeoutError:
            self._reply({"ok": False, "error": {"reason": "busy", "message": f"records: not handed to the hub "
                                                                             f"within {REPLY_TIMEOUT_S} s; resend"}})
            return
        accepted = statuses.count(ACCEPTED)
        if accepted == len(statuses):
            self._reply({"ok": True, "accepted": accepted})
        else:
            self._reply({"ok": False, "accepted": accepted, "results": statuses})


class IngestListeners:
    """Starts and stops the UDP and WebSocket listeners and the ingestor's consumer task.

    Parameters
    ----------
    ingestor : TelemetryIngestor
    host : str
        Address to bind both listeners to.
    udp_port, ws_port : int or None
        None disables that listener; 0 picks a free port (see `udp_address` / `ws_port`).
    token : str, optional
        Required from WebSocket clients.
    ws_open : bool
        Let WebSocket clients in without a token; without a token this must be set
        explicitly (``racetwin serve --ws-open``).
    allowed_origins : tuple of str
        Browser origins (``Origin`` header) allowed to open the WebSocket; none by default.
    """

    def __init__(self, ingestor: TelemetryIngestor, host: str = "127.0.0.1", udp_port: int | None = DEFAULT_UDP_PORT,
                 ws_port: int | None = DEFAULT_WS_PORT, token: str | None = None,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, ws_open: bool = False,
                 allowed_origins: tuple[str, ...] = ()):
        if ws_port is not None and not token and not ws_open:
            raise ValueError("token: none given for the ingest WebSocket; give one, or set ws_open=True "
                             "(racetwin serve --ws-open) to let anyone who can reach the port send telemetry")
        self.ws_open = ws_open
        self.allowed_origins = tuple(allowed_origins)
        self.ingestor = ingestor
        self.host = host
        self.udp_port = udp_port
        self.ws_port = ws_port
        self.token = token
        self.max_message_bytes = max_message_bytes
        self.udp_transport: asyncio.DatagramTransport | None = None
        self.ws_server: HTTPServer | None = None
        self.errors: list[str] = []
        self._consumer: asyncio.Task | None = None
        self._clients: set[IngestWebSocket] = set()

    async def start(self) -> None:
        """Bind the listeners on the running loop; a port in use is reported, never fatal."""
        loop = asyncio.get_running_loop()
        self._consumer = loop.create_task(self.ingestor.run_supervised())
        if self.udp_port is not None:
            try:
                self.udp_transport, _ = await loop.create_datagram_endpoint(
                    lambda: UdpIngestProtocol(self.ingestor), local_addr=(self.host, self.udp_port))
                self.udp_port = self.udp_transport.get_extra_info("sockname")[1]
                sock = self.udp_transport.get_extra_info("socket")
                try:  # bursts of 60 Hz x 16 packet types: ask for a larger kernel buffer (best effort)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER_BYTES)
                except OSError:
                    pass
            except OSError as exc:
                self.errors.append(f"udp port {self.udp_port}: {exc}")
                log.error("UDP listener not started on %s:%s: %s", self.host, self.udp_port, exc)
        if self.ws_port is not None:
            kw = {"ingestor": self.ingestor, "token": None if self.ws_open else self.token,
                  "max_message_bytes": self.max_message_bytes, "clients": self._clients,
                  "allowed_origins": self.allowed_origins}
            app = Application([(r"/", IngestWebSocket, kw), (r"/telemetry/?", IngestWebSocket, kw)],
                              websocket_max_message_size=4 * self.max_message_bytes)
            try:
                sockets = bind_sockets(self.ws_port, address=self.host)
                self.ws_port = sockets[0].getsockname()[1]
                self.ws_server = HTTPServer(app, max_body_size=4 * self.max_message_bytes)
                self.ws_server.add_sockets(sockets)
            except OSError as exc:
                self.errors.append(f"websocket port {self.ws_port}: {exc}")
                log.error("WebSocket listener not started on %s:%s: %s", self.host, self.ws_port, exc)
                self.ws_server = None

    def state(self) -> dict[str, Any]:
        return {"udp": None if self.udp_transport is None else f"{self.host}:{self.udp_port}",
                "websocket": None if self.ws_server is None else f"ws://{self.host}:{self.ws_port}/telemetry",
                "token_required": bool(self.token) and not self.ws_open, "errors": list(self.errors),
                "consumer": self.ingestor.consumer_state()}

    def problems(self) -> list[str]:
        """Why the live ingest is degraded: ports not bound, a consumer that stopped or had to restart."""
        out = list(self.errors)
        consumer = self.ingestor.consumer_state()
        if self._consumer is not None and self._consumer.done():
            out.append(f"ingest consumer stopped ({consumer['last_error'] or 'no error recorded'})")
        elif consumer["restarts"]:
            out.append(f"ingest consumer restarted {consumer['restarts']} time(s); last cause: "
                       f"{consumer['last_error']}")
        return out

    async def stop(self) -> None:
        if self.udp_transport is not None:
            self.udp_transport.close()
        if self.ws_server is not None:
            self.ws_server.stop()
            for client in list(self._clients):
                client.close(1001, "server stopping")
            await self.ws_server.close_all_connections()
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
