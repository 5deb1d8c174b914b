"""`racetwin generate`: a simulated race as telemetry records or a lap table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.service.commands.common import CliError, integer_arg, load_race, output_file


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "generate",
        help="generate a simulated race as telemetry records (JSON lines)",
        description="Write every record of a simulated race (wire JSON, one per line).",
    )
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0, help="fixes the race (default 0)")
    parser.add_argument("--race", type=Path, default=None)
    parser.add_argument(
        "--samples",
        default=None,
        help="comma-separated drivers that get 10 Hz samples, or 'all' (default: pole sitter)",
    )
    parser.add_argument("--laps-only", action="store_true", help="write lap records only (FastF1-like CSV)")
    parser.add_argument("--out", type=Path, default=None, help="output file (default stdout)")


def run(args) -> int:
    from workbench.race.simulator import TelemetrySimulator
    from workbench.telemetry.schema import to_wire

    race = load_race(args.race)
    samples = None if args.samples is None else ("all" if args.samples == "all" else args.samples.split(","))
    if isinstance(samples, list):
        unknown = [d for d in samples if d not in race.drivers]
        if unknown:
            raise CliError(f"--samples: {','.join(unknown)!r} is not a driver of the race; drivers are "
                           f"{', '.join(race.drivers)} (or 'all')")
    if args.out:
        output_file("--out", args.out)
    sim = TelemetrySimulator(race, seed=args.seed, sample_drivers=samples)
    out = open(args.out, "w") if args.out else sys.stdout
    try:
        if args.laps_only:
            sim.laps_frame().to_csv(out, index=False)
        else:
            for record in sim.records():
                out.write(json.dumps(to_wire(record)) + "\n")
    finally:
        if args.out:
            out.close()
    return 0
