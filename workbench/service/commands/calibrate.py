"""`racetwin calibrate`: fit tyre degradation on a FastF1-shaped lap table and backtest it."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "calibrate",
        help="fit per-compound tyre degradation on a lap table (CSV) and backtest lap-time predictions",
        description="Fit linear / quadratic / logarithmic degradation per compound on the clean laps of a "
                    "FastF1-shaped lap table (Bayesian, family chosen by evidence), then backtest: predict "
                    "laps k..k+4 of every stint from laps before k, against a naive 'repeat the last clean "
                    "lap' predictor.",
    )
    parser.add_argument("laps", type=Path, metavar="LAPS.csv", help="FastF1-shaped lap table, times in seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--race", type=Path, default=None,
                        help="take priors and the fuel model from this race definition (default: generic "
                             "priors, 100 kg over the race, 0.03 s/kg)")


def _text(report: dict) -> str:
    lines = [f"{report['laps']} laps, {report['clean_laps']} clean; excluded: "
             + ", ".join(f"{k} {v}" for k, v in report["excluded"].items())]
    for compound, m in report["compounds"].items():
        coef = f"k1 {m['k1_s']:.4f} ± {m['k1_s_sd']:.4f}"
        if "k2_s" in m:
            coef += f", k2 {m['k2_s']:.5f} ± {m['k2_s_sd']:.5f}"
        lines.append(f"{compound:<12} {m['model']:<11} {coef}; noise {m['noise_s']:.3f} s; "
                     f"{m['degradation_at_max_age_s']:.2f} ± {m['degradation_at_max_age_sd_s']:.2f} s lost at "
                     f"{m['max_age_laps']} laps; {m['n_laps']} laps in {m['n_stints']} stints")
        lines.append(" " * 13 + "log evidence: " + ", ".join(f"{f} {v['log_evidence']:.1f}"
                                                            for f, v in m["families"].items()))
    b = report["backtest"]
    lines.append(f"backtest (laps k..k+{b['horizon_laps'] - 1} from laps before k): model MAE {b['mae_s']:.3f} s, "
                 f"naive MAE {b['naive_mae_s']:.3f} s, n {b['n']}")
    return "\n".join(lines)


def run(args) -> int:
    from workbench.service.commands.common import load_race
    from workbench.twins.calibrate import calibrate, priors_from_race
    from workbench.twins.lap_table import FuelCorrection, read_fastf1_laps_csv

    try:
        laps = read_fastf1_laps_csv(args.laps)
        priors = fuel = None
        if args.race is not None:
            race = load_race(args.race)
            priors, fuel = priors_from_race(race), FuelCorrection.from_race(race)
        report = calibrate(laps, priors=priors, fuel=fuel)
    except ValueError as exc:
        print(f"racetwin calibrate: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1) if args.json else _text(report))
    return 0
