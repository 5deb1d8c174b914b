"""Shared fixtures: paths, the bundled race, and a small server-runner helper."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Notebooks honour a size knob; test runs (and so CI) use the small size unless told otherwise.
os.environ.setdefault("RACETWIN_FAST", "1")
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (CI always has it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def race():
    from workbench.strategy.racedef import bundled_race
    return bundled_race()


def pytest_collection_modifyitems(items):
    """Tests take their marker from their folder: tests/unit, tests/integration, tests/live, tests/ui."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for marker in ("unit", "integration", "live", "ui"):
            if marker in parts:
                item.add_marker(getattr(pytest.mark, marker))
