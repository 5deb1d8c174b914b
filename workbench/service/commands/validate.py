"""`racetwin validate`: check a JSON-lines telemetry file."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "validate",
        help="validate a JSON (one message, an array of messages, pretty-printed or not) or JSON-lines "
             "telemetry file",
        description="Check every message; print each error with its line number.",
    )
    parser.add_argument("path", type=Path)


def _messages(text: str) -> list[tuple[str, object]]:
    """(where, message) pairs: a whole-file JSON value (an array is a list of messages), else JSON lines."""
    try:
        whole = json.loads(text)
    except RecursionError:
        return [("1", ValueError("is nested too deeply"))]
    except ValueError:
        whole = None
    if whole is not None:
        if isinstance(whole, list):
            return [(f"[{i}]", item) for i, item in enumerate(whole)]
        return [("1", whole)]
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                out.append((str(n), json.loads(line)))
            except (ValueError, RecursionError) as exc:
                out.append((str(n), ValueError(f"is not valid JSON ({exc})")))
    return out


def run(args) -> int:
    from workbench.service.commands.common import CliError, input_file
    from workbench.telemetry.schema import TelemetryValidationError, validate_batch

    input_file("path", args.path)
    try:
        text = args.path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CliError(f"path: {str(args.path)!r} is not a UTF-8 text (JSON) file") from None
    bad = good = 0
    for where, message in _messages(text):
        try:
            if isinstance(message, ValueError):
                raise message
            good += len(validate_batch(message))
        except (ValueError, TelemetryValidationError, RecursionError) as exc:
            bad += 1
            print(f"{args.path}:{where}: {exc}")
    print(f"{good} records valid, {bad} messages rejected")
    return 1 if bad else 0
