"""The timing tower is one consistent order at every moment: while cars cross the line, and after retirements."""

import jsonschema
import pytest

from workbench.race.simulator import TelemetrySimulator
from workbench.telemetry import LapRecord
from workbench.telemetry.records import EventKind, RaceEvent
from workbench.twins import FieldTwin
from workbench.twins.twin_schemas import field_twin_schema


def _lap(driver, n, t, pos, gap):
    return LapRecord(t, driver, n, position=pos, lap_time_s=95.0, gap_to_leader_s=gap,
                     interval_s=None if pos == 1 else 1.0)


def _places(field):
    return [(r["driver"], r["position"], r["status"]) for r in field.standings()]


def test_a_car_that_crossed_the_line_is_ahead_of_the_cars_still_on_the_lap_before():
    field = FieldTwin()
    for i, d in enumerate(("VER", "LEC", "HAM")):
        field.update_state(_lap(d, 1, 95.0 + i, i + 1, float(i)))
    # HAM passed both on lap 2 and crosses the line first: P1 at the line while VER's lap-1 record also says P1.
    field.update_state(_lap("HAM", 2, 189.0, 1, 0.0))
    assert field.cars["HAM"].position == field.cars["VER"].position == 1  # what the records say at the line
    assert _places(field) == [("HAM", 1, "RUNNING"), ("VER", 2, "RUNNING"), ("LEC", 3, "RUNNING")]
    field.update_state(_lap("LEC", 2, 189.5, 2, 0.5))  # LEC passed VER too
    assert _places(field) == [("HAM", 1, "RUNNING"), ("LEC", 2, "RUNNING"), ("VER", 3, "RUNNING")]
    field.update_state(_lap("VER", 2, 190.0, 3, 1.0))
    assert field.order == ["HAM", "LEC", "VER"] and field.live_position("VER") == 3


def test_a_retired_car_leaves_the_order_and_shows_out():
    field = FieldTwin()
    for i, d in enumerate(("VER", "STR", "SAI")):
        field.update_state(_lap(d, 1, 95.0 + i, i + 1, float(i)))
    field.retire("STR")
    assert field.order == ["VER", "SAI"] and field.live_position("STR") is None
    rows = field.standings()
    ranks = [(r["driver"], r["rank"], r["position"]) for r in rows]
    assert ranks == [("VER", 1, 1), ("SAI", 2, 2), ("STR", None, None)]
    out = rows[2]
    assert out["status"] == "OUT" and out["retired"] and out["gap_to_leader_s"] is None and out["interval_s"] is None
    assert out["position_at_line"] == 2  # the stale record is kept, but only under its own name
    jsonschema.validate(field.state(), field_twin_schema())


def _check_consistent(field, line_time_s, retired):
    rows = field.standings()
    running = [r for r in rows if r["status"] != "OUT"]
    assert [r["position"] for r in running] == list(range(1, len(running) + 1))
    assert [r["driver"] for r in running] == field.order
    assert {r["driver"] for r in rows if r["status"] == "OUT"} == retired
    assert not retired & set(field.order)
    # race distance: more laps first; on the same lap, who crossed the line first
    keys = [(-r["lap"], line_time_s.get(r["driver"], 0.0)) for r in running]
    assert keys == sorted(keys)


@pytest.mark.parametrize("seed", [0, 3])
def test_the_order_is_consistent_after_every_record_of_a_simulated_race(race, seed):
    sim = TelemetrySimulator(race, seed=seed, sample_drivers=[])
    field = FieldTwin(total_laps=race.track.laps)
    laps = sim.lap_records()
    events = [e for e in sim.result.events if e.kind is EventKind.RETIREMENT]
    merged = sorted([*laps, *events], key=lambda r: (r.session_time_s, isinstance(r, RaceEvent)))
    line_time_s, retired, crossings = {}, set(), 0
    for r in merged:
        if isinstance(r, RaceEvent):
            field.retire(r.driver)
            retired.add(r.driver)
        else:
            field.update_state(r)
            line_time_s[r.driver] = r.session_time_s
            crossings += 1
        _check_consistent(field, line_time_s, retired)
    assert crossings == len(laps) > 1000
    final = sim.result.position[:, -1]
    finishers = [d for c, d in enumerate(sim.result.drivers) if final[c] > 0 and d not in retired]
    assert field.order == sorted(finishers, key=lambda d: final[sim.result.drivers.index(d)])
