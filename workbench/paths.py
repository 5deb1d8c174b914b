"""Where bundled data lives, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_data_dir"]


def bundled_data_dir() -> Path:
    """The folder of bundled race data.

    A wheel carries the repository's ``data/`` as ``workbench/_data``; a source
    checkout or an editable install reads ``data/`` beside the package.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled data: neither {here / '_data'} nor {here.parent / 'data'} exists")
