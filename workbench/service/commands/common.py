"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

__all__ = ["integer_arg", "load_race"]


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


def load_race(path: Path | None):
    """The race definition at ``path``, or the bundled race."""
    from workbench.strategy.racedef import bundled_race, load_race_definition

    return bundled_race() if path is None else load_race_definition(path)
