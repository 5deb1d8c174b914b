"""`panel serve apps/race.py` serves the same live page without racetwin serve."""

import os
import subprocess
import sys
import time

import httpx
import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models.tabulator  # noqa: F401
from bokeh.client import pull_session

from tests.util import REPO, free_port


def test_panel_serve_apps_race(tmp_path):
    port = free_port()
    log = open(tmp_path / "panel.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(REPO / "apps" / "race.py"),
                             "--port", str(port), "--address", "127.0.0.1",
                             "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/race"
        for _ in range(300):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        session = pull_session(url=url)
        try:
            models = [m for root in session.document.roots for m in root.references()]
            assert not [m for m in models if "alert-danger" in (getattr(m, "css_classes", None) or [])]
            assert any(type(m).__name__ == "DataTabulator" for m in models)
        finally:
            session.close()
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert "Traceback" not in (tmp_path / "panel.log").read_text()
