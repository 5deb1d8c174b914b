"""REST handlers for /api/v1: thin tornado adapters over the service layer.

Every response is JSON with ``api_version``; errors are
``{"api_version": ..., "error": {"code": ..., "message": ...}}``. Each handler
declares its route (`Route`): path, methods, parameters and response models; the
OpenAPI document (`openapi.py`) is generated from those declarations.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import math
import re
import time
from pathlib import Path

from tornado.web import RequestHandler, stream_request_body
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from workbench.hub.stream import WRITE_TIMEOUT_S, parse_kinds
from workbench.service import api_models as m
from workbench.telemetry.schema import DRIVER_PATTERN, SCHEMA_VERSION, json_safe, json_schema, to_wire
from workbench.telemetry.sources import MAX_JSON_BYTES

__all__ = ["API_VERSION", "HANDLERS", "ROUTES", "Route"]

API_VERSION = m.API_VERSION
MAX_TELEMETRY_PAGE = 1000
CACHE_S = 0.1  # twin/environment responses are rebuilt at most this often (seconds of wall time)


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    schema: dict
    description: str


@dataclasses.dataclass(frozen=True)
class Route:
    """One endpoint as the OpenAPI document shows it."""

    path: str
    method: str
    summary: str
    response: type | None  # pydantic model of the 2xx body
    status: int = 200
    params: tuple[Param, ...] = ()
    request_schema: str | None = None  # components/schemas name of the body
    errors: tuple[int, ...] = ()
    auth: bool = False


class ApiHandler(RequestHandler):
    """Base: JSON out, JSON errors, CORS when configured, latency into the monitor."""

    def initialize(self, service) -> None:
        self.service = service
        self.hub = service.hub
        self._t0 = time.perf_counter()

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        origin = self.service.settings.cors_origin
        if origin:
            self.set_header("Access-Control-Allow-Origin", origin)
            self.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type")

    def on_finish(self) -> None:
        self.service.monitor.observe(f"http:{self.request.method} {self.route_name()}",
                                     time.perf_counter() - self._t0)

    def route_name(self) -> str:
        return self.request.path

    def send_json(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps({"api_version": API_VERSION, **json_safe(payload)}, allow_nan=False))

    def send_cached(self, key: str, build) -> None:
        """Send a 200 JSON body shared by all clients: rebuilt when the hub applied new records,
        but at most every CACHE_S, so a response is never more than CACHE_S behind the hub."""
        cache = self.service.response_cache
        now, seq = time.monotonic(), self.hub.applied_seq
        hit = cache.get(key)
        if hit is None or (hit[1] != seq and now - hit[0] > CACHE_S):
            body = json.dumps({"api_version": API_VERSION, **json_safe(build())}, allow_nan=False)
            hit = cache[key] = (now, seq, body)
        self.set_status(200)
        self.finish(hit[2])

    def send_error_json(self, status: int, code: str, message: str) -> None:
        self.send_json({"error": {"code": code, "message": message}}, status)

    def write_error(self, status_code: int, **kwargs) -> None:
        code = "internal_error" if status_code >= 500 else "method_not_allowed" if status_code == 405 \
            else "bad_request"
        self.send_error_json(status_code, code, f"{self.request.method} {self.request.path}: {self._reason}")

    def require_token(self) -> bool:
        """Writes need ``Authorization: Bearer <token>``; answers 401 and returns False otherwise.

        Called from `prepare`, before a byte of the body is read."""
        expected = self.service.settings.api_token
        header = self.request.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            self.set_header("WWW-Authenticate", "Bearer")
            self.send_error_json(401, "unauthorized", "Authorization: a valid 'Bearer <token>' header is "
                                                      "required for writes (see --api-token)")
            return False
        return True


class HealthHandler(ApiHandler):
    ROUTES = (Route("/api/v1/health", "get", "Health of every component", m.HealthResponse),)

    def get(self) -> None:
        source = self.service.source_state()
        problems = self.service.problems() if hasattr(self.service, "problems") else []
        status = "degraded" if problems else "ok"
        components = {"ingest": self.hub.health(), "source": source, "store": self.service.store_state()}
        ingestor = getattr(self.service, "ingestor", None)
        components["sources"] = ingestor.metrics() if ingestor is not None else {
            "queue": {"depth": 0, "max": 0}, "sources": self.hub.source_metrics()}  # counted by the hub either way
        components["llm"] = self.service.llm_state()
        from workbench.hub.budget import shared_budget
        components["on_demand"] = shared_budget().state()
        from workbench.kernels.select import kernel_report  # race kernel auto-selected, GPU found
        components["kernel"] = kernel_report()
        view_state = getattr(self.service, "view_state", None)
        if view_state is not None:
            components["views"] = view_state()
        self.send_json({"status": status, "problems": problems, "components": components})


class CarTwinHandler(ApiHandler):
    ROUTES = (Route("/api/v1/car-twin", "get", "Our car's twin", m.CarTwinResponse),)

    def get(self) -> None:
        self.send_cached("car-twin", lambda: {"car_twin": self.hub.car_twin.state()})


class FieldTwinHandler(ApiHandler):
    ROUTES = (Route("/api/v1/field-twin", "get", "Every car: running order and timing rows", m.FieldTwinResponse),)

    def get(self) -> None:
        self.send_cached("field-twin", lambda: {"field_twin": self.hub.field_twin.state()})


class EnvironmentHandler(ApiHandler):
    ROUTES = (Route("/api/v1/environment", "get", "Track, session, status and weather", m.EnvironmentResponse),)

    def get(self) -> None:
        self.send_cached("environment", lambda: {"environment": self.hub.environment.state()})


_SINCE = Param("since", {"type": "number"}, "Only samples with session time after this (s).")
_DRIVER = Param("driver", {"type": "string", "pattern": DRIVER_PATTERN},
                "Whose samples: a driver code (FastF1 Driver, e.g. HAM); default our car. 400 when it is not a "
                "driver code, 404 when no such car is in the session.")
_LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_TELEMETRY_PAGE, "default": 100},
               "Page size.")


@stream_request_body
class TelemetryHandler(ApiHandler):
    """GET pages one car's samples (our car unless ``?driver=``); POST submits records (token and size
    checked before the body is read)."""

    ROUTES = (
        Route("/api/v1/telemetry", "get", "Our car's (or ?driver=CODE's) samples, oldest first, paged by race time",
              m.TelemetryPage, params=(_DRIVER, _SINCE, _LIMIT), errors=(400, 404)),
        Route("/api/v1/telemetry", "post", "Submit a record or a batch (bearer token); says what each record became",
              m.AcceptedResponse, status=202, request_schema="TelemetryMessage", errors=(400, 401, 409, 413, 422),
              auth=True),
    )

    def prepare(self) -> None:
        super().prepare()
        self._body: list[bytes] = []
        self._size = 0
        if self.request.method != "POST":
            return
        if not self.require_token():
            self._count_reject("unauthorized", "Authorization: missing or wrong bearer token")
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_JSON_BYTES:
            self._too_large(int(length))

    def _count_reject(self, reason: str, message: str) -> None:
        """Every refused write is counted under source ``rest`` in the hub (health: components.sources)."""
        from workbench.telemetry.sources import IngestError

        self.hub.count_reject("rest", IngestError(reason, message))

    def _too_large(self, size: int) -> None:
        self._count_reject("too_large", f"body: {size} bytes is above the limit of {MAX_JSON_BYTES}")
        self.send_error_json(413, "too_large", f"body: {size} bytes is above the limit of {MAX_JSON_BYTES}")
        self.request.connection.stream.close()  # do not read (or buffer) the rest

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._size += len(chunk)
        if self._size > MAX_JSON_BYTES:
            return self._too_large(self._size)
        self._body.append(chunk)

    def get(self) -> None:
        since = self.get_query_argument("since", None)
        limit_text = self.get_query_argument("limit", "100")
        try:
            since_s = None if since is None else float(since)
        except ValueError:
            return self.send_error_json(400, "invalid_parameter", f"since: {since[:50]!r} is not a number")
        try:
            limit = int(limit_text)
        except ValueError:
            return self.send_error_json(400, "invalid_parameter", f"limit: {limit_text[:50]!r} is not an integer")
        if since_s is not None and not math.isfinite(since_s):
            return self.send_error_json(400, "invalid_parameter", f"since: {since!r} is not a finite number")
        if not 1 <= limit <= MAX_TELEMETRY_PAGE:
            return self.send_error_json(400, "invalid_parameter",
                                        f"limit: {limit} is not between 1 and {MAX_TELEMETRY_PAGE}")
        driver = self.get_query_argument("driver", None)
        if driver is None:
            driver = self.hub.our_driver
        elif not re.fullmatch(DRIVER_PATTERN, driver):
            return self.send_error_json(400, "invalid_parameter",
                                        f"driver: {driver[:50]!r} does not match pattern {DRIVER_PATTERN} "
                                        f"(a driver code, e.g. {self.hub.our_driver})")
        elif driver not in self.hub.field_twin.cars and driver not in self.hub.telemetry_by_driver:
            known = ", ".join(self.hub.drivers()) or "none yet"
            return self.send_error_json(404, "unknown_driver",
                                        f"driver: {driver!r} is not a car in this session (known: {known})")
        samples = self.hub.telemetry_since(since_s, limit, driver=driver)
        self.send_json({"driver": driver, "samples": [to_wire(s) for s in samples],
                        "next_since": samples[-1].session_time_s if samples else since_s})

    def post(self) -> None:
        if self._finished:
            return
        try:
            self._post(b"".join(self._body))
        except Exception as exc:  # the guard: no body ever gets a 5xx
            self._count_reject(f"internal: {type(exc).__name__}", str(exc)[:200])
            self.send_error_json(422, "invalid_record", f"body: could not be handled ({type(exc).__name__})")

    def _post(self, body: bytes) -> None:
        from workbench.telemetry.ingestor import ACCEPTED
        from workbench.telemetry.sources import IngestError

        try:
            obj = json.loads(body)
        except RecursionError:
            self._count_reject("json: too deep", "body: is nested too deeply")
            return self.send_error_json(400, "invalid_json", "body: is nested too deeply")
        except ValueError as exc:
            self._count_reject("json: invalid", f"body: is not valid JSON ({str(exc)[:200]})")
            return self.send_error_json(400, "invalid_json", f"body: is not valid JSON ({str(exc)[:200]})")
        result = self.hub.ingest(obj, "rest", wire=True)  # the hub's one entrance: validated, de-duplicated
        if isinstance(result, IngestError):  # counted by the hub under its reason
            return self.send_error_json(422, "invalid_record", str(result))
        accepted = result.count(ACCEPTED)
        rejected: dict[str, int] = {}
        for status in result:
            if status != ACCEPTED:
                rejected[status] = rejected.get(status, 0) + 1
        payload = {"accepted": accepted, "rejected": rejected}
        if isinstance(obj, dict) and obj.get("type") == "batch":
            payload["results"] = result
        if accepted == 0 and result:  # an empty batch is answered 202 with nothing accepted
            return self.send_json({"error": {"code": "not_applied", "message": "; ".join(
                f"{n} record(s) {reason}" for reason, n in rejected.items())}, **payload}, 409)
        self.send_json(payload, 202)


class StrategyResultsHandler(ApiHandler):
    ROUTES = (Route("/api/v1/strategy-results", "get", "The latest ranked strategies from the Monte Carlo engine",
                    m.StrategyResultsResponse),)

    def get(self) -> None:
        orchestrator = getattr(self.service, "orchestrator", None)
        predictor = getattr(self.service, "predictor", None)
        self.send_json({"strategy_results": self.hub.strategy_results,
                        "orchestrator": None if orchestrator is None else orchestrator.status(),
                        "race_prediction": self.hub.race_prediction,
                        "predictor": None if predictor is None else predictor.status()})


class StrategyRecommendationsHandler(ApiHandler):
    ROUTES = (Route("/api/v1/strategy-recommendations", "get",
                    "Ranked recommendations (urgent, moderate, optional) with the numbers they rest on",
                    m.StrategyRecommendationsResponse),)

    def get(self) -> None:
        recs = self.hub.strategy_recommendations or {"generation": None, "lap": None, "driver": None,
                                                     "input_hash": None, "recommendations": []}
        self.send_json(recs)


class SchemaHandler(ApiHandler):
    ROUTES = (Route("/api/v1/schema/telemetry", "get", "The telemetry wire JSON Schema",
                    m.TelemetrySchemaResponse),)

    def get(self) -> None:
        self.send_json({"schema_version": SCHEMA_VERSION, "schema": json_schema()})


class SessionsHandler(ApiHandler):
    ROUTES = (Route("/api/v1/sessions", "get", "Races in the store (one race = one session)",
                    m.SessionsResponse),)

    def get(self) -> None:
        store = self.hub.store
        sessions = store.sessions() if store else []
        for session in sessions:  # readers never see server paths: file names only
            for key in ("race_file", "file"):
                if session["meta"].get(key):
                    session["meta"][key] = Path(session["meta"][key]).name
        self.send_json({"current": self.hub.session_id, "sessions": sessions})


class MetricsHandler(ApiHandler):
    ROUTES = (Route("/api/v1/metrics", "get", "Latency histograms, uptime, memory, drops", m.MetricsResponse),)

    def get(self) -> None:
        summary = self.service.monitor.summary()
        summary["dropped"] = {**summary["dropped"], **{f"rejected:{k}": v for k, v in self.hub.rejected.items()},
                              "stream_subscribers_cut": self.service.stream.dropped_subscribers}
        self.send_json(summary)


class StreamHandler(WebSocketHandler):
    """``/api/v1/stream[?since_seq=N][&kinds=K1,K2]``: hub events and published results pushed as JSON messages
    (see stream.py); ``kinds`` keeps only those message kinds."""

    def initialize(self, service) -> None:
        self.service = service
        self._task: asyncio.Task | None = None
        self._sub = None

    def check_origin(self, origin: str) -> bool:
        allowed = self.service.settings.cors_origin
        return allowed is not None and origin == allowed or super().check_origin(origin)

    def open(self) -> None:
        since = self.get_query_argument("since_seq", None)
        try:
            since_seq = None if since is None else int(since)
        except ValueError:
            self._refuse("since_seq", f"since_seq: {since!r} is not an integer")
            return
        try:
            kinds = parse_kinds(self.get_query_argument("kinds", None))
        except ValueError as exc:
            self._refuse("kinds", str(exc))
            return
        self._sub, backlog = self.service.stream.subscribe(since_seq, kinds)
        self._sub.on_cut = self._cut
        self._backlog = backlog
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def _refuse(self, field: str, message: str) -> None:
        """A bad query parameter: one error message naming it, then close (1008, policy violation)."""
        self.write_message(json.dumps({"error": {"code": "invalid_parameter", "message": message}}))
        self.close(1008, f"invalid {field}")

    def _cut(self) -> None:
        """Too slow: close now (messages still waiting are dropped with the connection)."""
        self.close(1013, "client too slow; reconnect with since_seq")
        if self._task is not None:
            self._task.cancel()

    async def _write(self, message: dict) -> None:
        try:
            await asyncio.wait_for(self.write_message(json.dumps(message, allow_nan=False)), WRITE_TIMEOUT_S)
        except TimeoutError:
            self.service.stream.cut(self._sub)

    async def _pump(self) -> None:
        sub = self._sub
        try:
            for message in self._backlog:
                await self._write(message)
            self._backlog = []
            while not sub.cut:
                await self._write(await sub.queue.get())
        except (WebSocketClosedError, asyncio.CancelledError):
            return

    def on_message(self, message) -> None:
        pass  # the stream is one-way; client messages are ignored

    def on_close(self) -> None:
        if self._sub is not None:
            self.service.stream.unsubscribe(self._sub)
        if self._task is not None:
            self._task.cancel()


class NotFoundHandler(ApiHandler):
    def prepare(self) -> None:
        super().prepare()
        self.send_error_json(404, "not_found", f"path: {self.request.path!r} is not an API endpoint")


HANDLERS = (HealthHandler, CarTwinHandler, FieldTwinHandler, EnvironmentHandler, TelemetryHandler,
            StrategyResultsHandler, StrategyRecommendationsHandler, SchemaHandler, SessionsHandler, MetricsHandler)
ROUTES: tuple[Route, ...] = tuple(r for h in HANDLERS for r in h.ROUTES)
