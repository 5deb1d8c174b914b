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
        "--data-dir", type=Path, default=Path("racetwin-state"),
        help="where the store (racetwin.sqlite) goes (default ./racetwin-state)",
    )
    parser.add_argument("--resume", action="store_true",
                        help="carry on the last session in --data-dir: rebuild the twins from the store, "
                             "then continue the race where it stopped")
    parser.add_argument("--api-token", default=None,
                        help="bearer token required by POST endpoints (default: $RACETWIN_API_TOKEN, else a "
                             "random token written to DATA_DIR/api-token)")
    parser.add_argument("--cors-origin", default=None,
                        help="allow this browser origin (e.g. https://dash.example) to call the API; off by default")
    parser.add_argument("--show", action="store_true", help="open a browser")


def run(args) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from workbench.service.server import serve

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
        race_file=args.race,
        resume=args.resume,
        show=args.show,
        api_token=args.api_token,
        cors_origin=args.cors_origin,
    )
    return 0
