"""`racetwin simulate` and `racetwin bench` from the command line."""

import json
import subprocess
import sys

import pytest

RACE = "data/bahrain-2024.race.json"


def _cli(*args, cwd=None):
    from tests.conftest import REPO
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd or REPO)


def test_simulate_prints_the_finishing_order_and_distributions():
    out = _cli("simulate", RACE, "--runs", "50", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert "race 0 finishing order" in out.stdout and "position distributions over 50 races" in out.stdout
    assert sum(line.split()[1] in {"VER", "LEC", "HAM"} for line in out.stdout.splitlines()
               if line[:3].strip().isdigit()) == 3


def test_simulate_json_is_deterministic_and_complete(tmp_path):
    events = tmp_path / "events.json"
    events.write_text('[{"kind": "SC", "first_lap": 19, "last_lap": 22}]')
    strategies = tmp_path / "strategies.json"
    strategies.write_text('{"VER": [{"compound": "SOFT", "laps": 19}, {"compound": "HARD", "laps": 38}]}')
    args = ("simulate", RACE, "--runs", "40", "--seed", "2", "--events", str(events), "--strategies",
            str(strategies), "--json")
    a, b = _cli(*args), _cli(*args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    d = json.loads(a.stdout)
    assert d["events"] == [{"kind": "SC", "first_lap": 19, "last_lap": 22}]
    assert d["strategies"] == {"VER": [{"lap": 19, "compound": "HARD"}]}
    assert [r["position"] for r in d["first_race"]] == list(range(1, 21))
    assert set(d["drivers"]) == {r["driver"] for r in d["first_race"]}
    ver = d["drivers"]["VER"]
    assert sum(ver["position_p"]) == pytest.approx(1.0)
    assert 0.7 < ver["mean_stops"] <= 1.0  # one stop, unless retired before it


def test_simulate_chooses_our_strategy_with_car():
    d = json.loads(_cli("simulate", RACE, "--car", "LEC", "--json", "--seed", "1").stdout)
    assert d["chosen"]["label"] and d["strategies"]["LEC"] == d["chosen"]["strategy"]
    assert d["drivers"] is None  # one race: no distributions


@pytest.mark.parametrize("args,message", [
    (("--runs", "0"), "--runs: 0 is below minimum 1"),
    (("--seed", "x"), "--seed: 'x' is not an integer"),
    (("--car", "XXX"), "--car: 'XXX' is not in the race"),
    (("--backend", "cuda"), "invalid choice: 'cuda'"),
])
def test_bad_simulate_arguments_fail_clearly(args, message):
    out = _cli("simulate", RACE, *args)
    assert out.returncode == 2 and message in out.stderr


def test_bad_events_file_names_the_field(tmp_path):
    events = tmp_path / "events.json"
    events.write_text('[{"kind": "SC", "first_lap": 19, "last_lap": 99}]')
    out = _cli("simulate", RACE, "--events", str(events))
    assert out.returncode == 2
    assert "events[0].last_lap: 99 is not a lap between 1 and 57" in out.stderr


def test_bench_help_and_engine():
    assert "--json" in _cli("bench", "--help").stdout
    from workbench.strategy.bench import run_bench
    r = run_bench(races=64, races_numpy=16, single_runs=1000, single_runs_numpy=200, decisions=2, decision_runs=200)
    for key in ("full_field_races_per_s", "full_field_races_per_s_numpy", "single_car_lap_evals_per_s",
                "single_car_lap_evals_per_s_numpy", "decision_latency_p95_ms", "decision_latency_p95_ms_numpy",
                "decision_cpu_ms"):
        assert r[key] > 0, key
    assert r["backend"] == "numba" and r["threads"] >= 1 and r["cpu"]
    from workbench.kernels import mojo_backend
    for key in ("full_field_races_per_s_mojo", "single_car_lap_evals_per_s_mojo"):
        assert (r[key] > 0) if mojo_backend.available()[0] else (r[key] is None), key
    assert r["decision"]["races"] >= 200
