"""FieldTwin models: pit probability calibrated on the real race, pace, threats, opportunities, profiles."""

import dataclasses
import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from workbench.race.simulator import TelemetrySimulator
from workbench.telemetry import Compound, LapRecord, TrackStatus
from workbench.twins import FieldTwin
from workbench.twins.context import TwinContext
from workbench.twins.pit_hazard import PitHazard
from workbench.twins.twin_schemas import field_twin_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from real_laps import real_lap_records  # noqa: E402

REAL = "real-races/2024-bahrain-race-laps.csv"
# Median stops per car at the Bahrain GP 2014-2023 (Ergast pit_stops): 2 in 7 of 10 races, 3 in 3.
BAHRAIN_EXPECTED_STOPS = 2.0


@pytest.fixture(scope="module")
def real_predictions(shared_data):
    """P(pit within 1/3/5 laps) after every real lap (only laps before it known) and what happened."""
    records = real_lap_records(shared_data / REAL)
    field = FieldTwin(context=TwinContext(total_laps=57, expected_stops=BAHRAIN_EXPECTED_STOPS))
    pits, last = {}, {}
    for r in records:
        last[r.driver] = max(last.get(r.driver, 0), r.lap_number)
        if r.pit_in:
            pits.setdefault(r.driver, set()).add(r.lap_number)
    rows = []
    for r in records:
        field.update_state(r)
        if r.lap_number >= last[r.driver]:
            continue
        p = field.pit_probability(r.driver)
        for h in (1, 3, 5):
            seen = any(lap in pits.get(r.driver, ()) for lap in range(r.lap_number + 1, r.lap_number + h + 1))
            rows.append((h, p[str(h)], float(seen)))
    return pd.DataFrame(rows, columns=["h", "p", "o"]), field


@pytest.mark.parametrize("h", [1, 3, 5])
def test_pit_probability_is_calibrated_on_the_real_race(real_predictions, h):
    """2024 Bahrain was not in the fit (2014-2023): predicted vs observed pit frequencies."""
    df = real_predictions[0]
    g = df[df.h == h]
    assert len(g) > 1000
    base = 1 - (1 - json.loads((Path(__file__).resolve().parents[2] / "data" / "pit-hazard.json").read_text())
                ["base_rate"]) ** h
    brier = float(((g.p - g.o) ** 2).mean())
    climatology = float(((base - g.o) ** 2).mean())
    assert brier < 0.95 * climatology  # skill over the historical base rate
    assert abs(g.p.mean() - g.o.mean()) < 0.05  # predicted frequency near observed
    bins = pd.cut(g.p, [0, 0.05, 0.1, 0.2, 0.4, 1.0])
    table = g.groupby(bins, observed=True).agg(n=("o", "size"), p=("p", "mean"), o=("o", "mean"))
    ece = float((table.n * (table.p - table.o).abs()).sum() / table.n.sum())
    assert ece < 0.15
    assert table.o.iloc[-1] > table.o.iloc[0]  # high predictions are followed by stops more often


def test_real_race_field_models(real_predictions):
    field = real_predictions[1]
    models = field.compound_models()
    assert set(models) == {"SOFT", "HARD"}
    for m in models.values():
        assert m["k1_s"] > 0 and m["n_laps"] > 100
    state = json.loads(json.dumps(field.state()))
    jsonschema.validate(state, field_twin_schema())


def test_hazard_rises_with_tyre_age_and_under_safety_car():
    h = PitHazard.bundled()
    ages = [h.pit_within(1, a, 19.0, False, -1, 30) for a in (3, 10, 19, 25)]
    assert ages == sorted(ages) and ages[-1] > 3 * ages[0]
    assert h.pit_within(1, 15, 19.0, True, -1, 30) > 2 * h.pit_within(1, 15, 19.0, False, -1, 30)
    assert h.pit_within(5, 15, 19.0, False, -1, 30) > h.pit_within(1, 15, 19.0, False, -1, 30)
    assert h.pit_within(3, 15, 19.0, False, -1, 0) == 0.0  # no lap left to stop before
    with pytest.raises(ValueError, match="horizon_laps: 0 is below minimum 1"):
        h.pit_within(0, 15, 19.0, False, -1, 30)


@pytest.fixture(scope="module")
def simulated(race):
    sim = TelemetrySimulator(race, seed=4)
    field = FieldTwin(context=TwinContext.from_race(race), our_driver="VER")
    for r in sim.lap_records():
        field.update_state(r)
    return sim, field


def test_corrected_pace_ranks_cars_like_the_truth(simulated, race):
    _, field = simulated
    truth = {c.driver: c.pace_delta_s for c in race.cars}
    pace = {d: t.corrected_pace_s for d, t in field.cars.items() if t.corrected_pace_s is not None and not t.retired}
    drivers = sorted(pace)
    rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    rho = np.corrcoef(rank([pace[d] for d in drivers]), rank([truth[d] for d in drivers]))[0, 1]
    assert rho > 0.8


