"""racetwin fit, the race catalogue and the start model (issue 14 items 2-3, issue 19 item 1)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from workbench.service.cli import main
from workbench.strategy.catalogue import DEFAULT_RACE, list_races, resolve_race
from workbench.strategy.racedef import bundled_race, load_race_definition
from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps
from workbench.strategy.racefit.start import load_start_model, start_sigma_for

SOURCES = {"laps", "history", "prior", "laps+history", "laps+prior"}


def _catalogue(repo_root):
    spec = importlib.util.spec_from_file_location("build_catalogue", repo_root / "data" / "build_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_holds_every_shared_race(shared_data, repo_root):
    names = list_races()
    assert names == sorted(_catalogue(repo_root).race_files(shared_data))
    assert len(names) == 8 and DEFAULT_RACE in names
    for name in names:
        race = load_race_definition(resolve_race(name))
        assert race.name.startswith("2024 ") and race.name.endswith("Grand Prix")
    assert bundled_race().name == "2024 Bahrain Grand Prix"  # the default stays Bahrain
    bundled = (repo_root / "data" / "bahrain-2024.race.json").read_text()
    assert bundled == (repo_root / "data" / "races" / "bahrain-2024.race.json").read_text()


def test_refit_reproduces_the_bundled_entry(shared_data, repo_root):
    """Re-running the one fit on ../shared/data gives the committed catalogue file and start model."""
    build = _catalogue(repo_root)
    model = build.start_model(shared_data)
    assert json.loads(json.dumps(model)) == load_start_model()
    fitted = build.fit_one(shared_data, "saudi-arabian-2024", model)
    committed = json.loads((repo_root / "data" / "races" / "saudi-arabian-2024.race.json").read_text())
    assert json.loads(json.dumps(fitted.race)) == committed


def test_resolve_race_by_name_path_or_clear_error(tmp_path):
    assert resolve_race("monaco-2024").name == "monaco-2024.race.json"
    f = tmp_path / "mine.race.json"
    f.write_text("{}")
    assert resolve_race(str(f)) == f
    with pytest.raises(ValueError, match=r"race: 'monza-2024' is neither a bundled race nor a file "
                                         r"\(bundled races: australian-2024, bahrain-2024, .*\)"):
        resolve_race("monza-2024")


def test_report_names_a_source_for_every_number(shared_data):
    report = json.loads((resolve_race("canadian-2024").with_name("canadian-2024.fit-report.json")).read_text())
    prov = report["provenance"]
    race = json.loads(resolve_race("canadian-2024").read_text())
    for key in race["track"]:
        if key != "name":
            assert f"track.{key}" in prov, key
    for key in race["events"]:
        assert prov[f"events.{key}"]["source"] == "history"
    assert {v["source"] for v in prov.values()} <= SOURCES
    # the wet race: intermediates and wets are in the plans, so they have models
    assert {"INTERMEDIATE", "WET"} <= set(race["compounds"])
    assert prov["track.pit_loss_green_s"]["source"] == "laps+history"


def test_fit_without_history_falls_back_to_priors_and_says_so(shared_data):
    laps, drivers = read_laps(shared_data / "real-races" / "2024-belgian-race-laps.csv")
    fitted = fit_race(laps, drivers=drivers, event=None, history=None, start_model=None)
    prov = fitted.report["provenance"]
    assert prov["cars[].grid"]["source"] == "prior"
    assert prov["track.overtaking_difficulty"]["source"] == "prior"
    assert prov["events.sc_phases_p"]["source"] == "prior"
    assert fitted.race["track"]["laps"] == 44


def test_red_flag_lap_one_takes_the_start_loss_from_the_other_races():
    report = json.loads(resolve_race("monaco-2024").with_name("monaco-2024.fit-report.json").read_text())
    assert report["start"]["loss_source"] == "history"
    assert "monaco" not in " ".join(report["start"]["other_races"]).lower()


def test_event_name_from_file_name():
    assert event_name_from_path("x/2024-saudi-arabian-race-laps.csv") == "2024 Saudi Arabian Grand Prix"
    assert event_name_from_path("laps.csv") is None
    # accents folded, so the São Paulo table is that race whether or not its name keeps the accent
    assert event_name_from_path("2024-sao-paulo-race-laps.csv") == "2024 São Paulo Grand Prix"
    assert event_name_from_path("2024-são-paulo-race-laps.csv") == "2024 São Paulo Grand Prix"
    assert event_name_from_path("2026-madrid-race-laps.csv") == "2026 Madrid Grand Prix"  # after the history


def test_history_tables_find_a_race_whatever_its_accents(shared_data):
    history = load_history(shared_data / "historical")
    facts = history.facts("2024 Sao Paulo Grand Prix")
    assert facts.name == "2024 São Paulo Grand Prix" and facts.laps == 69


def test_unknown_event_lists_the_season(shared_data):
    history = load_history(shared_data / "historical")
    with pytest.raises(ValueError, match=r"event: '2024 Atlantis Grand Prix' is not a race .*Bahrain Grand Prix"):
        history.facts("2024 Atlantis Grand Prix")


def test_a_race_after_the_tables_takes_its_circuit_from_the_last_edition_of_its_name(shared_data):
    """A 2026 lap table (the tables end in 2025): the circuit's history still counts; grid and numbers are priors.

    Found with a real 2026 table (the Monaco Grand Prix as FastF1 writes it), which ``racetwin fit`` refused
    outright ("'2026 Monaco Grand Prix' is not a race of the history tables"). Here the 2024 Monaco laps stand in.
    """
    history = load_history(shared_data / "historical")
    laps, drivers = read_laps(shared_data / "real-races" / "2024-monaco-race-laps.csv")
    fitted = fit_race(laps, drivers=drivers, event="2026 Monaco Grand Prix", history=history, start_model=None)
    report, prov = fitted.report, fitted.report["provenance"]
    assert report["event_found_in_history"] is False
    assert report["circuit_from"] == "2025 Monaco Grand Prix"
    assert fitted.race["name"] == "2026 Monaco Grand Prix" and "Monaco" in fitted.race["track"]["name"]
    assert prov["track.pit_loss_green_s"]["source"] == "laps+history"  # Monaco's own pit-lane times
    assert report["overtaking"]["circuit_races"] >= 10  # Monaco 2014-2025, hardest to pass at
    assert report["overtaking"]["circuit_mean_changes"] < report["overtaking"]["championship_mean_changes"]
    assert fitted.race["track"]["overtaking_difficulty"] > 0.55  # harder than an average circuit's 0.5
    assert prov["events.sc_phases_p"]["source"] == "history"
    assert prov["cars[].grid"]["source"] == "prior"  # the 2026 grid is not in the tables
    # a new name after the tables: no circuit, priors, said so; a wrong name in a season the tables hold: refused
    new = fit_race(laps, drivers=drivers, event="2026 Madrid Grand Prix", history=history, start_model=None)
    assert new.report["circuit_from"] is None
    assert new.report["provenance"]["track.name"]["source"] == "prior"
    assert new.report["provenance"]["track.overtaking_difficulty"]["source"] == "prior"
    with pytest.raises(ValueError, match=r"event: '2025 Madrid Grand Prix' is not a race of the history tables"):
        fit_race(laps, drivers=drivers, event="2025 Madrid Grand Prix", history=history, start_model=None)


def test_a_scheduled_race_without_results_is_not_given_an_empty_grid(shared_data):
    """The tables list the 2025 Mexico City Grand Prix but hold no results for it (they end at 2025 Singapore): its
    circuit and date count; the grid is the lap-1 order, said so (it was every car from the pit lane, called history).
    """
    history = load_history(shared_data / "historical")
    laps, drivers = read_laps(shared_data / "real-races" / "2024-bahrain-race-laps.csv")
    fitted = fit_race(laps, drivers=drivers, event="2025 Mexico City Grand Prix", history=history, start_model=None)
    prov = fitted.report["provenance"]
    assert fitted.report["circuit_from"].startswith("2025 Mexico City Grand Prix (listed in races.csv")
    assert fitted.race["track"]["name"] == "Autódromo Hermanos Rodríguez"
    assert prov["cars[].grid"]["source"] == "prior" and "no results for this race" in prov["cars[].grid"]["note"]
    lap1 = laps[laps.LapNumber == 1].sort_values("Position").Driver.tolist()
    assert [c["driver"] for c in fitted.race["cars"]][:5] == lap1[:5]
    with pytest.raises(ValueError, match=r"event: '2025 Mexico City Grand Prix' has no results in the history "
                                         r"tables .*listed for 2025-10-26"):
        history.facts("2025 Mexico City Grand Prix")


def test_pit_loss_note_says_what_was_blended():
    report = json.loads(resolve_race("bahrain-2024").with_name("bahrain-2024.fit-report.json").read_text())
    note = report["provenance"]["track.pit_loss_green_s"]["note"]
    assert " green stops measured (median " in note
    assert "blended with the pit-lane time at this circuit in earlier seasons (" in note


def test_start_sigma_reaches_the_target_change():
    pace = np.zeros(20)
    noise = np.full(20, 0.3)
    low = start_sigma_for(0.5, 0.4, pace, noise)
    high = start_sigma_for(1.5, 0.4, pace, noise)
    assert 0 < low < high
    assert start_sigma_for(0.0, 0.4, pace, noise) == 0.0


def test_cli_fit_writes_race_and_report(shared_data, tmp_path, capsys):
    out = tmp_path / "jp.race.json"
    assert main(["fit", str(shared_data / "real-races" / "2024-japanese-race-laps.csv"), "-o", str(out)]) == 0
    race = load_race_definition(out)
    assert race.name == "2024 Japanese Grand Prix" and race.track.laps == 53
    report = json.loads((tmp_path / "jp.fit-report.json").read_text())
    assert report["event_found_in_history"] is True
    assert "numbers by source" in capsys.readouterr().out


def test_cli_fit_bad_table_names_the_column(tmp_path, capsys):
    bad = tmp_path / "laps.csv"
    pd.DataFrame({"Driver": ["VER"], "LapNumber": [1]}).to_csv(bad, index=False)
    assert main(["fit", str(bad)]) == 2
    assert "column 'LapTime' is missing" in capsys.readouterr().err


def _bench(repo_root, name):
    spec = importlib.util.spec_from_file_location(name, repo_root / "tests" / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_simulated_start_agrees_with_real_starts(repo_root):
    """Issue 19: mean |grid - lap-1 position| of the kernel lies within the real races' spread (in-sample)."""
    bench = _bench(repo_root, "bench_start")
    model = load_start_model()["races"]
    real, sim = [], []
    for name in list_races():
        race = load_race_definition(resolve_race(name))
        entry = model[race.name]
        if entry["red_flag_lap1"]:
            continue
        real.append(np.mean([abs(g - p) for g, p in entry["pairs"]]))
        sim.append(float(bench.simulated_changes(race, 200, 0).mean()))
    assert len(real) == 6
    assert min(real) <= np.mean(sim) <= max(real)
    assert abs(np.mean(sim) - np.mean(real)) < np.std(real)


