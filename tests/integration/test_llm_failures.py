"""LLM failures over real sockets: recommendations are always served, nothing hangs, the
failure is counted by reason.

The servers here are deliberately broken OpenAI-compatible endpoints (a test double, named
as such): a real LLM server cannot be made to return 500s, hang, cut a stream or refuse
structured output on demand. The real server is exercised in test_llm_real.py.
"""

import asyncio
import json
import socket

import pytest
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from tests.util import free_port
from workbench.strategy.ai_strategist import AIStrategist

CONTEXT = {"car_twin": None, "field_twin": None, "simulation_results": [[25, 3, 0.72, 5400.1], [28, 4, 0.4, 5410.0]],
           "race_context": {"lap": 24, "session_type": "race"}}
HITS: dict[str, int] = {}


def faithful_answer(body: dict) -> str:
    """One plain sentence per recommendation line of the request, naming its action (what a good model
    would write), as many as the schema asks for."""
    lines = [line for line in body["messages"][1]["content"].split("\n") if line.startswith("Decision ")]
    wording = {True: "Box as planned for fresh tyres and track position.",
               False: "Stay out as planned and keep the track position."}
    return json.dumps({"explanations": [{"index": i, "reasoning": wording[": Box" in line]}
                                        for i, line in enumerate(lines)]})


class Models(RequestHandler):
    """``/v1/models`` as llama-server answers it: the model's id is the GGUF file's path."""

    def get(self, mode: str) -> None:
        self.finish({"object": "list", "data": [{"id": "/models/broken-llm.Q4_0.gguf", "object": "model"}]})


class BrokenLLM(RequestHandler):
    """Misbehaves according to the first path segment."""

    async def post(self, mode: str) -> None:
        HITS[mode] = HITS.get(mode, 0) + 1
        body = json.loads(self.request.body)
        if mode == "http500":
            self.set_status(500)
            return self.finish("boom")
        if mode == "slow":
            await asyncio.sleep(5)  # the behaviour under test: an LLM slower than the client's timeout
        if mode == "badjson":
            return self.finish("this is not json")
        if mode == "nostructured" and "response_format" in body:
            self.set_status(400)
            return self.finish('{"error": "response_format requires --enable-structured-output"}')
        if mode == "truncated":
            self.set_header("Content-Type", "text/event-stream")
            self.write('data: {"choices": [{"delta": {"content": "{\\"expl"}}]}\n\n')
            await self.flush()
            self.request.connection.stream.close()  # cut the stream mid-answer
            return
        if mode == "cutoff":  # what a server sends when max_tokens cuts the answer
            return self.finish({"model": "x", "choices": [{"message": {"content": '{"explanations": [{"ind'},
                                                           "finish_reason": "length"}]})
        if mode == "nonsense":
            answer = json.dumps({"explanations": [{"index": 0, "reasoning": "Pit on lap 99 for P1, stay out."},
                                                  {"index": 1, "reasoning": "ok"}]})
        else:
            answer = faithful_answer(body)
        if body.get("stream"):  # OpenAI server-sent events, a few characters per chunk
            self.set_header("Content-Type", "text/event-stream")
            for i in range(0, len(answer), 8):
                chunk = {"model": "/models/broken-llm.Q4_0.gguf", "choices": [{"delta": {"content": answer[i:i + 8]},
                                                                               "finish_reason": None}]}
                self.write(f"data: {json.dumps(chunk)}\n\n")
                await self.flush()
            self.write(f"data: {json.dumps({'choices': [{'delta': {}, 'finish_reason': 'stop'}]})}\n\ndata: [DONE]\n\n")
            return self.finish()
        self.finish({"model": "/models/broken-llm.Q4_0.gguf", "choices": [{"message": {"content": answer},
                                                                          "finish_reason": "stop"}],
                     "usage": {"completion_tokens": 12}})


async def run(mode: str, port: int | None = None, **kw):
    app = Application([(r"/(\w+)/v1/chat/completions", BrokenLLM), (r"/(\w+)/v1/models", Models)])
    server = HTTPServer(app)
    sock_port = free_port()
    server.listen(sock_port, "127.0.0.1")
    url = f"http://127.0.0.1:{port or sock_port}/{mode}/v1"
    try:
        async with AIStrategist(base_url=url, model="broken-llm", timeout_s=kw.pop("timeout_s", 2.0),
                                retries=kw.pop("retries", 1), **kw) as strategist:
            recs = await asyncio.wait_for(strategist.generate_recommendations(CONTEXT), 60)
            return recs, strategist.metrics()
    finally:
        server.stop()


@pytest.mark.parametrize("mode,reason,stream", [
    ("http500", "http_500", False),
    ("slow", "timeout", False),
    ("badjson", "invalid_response", False),
    ("truncated", "truncated_stream", True),
    ("nonsense", "number_mismatch", False),
    ("cutoff", "truncated", False),
])
def test_failures_fall_back_to_the_built_in_explanation(mode, reason, stream):
    recs, metrics = asyncio.run(run(mode, stream=stream, timeout_s=0.5 if mode == "slow" else 2.0))
    assert [r["explainer"] for r in recs] == ["built-in", "built-in"]
    assert recs[0]["title"] == "Box next lap (lap 25) for the next set"
    assert metrics["fallbacks"] == {reason: 1}
    assert metrics["state"] in ("degraded", "ok")


