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
from workbench.llm import AIStrategist

CONTEXT = {"car_twin": None, "field_twin": None, "simulation_results": [[25, 3, 0.72, 5400.1], [28, 4, 0.4, 5410.0]],
           "race_context": {"lap": 24, "session_type": "race"}}
HITS: dict[str, int] = {}


def faithful_answer(body: dict) -> str:
    """Explanations built only from the numbers in the request (what a good model would write)."""
    data = json.loads(body["messages"][1]["content"].split("\n")[1].removeprefix("DATA: "))
    return json.dumps({"explanations": [{"index": d["index"], "reasoning": f"Plan built at lap {d['numbers']['lap']}."}
                                        for d in data]})


class BrokenLLM(RequestHandler):
    """Misbehaves according to the first path segment."""

    async def post(self, mode: str) -> None:
        HITS[mode] = HITS.get(mode, 0) + 1
        body = json.loads(self.request.body)
        if mode == "http500":
            self.set_status(500)
            return self.finish("boom")
        if mode == "slow":
            await asyncio.sleep(5)
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
        if mode == "nonsense":
            answer = json.dumps({"explanations": [{"index": 0, "reasoning": "Pit on lap 99 for P1, stay out."},
                                                  {"index": 1, "reasoning": "ok"}]})
        else:
            answer = faithful_answer(body)
        self.finish({"model": "broken-llm", "choices": [{"message": {"content": answer}}],
                     "usage": {"completion_tokens": 12}})


async def run(mode: str, port: int | None = None, **kw):
    app = Application([(r"/(\w+)/v1/chat/completions", BrokenLLM)])
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
    assert [r["explainer"] for r in recs] == ["llm:broken-llm", "llm:broken-llm"]
    assert recs[0]["reasoning"] == "Plan built at lap 24."
    assert metrics["structured_output"] is False and HITS["nostructured"] == 2
    assert metrics["fallbacks"] == {"structured_output_unsupported": 1}


def test_llm_never_changes_the_decision():
    plain, _ = asyncio.run(run("nostructured"))
    assert [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")} for r in plain] == \
        [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")}
         for r in AIStrategist().recommend_now(CONTEXT) for r in [r.to_dict()]]
