"""The `racetwin` command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main"]


def _speed(text: str) -> float:
    if text in ("max", "inf"):
        return float("inf")
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--speed: {text!r} is not a number or 'max'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--speed: {text} is not above 0")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"--port: {value} is not between 1 and 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="racetwin", description="Race Twin Edge: F1 race-strategy workbench.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the live service (hub, REST API, Panel app) on a bundled race",
                           description="Run the hub, the built-in telemetry simulator, the REST API "
                                       "(/api/v1/...) and the race page on one port. Fully offline.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=5006, help="port of the app and REST API (default 5006)")
    serve.add_argument("--speed", type=_speed, default=1.0,
                       help="race seconds per wall second; 'max' for as fast as possible (default 1)")
    serve.add_argument("--seed", type=int, default=0, help="fixes the simulated race (default 0)")
    serve.add_argument("--car", default="VER", help="our car: a driver abbreviation in the race (default VER)")
    serve.add_argument("--race", type=Path, default=None,
                       help="race definition JSON (default: the bundled 2024 Bahrain GP)")
    serve.add_argument("--data-dir", type=Path, default=Path("racetwin-state"),
                       help="where run state goes (default ./racetwin-state)")
    serve.add_argument("--show", action="store_true", help="open a browser")

    simulate = sub.add_parser("generate", help="generate a simulated race as telemetry records (JSON lines)",
                              description="Write every record of a simulated race (wire JSON, one per line).")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--race", type=Path, default=None)
    simulate.add_argument("--samples", default=None,
                          help="comma-separated drivers that get 10 Hz samples, or 'all' (default: pole sitter)")
    simulate.add_argument("--laps-only", action="store_true", help="write lap records only (FastF1-like CSV)")
    simulate.add_argument("--out", type=Path, default=None, help="output file (default stdout)")

    sub.add_parser("schema", help="print the telemetry JSON Schema",
                   description="Print the versioned JSON Schema of the telemetry wire form.")

    check = sub.add_parser("validate", help="validate a JSON / JSON-lines telemetry file",
                           description="Check every message; print each error with its line number.")
    check.add_argument("path", type=Path)
    return parser


def _load_race(path: Path | None):
    from workbench.strategy.racedef import bundled_race, load_race_definition
    return bundled_race() if path is None else load_race_definition(path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from workbench.telemetry.schema import TelemetryValidationError
    try:
        return _run(args)
    except TelemetryValidationError as exc:
        print(f"racetwin {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "serve":
        import logging
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        from workbench.service.server import serve
        race = _load_race(args.race)
        if args.car not in race.drivers:
            print(f"racetwin serve: --car: {args.car!r} is not in the race; drivers are {', '.join(race.drivers)}",
                  file=sys.stderr)
            return 2
        serve(host=args.host, port=args.port, speed=args.speed, seed=args.seed, car=args.car,
              data_dir=args.data_dir, race=race, show=args.show)
        return 0
    if args.command == "generate":
        from workbench.telemetry.schema import to_wire
        from workbench.telemetry.simulator import TelemetrySimulator
        samples = None if args.samples is None else ("all" if args.samples == "all" else args.samples.split(","))
        sim = TelemetrySimulator(_load_race(args.race), seed=args.seed, sample_drivers=samples)
        out = open(args.out, "w") if args.out else sys.stdout
        if args.laps_only:
            sim.laps_frame().to_csv(out, index=False)
        else:
            for record in sim.records():
                out.write(json.dumps(to_wire(record)) + "\n")
        if args.out:
            out.close()
        return 0
    if args.command == "schema":
        from workbench.telemetry.schema import json_schema
        print(json.dumps(json_schema(), indent=2))
        return 0
    if args.command == "validate":
        from workbench.telemetry.schema import TelemetryValidationError, validate_batch
        bad = good = 0
        for n, line in enumerate(args.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                good += len(validate_batch(json.loads(line)))
            except (ValueError, TelemetryValidationError) as exc:
                bad += 1
                print(f"{args.path}:{n}: {exc}")
        print(f"{good} records valid, {bad} messages rejected")
        return 1 if bad else 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