def test_retries_with_backoff_before_giving_up():
    HITS.pop("http500", None)
    asyncio.run(run("http500", retries=2))
    assert HITS["http500"] == 3


def test_server_down_is_unreachable_not_a_hang():
    dead = free_port()
    with socket.socket() as s:  # nothing listens on `dead`
        assert s.connect_ex(("127.0.0.1", dead)) != 0
    recs, metrics = asyncio.run(run("any", port=dead))
    assert recs[0]["explainer"] == "built-in" and metrics["fallbacks"] == {"unreachable": 1}
    assert metrics["state"] == "degraded"


def test_server_without_structured_output_gets_a_prompt_only_request():
    HITS.pop("nostructured", None)
    recs, metrics = asyncio.run(run("nostructured"))
    assert [r["explainer"] for r in recs] == ["llm:broken-llm.Q4_0", "llm:broken-llm.Q4_0"]  # the name, not a path
    assert recs[0]["reasoning"] == "Box as planned for fresh tyres and track position."
    assert metrics["structured_output"] is False and HITS["nostructured"] == 2
    assert metrics["fallbacks"] == {"structured_output_unsupported": 1}


def test_llm_never_changes_the_decision():
    plain, _ = asyncio.run(run("nostructured"))
    assert [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")} for r in plain] == \
        [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")}
         for r in AIStrategist().recommend_now(CONTEXT) for r in [r.to_dict()]]


def test_a_streamed_faithful_answer_is_accepted_timed_and_named():
    recs, metrics = asyncio.run(run("good", stream=True))
    assert [r["explainer"] for r in recs] == ["llm:broken-llm.Q4_0", "llm:broken-llm.Q4_0"]
    assert recs[1]["reasoning"] == "Stay out as planned and keep the track position."
    assert metrics["model_name"] == "broken-llm.Q4_0" and metrics["state"] == "ok"
    assert metrics["acceptance"]["rate"] == 1.0 and metrics["acceptance"]["window_calls"] == 1
    first, total = metrics["latency_s"]["first_token"], metrics["latency_s"]["total"]
    assert first["n"] == total["n"] == 1 and 0 < first["p50"] <= total["p50"]


def test_the_service_audits_every_verdict_with_text_reason_and_input_hash(tmp_path, race):
    """RecommendationService: decisions published at once; each LLM verdict, accepted or rejected, is in
    the audit log with the model's raw text, the reason and the decision's input hash."""
    from workbench.hub.recommendations import RecommendationService
    from workbench.hub.session import RaceSession
    from workbench.store import StateStore

    store = StateStore(tmp_path / "s.sqlite", commit_interval_s=0.05)
    store.create_session("r1", {"seed": 1})
    hub = RaceSession("VER", race=race, store=store, session_id="r1")

    async def go(mode: str, generation: int):
        app = Application([(r"/(\w+)/v1/chat/completions", BrokenLLM), (r"/(\w+)/v1/models", Models)])
        server = HTTPServer(app)
        port = free_port()
        server.listen(port, "127.0.0.1")
        ai = AIStrategist(base_url=f"http://127.0.0.1:{port}/{mode}/v1", model="broken-llm", timeout_s=5)
        service = RecommendationService(hub, ai)
        service.attach()
        hub.publish("strategy_results", {
            "generation": generation, "lap": 24, "driver": "VER",
            "ranked": [{"strategy": [{"lap": 25, "compound": "HARD"}], "mean_position": 3.0,
                        "success_probability": 0.72, "race_time_quantiles_s": {"p50": 5400.1},
                        "label": "1-stop (L25 HARD)"},
                       {"strategy": [{"lap": 28, "compound": "HARD"}], "mean_position": 4.0,
                        "success_probability": 0.4, "race_time_quantiles_s": {"p50": 5410.0},
                        "label": "1-stop (L28 HARD)"}]})  # the event: decided and published, then the LLM asked
        assert hub.strategy_recommendations["generation"] == generation  # served before the LLM answered
        await service._explaining
        service.close()
        await ai.client.close()
        server.stop()
        return service.state()

    good = asyncio.run(go("good", 1))
    bad = asyncio.run(go("nonsense", 2))
    store.flush()
    log = [e for e in store.audit_log("r1") if e["action"] == "explanation"]
    assert [e["detail"]["accepted"] for e in log] == [True, False]
    assert log[0]["actor"] == "llm:broken-llm.Q4_0" and log[0]["detail"]["published"] is True
    assert log[0]["detail"]["wordings"]["0"] == "Box as planned for fresh tyres and track position."
    assert log[1]["detail"]["reason"] == "number_mismatch" and "lap 99" in log[1]["detail"]["text"]
    decisions = {e["detail"]["generation"]: e["input_hash"] for e in store.audit_log("r1")
                 if e["action"] == "recommendations"}
    assert log[0]["input_hash"] == decisions[1] and log[1]["input_hash"] == decisions[2]
    assert good["acceptance"]["rate"] == 1.0 and bad["acceptance"]["reasons"] == {"number_mismatch": 1}
    store.close()
