"""The `racetwin` command line: one subcommand per module in `workbench.service.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench.service.commands import COMMANDS

__all__ = ["main", "build_parser"]


def _module(name: str):
    return importlib.import_module(f"workbench.service.commands.{name}")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``racetwin CMD: --runs: -5 is below minimum 1`` (exit 2)."""

    def error(self, message: str) -> None:
        if message.startswith("argument "):  # "argument --runs: --runs: -5 ..." names the option once
            option, _, rest = message[len("argument "):].partition(": ")
            message = rest if rest.startswith(option.split("/")[-1] + ":") or rest.startswith(option + ":") \
                else f"{option}: {rest}"
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="racetwin", description="Race Twin Edge: F1 race-strategy workbench.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        _module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``racetwin``; returns the exit status (2 for bad input, named in the message)."""
    args = build_parser().parse_args(argv)
    import os

    from workbench.service.commands.common import CliError
    from workbench.telemetry.schema import TelemetryValidationError
    try:
        return _module(args.command).run(args)
    except (CliError, TelemetryValidationError) as exc:
        print(f"racetwin {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for the user; RACETWIN_DEBUG=1 shows it
        if os.environ.get("RACETWIN_DEBUG"):
            raise
        what = getattr(exc, "filename", None)
        text = f"{str(what)!r}: {exc.strerror}" if isinstance(exc, OSError) and what and exc.strerror else str(exc)
        print(f"racetwin {args.command}: {text or type(exc).__name__} ({type(exc).__name__}; "
              f"RACETWIN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
