"""`racetwin serve`: the live service on the bundled (or given) race."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workbench.service.commands.common import CliError, integer_arg, load_race, writable_dir
from workbench.telemetry.sources import MAX_JSON_BYTES


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


def _parent_writable(path: Path) -> None:
    """A --data-dir not made yet: its nearest existing parent must be a writable folder (nothing is created)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(f"--data-dir: {str(path)!r} cannot be created ({str(parent)!r} is not a writable folder)")


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the live service (hub, REST API, Panel app) on a bundled race",
        description="Run the hub, the built-in telemetry simulator, the REST API "
        "(/api/v1/...) and the race page on one port. Fully offline.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=integer_arg("--port", 1, 65535), default=5006,
                        help="port of the app and REST API (default 5006)")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="race seconds per wall second; 'max' for as fast as possible (default 1)",
    )
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0, help="fixes the simulated race (default 0)")
    parser.add_argument(
        "--car",
        default=None,
        help="our car: a driver abbreviation (default VER; for a replay the first driver in it if VER is absent; "
        "for --live C00, the F1-game car in slot 0)",
    )
    parser.add_argument(
        "--race", type=Path, default=None,
        help="race definition JSON or a bundled race name, e.g. saudi-arabian-2024 (default: bahrain-2024)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("racetwin-state"),
        help="where the store (racetwin.sqlite) goes (default ./racetwin-state)",
    )
    parser.add_argument("--resume", nargs="?", const=True, default=False, metavar="SESSION",
                        help="carry on a session in --data-dir (default: the newest simulator session holding "
                             "records; `racetwin sessions` lists them): rebuild the twins from the store, then "
                             "continue the race where it stopped")
    parser.add_argument("--api-token", default=None,
                        help="bearer token required by POST endpoints and the ingest WebSocket (default: "
                             "$RACETWIN_API_TOKEN, else DATA_DIR/api-token, created once and kept across restarts)")
    parser.add_argument("--rotate-token", action="store_true",
                        help="write a new random token to DATA_DIR/api-token (the old one stops working)")
    parser.add_argument("--cors-origin", default=None,
                        help="allow this browser origin (e.g. https://dash.example) to call the API; off by default")
    parser.add_argument("--show", action="store_true", help="open a browser")
    src = parser.add_argument_group("telemetry sources (default: the built-in simulator)")
    src.add_argument(
        "--replay",
        type=Path,
        default=None,
        help="replay a recording instead of simulating: pcap (F1-game or JSON datagrams), JSONL of records, "
        "FastF1-shaped lap CSV or OpenF1-shaped JSON; paced by --speed",
    )
    src.add_argument(
        "--live",
        action="store_true",
        help="no built-in source: listen for live telemetry on UDP 20777 and WebSocket 8765",
    )
    src.add_argument("--udp-port", type=integer_arg("--udp-port", 1, 65535), default=None,
                     help="UDP port for F1-game/JSON datagrams "
                     "(default 20777 with --live, off otherwise)")
    src.add_argument("--ws-port", type=integer_arg("--ws-port", 1, 65535), default=None,
                     help="WebSocket ingest port "
                     "(default 8765 with --live, off otherwise)")
    src.add_argument("--no-udp", action="store_true", help="with --live: no UDP listener")
    src.add_argument("--no-ws", action="store_true", help="with --live: no WebSocket listener")
    src.add_argument("--ingest-token", default=None,
                     help="token WebSocket ingest clients must send (default: the API token)")
    src.add_argument("--ws-open", action="store_true",
                     help="let WebSocket ingest clients in without a token (anyone who can reach the port)")
    src.add_argument("--ws-origin", action="append", default=[], metavar="ORIGIN",
                     help="browser origin allowed to open the ingest WebSocket (repeatable; default none: "
                          "machine clients send no Origin)")
    src.add_argument("--future-tolerance", type=float, default=None, metavar="SECONDS",
                     help="reject live records more than this many race seconds ahead of the hub's clock "
                          "(plus 1 race s per wall s since the clock last moved; default 60); a jump confirmed by 8 "
                          "consecutive in-order records is taken")
    src.add_argument(
        "--max-message-bytes", type=int, default=MAX_JSON_BYTES,
        help=f"largest WebSocket message accepted (default {MAX_JSON_BYTES:,} bytes, the REST body limit too)"
    )
    parser.add_argument(
        "--strategy-runs", type=int, default=10_000,
        help="races per strategy decision, run on hub events (default 10000; 0 turns strategy runs off)",
    )
    parser.add_argument(
        "--predict-runs", type=int, default=1000,
        help="races per finish prediction, made each leader lap and shown on the race page (default 1000; "
             "0 turns predictions off)",
    )
    parser.add_argument(
        "--dask-scheduler", default=None, metavar="tcp://HOST:PORT",
        help="run strategy decisions on this Dask scheduler instead of a local thread",
    )
    add_llm_arguments(parser)


