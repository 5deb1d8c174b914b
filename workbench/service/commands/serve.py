"""`racetwin serve`: the live service on the bundled (or given) race."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.service.commands.common import load_race


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


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the live service (hub, REST API, Panel app) on a bundled race",
        description="Run the hub, the built-in telemetry simulator, the REST API "
        "(/api/v1/...) and the race page on one port. Fully offline.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=5006, help="port of the app and REST API (default 5006)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="race seconds per wall second; 'max' for as fast as possible (default 1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="fixes the simulated race (default 0)")
    parser.add_argument("--car", default="VER", help="our car: a driver abbreviation in the race (default VER)")
    parser.add_argument(
        "--race", type=Path, default=None, help="race definition JSON (default: the bundled 2024 Bahrain GP)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("racetwin-state"), help="where run state goes (default ./racetwin-state)"
    )
    parser.add_argument("--show", action="store_true", help="open a browser")
    parser.add_argument(
        "--strategy-runs", type=int, default=10_000,
        help="races per strategy decision, run on hub events (default 10000; 0 turns strategy runs off)",
    )
    parser.add_argument(
        "--dask-scheduler", default=None, metavar="tcp://HOST:PORT",
        help="run strategy decisions on this Dask scheduler instead of a local thread",
    )


def run(args) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from workbench.service.server import serve

    if args.strategy_runs < 0:
        print(f"racetwin serve: --strategy-runs: {args.strategy_runs} is below minimum 0", file=sys.stderr)
        return 2
    race = load_race(args.race)
    if args.car not in race.drivers:
        print(
            f"racetwin serve: --car: {args.car!r} is not in the race; drivers are {', '.join(race.drivers)}",
            file=sys.stderr,
        )
        return 2
    serve(
        host=args.host,
        port=args.port,
        speed=args.speed,
        seed=args.seed,
        car=args.car,
        data_dir=args.data_dir,
        race=race,
        show=args.show,
        strategy_runs=args.strategy_runs,
        dask_scheduler=args.dask_scheduler,
    )
    return 0
