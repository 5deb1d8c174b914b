"""Browser fixtures: Debian's Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("RACETWIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1800, "height": 1300}


def launch_browser(playwright):
    """A persistent Chromium context on a fresh user-data-dir; returns (context, user_data_dir)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) "
                    "or set RACETWIN_CHROMIUM")
    user_data = tempfile.mkdtemp(prefix="racetwin-chromium-")
    context = playwright.chromium.launch_persistent_context(user_data, executable_path=CHROMIUM, headless=True,
                                                           args=CHROMIUM_FLAGS, viewport=VIEWPORT)
    return context, user_data


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context, user_data = launch_browser(p)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(user_data, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where page screenshots go: $RACETWIN_SCREENSHOTS (e.g. docs/) or a temporary folder."""
    target = os.environ.get("RACETWIN_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")