def add_llm_arguments(parser) -> None:
    llm = parser.add_argument_group("LLM explanations (default off: the built-in explainer words everything)")
    llm.add_argument("--llm-url", default=None, metavar="URL",
                     help="OpenAI-compatible server, e.g. http://localhost:8000/v1 (Modular MAX `max serve`) or a "
                          "llama.cpp llama-server")
    llm.add_argument("--llm-model", default=None, help="model name (default modularai/Llama-3.1-8B-Instruct-GGUF)")
    llm.add_argument("--llm-timeout", type=float, default=60.0, help="seconds per LLM attempt (default 60)")


def run(args) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from workbench.service.server import serve

    if args.strategy_runs < 0:
        print(f"racetwin serve: --strategy-runs: {args.strategy_runs} is below minimum 0", file=sys.stderr)
        return 2
    if args.predict_runs < 0:
        print(f"racetwin serve: --predict-runs: {args.predict_runs} is below minimum 0", file=sys.stderr)
        return 2
    if args.future_tolerance is not None and not args.future_tolerance >= 0:
        print(f"racetwin serve: --future-tolerance: {args.future_tolerance} is below minimum 0", file=sys.stderr)
        return 2
    race = load_race(args.race, "--race")
    writable_dir("--data-dir", args.data_dir) if args.data_dir.exists() else _parent_writable(args.data_dir)
    replay = None
    if args.replay is not None and args.live:
        print("racetwin serve: --replay and --live: choose one source", file=sys.stderr)
        return 2
    if args.resume and (args.replay is not None or args.live):
        print("racetwin serve: --resume: only the simulator source can be resumed", file=sys.stderr)
        return 2
    if args.max_message_bytes < 1:
        print(f"racetwin serve: --max-message-bytes: {args.max_message_bytes} is below minimum 1", file=sys.stderr)
        return 2
    if args.replay is not None:
        from workbench.telemetry.pcap import PcapError
        from workbench.telemetry.sources import ReplaySource

        if not (args.replay.is_file() or args.replay.is_dir()):  # a folder: OpenF1, one JSON file per endpoint
            print(f"racetwin serve: --replay: {str(args.replay)!r} is not a file or an OpenF1 folder",
                  file=sys.stderr)
            return 2
        try:
            replay = ReplaySource(args.replay)
        except PcapError as exc:
            print(f"racetwin serve: --replay: {exc}", file=sys.stderr)
            return 2
        if not replay.records:
            print(f"racetwin serve: --replay: {str(args.replay)!r} holds no valid records "
                  f"({len(replay.errors)} rejected)", file=sys.stderr)
            return 2
        if not replay.drivers or not set(replay.drivers) <= set(race.drivers):
            race = None  # not the race definition's field: twins come from the telemetry alone
        car = args.car or ("VER" if "VER" in replay.drivers or not replay.drivers else replay.drivers[0])
    elif args.live:
        car = args.car or "C00"
        race = race if args.race is not None else None
    else:
        car = args.car or "VER"
        if car not in race.drivers:
            print(
                f"racetwin serve: --car: {car!r} is not in the race; drivers are {', '.join(race.drivers)}",
                file=sys.stderr,
            )
            return 2
    udp = None if args.no_udp else args.udp_port or (20777 if args.live else None)
    ws = None if args.no_ws else args.ws_port or (8765 if args.live else None)
    listeners = None
    if udp is not None or ws is not None:
        listeners = {"host": args.host, "udp_port": udp, "ws_port": ws, "token": args.ingest_token,
                     "max_message_bytes": args.max_message_bytes, "ws_open": args.ws_open,
                     "allowed_origins": tuple(args.ws_origin)}
    try:
        _serve(serve, args, car, race, replay, listeners)
    except OSError as exc:
        what = exc.strerror if exc.strerror and exc.strerror.startswith("--") else None
        if what is None:
            where = getattr(exc, "filename", None) or args.data_dir
            what = f"--data-dir: {str(where)!r} cannot be written ({exc.strerror or exc})"
        print(f"racetwin serve: {what}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"racetwin serve: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve(serve, args, car, race, replay, listeners) -> None:
    from workbench.service.server import ServiceConfig

    source = "replay" if replay is not None else "live" if args.live else "simulator"
    config = ServiceConfig(
        car=car, seed=args.seed, speed=args.speed, source=source, race=race, race_file=args.race, replay=replay,
        data_dir=args.data_dir, resume=args.resume, listeners=listeners, future_tolerance_s=args.future_tolerance,
        strategy_runs=args.strategy_runs, dask_scheduler=args.dask_scheduler, llm_url=args.llm_url,
        llm_model=args.llm_model, llm_api_key=os.environ.get("RACETWIN_LLM_API_KEY"),
        llm_timeout_s=args.llm_timeout, predict_runs=args.predict_runs,
    )
    serve(config, host=args.host, port=args.port, show=args.show, api_token=args.api_token,
          cors_origin=args.cors_origin, rotate_token=args.rotate_token)
