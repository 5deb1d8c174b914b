"""`racetwin validate`: check a JSON-lines telemetry file."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "validate",
        help="validate a JSON / JSON-lines telemetry file",
        description="Check every message; print each error with its line number.",
    )
    parser.add_argument("path", type=Path)


def run(args) -> int:
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
