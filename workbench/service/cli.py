"""The `racetwin` command line: one subcommand per module in `workbench.service.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench.service.commands import COMMANDS

__all__ = ["main", "build_parser"]


def _module(name: str):
    return importlib.import_module(f"workbench.service.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="racetwin", description="Race Twin Edge: F1 race-strategy workbench.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        _module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``racetwin``; returns the exit status (2 for bad input, named in the message)."""
    args = build_parser().parse_args(argv)
    from workbench.telemetry.schema import TelemetryValidationError
    try:
        return _module(args.command).run(args)
    except TelemetryValidationError as exc:
        print(f"racetwin {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
