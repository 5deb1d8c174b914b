"""Crash safety for real: SIGKILL `racetwin serve` at random moments, resume, and compare
with a run that was never killed."""

import json
import random
import signal
import time

import pytest

from tests.util import ServerProcess, wait_until
from workbench.hub.session import RaceSession
from workbench.race.simulator import TelemetrySimulator
from workbench.store import StateStore
from workbench.strategy.racedef import bundled_race
from workbench.telemetry.schema import json_safe, to_wire

SEED, CAR, SPEED, KILLS = 9, "HAM", "200", 10


@pytest.fixture(scope="module")
def reference():
    """The never-killed run: the same race fed straight into a hub."""
    race = bundled_race()
    sim = TelemetrySimulator(race, seed=SEED, sample_drivers=[CAR])
    records = list(sim.records())
    hub = RaceSession(CAR, race=race)
    for record in records:
        hub.submit(record)
    hub.flush()
    return records, hub


def _differences(got, want, path="") -> list[str]:
    """Where two JSON values differ (paths), for a readable failure."""
    if isinstance(got, dict) and isinstance(want, dict):
        return [d for k in sorted(set(got) | set(want)) for d in _differences(got.get(k), want.get(k), f"{path}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in _differences(g, w, f"{path}[{i}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"[:300]]


def _stored(data_dir):
    store = StateStore(data_dir / "racetwin.sqlite")  # must open cleanly after every kill
    try:
        sessions = store.sessions()
        assert len(sessions) == 1, sessions
        rows = list(store.records(sessions[0]["session_id"]))
    finally:
        store.close()
    return rows


def test_sigkill_and_resume_loses_nothing_committed(tmp_path, reference):
    records, never_killed = reference
    rng = random.Random(20261126)
    data_dir = tmp_path / "state"
    committed_before_kill = 0
    for attempt in range(KILLS):
        resume = ("--resume",) if attempt else ()
        with ServerProcess("--speed", SPEED, "--seed", str(SEED), "--car", CAR, *resume, tmp_path=tmp_path) as srv:
            time.sleep(rng.uniform(0.2, 1.5))  # the behaviour under test: a SIGKILL at a random moment of the race
            store_health = srv.get("/api/v1/health").json()["components"]["store"]
            committed_before_kill = store_health["committed_seq"]
            srv.stop(signal.SIGKILL)
        rows = _stored(data_dir)
        seqs = [seq for seq, _, _ in rows]
        assert seqs == list(range(1, len(rows) + 1)), "gap or duplicate in the stored sequence"
        assert len(rows) >= committed_before_kill, "a committed record was lost"
        # what is stored is exactly the race so far, in order, nothing invented
        assert [to_wire(r) for _, _, r in rows] == [to_wire(r) for r in records[: len(rows)]]
    # resume one last time and let the race finish
    with ServerProcess("--speed", SPEED, "--seed", str(SEED), "--car", CAR, "--resume", tmp_path=tmp_path) as srv:
        wait_until(lambda: srv.get("/api/v1/health").json()["components"]["source"]["state"] == "finished", 120,
                   lambda: f"the resumed race to finish\n{srv.log()}", step_s=0.5)
        car = srv.get("/api/v1/car-twin").json()["car_twin"]
        field = srv.get("/api/v1/field-twin").json()["field_twin"]
        env = srv.get("/api/v1/environment").json()["environment"]
    assert _differences(car, json.loads(json.dumps(json_safe(never_killed.car_twin.state())))) == []
    assert _differences(field, json.loads(json.dumps(json_safe(never_killed.field_twin.state())))) == []
    assert env["finished"] and env["leader_lap"] == 57
    assert len(_stored(data_dir)) == len(records)
