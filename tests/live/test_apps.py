"""`panel serve apps/race.py` serves the same live page without racetwin serve, strategy engine included."""

import html
import os
import subprocess
import sys

import httpx
import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models.tabulator  # noqa: F401
import pytest
from bokeh.client import pull_session

from tests.util import REPO, free_port, wait_until

NO_RECOMMENDATION = "No recommendation yet."


@pytest.fixture
def panel_app(tmp_path):
    """``panel serve apps/race.py`` on a free 127.0.0.1 port, the race at 20x; yields the page's URL."""
    port = free_port()
    log_path = tmp_path / "panel.log"
    log = open(log_path, "w")
    env = {**os.environ, "PYTHONPATH": str(REPO), "RACETWIN_SPEED": "20"}
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(REPO / "apps" / "race.py"),
                             "--port", str(port), "--address", "127.0.0.1",
                             "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/race"

    def up() -> bool:
        assert proc.poll() is None, f"panel serve exited with {proc.returncode}:\n{log_path.read_text()}"
        try:
            return httpx.get(url, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, timeout_s=90, what="panel serve apps/race.py to answer", step_s=0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert "Traceback" not in log_path.read_text()


def _models(url: str) -> list:
    session = pull_session(url=url)
    try:
        return [m for root in session.document.roots for m in root.references()]
    finally:
        session.close()


def _recommendation_html(url: str) -> str | None:
    """The recommendation cards' HTML in a fresh session's document, or None while there are none."""
    for m in _models(url):
        if "recommendations" in (getattr(m, "css_classes", None) or []):
            text = getattr(m, "text", None) or getattr(m, "object", None) or ""
            text = html.unescape(text)
            return None if NO_RECOMMENDATION in text else text
    raise AssertionError("the page has no recommendations pane")


def test_panel_serve_apps_race(panel_app):
    models = _models(panel_app)
    assert not [m for m in models if "alert-danger" in (getattr(m, "css_classes", None) or [])]
    assert any(type(m).__name__ == "DataTabulator" for m in models)


def test_panel_serve_apps_race_shows_recommendations(panel_app):
    """Issue 17 item 3: the app is built by build_service with the strategy engine, so cards appear."""
    cards = wait_until(lambda: _recommendation_html(panel_app), timeout_s=240, what="a recommendation card",
                       step_s=1.0)
    assert "class='rec-card rec-" in cards and "explained by built-in" in cards, cards[:500]
