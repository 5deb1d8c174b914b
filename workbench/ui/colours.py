"""Colours the race pages share: tyre compounds as F1 shows them, priorities of recommendations."""

from __future__ import annotations

__all__ = ["COMPOUND_COLOURS", "PRIORITY_COLOURS", "STRATEGY_COLOURS", "compound_badge"]

COMPOUND_COLOURS = {"SOFT": "#da291c", "MEDIUM": "#ffd12e", "HARD": "#f0f0ec", "INTERMEDIATE": "#43b02a",
                    "WET": "#0067ad"}
STRATEGY_COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#546e7a",
                    "#9e9d24", "#283593")  # candidate strategies, best first
PRIORITY_COLOURS = {"urgent": "#c62828", "moderate": "#ef6c00", "optional": "#546e7a"}


def compound_badge(compound: str | None) -> str:
    """An HTML badge: the compound's initial in its F1 colour on a dark disc."""
    if not isinstance(compound, str):
        return ""
    return (f'<span style="background:#222;color:{COMPOUND_COLOURS.get(compound, "#888")};font-weight:bold;'
            f'padding:0 4px;border-radius:3px">{compound[0]}</span>')
