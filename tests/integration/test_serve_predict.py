"""`racetwin serve` predicts the finish each leader lap and serves it at /api/v1/strategy-results."""

from tests.util import ServerProcess, wait_until


def test_race_prediction_follows_the_race(tmp_path):
    with ServerProcess("--speed", "40", "--seed", "1", "--strategy-runs", "0", "--predict-runs", "300",
                       tmp_path=tmp_path) as srv:
        laps, preds = set(), []

        def two_laps_predicted():
            body = srv.get("/api/v1/strategy-results").json()
            if body["race_prediction"] is not None:
                preds.append(body["race_prediction"])
                laps.add(body["race_prediction"]["lap"])
            return len(laps) >= 2 and body

        body = wait_until(two_laps_predicted, 90, lambda: f"predictions at 2 laps: {laps}\n{srv.log()}", step_s=0.2)
        assert min(laps) >= 3, laps
        for pred in preds:
            assert pred["runs"] == 300 and len(pred["predicted"]) == 20
            assert {"driver", "mean_position", "p_win", "p_podium", "p_points"} <= set(pred["predicted"][0])
        assert body["predictor"]["failed"] == 0 and body["orchestrator"] is None
