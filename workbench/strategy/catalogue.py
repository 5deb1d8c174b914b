"""The bundled race catalogue: ``data/races/<name>.race.json``, one per real race, by name.

Built by ``data/build_catalogue.py`` (see data/README.md); a wheel carries it as
``workbench/_data/races``. `resolve_race` turns a ``--race`` argument into a file: a catalogue
name (``bahrain-2024``) or a path to a ``*.race.json``.
"""

from __future__ import annotations

from pathlib import Path

from workbench.paths import bundled_data_dir
from workbench.telemetry.schema import TelemetryValidationError

__all__ = ["catalogue_dir", "list_races", "resolve_race", "DEFAULT_RACE"]

DEFAULT_RACE = "bahrain-2024"
_SUFFIX = ".race.json"


def catalogue_dir() -> Path:
    """The folder of the bundled race definitions."""
    return bundled_data_dir() / "races"


def list_races() -> list[str]:
    """Names of the bundled races, sorted (``["australian-2024", "bahrain-2024", ...]``)."""
    folder = catalogue_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name[:-len(_SUFFIX)] for p in folder.glob(f"*{_SUFFIX}"))


def resolve_race(spec: str) -> Path:
    """The race-definition file for a catalogue name or a path.

    Raises
    ------
    workbench.telemetry.TelemetryValidationError
        (a ValueError) naming the value and listing the catalogue's names when it is neither, so a
        command's ``--race`` fails with one clear line.
    """
    text = str(spec).strip()
    if text in list_races():
        return catalogue_dir() / f"{text}{_SUFFIX}"
    path = Path(text).expanduser()
    if path.is_file():
        return path
    names = ", ".join(list_races()) or "none bundled"
    raise TelemetryValidationError("race", text, f"is neither a bundled race nor a file (bundled races: {names})")
