"""`racetwin serve` runs strategy decisions from hub events and serves them at /api/v1/strategy-results."""

from tests.util import ServerProcess, wait_until


def test_strategy_results_follow_the_race(tmp_path):
    with ServerProcess("--speed", "40", "--seed", "1", "--car", "LEC", "--strategy-runs", "2000",
                       tmp_path=tmp_path) as srv:
        first = srv.get("/api/v1/strategy-results").json()
        assert first["api_version"] == "1.0" and first["orchestrator"]["where"] == "local"
        laps, seen = set(), []

        def two_laps_decided():
            body = srv.get("/api/v1/strategy-results").json()
            if body["strategy_results"] is not None:
                seen.append(body["strategy_results"])
                laps.add(body["strategy_results"]["lap"])
            return len(laps) >= 2 and body

        body = wait_until(two_laps_decided, 90, lambda: f"strategy results at 2 laps: {laps}\n{srv.log()}",
                          step_s=0.2)
        for results in seen:
            assert results["driver"] == "LEC" and results["reason"] in ("lap", "pit_window", "rival_pit", "sc", "vsc")
            assert results["races"] >= 2000 and len(results["seed_rows"][0]) == 4
            assert results["best"]["label"]
        assert body["orchestrator"]["completed"] >= 2 and body["orchestrator"]["failed"] == 0


def test_recommendations_follow_the_strategy_results_and_are_audited(tmp_path):
    from workbench.store import StateStore

    with ServerProcess("--speed", "40", "--seed", "1", "--car", "LEC", "--strategy-runs", "2000",
                       tmp_path=tmp_path) as srv:
        body = srv.get("/api/v1/strategy-recommendations").json()
        assert body["recommendations"] == [] or body["generation"] is not None
        body = wait_until(lambda: (b := srv.get("/api/v1/strategy-recommendations").json())["recommendations"] and b,
                          90, lambda: f"recommendations\n{srv.log()}", step_s=0.2)
        results = srv.get("/api/v1/strategy-results").json()["strategy_results"]
        assert body["generation"] <= results["generation"] and body["driver"] == "LEC"
        first = body["recommendations"][0]
        assert first["priority"] in ("urgent", "moderate", "optional") and first["explainer"] == "built-in"
        assert first["numbers"]["strategy"] and first["reasoning"]
        priorities = [r["priority"] for r in body["recommendations"]]
        assert priorities == sorted(priorities, key=["urgent", "moderate", "optional"].index)
        llm = srv.get("/api/v1/health").json()["components"]["llm"]
        assert llm["state"] == "off" and llm["published"] >= 1
    store = StateStore(tmp_path / "state" / "racetwin.sqlite")
    audit = store.audit_log(store.sessions()[0]["session_id"])
    store.close()
    decisions = [a for a in audit if a["action"] == "recommendations"]
    assert decisions and all(a["input_hash"] and a["actor"] == "built-in" for a in decisions)