def test_profiles_count_stops_and_measure_consistency_against_the_truth(simulated, race):
    sim, field = simulated
    profiles = field.profiles()
    r = sim.result
    for i, d in enumerate(r.drivers):
        assert profiles[d]["stops"] == int(r.pit_in[i].sum())
        tendency = profiles[d]["undercut_tendency"]
        assert tendency is None or 0 <= tendency <= 1
    ratios = [profiles[c.driver]["pace_consistency_s"] / c.lap_noise_s for c in race.cars
              if profiles[c.driver]["pace_consistency_s"] is not None]
    # lap noise + the noise of a 3-lap level estimate: about 1.15 x the car's true lap noise
    assert len(ratios) > 15 and 0.8 < float(np.median(ratios)) < 1.6


def _lap_time(n, age):
    """Equal cars: 0.1 s/lap wear plus the fuel effect of the generic context (0.03 s/kg)."""
    return 95.0 + 0.1 * age + 0.03 * (100.0 - 1.75 * n)


def _lap(driver, n, t, gap, pos, age, compound=Compound.HARD, **kw):
    return LapRecord(t, driver, n, position=pos, lap_time_s=_lap_time(n, age), gap_to_leader_s=gap,
                     interval_s=None if pos == 1 else 2.0, compound=compound, tyre_age_laps=age, stint=1,
                     fuel_kg=100.0 - 1.75 * n, **kw)


def _duel(age_ours, age_rival, gap_s):
    """Our car leads a rival by ``gap_s`` for 12 laps, each on a linear 0.1 s/lap wear."""
    field = FieldTwin(context=TwinContext(total_laps=57), our_driver="VER")
    t = 0.0
    for n in range(1, 13):
        t += _lap_time(n, age_ours + n)
        field.update_state(_lap("VER", n, t, 0.0, 1, age_ours + n))
        field.update_state(_lap("HAM", n, t + gap_s, gap_s, 2, age_rival + n))
    return field


def test_undercut_threat_from_a_fresher_car_close_behind():
    field = _duel(age_ours=20, age_rival=0, gap_s=2.0)
    threats = {t["kind"]: t for t in field.threats() if t["rival"] == "HAM"}
    under = threats["undercut"]
    # one lap: our old set at age 33 vs their new set at age 1, about 0.1 s/lap wear each
    assert under["gain_s"] == pytest.approx(0.1 * (33 - 1), abs=0.3)
    assert under["margin_s"] == pytest.approx(under["gain_s"] - 2.0, abs=1e-3)
    assert 0 <= under["probability"] <= under["rival_pit_probability"]
    far = _duel(age_ours=20, age_rival=0, gap_s=30.0)
    assert far.threats() == []  # outside a pit loss: no threat


def test_opportunities_undercut_ahead_and_cheap_stop_under_sc():
    field = _duel(age_ours=0, age_rival=20, gap_s=2.0)  # VER leads on a fresh set, HAM 2 s behind on an old one
    field.our_driver = "HAM"  # we are HAM: can we undercut VER?
    opp = {o["kind"]: o for o in field.opportunities()}
    under = opp["undercut"]
    assert under["rival"] == "VER" and under["gap_s"] == pytest.approx(2.0, abs=0.01)
    # one lap: VER's set at age 13 vs our new set at age 1, about 0.1 s/lap wear each: not enough for 2 s
    assert under["expected_gain_s"] == pytest.approx(0.1 * (13 - 1), abs=0.3) and under["margin_s"] < 0
    assert opp["free_air"]["rejoin_position"] >= 1
    assert "cheap_stop_sc" not in opp
    assert field.cars["HAM"].pit_window_stops_to_go >= 1  # one compound used so far: a stop is still due
    field.track_status = TrackStatus.SC
    cheap = {o["kind"]: o for o in field.opportunities()}["cheap_stop_sc"]
    assert cheap["expected_gain_s"] == pytest.approx(22.0 - 10.0) and cheap["probability"] == 1.0


def test_out_of_order_lap_leaves_the_field_unchanged(simulated):
    _, field = simulated
    before = json.dumps(field.state())
    car = field.cars["VER"]
    assert field.update_state(dataclasses.replace(_lap("VER", car.lap, 1.0, 0.0, 1, 5))) is False
    assert json.dumps(field.state()) == before


def test_field_takes_wire_dicts_and_a_bad_one_changes_nothing():
    field = FieldTwin(context=TwinContext(total_laps=57))
    assert field.update_state({"type": "lap", "session_time_s": 95.0, "driver": "VER", "lap_number": 1,
                               "position": 1, "lap_time_s": 95.0, "compound": "HARD", "tyre_age_laps": 1})
    before = json.dumps(field.state())
    with pytest.raises(ValueError, match="tyre_age_laps: -1 is below minimum 0"):
        field.update_state({"type": "lap", "session_time_s": 190.0, "driver": "VER", "lap_number": 2,
                            "tyre_age_laps": -1})
    with pytest.raises(ValueError, match="type: 'session' is not a car record"):
        field.update_state({"type": "session", "session_time_s": 0, "track": "x"})
    assert json.dumps(field.state()) == before and field.order == ["VER"]
