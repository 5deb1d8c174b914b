"""Issue 17 item 2: a served race page shows published results as hub events, scheduled on its own document
(no periodic read of results), and a destroyed session leaves no subscriber on the hub."""

import httpx
import panel as pn
import panel.models.tabulator  # noqa: F401  (registers Panel's Bokeh models so the client can read the document)
import pytest
from bokeh.client import pull_session

from tests.util import free_port, wait_until
from workbench.hub.session import RaceSession
from workbench.ui.race import RaceDashboard, active_refreshes

PREDICTION = {"lap": 7, "race_laps": 57, "runs": 100, "seed": 4,
              "predicted": [{"driver": "HAM", "mean_position": 1.4, "p_win": 0.61},
                            {"driver": "VER", "mean_position": 2.1, "p_win": 0.3}]}
# Bokeh's ColumnDataSource.from_df (inside Panel's Tabulator) still calls reset_index(inplace=True).
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

CARD = {"priority": "urgent", "title": "Box this lap for HARD", "description": "d", "reasoning": "r",
        "explainer": "built-in", "numbers": {}}


def test_a_served_page_follows_result_events_and_a_closed_session_unsubscribes(race):
    hub = RaceSession("VER", race=race)
    baseline = hub.subscriber_count
    pages: list[RaceDashboard] = []

    def app():
        page = RaceDashboard(hub=hub, refresh_ms=600_000)  # the periodic refresh never runs in this test
        page.start_refresh()
        pages.append(page)
        return page

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = pn.serve({"/": app}, port=port, address="127.0.0.1", threaded=True, show=False,
                      websocket_origin=[f"127.0.0.1:{port}"], check_unused_sessions_milliseconds=100,
                      unused_session_lifetime_milliseconds=300)
    clients = []
    try:
        wait_until(lambda: httpx.get(url, timeout=30).status_code == 200, 60, "the page to be served", step_s=0.2)
        clients = [pull_session(url=url) for _ in range(2)]  # two browser sessions that stay connected
        live = wait_until(lambda: (ps := [p for p in pages if p._doc is not None]) and len(ps) == 2 and ps, 60,
                          "only the two connected sessions to follow the hub (the plain GET's is discarded)")
        assert hub.subscriber_count == baseline + 2 and active_refreshes() == 2

        hub.publish("race_prediction", PREDICTION)  # from this thread: each page schedules on its own document
        hub.publish("strategy_recommendations", {"generation": 1, "lap": 7, "driver": "VER",
                                                 "recommendations": [CARD]})
        wait_until(lambda: all(p.prediction._shown is PREDICTION for p in live), 30, "the prediction on both pages")
        wait_until(lambda: all("Box this lap for HARD" in p.recommendations._html.object for p in live), 30,
                   "the recommendation card on both pages")
        assert all("From lap 7 of 57: 100 races, seed 4" in p.prediction._html.object for p in live)
        # the counter moves just after the view redraws (show_result), so it is waited for, not read at once
        wait_until(lambda: all(p.results_shown == 2 for p in live), 30, "both results counted on both pages")
        assert all(p.refreshes == 0 for p in live)  # events, not the periodic refresh
    finally:
        for client in clients:
            client.close()
        try:
            wait_until(lambda: hub.subscriber_count == baseline, 60,
                       lambda: f"the hub's subscribers back to {baseline} (now {hub.subscriber_count})")
            assert active_refreshes() == 0 and all(p._doc is None for p in pages)
        finally:
            server.stop()
    hub.publish("race_prediction", None)  # no page listens any more: nothing is scheduled, nothing fails
    assert hub.subscriber_errors == 0
