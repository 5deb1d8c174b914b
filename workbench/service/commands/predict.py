"""`racetwin predict`: the finish of a real race predicted from the end of lap K, scored when the table has it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.service.commands.common import integer_arg


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "predict",
        help="predict a real race's finish from the end of lap K (Monte Carlo), and score it against the result",
        description="Cut a FastF1-shaped lap table at lap K (laps 1..K of every car, nothing later), fit pace, "
                    "degradation, pit loss and the rivals' remaining stops from those laps, take SC/VSC and "
                    "retirement probabilities from the races run before this one, and simulate to the flag. "
                    "With the finish in the table, score against the naive 'order at lap K stays'.",
    )
    parser.add_argument("laps", type=Path, metavar="LAPS.csv", help="FastF1-shaped lap table, times in seconds")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--at-lap", type=integer_arg("--at-lap", 1), metavar="K", help="predict from the end of lap K")
    when.add_argument("--sweep", action="store_true",
                      help="score predictions from 25 %%, 50 %% and 75 %% of the race distance, model vs naive")
    parser.add_argument("--runs", type=integer_arg("--runs", 1), default=2000, help="Monte Carlo races (default 2000)")
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0, help="fixes every random draw (default 0)")
    parser.add_argument("--race", type=Path, default=None,
                        help="race definition for the race distance and unfitted track facts (default: the bundled "
                             "2024 Bahrain GP; its fitted pace, tyres, pit loss and events are not used)")
    parser.add_argument("--race-name", default=None,
                        help="race in data/event-history.json whose date limits the history used "
                             "(default: the race definition's name)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}"


def _text(pred) -> str:
    lines = [f"Prediction from the end of lap {pred.at_lap} of {pred.race_laps} ({pred.runs} races, seed {pred.seed})",
             f"{'pred':>4} {'driver':<6} {'at K':>4} {'mean':>6} {'mode':>4} {'win%':>6} {'pod%':>6} {'pts%':>6} "
             f"{'dnf%':>6} {'stops':>5}  planned stops" + ("  actual" if pred.actual else "")]
    for i, r in enumerate(pred.drivers, start=1):
        plan = ", ".join(f"L{s['lap']} {s['compound']}" for s in r["planned_stops"]) or "-"
        line = (f"{i:>4} {r['driver']:<6} {r['position_at_k']:>4} {r['mean_position']:>6.2f} {r['mode_position']:>4} "
                f"{_pct(r['p_win']):>6} {_pct(r['p_podium']):>6} {_pct(r['p_points']):>6} {_pct(r['p_retired']):>6} "
                f"{r['predicted_remaining_stops']:>5.2f}  {plan}")
        if pred.actual:
            d = r["driver"]
            line += f"  P{pred.actual['position'][d]}" + (" (retired)" if d in pred.actual["retired"] else "")
        lines.append(line)
    if pred.score:
        s = pred.score
        lines.append(f"score: model spearman {s['spearman']:.3f}, MAE {s['mae_positions']:.2f} positions; naive "
                     f"(order at lap {pred.at_lap} stays) spearman {s['naive_spearman']:.3f}, "
                     f"MAE {s['naive_mae_positions']:.2f}; actual retirements after lap {pred.at_lap}: "
                     f"{pred.retirements_after_k}")
    else:
        lines.append("no score: the lap table does not reach the finish")
    return "\n".join(lines)


def sweep_text(rows: list[dict]) -> str:
    """The sweep as one table."""
    lines = [f"{'K':>3} {'dist':>5} {'model rho':>9} {'naive rho':>9} {'model MAE':>9} {'naive MAE':>9} "
             f"{'DNF>K':>5}"]
    for r in rows:
        lines.append(f"{r['at_lap']:>3} {100 * r['fraction']:>4.0f}% {r['spearman']:>9.3f} {r['naive_spearman']:>9.3f} "
                     f"{r['mae_positions']:>9.2f} {r['naive_mae_positions']:>9.2f} {r['retirements_after_k']:>5}")
    return "\n".join(lines)


def run(args) -> int:
    import pandas as pd

    from workbench.service.commands.common import load_race
    from workbench.strategy.predict import predict_from_laps, sweep
    from workbench.telemetry.schema import TelemetryValidationError

    try:
        if not args.laps.is_file():
            raise ValueError(f"LAPS.csv: {str(args.laps)!r} is not a file")
        laps = pd.read_csv(args.laps)
        track = load_race(args.race)
        if args.sweep:
            rows = sweep(laps, runs=args.runs, seed=args.seed, track=track, race_name=args.race_name)
            print(json.dumps({"runs": args.runs, "seed": args.seed, "sweep": rows}, indent=1) if args.json
                  else sweep_text(rows))
            return 0
        pred = predict_from_laps(laps, args.at_lap, runs=args.runs, seed=args.seed, track=track,
                                 race_name=args.race_name)
    except (ValueError, TelemetryValidationError) as exc:
        print(f"racetwin predict: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(pred.to_json(), indent=1) if args.json else _text(pred))
    return 0
