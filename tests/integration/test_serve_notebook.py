"""`panel serve notebooks/03_live_twin.ipynb` serves the notebook's dashboard as an app."""

import json
import os
import re
import subprocess
import sys

import httpx
import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models.tabulator  # noqa: F401
from bokeh.client import pull_session
from bokeh.util.token import get_session_id

from tests.util import REPO, free_port, wait_until

NOTEBOOK = REPO / "notebooks" / "03_live_twin.ipynb"


def test_panel_serve_live_twin_notebook(tmp_path):
    port = free_port()
    log_path = tmp_path / "panel.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(NOTEBOOK), "--port", str(port),
                             "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "RACETWIN_FAST": "1"},
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/03_live_twin"

        def answered() -> httpx.Response | None:
            if proc.poll() is not None:
                raise RuntimeError(f"panel serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                return httpx.get(url, timeout=120)
            except httpx.TransportError:
                return None

        # the page runs the whole notebook (about 20 s on 2 busy cores)
        page = wait_until(answered, 240, lambda: f"an answer from {url}:\n{log_path.read_text()}", step_s=0.3)
        assert page.status_code == 200, (page.status_code, log_path.read_text())
        assert "<title>Race Twin Edge: live twin</title>" in page.text  # the notebook's .servable(title=...)
        # the page's document comes over the websocket: read that same session (no second notebook run)
        token = json.loads(re.search(r"const render_items = (\[.*?\]);", page.text).group(1))[0]["token"]
        session = pull_session(session_id=get_session_id(token), url=url)
        try:
            models = [m for root in session.document.roots for m in root.references()]
            assert not [m for m in models if "alert-danger" in (getattr(m, "css_classes", None) or [])]
            assert any(type(m).__name__ == "DataTabulator" for m in models)  # the ranked plans
            assert any(getattr(m, "label", None) == "Next lap" for m in models)  # the replay button
        finally:
            session.close()
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    text = log_path.read_text()
    assert "Traceback" not in text and "AssertionError" not in text, text
    assert text.count("lap 32: LEC") == 1  # the answer cell ran on the server, once: one session
