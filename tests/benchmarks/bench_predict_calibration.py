"""Print the finish prediction's calibration against the simulator's own races (issue 19 item 2).

    PYTHONPATH=. python tests/benchmarks/bench_predict_calibration.py [--seeds 16] [--at-lap 20] [--runs 400]

Same computation as ``tests/unit/test_predict_calibration.py`` (which asserts it), on the bundled race.
"""

import argparse

from workbench.strategy.predict_calibration import binned_calibration, calibration_outcomes
from workbench.strategy.racedef import bundled_race


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--at-lap", type=int, default=20)
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    outcomes = calibration_outcomes(bundled_race(), args.seeds, args.at_lap, args.runs)
    print(f"{args.seeds} simulated races of the bundled race, predicted from lap {args.at_lap} "
          f"({args.runs} races each)")
    print(f"{'event':<7} {'bin':<12} {'cars':>5} {'expected':>9} {'observed':>9} {'sd':>6}")
    for event in ("win", "podium"):
        for r in binned_calibration(outcomes, event):
            lo, hi = r["bin"]
            print(f"{event:<7} [{lo:.2f},{min(hi, 1):.2f}) {r['cars']:>5} {r['expected']:>9.1f} {r['observed']:>9} "
                  f"{r['sd']:>6.2f}")


if __name__ == "__main__":
    main()
