"""Response and request models of the REST API; the OpenAPI document is generated from them.

Envelopes are pydantic models. The twins' shapes come from their `param`
declarations (`CarTwin.param.schema()`), telemetry records from the wire
schema's declarative table, and a recommendation from the strategist's `Recommendation`
dataclass, so no schema here is written twice by hand.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from workbench.strategy.strategist import Recommendation

API_VERSION = "1.0"


def _ref(name: str):
    # wrapped in allOf: pydantic resolves a bare $ref itself and does not know these names
    return WithJsonSchema({"allOf": [{"$ref": f"#/components/schemas/{name}"}]})


class Envelope(BaseModel):
    api_version: Literal["1.0"] = Field(description="Version of this API's response shapes.")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_parameter.")
    message: str = Field(description="What was wrong: the field, the value and the rule.")


class ErrorResponse(Envelope):
    error: ErrorBody


class IngestHealth(BaseModel):
    accepted: dict[str, int] = Field(description="Records applied, by record type.")
    accepted_total: int
    rejected: dict[str, int] = Field(description="Rejected messages by reason.")
    rejected_total: int
    last_rejects: list[dict[str, Any]] = Field(description="The last rejected messages, newest last.")
    queued: int = Field(description="Records held in the reorder window.")
    session_time_s: float
    seconds_since_last_record: float | None
    subscriber_errors: int


class ListenerState(BaseModel):
    udp: str | None = Field(description="host:port of the UDP listener; null when off or not bound.")
    websocket: str | None = Field(description="URL of the WebSocket ingest; null when off or not bound.")
    token_required: bool
    errors: list[str] = Field(description="Listeners that could not start (e.g. port in use).")


class SourceState(BaseModel):
    state: Literal["idle", "running", "finished", "stopped", "failed", "listening"]
    kind: str = Field(description="simulator, replay or live.")
    seed: int | None = Field(description="Simulator seed; null for a replay or live source.")
    speed: float | None = Field(description="Race seconds per wall second; null = as fast as possible.")
    records_sent: int
    resumed_after: int = Field(description="Records already applied before a --resume.")
    error: str | None
    file: str | None = Field(None, description="The replayed file (replay source).")
    listeners: ListenerState | None = Field(None, description="Live UDP / WebSocket listeners, when configured.")


class SourceMetricsState(BaseModel):
    messages: int = Field(description="Messages / datagrams received, accepted or rejected.")
    accepted: int = Field(description="Records handed to the hub.")
    duplicates: int
    rejected: dict[str, int] = Field(description="Rejects by reason.")
    rejected_total: int
    last_rejects: list[dict[str, Any]] = Field(description="The last few rejects with their messages.")
    last_session_time_s: float | None
    lag_s: float | None = Field(description="Wall seconds since this source's last accepted record.")


class QueueState(BaseModel):
    depth: int
    max: int


class IngestSources(BaseModel):
    queue: QueueState
    sources: dict[str, SourceMetricsState] = Field(description="Per source: simulator, replay, udp, ws.")


class StoreState(BaseModel):
    model_config = ConfigDict(extra="allow")
    enabled: bool
    session_id: str | None = None
    applied_seq: int | None = None
    committed_seq: int | None = Field(None, description="Records durably committed (survive a kill).")


class ViewsState(BaseModel):
    sessions: int = Field(description="Browser sessions the app server holds now (every page).")
    periodic_callbacks: int = Field(description="Periodic callbacks running in those sessions.")
    refreshing_pages: int = Field(description="Live race pages whose refresh callback is running.")
    hub_subscribers: int | None = Field(None, description=(
        "Callbacks subscribed to the hub: the engines, the push stream and one per live race page."))


class HealthComponents(BaseModel):
    ingest: IngestHealth
    source: SourceState
    store: StoreState
    sources: IngestSources | None = Field(None, description="TelemetryIngestor metrics per source.")
    llm: dict[str, Any] | None = Field(None, description="Explainer: state (off/unknown/ok/degraded), model, "
                                                         "fallbacks by reason, last call's timings.")
    views: ViewsState | None = Field(None, description="Panel app sessions (racetwin serve only).")
    on_demand: dict[str, int] | None = Field(None, description=(
        "Server-wide budget of on-demand runs (what-if): pending (running + waiting), max_waiting, "
        "completed, refused as busy."))
    kernel: dict[str, Any] | None = Field(None, description="Race kernel auto-selected (cuda/numba) and the GPU "
                                                            "found (workbench.kernels.select).")


class HealthResponse(Envelope):
    status: Literal["ok", "degraded"]
    problems: list[str] = Field(default_factory=list, description=(
        "Why the status is degraded, each naming its cause (a port not bound, the ingest consumer "
        "restarted, store write errors, a failed source); empty when ok."))
    components: HealthComponents


class CarTwinResponse(Envelope):
    car_twin: Annotated[dict[str, Any], _ref("CarTwinState")]


class FieldTwinState(BaseModel):
    leader_lap: int
    order: list[str]
    cars: list[dict[str, Any]]


class FieldTwinResponse(Envelope):
    field_twin: FieldTwinState


class EnvironmentResponse(Envelope):
    environment: Annotated[dict[str, Any], _ref("TrackEnvironmentState")]


class TelemetryPage(Envelope):
    driver: str = Field(description="Whose samples these are: ?driver=, else our car.")
    samples: list[Annotated[dict[str, Any], _ref("CarSampleRecord")]]
    next_since: float | None = Field(description="Pass as ?since= to get the next page.")


class AcceptedResponse(Envelope):
    accepted: int = Field(description="Records the hub took from the message (applied in race-time order).")
    rejected: dict[str, int] = Field(default_factory=dict, description=(
        "Records not taken, by reason: duplicate, 'late: ...' (older than what was applied), "
        "'future: ...' (too far ahead of the hub's clock), 'pending: ...' (held ahead of the clock until "
        "confirmed)."))
    results: list[str] | None = Field(None, description="For a batch: one status per record, in order "
                                                        "('accepted' or the reason it was not).")


class TelemetrySchemaResponse(Envelope):
    schema_version: str
    json_schema: dict[str, Any] = Field(alias="schema")


class StoredSession(BaseModel):
    session_id: str
    created_wall: float
    meta: dict[str, Any]
    records: int
    last_seq: int
    last_session_time_s: float | None


class SessionsResponse(Envelope):
    current: str | None
    sessions: list[StoredSession]


class LatencySummary(BaseModel):
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class MetricsResponse(Envelope):
    uptime_s: float
    memory_rss_mb: float | None
    latency: dict[str, LatencySummary] = Field(description="Latency by operation (http:<route>, ingest).")
    dropped: dict[str, int]


class StrategyResultsResponse(Envelope):
    strategy_results: dict[str, Any] | None = Field(
        description="Latest decision: ranked candidates with position distributions (null before the first run).")
    orchestrator: dict[str, Any] | None = Field(description="Orchestrator status: runs, cancellations, backend.")
    race_prediction: dict[str, Any] | None = Field(
        default=None, description="Latest finish prediction from the leader's lap (racetwin predict's JSON with "
                                  "'lap'; null before lap 3 or with predictions off).")
    predictor: dict[str, Any] | None = Field(default=None, description="Live predictor status: runs, errors.")


def _from_dataclass(cls: type, name: str) -> type[BaseModel]:
    """A pydantic model with the dataclass's fields, types, defaults and descriptions (one definition)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: (hints[f.name], Field(default=f.default if f.default is not dataclasses.MISSING else ...,
                                            description=f.metadata.get("description")))
              for f in dataclasses.fields(cls)}
    return create_model(name, __config__=ConfigDict(extra="allow"), __doc__=cls.__doc__, **fields)


RecommendationItem = _from_dataclass(Recommendation, "RecommendationItem")


class StrategyRecommendationsResponse(Envelope):
    generation: int | None = Field(description="The strategy run these rest on (null before the first).")
    lap: int | None
    driver: str | None
    input_hash: str | None = Field(description="Hash of the strategy results (as in the audit log).")
    recommendations: list[RecommendationItem]
