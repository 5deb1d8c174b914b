"""AIStrategist (seed API): recommendations now, LLM explanations checked against the numbers.

    async with AIStrategist(base_url="http://localhost:8000/v1") as s:
        recs = await s.generate_recommendations({
            "car_twin": car_twin, "field_twin": field_twin,
            "simulation_results": results, "race_context": {"lap": 22, "session_type": "race"}})

The `Strategist` decides (deterministic, no I/O). The LLM, when configured, only
rewords each recommendation's reasoning; the answer is checked
(`workbench.llm.explain.check_explanations`) and the built-in wording stays on any
failure, counted by reason in `metrics()`. Without ``base_url`` no LLM is used.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from workbench.llm.client import DEFAULT_MODEL, LLMClient, LLMError
from workbench.llm.explain import EXPLANATION_SCHEMA, ExplanationRejected, build_messages, check_explanations
from workbench.strategy.strategist import RaceContext, Recommendation, Strategist, StrategyInputError

__all__ = ["AIStrategist"]


class AIStrategist:
    """Seed-compatible strategist with an optional OpenAI-compatible explainer.

    Parameters
    ----------
    base_url : str, optional
        OpenAI-compatible server (e.g. ``http://localhost:8000/v1`` for ``max serve``);
        ``None`` keeps the built-in explainer only.
    model, api_key, timeout_s, retries
        Passed to `LLMClient`.
    stream : bool
        Stream the answer (measures time to first token).
    """

    def __init__(self, base_url: str | None = None, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 timeout_s: float = 30.0, retries: int = 1, stream: bool = False):
        self.strategist = Strategist()
        self.client = LLMClient(base_url, model, api_key, timeout_s, retries) if base_url else None
        self.stream = stream
        self.structured_supported: bool | None = None  # learnt from the server
        self.fallbacks: collections.Counter = collections.Counter()
        self.explained = 0
        self.last: dict[str, Any] = {}
        self.state = "off" if self.client is None else "unknown"

    async def __aenter__(self) -> AIStrategist:
        return self

    async def __aexit__(self, *exc) -> None:
        if self.client is not None:
            await self.client.close()

    @staticmethod
    def _context(context: dict[str, Any]) -> RaceContext:
        race = context.get("race_context") or {}
        car = context.get("car_twin")
        lap = race.get("lap", getattr(car, "current_lap", None) if car is not None else None)
        if isinstance(lap, bool) or not isinstance(lap, int) or lap < 0:
            raise StrategyInputError(f"race_context.lap: {lap!r} is not a lap number")
        env_status = race.get("track_status") or (car.track_status.value if car is not None else "GREEN")
        return RaceContext(lap=lap, total_laps=race.get("total_laps"),
                           position=getattr(car, "position", None) if car is not None else race.get("position"),
                           track_status=str(env_status), driver=getattr(car, "driver", None))

    def recommend_now(self, context: dict[str, Any]) -> list[Recommendation]:
        """The deterministic recommendations with built-in wording; never waits for anything."""
        return self.strategist.recommend(context.get("simulation_results"), self._context(context))

    async def generate_recommendations(self, context: dict[str, Any]) -> list[dict[str, Any]]:
        """Recommendations as dicts with the seed's fields, LLM-worded when a server is configured and
        its answer passes the checks."""
        recs = self.recommend_now(context)
        if self.client is not None:
            await self.explain(recs, context)
        return [r.to_dict() for r in recs]

    async def explain(self, recs: list[Recommendation], context: dict[str, Any]) -> bool:
        """Try to replace the reasoning with LLM wording; True when it was accepted."""
        car = context.get("car_twin")
        prompt_context = {"lap": recs[0].numbers.get("lap"), "driver": getattr(car, "driver", None),
                          "team": getattr(car, "team", None),
                          "session_type": (context.get("race_context") or {}).get("session_type", "race")}
        messages = build_messages(recs, prompt_context)
        t0 = time.perf_counter()
        try:
            result = await self._chat(messages)
        except LLMError as exc:
            self.fallbacks[exc.reason] += 1
            self.state = "degraded"
            self.last = {"error": str(exc)[:300], "total_s": time.perf_counter() - t0}
            return False
        timings = {"ttft_s": result.ttft_s, "total_s": result.total_s, "tokens_per_s": result.tokens_per_s,
                   "structured": result.structured}
        try:
            texts = check_explanations(result.text, recs)
        except ExplanationRejected as exc:  # the server works; its wording did not pass
            self.fallbacks[exc.reason] += 1
            self.state = "ok"
            self.last = {**timings, "error": str(exc)[:300]}
            return False
        for i, text in texts.items():
            recs[i].reasoning = text
            recs[i].explainer = f"llm:{result.model}"
        self.explained += 1
        self.state = "ok"
        self.last = {**timings, "error": None}
        return True

    async def _chat(self, messages):
        if self.structured_supported is not False:
            try:
                result = await self.client.chat(messages, json_schema=EXPLANATION_SCHEMA, stream=self.stream)
                self.structured_supported = True
                return result
            except LLMError as exc:
                if exc.reason != "structured_output_unsupported":
                    raise
                self.structured_supported = False
                self.fallbacks["structured_output_unsupported"] += 1
        return await self.client.chat(messages, stream=self.stream)

    def metrics(self) -> dict[str, Any]:
        """LLM state, fallbacks by reason and the last call's timings (for /api/v1/health)."""
        return {"state": self.state, "model": self.client.model if self.client else None,
                "base_url": self.client.base_url if self.client else None, "explained": self.explained,
                "structured_output": self.structured_supported, "fallbacks": dict(self.fallbacks),
                "last": self.last}
