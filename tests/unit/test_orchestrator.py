"""HPCOrchestrator: triggers from the hub, local worker thread, staleness, results in the hub."""

import pytest

from workbench.service.session import HubEvent, RaceSession
from workbench.strategy.bench import live_session
from workbench.strategy.montecarlo import RaceState
from workbench.strategy.orchestrator import HPCOrchestrator
from workbench.strategy.sweep import decide
from workbench.telemetry.records import LapRecord
from workbench.telemetry.simulator import TelemetrySimulator

GRID = {"lap_step": 6, "two_stop_lap_step": 12}


@pytest.fixture()
def orchestrator(race):
    orch = HPCOrchestrator(race, "LEC", total_runs=600, seed=3, candidate_grid=GRID)
    yield orch
    orch.close()


def test_state_from_session_reads_the_live_race(race):
    session = live_session(race, "LEC", 12, seed=1)
    state = RaceState.from_session(session)
    assert state.laps_completed == 12
    lec = state.car("LEC")
    twin = session.field_twin.cars["LEC"]
    assert lec.tyre_age_laps == twin.tyre_age_laps and lec.stops_made == twin.pit_stops
    assert lec.compound in lec.compounds_used
    leader = min(state.cars, key=lambda c: c.gap_to_leader_s)
    assert leader.gap_to_leader_s == 0.0


def test_results_reach_the_hub_and_match_a_direct_decision(race, orchestrator):
    session = live_session(race, "LEC", 15, seed=1)
    orchestrator.attach(session)
    state = RaceState.from_session(session)
    generation = orchestrator.submit(state, "manual", 1234.5)
    assert orchestrator.wait_idle(120)
    published = session.strategy_results
    assert published["generation"] == generation and published["lap"] == 15 and published["where"] == "local"
    direct = decide(race, "LEC", state, total_runs=600, seed=3, **GRID)
    assert published["best"] == direct.best.to_json()
    assert published["seed_rows"] == direct.seed_rows()[:10]


def test_hub_events_trigger_runs_with_reasons(race, orchestrator):
    session = RaceSession("LEC", race)
    seen = []
    orchestrator.on_result = lambda payload: seen.append(payload["reason"])
    orchestrator.attach(session)
    sim = TelemetrySimulator(race, seed=1, sample_drivers=[])
    for record in sim.records():
        if isinstance(record, LapRecord) and record.lap_number > 3:
            break
        session.submit(record)
    session.flush()
    assert orchestrator.wait_idle(120)
    assert orchestrator.counts["requested"] >= 3  # LEC completed laps 1-3
    assert seen and set(seen) <= {"lap", "pit_window", "rival_pit"}
    assert session.strategy_results["lap"] == 3 or orchestrator.counts["cancelled"] > 0
    assert orchestrator.trigger_for(HubEvent("sc_deployed", 1.0), session) == "sc"
    assert orchestrator.trigger_for(HubEvent("vsc_deployed", 1.0), session) == "vsc"
    assert orchestrator.trigger_for(HubEvent("pit_in", 1.0, "VER", 3), session) == "rival_pit"
    assert orchestrator.trigger_for(HubEvent("pit_in", 1.0, "LEC", 3), session) is None
    assert orchestrator.trigger_for(HubEvent("flag", 1.0), session) is None


def test_a_newer_state_cancels_the_stale_run(race):
    orch = HPCOrchestrator(race, "LEC", total_runs=40_000, seed=1, chunks=40)
    try:
        session = live_session(race, "LEC", 10, seed=2)
        orch.attach(session)
        newer = RaceState.from_session(live_session(race, "LEC", 11, seed=2))
        old = orch.submit(RaceState.from_session(session), "lap")
        orch.total_runs = 500
        new = orch.submit(newer, "sc")
        assert orch.wait_idle(120)
        assert new == old + 1
        assert session.strategy_results["generation"] == new and session.strategy_results["lap"] == 11
        assert orch.counts["cancelled"] == 1 and orch.counts["completed"] == 1
    finally:
        orch.close()


def test_bad_orchestrator_arguments_are_named(race):
    with pytest.raises(KeyError, match="'XXX' is not in the race"):
        HPCOrchestrator(race, "XXX")
    with pytest.raises(ValueError, match="total_runs: 0 is not an integer >= 1"):
        HPCOrchestrator(race, "LEC", total_runs=0)
    orch = HPCOrchestrator(race, "LEC")
    try:
        with pytest.raises(ValueError, match="reason: 'why' is not one of"):
            orch.submit(RaceState.grid(race), "why")
    finally:
        orch.close()