def test_deterministic_bahrain_reproduces_the_real_order(repo_root, shared_data):
    """Real strategies and events, no noise: the order comes out close to the real one (in-sample)."""
    from workbench.strategy.montecarlo import simulate
    from workbench.strategy.racefit.real import real_events, real_retirements, real_strategies, spearman

    race = load_race_definition(resolve_race("bahrain-2024"))
    laps = pd.read_csv(shared_data / "real-races" / "2024-bahrain-race-laps.csv")
    facts = load_history(shared_data / "historical").facts(race.name)
    race, strategies, skipped = real_strategies(race)
    assert skipped == []
    events = real_events(laps, race.track.laps) + real_retirements(laps, facts)
    det = simulate(race, None, strategies, events, runs=1, seed=0, deterministic=True)
    rho = spearman(det.position[0], [facts.classified[d] for d in det.drivers])
    assert rho > 0.85
    winner = det.race_time_s[0, det.index("VER")]
    assert abs(winner - facts.winner_time_s) / facts.winner_time_s < 0.01


def test_cli_simulate_deterministic_on_exported_real_race_matches_the_script(repo_root, shared_data, tmp_path,
                                                                             capsys):
    """The exported strategies/events files make `racetwin simulate --deterministic` the script's race."""
    from workbench.strategy.montecarlo import simulate
    from workbench.strategy.racefit.real import real_race, write_real_files

    race = load_race_definition(resolve_race("saudi-arabian-2024"))
    laps = pd.read_csv(shared_data / "real-races" / "2024-saudi-arabian-race-laps.csv")
    facts = load_history(shared_data / "historical").facts(race.name)
    real = real_race(race, laps, facts)
    write_real_files(tmp_path, "saudi", real)
    det = simulate(real.race, None, real.strategies, real.events, runs=1, seed=0, deterministic=True)
    capsys.readouterr()
    assert main(["simulate", str(resolve_race("saudi-arabian-2024")), "--strategies",
                 str(tmp_path / "saudi.strategies.json"), "--events", str(tmp_path / "saudi.events.json"),
                 "--deterministic", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [row["driver"] for row in out["first_race"]] == det.finishing_order(0)
