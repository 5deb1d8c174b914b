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
    (("--backend", "gpu"), "invalid choice: 'gpu'"),
])
def test_bad_simulate_arguments_fail_clearly(args, message):
    out = _cli("simulate", RACE, *args)
    assert out.returncode == 2 and message in out.stderr


def _race_variant(tmp_path, name, change):
    from tests.conftest import REPO
    obj = json.loads((REPO / RACE).read_text())
    change(obj)
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def _misspelt(obj):
    obj["trak"] = obj.pop("track")


def _short_stints(obj):
    obj["cars"][2]["strategy"] = [{"compound": "SOFT", "laps": 20}, {"compound": "HARD", "laps": 25}]


@pytest.mark.parametrize("case,message", [
    ("missing race file", "RACE_FILE {missing}: does not exist"),
    ("binary race file", "RACE_FILE {binary}: is not UTF-8 text (byte 2: a binary file?)"),
    ("race file is a folder", "RACE_FILE {tmp}: is a directory, not a JSON file"),
    ("missing strategies", "--strategies {missing}: does not exist"),
    ("binary strategies", "--strategies {binary}: is not UTF-8 text (byte 2: a binary file?)"),
    ("missing events", "--events {missing}: does not exist"),
    ("binary events", "--events {binary}: is not UTF-8 text (byte 2: a binary file?)"),
    ("events not JSON", "--events {text}: is not valid JSON (Expecting value at line 1)"),
    ("stints of 45 of 57 laps", "RACE_FILE {short}: cars[2].strategy: [20, 25] adds up to 45 laps for RUS, "
                                "not the race distance track.laps = 57"),
    ("misspelt section", "RACE_FILE {trak}: trak: 'trak' is not a section of a race definition (did you mean "
                         "'track'?"),
    ("strategy stints short", "--strategies {short_strategy}: strategies.VER: [20, 25] adds up to 45 laps, not the "
                              "race distance 57"),
    ("threshold without deterministic", "--pass-threshold-s: 0.5 needs --deterministic"),
])
def test_simulate_input_errors_are_one_line(tmp_path, case, message):
    """Issue 15: each bad input gives one line ``racetwin simulate: what: why`` and exit 2, never a traceback."""
    files = {"missing": str(tmp_path / "missing.json"), "binary": str(tmp_path / "binary.json"), "tmp": str(tmp_path),
             "text": str(tmp_path / "text.json"), "short": _race_variant(tmp_path, "short.json", _short_stints),
             "trak": _race_variant(tmp_path, "trak.json", _misspelt),
             "short_strategy": str(tmp_path / "short_strategy.json")}
    (tmp_path / "binary.json").write_bytes(b"\x00\x01\xff\xfe")
    (tmp_path / "text.json").write_text("not json")
    (tmp_path / "short_strategy.json").write_text('{"VER": [{"compound": "SOFT", "laps": 20}, '
                                                 '{"compound": "HARD", "laps": 25}]}')
    args = {
        "missing race file": (files["missing"],), "binary race file": (files["binary"],),
        "race file is a folder": (files["tmp"],), "missing strategies": (RACE, "--strategies", files["missing"]),
        "binary strategies": (RACE, "--strategies", files["binary"]),
        "missing events": (RACE, "--events", files["missing"]), "binary events": (RACE, "--events", files["binary"]),
        "events not JSON": (RACE, "--events", files["text"]), "stints of 45 of 57 laps": (files["short"],),
        "misspelt section": (files["trak"],), "strategy stints short": (RACE, "--strategies", files["short_strategy"]),
        "threshold without deterministic": (RACE, "--pass-threshold-s", "0.5"),
    }[case]
    out = _cli("simulate", *args)
    assert out.returncode == 2
    assert out.stderr.startswith("racetwin simulate: " + message.format(**files)), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert out.stdout == ""
    if case == "misspelt section":
        assert "Bahrain International" not in out.stderr  # the section is named, not dumped


def test_simulate_laps_overrides_the_distance_and_says_so(tmp_path):
    strategies = tmp_path / "s.json"
    strategies.write_text('{"VER": [{"compound": "SOFT", "laps": 12, "tyre_age_laps": 2}, '
                          '{"compound": "HARD", "laps": 18}]}')
    out = _cli("simulate", RACE, "--laps", "30", "--strategies", str(strategies), "--json", "--deterministic")
    assert out.returncode == 0, out.stderr
    assert "race distance 30 laps (--laps; the race file says 57)" in out.stderr
    d = json.loads(out.stdout)
    assert d["laps"] == 30 and d["laps_from"] == "--laps" and d["deterministic"] is True
    assert d["strategies"] == {"VER": [{"lap": 12, "compound": "HARD"}]}
    text = _cli("simulate", RACE, "--laps", "30")
    assert "race distance: 30 laps (--laps; the race file says 57)" in text.stdout


def test_simulate_deterministic_reproduces_one_race_with_events(tmp_path):
    events = tmp_path / "events.json"
    events.write_text('[{"kind": "SC", "first_lap": 19, "last_lap": 21, "start_fraction": 0.6}, '
                      '{"kind": "RETIREMENT", "driver": "HAM", "lap": 30}]')
    a = json.loads(_cli("simulate", RACE, "--deterministic", "--events", str(events), "--json", "--seed", "1").stdout)
    b = json.loads(_cli("simulate", RACE, "--deterministic", "--events", str(events), "--json", "--seed", "7").stdout)
    assert a["first_race"] == b["first_race"]  # no random draw is left
    assert a["events"][0]["start_fraction"] == 0.6 and a["events"][1] == {"kind": "RETIREMENT", "driver": "HAM",
                                                                          "lap": 30}
    retired = [r["driver"] for r in a["first_race"] if r["retired"]]
    assert retired == ["HAM"]


def test_bad_events_file_names_the_field(tmp_path):
    events = tmp_path / "events.json"
    events.write_text('[{"kind": "SC", "first_lap": 19, "last_lap": 99}]')
    out = _cli("simulate", RACE, "--events", str(events))
    assert out.returncode == 2
    assert "events[0].last_lap: 99 is not a lap between 1 and 57" in out.stderr


def test_bench_help_and_engine():
    assert "--json" in _cli("bench", "--help").stdout
    from workbench.bench.harness import run_bench
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
