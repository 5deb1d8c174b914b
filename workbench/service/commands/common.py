"""Helpers shared by the command modules: option parsing and file checks that fail in one clear line.

Every helper raises `CliError` ("what: why", e.g. ``--out: 'x/y.csv' is in a folder that
does not exist``); `workbench.service.cli.main` prints it as ``racetwin CMD: what: why``
and exits 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["CliError", "integer_arg", "load_race", "input_file", "output_file", "writable_dir",
           "print_lap_table_notes"]


class CliError(ValueError):
    """Bad input to a command: the message is ``what: why``."""


def integer_arg(option: str, low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for an integer option in ``[low, high]``, erring with option, value and rule.

    ``racetwin simulate --runs 0`` → ``--runs: 0 is below minimum 1``.
    """
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option}: {text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{option}: {value} is below minimum {low}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{option}: {value} is above maximum {high}")
        return value
    return parse


def input_file(option: str, path: Path) -> Path:
    """``path`` if it is a readable file; else `CliError` naming the option, the path and why."""
    if not path.exists():
        raise CliError(f"{option}: {str(path)!r} does not exist")
    if path.is_dir():
        raise CliError(f"{option}: {str(path)!r} is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise CliError(f"{option}: {str(path)!r} cannot be read (permission denied)")
    return path


def output_file(option: str, path: Path) -> Path:
    """``path`` if a file can be written there; else `CliError` (missing folder, a folder, no permission)."""
    if path.is_dir():
        raise CliError(f"{option}: {str(path)!r} is a folder; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CliError(f"{option}: {str(path)!r} is in a folder that does not exist ({str(parent)!r})")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CliError(f"{option}: {str(path)!r} cannot be written (permission denied)")
    return path


def writable_dir(option: str, path: Path) -> Path:
    """``path`` as a folder this process can write (created if missing); else `CliError`."""
    if path.exists() and not path.is_dir():
        raise CliError(f"{option}: {str(path)!r} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{option}: {str(path)!r} cannot be created ({exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise CliError(f"{option}: {str(path)!r} cannot be written (permission denied)")
    return path


def race_path(spec: str | Path) -> Path:
    """A race option's file: a bundled catalogue name (``bahrain-2024``, `racetwin fit`'s catalogue in
    ``data/races/``) when no file of that name exists, else the path as given."""
    from workbench.strategy.catalogue import catalogue_dir, list_races

    path = Path(spec)
    if not path.exists() and str(spec) in list_races():
        return catalogue_dir() / f"{spec}.race.json"
    return path


def load_race(path: Path | str | None, option: str = "--race"):
    """The race definition at ``path`` (a file or a catalogue name, `race_path`), or the bundled race;
    `CliError` for a missing, binary or bad file."""
    from workbench.race.definition import bundled_race, load_race_definition

    if path is None:
        return bundled_race()
    path = race_path(path)
    if not path.exists() and path.parent == Path(".") and not path.suffix:  # a bare word: meant a bundled name
        from workbench.strategy.catalogue import list_races

        raise CliError(f"{option}: {str(path)!r} is neither a file nor a bundled race "
                       f"({', '.join(list_races())})")
    input_file(option, path)
    try:
        return load_race_definition(path)
    except UnicodeDecodeError:
        raise CliError(f"{option}: {str(path)!r} is not a text (JSON) file") from None
    except (ValueError, KeyError, TypeError) as exc:
        text = str(exc)
        if text.startswith(f"{path}: "):  # the race-definition reader names the file: say the option too
            text = f"{str(path)!r}: {text[len(str(path)) + 2:]}"
        raise CliError(f"{option}: {text}" if str(path) in text else f"{option}: {str(path)!r}: {text}") from None


def print_lap_table_notes(command: str, laps, source: str) -> None:
    """Say on stderr what reading the lap table repaired (`check_lap_table`'s ``lap_table_notes``).

    E.g. ``racetwin predict: note: FILE: Compound of rows 100, 101 (BOT stint 3) is 'UNKNOWN': taken
    as HARD, the stint's other laps' compound``. A table the check refuses prints nothing here:
    the command's own error says why.
    """
    from workbench.telemetry.lap_reader import check_lap_table

    notes = laps.attrs.get("lap_table_notes")  # a table checked on reading keeps its notes
    if notes is None:
        try:
            notes = check_lap_table(laps, source=source).attrs.get("lap_table_notes", [])
        except ValueError:
            return
    for note in notes:
        print(f"racetwin {command}: note: {note}", file=sys.stderr)
