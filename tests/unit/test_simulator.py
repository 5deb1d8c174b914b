"""TelemetrySimulator: deterministic, realistic, and consistent with itself."""

import asyncio
import dataclasses

import numpy as np
import pytest

from workbench.race.simulator import TelemetrySimulator
from workbench.telemetry import CarSample, EventKind, LapRecord, RaceEvent, SessionInfo


@pytest.fixture(scope="module")
def sim(race):
    return TelemetrySimulator(race, seed=7)


def test_same_seed_same_race(race, sim):
    again = TelemetrySimulator(race, seed=7)
    assert again.lap_records() == sim.lap_records()
    assert again.result.events == sim.result.events
    assert list(again.samples("VER"))[:500] == list(sim.samples("VER"))[:500]


def test_different_seed_different_race(race, sim):
    other = TelemetrySimulator(race, seed=8)
    assert [r.lap_time_s for r in other.lap_records()] != [r.lap_time_s for r in sim.lap_records()]


def test_positions_form_a_ranking_every_lap(sim):
    laps = sim.laps_frame()
    for lap, group in laps.groupby("LapNumber"):
        assert sorted(group.Position) == list(range(1, len(group) + 1)), lap
        by_time = group.sort_values("Time")
        assert list(by_time.Position) == list(range(1, len(group) + 1))


def test_lap_times_are_plausible_and_sum_to_session_time(race, sim):
    laps = sim.laps_frame()
    assert laps.LapTime.between(race.track.base_lap_time_s, 200).all()
    for _, car in laps.groupby("Driver"):
        assert np.allclose(car.LapTime.cumsum(), car.Time, atol=0.01 * len(car))


def test_stints_change_only_at_pit_stops(race, sim):
    laps = sim.laps_frame()
    plans = {c.driver: c.strategy for c in race.cars}
    for driver, car in laps.groupby("Driver"):
        car = car.sort_values("LapNumber")
        new_stint = car.Stint.diff().fillna(0).to_numpy() > 0
        assert np.array_equal(new_stint, car.PitOut.to_numpy()), driver
        # a fitted set starts at its planned age (used sets: tyre_age_laps > 0), then counts up by one a lap
        for stint, life in zip(car.Stint[new_stint], car.TyreLife[new_stint]):
            plan = plans[driver]
            expected = plan[stint - 1].tyre_age_laps + 1 if stint <= len(plan) else 1
            assert life == expected, (driver, stint)
        assert car.Stint.max() >= 2 or len(car) < 20  # the two-compound rule forces a stop


def test_leader_finishes_all_laps_and_flag_ends_race(race, sim):
    laps = sim.laps_frame()
    assert laps.LapNumber.max() == race.track.laps
    flag = [e for e in sim.result.events if e.kind is EventKind.CHEQUERED_FLAG]
    assert len(flag) == 1 and flag[0].session_time_s == pytest.approx(laps.Time.max(), abs=0.01) or \
        flag[0].session_time_s <= laps.Time.max()


def test_safety_car_bunches_the_field(race):
    # find a seed with an SC phase and check the gaps shrink during it
    for seed in range(40):
        sim = TelemetrySimulator(race, seed=seed)
        phases = [e for e in sim.result.events if e.kind is EventKind.SC_DEPLOYED]
        if phases:
            break
    else:
        pytest.fail("no SC in 40 seeds: the SC probabilities are not being used")
    first = phases[0].lap
    laps = sim.laps_frame()
    spread_before = laps[laps.LapNumber == first - 1].GapToLeader.nlargest(10).min()
    spread_after = laps[laps.LapNumber == first + 1].GapToLeader.nlargest(10).min()
    assert spread_after < spread_before


def test_samples_are_10hz_and_consistent_with_laps(sim):
    samples = [s for s in sim.samples("VER") if s.lap <= 3]
    times = np.array([s.session_time_s for s in samples])
    assert np.allclose(np.diff(times), 0.1, atol=1e-3)
    speeds = np.array([s.speed_kph for s in samples])
    assert speeds.max() > 250 and speeds.min() < 120
    assert {s.gear for s in samples} >= {2, 3, 4, 5, 6, 7, 8}
    lap3_end = [r for r in sim.lap_records() if r.driver == "VER" and r.lap_number == 3][0].session_time_s
    assert times.max() < lap3_end


def test_records_are_in_session_time_order_and_typed(sim):
    records = list(sim.records())
    times = [r.session_time_s for r in records]
    assert times == sorted(times)
    assert isinstance(records[0], SessionInfo)
    kinds = {type(r) for r in records}
    assert kinds == {SessionInfo, LapRecord, RaceEvent, CarSample}


def test_stream_unpaced_delivers_everything(race):
    sim = TelemetrySimulator(race, seed=1)
    got = []
    sent = asyncio.run(sim.stream(got.append, speed=float("inf")))
    assert sent == len(got) == sum(1 for _ in sim.records())


def test_stream_stops_when_asked(race):
    sim = TelemetrySimulator(race, seed=1)
    got = []

    async def run():
        stop = asyncio.Event()

        def sink(record):
            got.append(record)
            if len(got) == 100:
                stop.set()
        return await sim.stream(sink, speed=float("inf"), stop=stop)
    assert asyncio.run(run()) == 100


@pytest.mark.parametrize("kwargs,message", [
    ({"seed": -1}, "seed: -1 is below minimum 0"),
    ({"sample_drivers": ["XXX"]}, "'XXX' is not in the race"),
])
def test_bad_arguments(race, kwargs, message):
    with pytest.raises((ValueError, KeyError), match=message):
        TelemetrySimulator(race, **kwargs)


def test_bad_speed(race):
    with pytest.raises(ValueError, match="speed: 0 is not above 0"):
        asyncio.run(TelemetrySimulator(race, seed=1).stream(lambda r: None, speed=0))


def test_records_are_frozen(sim):
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.lap_records()[0].position = 3


def test_session_record_carries_the_tracks_weather(race):
    """Air/track temperature and rainfall come from data/track-weather.json for the race's track."""
    import dataclasses as dc

    from workbench.hub.session import RaceSession
    from workbench.telemetry.weather import track_weather

    info = TelemetrySimulator(race, seed=0, sample_drivers=[]).session_info()
    expected = track_weather(race.track.name)
    assert expected is not None and (info.air_temp_c, info.track_temp_c, info.rainfall) == (18.0, 25.0, False)
    assert (info.air_temp_c, info.track_temp_c, info.rainfall) == dc.astuple(expected)
    hub = RaceSession(our_driver="VER", race=race)
    hub.submit(info, source="simulator")
    hub.flush()
    env = hub.environment
    assert (env.air_temp_c, env.track_temp_c, env.rainfall) == (18.0, 25.0, False)
    elsewhere = dc.replace(race, track=dc.replace(race.track, name="Nowhere Ring"))
    unknown = TelemetrySimulator(elsewhere, seed=0, sample_drivers=[]).session_info()
    assert (unknown.air_temp_c, unknown.track_temp_c, unknown.rainfall) == (None, None, None)
