"""The OpenAPI 3.1 document of /api/v1, generated from the route declarations and models."""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic.json_schema import models_json_schema

from workbench.hub.session import TrackEnvironment
from workbench.service import api_models as m
from workbench.service.rest import ROUTES, ApiHandler
from workbench.telemetry.schema import json_schema as telemetry_schema
from workbench.twins import CarTwin
from workbench.twins.car import car_live_schema
from workbench.twins.twin_schemas import parameterized_state_schema

__all__ = ["OpenApiHandler", "openapi_document"]

_ERROR_TEXT = {400: "Bad parameter", 401: "Missing or wrong bearer token", 404: "Not found",
               409: "No record applied (each was late, in the future or a duplicate; see results)",
               413: "Body too large", 422: "Record failed validation"}


def _telemetry_components() -> dict[str, Any]:
    schema = telemetry_schema()
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/Telemetry_')
    schema = json.loads(text)
    out = {f"Telemetry_{k}": v for k, v in schema.pop("$defs").items()}
    out["TelemetryMessage"] = {"oneOf": schema["oneOf"], "description": schema["title"]}
    out["CarSampleRecord"] = {"$ref": "#/components/schemas/Telemetry_car_sample"}
    return out


@functools.cache
def openapi_document() -> dict[str, Any]:
    """Build (once) the OpenAPI document for every declared route."""
    models = sorted({r.response for r in ROUTES if r.response} | {m.ErrorResponse}, key=lambda c: c.__name__)
    _, defs = models_json_schema([(model, "serialization") for model in models],
                                 ref_template="#/components/schemas/{model}")
    components = dict(defs.get("$defs", {}))
    components["CarTwinState"] = parameterized_state_schema(CarTwin, extra={"live": car_live_schema()})
    components["TrackEnvironmentState"] = parameterized_state_schema(TrackEnvironment)
    components.update(_telemetry_components())
    paths: dict[str, dict] = {}
    for route in ROUTES:
        op: dict[str, Any] = {
            "summary": route.summary,
            "operationId": f"{route.method}_{route.path.removeprefix('/api/v1/').replace('-', '_').replace('/', '_')}",
            "responses": {str(route.status): {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.response.__name__}"}}}}},
        }
        for status in route.errors:
            op["responses"][str(status)] = {"description": _ERROR_TEXT[status], "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
        if route.params:
            op["parameters"] = [{"name": p.name, "in": "query", "required": False, "schema": p.schema,
                                 "description": p.description} for p in route.params]
        if route.request_schema:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{route.request_schema}"}}}}
        if route.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(route.path, {})[route.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Race Twin Edge API", "version": m.API_VERSION,
                 "description": "Live race twins, telemetry and strategy. Reads are open (on 127.0.0.1 by "
                                "default); writes need a bearer token. Push stream: WebSocket /api/v1/stream "
                                "(race events, our twin and the published results; ?since_seq=N, "
                                "?kinds=K1,K2)."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


class OpenApiHandler(ApiHandler):
    """``GET /api/v1/openapi.json``: the document above."""

    ROUTES = ()

    def get(self) -> None:
        self.set_status(200)
        self.finish(json.dumps(openapi_document()))
