"""`racetwin bench`: Monte Carlo kernel throughput and decision latency (full and adaptive), numba beside numpy."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "bench",
        help="measure races/s, lap evaluations/s and decision latency, full and adaptive (numba vs numpy reference)",
        description="Full-field races/s, single-car lap evaluations/s and decision latency (lap completed -> "
        "ranked strategies from 10,000 races, p95), each beside the numpy reference measured in the same run; "
        "the adaptive decision (candidate racing, a fraction of the races) timed beside the full one.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--races", type=int, default=20_000, help="full-field races per timing (default 20000)")
    parser.add_argument("--decisions", type=int, default=20, help="decisions timed for the p95 (default 20)")


def run(args) -> int:
    from workbench.bench.harness import run_bench

    for name in ("races", "decisions"):
        if getattr(args, name) < 1:
            import sys
            print(f"racetwin bench: --{name}: {getattr(args, name)} is below minimum 1", file=sys.stderr)
            return 2
    result = run_bench(races=args.races, decisions=args.decisions)
    if args.json:
        print(json.dumps(result))
        return 0
    d = result["decision"]
    print(f"CPU: {result['cpu']} ({result['cpu_count']} logical CPUs), numba threads: {result['threads']}")
    print(f"{'':34} {'numba':>14} {'numpy reference':>16}")
    print(f"{'full-field races/s':34} {result['full_field_races_per_s']:14,.0f} "
          f"{result['full_field_races_per_s_numpy']:16,.0f}")
    if result["full_field_races_per_s_mojo"] is not None:
        print(f"{'full-field races/s, Mojo kernel':34} {result['full_field_races_per_s_mojo']:14,.0f}")
    print(f"{'single-car lap evaluations/s':34} {result['single_car_lap_evals_per_s']:14,.0f} "
          f"{result['single_car_lap_evals_per_s_numpy']:16,.0f}")
    if result["single_car_lap_evals_per_s_mojo"] is not None:
        print(f"{'single-car lap evals/s, Mojo kernel':34} {result['single_car_lap_evals_per_s_mojo']:14,.0f}")
    print(f"{'decision latency p95 (ms)':34} {result['decision_latency_p95_ms']:14,.1f} "
          f"{result['decision_latency_p95_ms_numpy']:16,.1f}")
    print(f"{'decision CPU time (ms, all threads)':34} {result['decision_cpu_ms']:14,.1f}")
    a = result["decision_adaptive"]
    print(f"{'adaptive decision latency p95 (ms)':34} {result['decision_latency_p95_ms_adaptive']:14,.1f} "
          f"{result['decision_latency_p95_ms_numpy_adaptive']:16,.1f}")
    print(f"{'adaptive decision CPU time (ms)':34} {result['decision_cpu_ms_adaptive']:14,.1f}")
    print(f"decision: {d['driver']} after lap {d['lap']}, {d['candidates']} candidates, {d['races']} races; "
          f"numba p95 over {d['repeats']} decisions, numpy timed once")
    print(f"adaptive: {a['races_mean']:,.0f} races on average ({a['races_fraction']:.0%} of the full run's, "
          f"at most {a['races_max']:,}); same top recommendation as the full run in {a['top1_agreement']:.0%} "
          f"of the {d['repeats']} decisions, settled in {a['settled']:.0%}")
    return 0
