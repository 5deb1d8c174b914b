"""Real-time (1x) behaviour of the served app: telemetry flows at race pace, a browser
session (Bokeh's own websocket client) gets the live page and is cleaned up on close."""

import time

import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models  # noqa: F401
import panel.models.tabulator  # noqa: F401
import pytest
from bokeh.client import pull_session

from tests.util import ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess("--seed", "5", tmp_path=tmp_path_factory.mktemp("live")) as srv:
        yield srv


def test_samples_arrive_in_real_time_at_10hz(server):
    health = server.get("/api/v1/health").json()
    assert health["components"]["source"]["speed"] == 1.0
    samples = []
    for _ in range(50):  # the first samples leave the hub's 0.5 s reorder window after 0.5 s
        samples = server.get("/api/v1/telemetry", params={"limit": 1}).json()["samples"]
        if samples:
            break
        time.sleep(0.2)
    first = samples[-1]["session_time_s"]
    time.sleep(2.0)
    page = server.get("/api/v1/telemetry", params={"since": first, "limit": 1000}).json()["samples"]
    times = [s["session_time_s"] for s in page]
    assert len(times) >= 5, "no live samples in 2 s of wall time"
    assert all(round(b - a, 3) == 0.1 for a, b in zip(times, times[1:]))
    # race time follows wall time (1x): it cannot have run far ahead
    assert times[-1] - first < 60


def test_a_session_gets_the_live_page_and_is_cleaned_up(server):
    session = pull_session(url=server.base + "/")
    try:
        models = [m for root in session.document.roots for m in root.references()]
        errors = [m.text for m in models if "alert-danger" in (getattr(m, "css_classes", None) or [])]
        assert not errors, errors
        tower = [m for m in models if type(m).__name__ == "DataTabulator"]
        assert len(tower) == 1 and len(tower[0].source.data["Driver"]) == 20
        header = [m.text for m in models if type(m).__name__ == "HTML" and "Bahrain" in m.text]
        assert header, "no race header"
        titles = {m.text for m in models if type(m).__name__ == "Title"}
        assert {"Lap times", "Gap to leader"} <= titles, titles
        lines = [m for m in models if type(m).__name__ == "GlyphRenderer" and type(m.glyph).__name__ == "Line"]
        assert len(lines) >= 2 * 20, "no lap-time and gap charts with a line per car"
    finally:
        session.close()
    time.sleep(1.0)
    assert "Traceback" not in server.log()
