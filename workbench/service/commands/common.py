"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path


def load_race(path: Path | None):
    """The race definition at ``path``, or the bundled race."""
    from workbench.strategy.racedef import bundled_race, load_race_definition

    return bundled_race() if path is None else load_race_definition(path)
