"""Real-time (1x) behaviour of the served app: telemetry flows at 1x, a browser session
(Bokeh's own websocket client) gets the live page and is cleaned up on close.

How fast race time follows wall time is measured, not asserted, by
``tests/benchmarks/bench_live_rate.py`` (it prints the numbers).
"""

import panel  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import panel.models  # noqa: F401
import panel.models.tabulator  # noqa: F401
import pytest
from bokeh.client import pull_session

from tests.util import ServerProcess, wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess("--seed", "5", tmp_path=tmp_path_factory.mktemp("live")) as srv:
        yield srv


def _samples(server, **params) -> list[dict]:
    return server.get("/api/v1/telemetry", params={"limit": 1000, **params}).json()["samples"]


def test_samples_keep_arriving_at_1x_10hz_apart(server):
    health = server.get("/api/v1/health").json()
    assert health["components"]["source"]["speed"] == 1.0
    # the first samples leave the hub's 0.5 s reorder window after 0.5 s
    first = wait_until(lambda: _samples(server, limit=1), 30, "a first live sample", step_s=0.2)[-1]["session_time_s"]
    page = wait_until(lambda: (p := _samples(server, since=first)) and len(p) >= 5 and p, 60,
                      f"5 more live samples after race time {first} s", step_s=0.2)
    times = [s["session_time_s"] for s in page]
    assert times[0] > first and times == sorted(times)
    assert all(round(b - a, 3) == 0.1 for a, b in zip(times, times[1:]))


def _sessions(server) -> int:
    return server.get("/api/v1/health").json()["components"]["views"]["sessions"]


def test_a_session_gets_the_live_page_and_is_cleaned_up(server):
    before = _sessions(server)
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
    wait_until(lambda: _sessions(server) <= before, 60, f"the server's sessions back to {before}", step_s=0.2)
    assert "Traceback" not in server.log()
