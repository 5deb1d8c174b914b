"""Adaptive candidate racing vs the full run on the real-race benchmark set (prints numbers).

Every catalogue race with a real lap table in ../shared/data/real-races, at 35 % and
60 % distance, deciding for the cars in P3 and P8: the share of states where the
adaptive top-1 equals the full run's top-1 (`decide`, 10,000 races), the races used as
a fraction of the full run's, and the full run's agreement with itself under another
seed (the ceiling its own noise sets). The figure in docs/montecarlo.md comes from here.

    python tests/benchmarks/bench_adaptive.py [--seed 0] [--backend numba] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from workbench.bench.adaptive_states import agreement, real_race_states

REAL_RACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-races"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numba", choices=("numba", "numpy", "mojo"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    states = real_race_states(REAL_RACES)
    res = agreement(states, total_runs=10_000, seed=args.seed, backend=args.backend, reference_seed=args.seed + 1)
    if args.json:
        print(json.dumps(res))
        return
    print(f"load average before: {os.getloadavg()}")
    for r in res["rows"]:
        print(f"{r['state']:28} {r['driver']} {r['candidates']:3d} cand  full {r['full_top']:18} "
              f"adaptive {r['adaptive_top']:18} {'=' if r['agree'] else 'x'} {r['adaptive_races']:4d}/"
              f"{r['full_races']} races {r['stop_reason']:8} gap {r['points_gap']:.2f} pts  "
              f"full vs itself {'=' if r['full_self_agree'] else 'x'}  "
              f"{r['full_ms']:6.0f} ms full {r['adaptive_ms']:5.0f} ms adaptive")
    n = res["states"]
    print(f"{n} states: adaptive top-1 = full top-1 in {res['agreement']:.0%}; full run vs itself (seed "
          f"{args.seed + 1}) {res['full_self_agreement']:.0%}; races used {res['races_fraction']:.1%} of the full "
          f"run's; settled {res['settled']:.0%}; mean expected-points gap {res['mean_points_gap']:.3f}")


if __name__ == "__main__":
    main()
