"""The page components outside a server (as a notebook uses them): built on a hub, refreshed, and reading
the same objects the served page reads."""

import asyncio

import pytest

from workbench.hub.recommendations import RecommendationService
from workbench.hub.session import RaceSession
from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.ai_strategist import AIStrategist
from workbench.strategy.orchestrator import HPCOrchestrator

# Bokeh's ColumnDataSource.from_df (inside Panel's Tabulator) still calls reset_index(inplace=True).
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@pytest.fixture(scope="module")
def hub():
    sim = TelemetrySimulator(seed=1, sample_drivers=["VER"])
    hub = RaceSession("VER", race=sim.race)
    orchestrator = HPCOrchestrator(sim.race, "VER", total_runs=400, backend="numpy")
    orchestrator.attach(hub)
    RecommendationService(hub, AIStrategist()).attach()  # the views show what it publishes; they never decide

    async def run():
        stop = asyncio.Event()

        def sink(record):
            hub.submit(record, "simulator")
            if hub.field_twin.leader_lap >= 12:
                stop.set()
        await sim.stream(sink, speed=float("inf"), stop=stop)
    asyncio.run(run())
    hub.flush()
    assert orchestrator.wait_idle(120)
    orchestrator.close()
    return hub


def test_the_dashboard_renders_every_component_from_the_hub(hub):
    import panel as pn

    from workbench.ui.race import RaceDashboard

    page = RaceDashboard(hub=hub)
    page.refresh()
    root = pn.panel(page).get_root()
    models = list(root.references())
    titles = {m.text for m in models if type(m).__name__ == "Title"}
    assert {"Lap times", "Gap to leader"} <= titles
    assert page.trace.refresh() == 0  # everything already streamed into the bounded buffer
    assert len(page.trace.source.data["t"]) == page.trace.window
    tower = page.tower._table.value
    assert list(tower["Driver"])[:1] == [hub.field_twin.order[0]] and len(tower) == 20
    assert "Pit window" in page.car_panel._facts.object
    assert page.distributions._generation == hub.strategy_results["generation"]
    recs = page.recommendations.recommendations
    assert recs and {r["priority"] for r in recs} <= {"urgent", "moderate", "optional"}
    assert all(r["explainer"] == "built-in" and r["numbers"] for r in recs)
    assert "rec-card" in page.recommendations._html.object
    assert page.start_refresh() is None and page._callback is None  # no server session: no callback


def test_the_cards_show_only_published_recommendations(hub):
    from workbench.ui.strategy import recommendations_for

    # the shape RecommendationService publishes
    card = {"priority": "urgent", "title": "Box now", "explainer": "llm", "numbers": {}}
    hub.publish("strategy_recommendations", {"generation": 7, "lap": 20, "driver": hub.our_driver,
                                             "input_hash": "x", "recommendations": [card]})
    try:
        assert recommendations_for(hub) == [card]
    finally:
        hub.publish("strategy_recommendations", None)
    assert recommendations_for(hub) == []  # nothing published: the view shows none (it never decides)


def test_whatif_explorer_runs_off_the_loop(hub):
    from workbench.ui.whatif import WhatIfExplorer

    explorer = WhatIfExplorer(hub=hub, runs=200, sc_from_lap=20, backend="numpy")
    asyncio.run(explorer.run())
    assert explorer.runs_done == 1 and explorer.result.laps_completed == hub.field_twin.leader_lap
    assert "SC laps 20-22" in explorer.status.object
    explorer.pit_laps, explorer.compounds = "x", "HARD"
    asyncio.run(explorer.run())
    assert explorer.runs_done == 1 and "pit_laps[0]: 'x' is not a lap number" in explorer.status.object


def test_prediction_panel_shows_the_hubs_prediction_and_highlights_our_car(hub):
    from workbench.strategy.live_predict import predict_session
    from workbench.ui.prediction import PredictionPanel, prediction_rows

    panel = PredictionPanel(hub=hub)
    assert "No finish prediction yet" in panel._html.object and panel.refresh() is False
    hub.publish("race_prediction", predict_session(hub, runs=200, seed=1))
    try:
        assert panel.refresh() is True and panel.refresh() is False  # once per published prediction
        rows = prediction_rows(hub.race_prediction)
        assert [r["driver"] for r in rows] == [d["driver"] for d in hub.race_prediction["predicted"]]
        assert all(0 <= r["p_podium"] <= 100 for r in rows)
        assert f"From lap {hub.field_twin.leader_lap} of 57: 200 races, seed 1" in panel._html.object
        assert "background:#e3f2fd" in panel._html.object  # our car's row
    finally:
        hub.publish("race_prediction", None)


def test_field_charts_stream_only_new_laps(hub):
    from workbench.ui.charts import GapChart, LapTimeChart

    chart = LapTimeChart(hub=hub)
    assert chart.refresh() == 0  # everything was streamed when it was built
    per_driver = {d: len(s.data["lap"]) for d, s in chart.sources.items()}
    assert sum(per_driver.values()) == len(hub.laps) and set(per_driver) == set(hub.field_twin.cars)
    leader = hub.field_twin.order[0]
    assert chart.sources[leader].data["lap"] == list(range(1, hub.field_twin.leader_lap + 1))
    lo, hi = chart.figure.y_range.start, chart.figure.y_range.end
    assert lo < min(r.lap_time_s for r in hub.laps if r.lap_time_s) + 1 and lo < hi
    gap = GapChart(hub=hub)
    assert gap.figure.y_range.start > gap.figure.y_range.end == -1.0  # reversed: the leader on top


def test_the_car_panel_shows_the_fit_behind_the_twins_numbers_and_never_changes_the_twin(hub):
    import json

    from workbench.ui.twins import CarTwinPanel

    twin = hub.car_twin
    before = json.dumps(twin.state(), sort_keys=True, default=str)
    panel = CarTwinPanel(hub=hub)
    panel.refresh()
    assert json.dumps(twin.state(), sort_keys=True, default=str) == before
    assert panel.figure.title.text.endswith(f"({twin.tyre_model})")
    ages = list(panel.source.data["age"])
    at_age = panel.source.data["deg_s"][ages.index(float(twin.tyre_age_laps))]
    assert abs(at_age - twin.degradation_s) < 1e-9  # the curve is the fit behind degradation_s


def test_the_health_strip_shows_the_explainers_state_from_the_service(hub):
    from workbench.hub.recommendations import RecommendationService
    from workbench.race.simulator import TelemetrySimulator
    from workbench.service.server import RaceService
    from workbench.strategy.ai_strategist import AIStrategist
    from workbench.ui.health import HealthStrip

    service = RaceService(hub, TelemetrySimulator(seed=1, sample_drivers=[]), 1.0)
    assert "off (built-in explainer)" in HealthStrip(hub=hub, service=service)._html.object
    ai = AIStrategist(base_url="http://127.0.0.1:9/v1", model="smollm2")  # configured, never called here
    service.recommender = RecommendationService(hub, ai)
    strip = HealthStrip(hub=hub, service=service)
    assert service.llm_state()["state"] != "off"
    assert f"<b style='color:#2e7d32'>{service.llm_state()['state']}</b>" in strip._html.object
