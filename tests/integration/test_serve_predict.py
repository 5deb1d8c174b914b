"""`racetwin serve` predicts the finish each leader lap and serves it at /api/v1/strategy-results."""

import time

from tests.util import ServerProcess


def test_race_prediction_follows_the_race(tmp_path):
    with ServerProcess("--speed", "40", "--seed", "1", "--strategy-runs", "0", "--predict-runs", "300",
                       tmp_path=tmp_path) as srv:
        laps = set()
        deadline = time.monotonic() + 90
        body = {}
        while len(laps) < 2 and time.monotonic() < deadline:
            body = srv.get("/api/v1/strategy-results").json()
            pred = body["race_prediction"]
            if pred is not None:
                laps.add(pred["lap"])
                assert pred["runs"] == 300 and len(pred["predicted"]) == 20
                assert {"driver", "mean_position", "p_win", "p_podium", "p_points"} <= set(pred["predicted"][0])
            time.sleep(0.2)
        assert len(laps) >= 2 and min(laps) >= 3, f"race prediction did not advance: {laps}\n{srv.log()}"
        assert body["predictor"]["failed"] == 0 and body["orchestrator"] is None
