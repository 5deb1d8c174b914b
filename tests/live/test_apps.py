"""`panel serve apps/race.py` serves the same live page without racetwin serve."""

import os
import subprocess
import sys

import httpx
import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models.tabulator  # noqa: F401
from bokeh.client import pull_session

from tests.util import REPO, free_port, wait_until


def test_panel_serve_apps_race(tmp_path):
    port = free_port()
    log_path = tmp_path / "panel.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(REPO / "apps" / "race.py"),
                             "--port", str(port), "--address", "127.0.0.1",
                             "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/race"

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"panel serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                return httpx.get(url, timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 120, f"{url} to answer 200", step_s=0.2)
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
