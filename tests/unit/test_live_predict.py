"""The finish prediction in the live hub: published each leader lap, equal to the offline prediction."""

from workbench.service.session import RaceSession
from workbench.strategy.bench import live_session
from workbench.strategy.live_predict import LivePredictor, predict_session, records_frame
from workbench.strategy.predict import predict_from_laps
from workbench.telemetry.records import LapRecord
from workbench.telemetry.simulator import TelemetrySimulator


def test_prediction_from_the_hub_is_the_offline_prediction_of_its_laps(race):
    session = live_session(race, "LEC", 20, seed=1)
    frame = records_frame(session.laps)
    behind = frame.groupby("Driver").LapNumber.max()
    assert behind.max() == 20 and behind.min() == 19  # some cars are still finishing lap 20
    out = predict_session(session, runs=300, seed=4)
    offline = predict_from_laps(frame, 20, runs=300, seed=4, track=race, retired=set())
    assert out["lap"] == 20 and out["predicted"] == offline.drivers
    assert all(not r["p_retired"] == 1.0 for r in out["predicted"])  # still finishing lap 20 is not retired
    assert {"driver", "mean_position", "p_win", "p_podium"} <= set(out["predicted"][0])


def test_live_predictor_publishes_each_leader_lap(race):
    session = RaceSession("LEC", race)
    predictor = LivePredictor(race, runs=200, seed=2)
    predictor.attach(session)
    seen = []
    try:
        sim = TelemetrySimulator(race, seed=1, sample_drivers=[])
        for record in sim.records():
            if isinstance(record, LapRecord) and record.lap_number > 6:
                break
            session.submit(record)
            session.flush()
            if isinstance(record, LapRecord):
                assert predictor.wait_idle(120)
                if session.race_prediction is not None:
                    seen.append(session.race_prediction["lap"])
        assert predictor.wait_idle(120)
        assert predictor.counts["failed"] == 0, predictor.last_error
        assert sorted(set(seen)) == [3, 4, 5, 6]
        assert session.race_prediction["lap"] == 6 and len(session.race_prediction["predicted"]) == 20
    finally:
        predictor.close()
