"""AIStrategist (seed API): recommendations now, LLM explanations checked against the numbers.

    async with AIStrategist(base_url="http://localhost:8000/v1") as s:
        recs = await s.generate_recommendations({
            "car_twin": car_twin, "field_twin": field_twin,
            "simulation_results": results, "race_context": {"lap": 22, "session_type": "race"}})

The `Strategist` decides (deterministic, no I/O). The LLM, when configured, only writes a
short rationale per recommendation (`workbench.llm.request`: a schema and ``max_tokens``
built for the request, the answer streamed); the answer is checked
(`workbench.llm.checks`) and the built-in wording stays on any failure. Every call's
verdict goes into an `AcceptanceWindow` (acceptance rate, reasons, latency percentiles;
``degraded`` below a threshold), reported by `metrics()`. Without ``base_url`` no LLM is used.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import time
from pathlib import PurePath
from typing import Any

from workbench.llm.acceptance import DEGRADED_BELOW, MIN_CALLS, WINDOW_CALLS, AcceptanceWindow, Verdict
from workbench.llm.checks import ExplanationRejected, check_explanations
from workbench.llm.client import DEFAULT_MODEL, LLMClient, LLMError
from workbench.llm.request import build_request
from workbench.strategy.strategist import RaceContext, Recommendation, Strategist, StrategyInputError

__all__ = ["AIStrategist", "ExplainOutcome", "model_display_name"]


def model_display_name(model_id: str) -> str:
    """A model's name for people: a GGUF file or any file path becomes its file stem
    (``/m/SmolLM2-135M-Instruct.Q4_1.gguf`` -> ``SmolLM2-135M-Instruct.Q4_1``); a hub id such as
    ``modularai/Llama-3.1-8B-Instruct-GGUF`` stays as it is."""
    text = str(model_id).strip()
    if text.lower().endswith(".gguf") or text.startswith(("/", "./", "../", "~")) or "\\" in text \
            or re.match(r"^[A-Za-z]:[\\/]", text):
        return PurePath(text.replace("\\", "/")).name.removesuffix(".gguf").removesuffix(".GGUF") or text
    return text


@dataclasses.dataclass
class ExplainOutcome:
    """One explanation attempt: accepted or not, why, the model's raw answer and the wordings used.

    Truthy when the wording was accepted (so ``if await ai.explain(...)`` reads naturally).
    """

    accepted: bool
    reason: str | None = None
    message: str | None = None
    text: str | None = None  # the model's raw answer (None when the call failed)
    wordings: dict[int, str] = dataclasses.field(default_factory=dict)
    model: str | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    finish_reason: str | None = None

    def __bool__(self) -> bool:
        return self.accepted

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


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
        Stream the answer (server-sent events), so time to first token is measured.
    window_calls, degraded_below, min_calls
        The `AcceptanceWindow`: calls kept, the acceptance rate below which the state is
        ``degraded``, and the calls needed before the rate counts.
    """

    def __init__(self, base_url: str | None = None, model: str = DEFAULT_MODEL, api_key: str | None = None,
                 timeout_s: float = 30.0, retries: int = 1, stream: bool = True, window_calls: int = WINDOW_CALLS,
                 degraded_below: float = DEGRADED_BELOW, min_calls: int = MIN_CALLS):
        self.strategist = Strategist()
        self.client = LLMClient(base_url, model, api_key, timeout_s, retries) if base_url else None
        self.stream = stream
        self.structured_supported: bool | None = None  # learnt from the server
        self.fallbacks: collections.Counter = collections.Counter()  # every rejection/failure since the start
        self.window = AcceptanceWindow(window_calls, degraded_below, min_calls)
        self.explained = 0
        self.last: dict[str, Any] = {}
        self.model_name: str | None = None  # learnt from the server's /models, else the configured name

    @property
    def state(self) -> str:
        """``off`` without an LLM, else the window's ``unknown`` / ``ok`` / ``degraded``."""
        return "off" if self.client is None else self.window.state

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

    async def _learn_model_name(self) -> str:
        """The served model's name, asked once from ``/models`` (the configured name if that fails)."""
        if self.model_name is None:
            try:
                ids = [i for i in await self.client.models() if i]
            except LLMError:
                ids = []
            chosen = self.client.model if self.client.model in ids or len(ids) != 1 else ids[0]
            self.model_name = model_display_name(chosen)
        return self.model_name

    def record(self, outcome: ExplainOutcome) -> None:
        """Count an outcome decided outside `explain` (e.g. the service's own timeout)."""
        if not outcome.accepted:
            self.fallbacks[outcome.reason] += 1
        self.window.add(Verdict(outcome.accepted, outcome.reason, outcome.text is None and not outcome.accepted,
                                outcome.ttft_s, outcome.total_s))

    async def explain(self, recs: list[Recommendation], context: dict[str, Any]) -> ExplainOutcome:
        """Ask the LLM for a rationale per recommendation; on acceptance replace each ``reasoning``.

        Returns the `ExplainOutcome` (truthy when accepted); never raises for an LLM failure.
        """
        car = context.get("car_twin")
        driver = getattr(car, "driver", None) or (context.get("race_context") or {}).get("driver")
        prompt_context = {"lap": recs[0].numbers.get("lap"), "driver": driver, "team": getattr(car, "team", None),
                          "session_type": (context.get("race_context") or {}).get("session_type", "race")}
        request = build_request(recs, prompt_context)
        name = await self._learn_model_name()
        t0 = time.perf_counter()
        try:
            result = await self._chat(request)
        except LLMError as exc:
            outcome = ExplainOutcome(False, exc.reason, str(exc)[:300], model=name,
                                     total_s=time.perf_counter() - t0)
            self.record(outcome)
            self.last = {"error": outcome.message, "total_s": outcome.total_s}
            return outcome
        timings = {"ttft_s": result.ttft_s, "total_s": result.total_s, "tokens_per_s": result.tokens_per_s,
                   "structured": result.structured, "finish_reason": result.finish_reason}
        outcome = ExplainOutcome(False, text=result.text, model=name, ttft_s=result.ttft_s, total_s=result.total_s,
                                 finish_reason=result.finish_reason)
        try:
            if result.finish_reason == "length":
                raise ExplanationRejected("truncated", f"the answer was cut at max_tokens={request.max_tokens}")
            outcome.wordings = check_explanations(result.text, recs, driver)
        except ExplanationRejected as exc:  # the server works; its wording did not pass
            outcome.reason, outcome.message = exc.reason, str(exc)[:300]
            self.record(outcome)
            self.last = {**timings, "error": outcome.message}
            return outcome
        for i, text in outcome.wordings.items():
            recs[i].reasoning = text
            recs[i].explainer = f"llm:{name}"
        outcome.accepted = True
        self.record(outcome)
        self.explained += 1
        self.last = {**timings, "error": None}
        return outcome

    async def _chat(self, request):
        messages, max_tokens = request.messages, request.max_tokens
        if self.structured_supported is not False:
            try:
                result = await self.client.chat(messages, json_schema=request.schema, stream=self.stream,
                                                max_tokens=max_tokens)
                self.structured_supported = True
                return result
            except LLMError as exc:
                if exc.reason != "structured_output_unsupported":
                    raise
                self.structured_supported = False
                self.fallbacks["structured_output_unsupported"] += 1
        return await self.client.chat(messages, stream=self.stream, max_tokens=max_tokens)

    def metrics(self) -> dict[str, Any]:
        """For /api/v1/health: state, model, acceptance over the window (rate, reasons), latency
        percentiles (first token, total), all fallbacks since the start and the last call."""
        return {"state": self.state, "model": self.client.model if self.client else None,
                "model_name": self.model_name, "base_url": self.client.base_url if self.client else None,
                "explained": self.explained, "structured_output": self.structured_supported,
                "fallbacks": dict(self.fallbacks), **(self.window.report() if self.client else {}),
                "last": self.last}
