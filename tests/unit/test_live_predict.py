"""The finish prediction in the live hub: published each leader lap, equal to the offline prediction."""

import pandas as pd

from workbench.hub.session import RaceSession
from workbench.race.simulator import TelemetrySimulator
from workbench.strategy.live_predict import LivePredictor, predict_session, records_frame
from workbench.strategy.predict import known_laps, predict_from_laps
from workbench.telemetry.laptable import read_fastf1_laps
from workbench.telemetry.records import LapRecord


def test_prediction_from_the_hub_is_the_offline_prediction_of_its_laps(race):
    # the moment the leader completes lap 20 of a simulated race: every other car is still on lap 20
    done = []

    def until_leader_lap_20(record):
        if done:
            return None
        done.extend([record] if record.lap_number == 20 else [])
        return True

    session = _hub(race, TelemetrySimulator(race, seed=1, sample_drivers=[]).lap_records(), until_leader_lap_20)
    frame = records_frame(session.laps)
    behind = frame.groupby("Driver").LapNumber.max()
    assert behind.max() == 20 and behind.min() == 19  # some cars are still finishing lap 20
    out = predict_session(session, runs=300, seed=4)
    offline = predict_from_laps(frame, 20, runs=300, seed=4, track=race, retired=set(), race_priors=True)
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


# -- the real 2024 Bahrain lap table replayed into the hub (see docs/predict.md, "In the live hub") --------

REAL = "real-races/2024-bahrain-race-laps.csv"
K = 28  # half distance, as `racetwin predict --sweep`


def _hub(race, records, keep) -> RaceSession:
    """A hub fed, in session-time order, the lap records that ``keep`` accepts (stops at the first None)."""
    session = RaceSession("VER", race)
    for record in records:
        verdict = keep(record)
        if verdict is None:
            break
        if verdict:
            session.submit(record, "replay")
    session.flush()
    return session


def test_real_race_hub_at_the_leaders_lap_k_predicts_from_the_laps_it_holds(race, shared_data):
    """When the leader completes lap K the other cars' lap K does not exist yet: the hub predicts
    from what it holds, exactly as `predict_from_laps` does on those rows; `racetwin predict
    --at-lap K` also uses every other car's lap K (up to 151 s later) and so may differ."""
    path = shared_data / REAL
    records = read_fastf1_laps(path)
    leader_done: list[bool] = []

    def until_leader_lap_k(r):  # the first lap-K record is the leader's; stop right after it
        if leader_done:
            return None
        if r.lap_number == K:
            leader_done.append(True)
        return True

    session = _hub(race, records, until_leader_lap_k)
    frame = records_frame(session.laps)
    last = frame.groupby("Driver").LapNumber.max()
    assert session.field_twin.leader_lap == K
    assert list(last[last == K].index) == ["VER"]  # the leader only
    assert last.value_counts().to_dict() == {K - 1: 18, K - 2: 1, K: 1}  # SAR is a lap down
    laps = pd.read_csv(path)
    held = set(zip(frame.Driver, frame.LapNumber))
    held_rows = laps[[key in held for key in zip(laps.Driver, laps.LapNumber)]]
    live = predict_session(session, runs=300, seed=0)
    offline = predict_from_laps(held_rows, K, runs=300, seed=0, track=race, retired=set(), race_priors=True)
    assert live["lap"] == K and live["predicted"] == offline.drivers
    assert live["fit"]["clean_laps"] < predict_from_laps(laps, K, runs=1, track=race).fit["clean_laps"]


def test_real_race_hub_holding_every_cars_lap_k_predicts_as_racetwin_predict(race, shared_data):
    """Given the same rows (every car's laps 1..K) the hub loses nothing the CSV path uses: the
    prediction is identical to `predict_from_laps(pd.read_csv(csv), K)`."""
    path = shared_data / REAL
    session = _hub(race, read_fastf1_laps(path), lambda r: r.lap_number <= K)
    frame = records_frame(session.laps)
    assert len(frame) == len(known_laps(pd.read_csv(path), K)) and frame.LapNumber.max() == K
    live = predict_session(session, runs=300, seed=0)
    offline = predict_from_laps(pd.read_csv(path), K, runs=300, seed=0, track=race, race_priors=True)
    assert live["lap"] == K and live["predicted"] == offline.drivers
    assert live["fit"] == offline.fit


def test_behind_a_safety_car_start_the_predictor_waits_for_a_green_lap_not_fails(race, shared_data, tmp_path):
    """The real Bahrain table with laps 1-4 under the safety car (as 2026 Belgium ran): no clean lap until lap 5,
    so leader laps 3 and 4 request no prediction and say why; lap 5 on predict; nothing counts as failed."""
    laps = pd.read_csv(shared_data / REAL)
    laps["TrackStatus"] = laps.TrackStatus.astype(str).where(laps.LapNumber > 4, "4")
    path = tmp_path / "sc-start-laps.csv"
    laps[laps.LapNumber <= 6].to_csv(path, index=False)
    session = RaceSession("VER", race)
    predictor = LivePredictor(race, runs=50, seed=0)
    predictor.attach(session)
    waiting, predicted = {}, []
    try:
        for record in read_fastf1_laps(path):
            session.submit(record, "replay")
            session.flush()
            assert predictor.wait_idle(120)
            lap = session.field_twin.leader_lap
            waiting.setdefault(lap, predictor.status()["waiting"])
            if session.race_prediction is not None:
                predicted.append(session.race_prediction["lap"])
        assert predictor.wait_idle(120)
        assert predictor.counts["failed"] == 0, predictor.last_error
        assert waiting[3].startswith("lap 3: no green racing lap after lap 1 yet") and waiting[4].startswith("lap 4")
        assert sorted(set(predicted)) == [5, 6] and predictor.status()["waiting"] is None
    finally:
        predictor.close()
