"""REST handlers for /api/v1: thin tornado adapters over the RaceSession hub.

Every response is JSON with ``api_version``; errors are
``{"api_version": ..., "error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tornado.web import RequestHandler

from workbench.telemetry.schema import SCHEMA_VERSION, json_schema, to_wire

__all__ = ["API_VERSION", "routes", "jsonable"]

API_VERSION = "1.0"
MAX_TELEMETRY_PAGE = 1000
MAX_BODY_BYTES = 1_000_000


def jsonable(value: Any) -> Any:
    """Replace NaN/inf by None (JSON has no such numbers), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class ApiHandler(RequestHandler):
    """Base: JSON out, JSON errors, the service injected by `routes`."""

    def initialize(self, service) -> None:
        self.service = service
        self.hub = service.hub

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def send_json(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps({"api_version": API_VERSION, **jsonable(payload)}, allow_nan=False))

    def send_error_json(self, status: int, code: str, message: str) -> None:
        self.send_json({"error": {"code": code, "message": message}}, status)

    def write_error(self, status_code: int, **kwargs) -> None:
        self.send_error_json(status_code, "internal_error" if status_code >= 500 else "bad_request",
                             self._reason)


class HealthHandler(ApiHandler):
    def get(self) -> None:
        ingest = self.hub.health()
        source = self.service.source_state()
        status = "ok" if source["state"] in ("running", "finished", "idle") else "degraded"
        self.send_json({"status": status, "components": {"ingest": ingest, "source": source,
                                                         "store": self.service.store_state()}})


class CarTwinHandler(ApiHandler):
    def get(self) -> None:
        self.send_json({"car_twin": self.hub.car_twin.state()})


class FieldTwinHandler(ApiHandler):
    def get(self) -> None:
        self.send_json({"field_twin": self.hub.field_twin.state()})


class EnvironmentHandler(ApiHandler):
    def get(self) -> None:
        self.send_json({"environment": self.hub.environment.state()})


class TelemetryHandler(ApiHandler):
    def get(self) -> None:
        try:
            since = self.get_query_argument("since", None)
            since_s = None if since is None else float(since)
            limit = int(self.get_query_argument("limit", "100"))
        except ValueError:
            return self.send_error_json(400, "invalid_parameter",
                                        "since: must be a number of seconds; limit: must be an integer")
        if since_s is not None and not math.isfinite(since_s):
            return self.send_error_json(400, "invalid_parameter", f"since: {since!r} is not a finite number")
        if not 1 <= limit <= MAX_TELEMETRY_PAGE:
            return self.send_error_json(400, "invalid_parameter",
                                        f"limit: {limit} is not between 1 and {MAX_TELEMETRY_PAGE}")
        samples = self.hub.telemetry_since(since_s, limit)
        self.send_json({"samples": [to_wire(s) for s in samples],
                        "next_since": samples[-1].session_time_s if samples else since_s})

    def post(self) -> None:
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
    def get(self) -> None:
        orchestrator = getattr(self.service, "orchestrator", None)
        self.send_json({"strategy_results": self.hub.strategy_results,
                        "orchestrator": None if orchestrator is None else orchestrator.status()})


class SchemaHandler(ApiHandler):
    def get(self) -> None:
        self.send_json({"schema_version": SCHEMA_VERSION, "schema": json_schema()})


class NotFoundHandler(ApiHandler):
    def prepare(self) -> None:
        self.send_error_json(404, "not_found", f"path: {self.request.path!r} is not an API endpoint")


def routes(service) -> list[tuple]:
    """The URL patterns for tornado / Bokeh's ``extra_patterns``."""
    kw = {"service": service}
    return [
        (r"/api/v1/health/?", HealthHandler, kw),
        (r"/api/v1/car-twin/?", CarTwinHandler, kw),
        (r"/api/v1/field-twin/?", FieldTwinHandler, kw),
        (r"/api/v1/environment/?", EnvironmentHandler, kw),
        (r"/api/v1/telemetry/?", TelemetryHandler, kw),
        (r"/api/v1/strategy-results/?", StrategyResultsHandler, kw),
        (r"/api/v1/schema/telemetry/?", SchemaHandler, kw),
        (r"/api/v1/.*", NotFoundHandler, kw),
    ]
