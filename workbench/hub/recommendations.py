"""Recommendations in the live service: decided at once, worded by the LLM later, audited.

`RecommendationService` subscribes to the hub (`attach`): each ``strategy_results`` event (published
by the HPCOrchestrator's worker thread, delivered on the hub's loop) is decided immediately with the
deterministic `Strategist` (built-in wording) and the recommendations are published on the hub
(``hub.publish("strategy_recommendations", ...)``, served at ``/api/v1/strategy-recommendations``);
then, when an LLM is configured, it asks the `AIStrategist` to reword them and
republishes only if the wording passed the checks and the result is still the
latest. No polling: the hub keeps the newest result for REST and the page and hands it here as an event.
Every published decision reaches the store's audit log as a hub event (with the reasoning it was
published with), and every LLM verdict (the model's raw answer, accepted or rejected, with the
reason) goes there too, each with a hash of the decision's inputs. Framework-free: the REST handler only reads the hub.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from typing import Any

from workbench.hub.session import HubEvent, RaceSession
from workbench.strategy.ai_strategist import AIStrategist, ExplainOutcome
from workbench.strategy.strategist import StrategyInputError

__all__ = ["RecommendationService"]

log = logging.getLogger("racetwin")
AUDIT_TEXT_CHARS = 4000  # an answer is at most ~700 tokens (request.max_tokens_for); this keeps any of them


def input_hash(payload: dict[str, Any]) -> str:
    """A stable hash of what a decision rests on (for the audit log)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


class RecommendationService:
    """Strategy results -> recommendations on the hub, at once; the LLM's wording later, checked; all audited.

    Parameters
    ----------
    hub : RaceSession
        Where results come from (as events, once `attach` subscribed) and recommendations go.
    ai : AIStrategist
        Decides (deterministic) and, with an LLM client, words the decisions.
    explain_timeout_s : float
        How long one wording may take before the built-in one stays.
    """

    def __init__(self, hub: RaceSession, ai: AIStrategist, explain_timeout_s: float = 120.0):
        self.hub = hub
        self.ai = ai
        self.explain_timeout_s = explain_timeout_s
        self.published = 0
        self.errors = 0
        self.last_latency_s: float | None = None  # strategy result published -> recommendations published
        self._seen: int | None = None
        self._explaining: asyncio.Task | None = None
        self._queued: tuple | None = None  # the latest decision waiting for the LLM (one call at a time)
        self._unsubscribe = None

    def attach(self) -> None:
        """Subscribe to the hub: every new ``strategy_results`` event is decided at once, and every
        ``strategy_recommendations`` event goes to the store's audit log."""
        if self._unsubscribe is None:
            self._unsubscribe = self.hub.subscribe(self.on_event)

    def on_event(self, event: HubEvent) -> None:
        """Hub callback: decide on a strategy result not seen yet; audit published recommendations."""
        payload = event.payload
        if event.kind == "strategy_recommendations":
            self._audit_decision(event)
            return
        if event.kind != "strategy_results" or payload is None or payload.get("generation") == self._seen:
            return
        self._seen = payload.get("generation")
        self._decide(payload)

    def close(self) -> None:
        """Unsubscribe and cancel a wording in progress (the decisions already published stay)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._queued = None
        if self._explaining is not None:
            self._explaining.cancel()

    def _context(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"car_twin": self.hub.car_twin, "field_twin": self.hub.field_twin, "simulation_results": payload,
                "race_context": {"lap": int(payload.get("lap", self.hub.car_twin.lap)), "session_type": "race",
                                 "track_status": payload.get("track_status")}}

    def _decide(self, payload: dict[str, Any]) -> None:
        context = self._context(payload)
        try:
            recs = self.ai.recommend_now(context)
        except StrategyInputError as exc:  # a result we cannot read is reported, never raised into the loop
            self.errors += 1
            log.warning("strategy results not usable for recommendations: %s", exc)
            return
        digest = input_hash(payload)
        self._publish(payload, recs, digest)
        if self.ai.client is not None:
            job = (payload, recs, context, digest)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # a hub without a loop (a notebook): the built-in wording stays
                self.ai.fallbacks["no_event_loop"] += 1
                return
            if self._explaining is None or self._explaining.done():
                self._explaining = loop.create_task(self._explain(*job))
            else:  # one LLM call at a time; only the newest decision waits for the next one
                self._queued = job

    def _publish(self, payload: dict[str, Any], recs, digest: str) -> None:
        published_wall = payload.get("published_wall_s")
        self.last_latency_s = None if published_wall is None else time.time() - published_wall
        self.published += 1
        self.hub.publish("strategy_recommendations", {
            "generation": payload.get("generation"), "lap": payload.get("lap"), "driver": payload.get("driver"),
            "input_hash": digest, "recommendations": [r.to_dict() for r in recs]},
            session_time_s=payload.get("session_time_s"))

    def _audit_decision(self, event: HubEvent) -> None:
        """A published decision (a hub event) goes to the audit log with the reasoning it was published with."""
        recs, store = (event.payload or {}).get("recommendations"), self.hub.store
        if store is None or not recs:
            return
        store.audit(self.hub.session_id, "recommendations", {
            "generation": event.payload.get("generation"), "titles": [r["title"] for r in recs],
            "priorities": [r["priority"] for r in recs], "reasoning": [r["reasoning"] for r in recs],
            "explainers": [r["explainer"] for r in recs]},
            session_time_s=event.session_time_s, input_hash=event.payload.get("input_hash"),
            actor=recs[0]["explainer"])

    async def _explain(self, payload, recs, context, digest) -> None:
        try:
            outcome = await asyncio.wait_for(self.ai.explain(recs, context), self.explain_timeout_s)
        except TimeoutError:
            outcome = ExplainOutcome(False, "timeout", f"no verdict within {self.explain_timeout_s} s",
                                     model=self.ai.model_name, total_s=self.explain_timeout_s)
            self.ai.record(outcome)
        latest = self.hub.strategy_results
        published = False
        if outcome.accepted:
            if latest is not None and latest.get("generation") == payload.get("generation"):
                self._publish(payload, recs, digest)
                published = True
            else:
                self.ai.fallbacks["superseded"] += 1  # worded, but a newer decision is already out
        self._audit_explanation(payload, outcome, digest, published)
        if self._queued is not None:
            job, self._queued = self._queued, None
            self._explaining = asyncio.get_running_loop().create_task(self._explain(*job))

    def _audit_explanation(self, payload: dict[str, Any], outcome: ExplainOutcome, digest: str,
                           published: bool) -> None:
        """Every LLM verdict goes to the audit log: the raw answer, accepted or rejected, and why."""
        if self.hub.store is None:
            return
        text = outcome.text
        self.hub.store.audit(self.hub.session_id, "explanation", {
            "generation": payload.get("generation"), "accepted": outcome.accepted, "published": published,
            "reason": outcome.reason, "message": outcome.message, "finish_reason": outcome.finish_reason,
            "text": None if text is None else text[:AUDIT_TEXT_CHARS],
            "text_truncated": text is not None and len(text) > AUDIT_TEXT_CHARS,
            "wordings": {str(i): w for i, w in outcome.wordings.items()},
            "ttft_s": outcome.ttft_s, "total_s": outcome.total_s},
            session_time_s=payload.get("session_time_s"), input_hash=digest,
            actor=f"llm:{outcome.model or self.ai.client.model}")

    def state(self) -> dict[str, Any]:
        return {"published": self.published, "errors": self.errors, "latency_s": self.last_latency_s,
                **self.ai.metrics()}
