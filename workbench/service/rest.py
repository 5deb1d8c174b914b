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
import time
from typing import Any

from tornado.web import RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from workbench.service import api_models as m
from workbench.telemetry.schema import SCHEMA_VERSION, json_schema, to_wire

__all__ = ["API_VERSION", "ROUTES", "Route", "routes", "jsonable"]

API_VERSION = m.API_VERSION
MAX_TELEMETRY_PAGE = 1000
MAX_BODY_BYTES = 1_000_000
CACHE_S = 0.1  # twin/environment responses are rebuilt at most this often (seconds of wall time)


def jsonable(value: Any) -> Any:
    """Replace NaN/inf by None (JSON has no such numbers), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


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
        self.finish(json.dumps({"api_version": API_VERSION, **jsonable(payload)}, allow_nan=False))

    def send_cached(self, key: str, build) -> None:
        """Send a 200 JSON body shared by all clients: rebuilt when the hub applied new records,
        but at most every CACHE_S, so a response is never more than CACHE_S behind the hub."""
        cache = self.service.response_cache
        now, seq = time.monotonic(), self.hub.applied_seq
        hit = cache.get(key)
        if hit is None or (hit[1] != seq and now - hit[0] > CACHE_S):
            body = json.dumps({"api_version": API_VERSION, **jsonable(build())}, allow_nan=False)
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
        """Writes need ``Authorization: Bearer <token>``; answers 401 and returns False otherwise."""
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
        status = "ok" if source["state"] in ("idle", "running", "finished", "listening") else "degraded"
        if source.get("listeners", {}).get("errors"):
            status = "degraded"  # a live listener could not bind its port
        components = {"ingest": self.hub.health(), "source": source, "store": self.service.store_state()}
        ingestor = getattr(self.service, "ingestor", None)
        if ingestor is not None:
            components["sources"] = ingestor.metrics()
        components["llm"] = self.service.llm_state()
        from workbench.kernels.select import kernel_report  # race kernel auto-selected, GPU found
        components["kernel"] = kernel_report()
        view_state = getattr(self.service, "view_state", None)
        if view_state is not None:
            components["views"] = view_state()
        self.send_json({"status": status, "components": components})


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
_LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_TELEMETRY_PAGE, "default": 100},
               "Page size.")


class TelemetryHandler(ApiHandler):
    ROUTES = (
        Route("/api/v1/telemetry", "get", "Our car's 10 Hz samples, oldest first, paged by race time",
              m.TelemetryPage, params=(_SINCE, _LIMIT), errors=(400,)),
        Route("/api/v1/telemetry", "post", "Submit a record or a batch (bearer token)", m.AcceptedResponse,
              status=202, request_schema="TelemetryMessage", errors=(400, 401, 413, 422), auth=True),
    )

    def get(self) -> None:
        since = self.get_query_argument("since", None)
        limit_text = self.get_query_argument("limit", "100")
        try:
            since_s = None if since is None else float(since)
        except ValueError:
            return self.send_error_json(400, "invalid_parameter", f"since: {since!r} is not a number")
        try:
            limit = int(limit_text)
        except ValueError:
            return self.send_error_json(400, "invalid_parameter", f"limit: {limit_text!r} is not an integer")
        if since_s is not None and not math.isfinite(since_s):
            return self.send_error_json(400, "invalid_parameter", f"since: {since!r} is not a finite number")
        if not 1 <= limit <= MAX_TELEMETRY_PAGE:
            return self.send_error_json(400, "invalid_parameter",
                                        f"limit: {limit} is not between 1 and {MAX_TELEMETRY_PAGE}")
        samples = self.hub.telemetry_since(since_s, limit)
        self.send_json({"samples": [to_wire(s) for s in samples],
                        "next_since": samples[-1].session_time_s if samples else since_s})

    def post(self) -> None:
        if not self.require_token():
            return
        if len(self.request.body) > MAX_BODY_BYTES:
            return self.send_error_json(413, "too_large", f"body: {len(self.request.body)} bytes is above "
                                                          f"the limit of {MAX_BODY_BYTES}")
        try:
            obj = json.loads(self.request.body)
        except ValueError as exc:
            return self.send_error_json(400, "invalid_json", f"body: is not valid JSON ({exc})")
        error = self.hub.ingest_json(obj, source="rest")
        if error is not None:
            return self.send_error_json(422, "invalid_record", str(error))
        n = len(obj["records"]) if obj.get("type") == "batch" else 1
        self.send_json({"accepted": n}, 202)


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
        self.send_json({"current": self.hub.session_id, "sessions": store.sessions() if store else []})


class MetricsHandler(ApiHandler):
    ROUTES = (Route("/api/v1/metrics", "get", "Latency histograms, uptime, memory, drops", m.MetricsResponse),)

    def get(self) -> None:
        summary = self.service.monitor.summary()
        summary["dropped"] = {**summary["dropped"], **{f"rejected:{k}": v for k, v in self.hub.rejected.items()},
                              "stream_subscribers_cut": self.service.stream.dropped_subscribers}
        self.send_json(summary)


class OpenApiHandler(ApiHandler):
    ROUTES = ()

    def get(self) -> None:
        from workbench.service.openapi import openapi_document
        self.set_status(200)
        self.finish(json.dumps(openapi_document()))


class StreamHandler(WebSocketHandler):
    """``/api/v1/stream[?since_seq=N]``: hub events pushed as JSON messages (see stream.py)."""

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
            self.write_message(json.dumps({"error": {"code": "invalid_parameter",
                                                     "message": f"since_seq: {since!r} is not an integer"}}))
            self.close(1008, "invalid since_seq")
            return
        self._sub, backlog = self.service.stream.subscribe(since_seq)
        for message in backlog:
            self.write_message(json.dumps(jsonable(message)))
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        sub = self._sub
        try:
            while True:
                if sub.cut and sub.queue.empty():
                    self.close(1013, "client too slow; reconnect with since_seq")
                    return
                message = await sub.queue.get()
                await self.write_message(json.dumps(jsonable(message)))
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


def routes(service) -> list[tuple]:
    """The URL patterns for tornado / Bokeh's ``extra_patterns``."""
    kw = {"service": service}
    patterns = []
    for handler in HANDLERS:
        for path in dict.fromkeys(r.path for r in handler.ROUTES):
            patterns.append((path + "/?", handler, kw))
    patterns += [(r"/api/v1/openapi\.json", OpenApiHandler, kw), (r"/api/v1/stream", StreamHandler, kw),
                 (r"/api/v1/.*", NotFoundHandler, kw)]
    return patterns
