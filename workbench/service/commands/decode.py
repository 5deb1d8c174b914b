"""`racetwin decode FILE [--json]`: summarize a capture or recording."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "decode",
        help="summarize a pcap (F1-game UDP or JSON datagrams), JSONL or lap-table file",
        description="Decode every packet/record and print packets per (format, id), decoded and rejected "
        "counts by reason, cars, laps, session type and track.",
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args) -> int:
    from workbench.telemetry.pcap import PcapError
    from workbench.telemetry.summary import format_summary, summarize

    if not (args.path.is_file() or args.path.is_dir()):  # a folder: OpenF1, one JSON file per endpoint
        print(f"racetwin decode: path: {str(args.path)!r} is not a file or an OpenF1 folder", file=sys.stderr)
        return 2
    try:
        summary = summarize(args.path)
    except UnicodeDecodeError:
        print(f"racetwin decode: path: {str(args.path)!r} is not a capture or a text file", file=sys.stderr)
        return 2
    except PcapError as exc:
        print(f"racetwin decode: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary) if args.json else format_summary(summary))
    if not summary.get("records") and summary.get("rejected"):
        print(f"racetwin decode: {str(args.path)!r}: every item was rejected ({summary['rejected']}); "
              f"no records", file=sys.stderr)
        return 1
    return 0
