"""`racetwin feed FILE --url ws://HOST:8765/telemetry`: stream a recording into a running server (WebSocket)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from workbench.service.commands.serve import _speed


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "feed",
        help="stream a recording (pcap, JSONL, lap table) into a running server over WebSocket",
        description="Decode FILE into records and send them in batches to a server started with --live or "
        "--ws-port, paced by --speed (race seconds per wall second; 'max' for unpaced).",
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--url", default="ws://127.0.0.1:8765/telemetry", help="ingest WebSocket URL")
    parser.add_argument("--token", default=None,
                        help="the server's ingest token (its API token, DATA_DIR/api-token, unless --ingest-token)")
    parser.add_argument("--speed", type=_speed, default=float("inf"), help="pacing (default max)")
    parser.add_argument("--batch", type=int, default=200, help="records per message (default 200)")


def run(args) -> int:
    from workbench.service.feed_client import LiveTelemetryClient
    from workbench.telemetry.pcap import PcapError

    if not args.path.is_file():
        print(f"racetwin feed: path: {str(args.path)!r} is not a file", file=sys.stderr)
        return 2
    if args.batch < 1:
        print(f"racetwin feed: --batch: {args.batch} is below minimum 1", file=sys.stderr)
        return 2

    async def main() -> dict:
        async with LiveTelemetryClient(args.url, token=args.token) as client:
            return await client.stream_file(args.path, speed=args.speed, batch_size=args.batch)
    try:
        summary = asyncio.run(main())
    except PcapError as exc:
        print(f"racetwin feed: {exc}", file=sys.stderr)
        return 2
    except (OSError, TimeoutError) as exc:
        print(f"racetwin feed: --url: cannot reach {args.url} ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    except Exception as exc:  # tornado's HTTPClientError (e.g. 401) and friends: report, do not trace
        print(f"racetwin feed: {args.url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0 if not summary["errors"] else 1
