"""Shared fixtures: paths, the bundled race, folder markers and a reset of module state between tests."""

from __future__ import annotations

import os
import sys
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
    """Tests take their marker from their folder: tests/unit, tests/integration, tests/live, tests/ui.

    A test in tests/unit marked ``@pytest.mark.integration`` (it starts a subprocess or a server)
    is an integration test only: ``-m unit`` leaves it out.
    """
    for item in items:
        parts = Path(str(item.fspath)).parts
        for marker in ("unit", "integration", "live", "ui"):
            if marker in parts and not (marker == "unit" and item.get_closest_marker("integration")):
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(autouse=True)
def module_state_reset():
    """Reset the package's process-wide mutable state after every test (Panel's ``server_cleanup`` idea).

    Only state a later test could trip over and that is safe to drop; a module not yet imported
    is left alone (the fixture imports nothing). Reset after each test:

    - ``workbench.hub.budget._shared``: the process-wide `ComputeBudget` behind
      ``shared_budget()`` (what-if pages, REST health). Its counts (completed, refused) and
      ``max_waiting`` would leak into the next test; its worker thread is shut down (queued
      jobs cancelled) and the next ``shared_budget()`` builds a fresh one.
    - ``workbench.service.server._app_service``: the service ``app_service()`` builds for
      ``panel serve apps/...``. Dropping the reference is safe: its tasks ran on the test's
      own event loop, which is closed by now; the next call builds a new one.
    - ``workbench.ui.race._active``: the count of race pages whose periodic refresh runs
      (``/api/v1/health`` views). In-process tests serve no Bokeh sessions, so a count left
      by one test is a leak, not a live page; it goes back to 0 under its lock.

    Kept on purpose (caches of pure functions or of expensive, deterministic builds; dropping
    them changes no result, only costs time): ``kernels.mojo_backend._module`` (the compiled
    Mojo kernel, 15-30 s to build), ``kernels.select.gpu_status`` (the once-per-process GPU
    probe; tests that need another answer run a subprocess), the ``functools.cache`` of the
    OpenAPI document, API docs page, weather, race history and event history, and the F1 UDP
    decoder's ``_FLAT`` builders (keyed by the layout constants).
    """
    yield
    budget = sys.modules.get("workbench.hub.budget")
    if budget is not None and getattr(budget, "_shared", None) is not None:
        with budget._shared_lock:
            shared, budget._shared = budget._shared, None
        shared._pool.shutdown(wait=True, cancel_futures=True)
    server = sys.modules.get("workbench.service.server")
    if server is not None and getattr(server, "_app_service", None) is not None:
        server._app_service = None
    race_page = sys.modules.get("workbench.ui.race")
    if race_page is not None and hasattr(race_page, "_active"):
        with race_page._active_lock:
            race_page._active = 0
