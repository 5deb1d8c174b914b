"""Simulated vs real in the product (issue 14 item 8): racefit.real and racetwin fit --real-out / --score.

Real data: ../shared/data/real-races/2024-{bahrain,saudi-arabian,australian}-race-laps.csv (TracingInsights/2024,
MIT; see that folder's README) and the CC0 Ergast tables in ../shared/data/historical.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from workbench.race.definition import parse_race_definition
from workbench.service.cli import main
from workbench.strategy.catalogue import list_races, resolve_race
from workbench.strategy.montecarlo import simulate
from workbench.strategy.racedef import load_race_definition
from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps
from workbench.strategy.racefit.real import (
    format_scores,
    real_events,
    real_name_from_path,
    real_race,
    real_retirements,
    real_strategies,
    score_real_race,
    spearman,
)
from workbench.strategy.racefit.start import load_start_model
from workbench.telemetry.records import Compound, TrackStatus


@pytest.fixture(scope="module")
def history(shared_data):
    return load_history(shared_data / "historical")


def _laps(shared_data, slug: str) -> pd.DataFrame:
    return pd.read_csv(shared_data / "real-races" / f"2024-{slug}-race-laps.csv")


def test_bahrain_strategies_are_the_real_stints(shared_data):
    """Every car's exact strategy is its stints in the lap table: stops where Stint changes, onto that compound/age."""
    race = load_race_definition(resolve_race("bahrain-2024"))
    laps = _laps(shared_data, "bahrain")
    race, strategies, skipped = real_strategies(race)
    assert skipped == [] and sorted(strategies) == sorted(laps.Driver.unique())
    for driver, grp in laps.groupby("Driver"):
        stints = grp.sort_values("LapNumber").groupby("Stint", sort=True).agg(
            c=("Compound", "first"), n=("LapNumber", "count"), life=("TyreLife", "first"))
        ends = stints.n.cumsum().tolist()[:-1]
        expected = [(lap, Compound(c), int(life) - 1) for lap, c, life in
                    zip(ends, stints.c.iloc[1:], stints.life.iloc[1:])]
        got = [(s.lap, s.compound, s.tyre_age_laps) for s in strategies[driver].stops]
        assert got == expected, driver
        car = race.cars[race.drivers.index(driver)]
        assert car.strategy[0].compound == Compound(stints.c.iloc[0])
        assert car.strategy[0].tyre_age_laps == int(stints.life.iloc[0]) - 1
    assert strategies["VER"].label == "2-stop L17 HARD L37 SOFT"


def test_real_events_force_each_laps_majority_status(shared_data, history):
    """Bahrain ran green throughout; Saudi had the SC of laps 7-9 (Stroll's crash), Australia two VSCs."""
    bahrain = real_events(_laps(shared_data, "bahrain"), 57)
    assert [e.to_json() for e in bahrain] == [{"kind": "GREEN", "first_lap": 1, "last_lap": 57}]
    saudi = real_events(_laps(shared_data, "saudi-arabian"), 50)
    assert [(e.kind, e.first_lap, e.last_lap) for e in saudi] == [
        (TrackStatus.GREEN, 1, 6), (TrackStatus.SC, 7, 9), (TrackStatus.GREEN, 10, 50)]
    australia = real_events(_laps(shared_data, "australian"), 58)
    assert [(e.kind, e.first_lap, e.last_lap) for e in australia if e.kind != TrackStatus.GREEN] == [
        (TrackStatus.VSC, 17, 18), (TrackStatus.VSC, 57, 58)]
    # a red-flag lap is forced as SC, the nearest the model has
    red = pd.DataFrame({"Driver": ["A", "B", "A", "B"], "LapNumber": [1, 1, 2, 2], "TrackStatus": [15, 5, 1, 1]})
    assert [(e.kind, e.first_lap, e.last_lap) for e in real_events(red, 3)] == [
        (TrackStatus.SC, 1, 1), (TrackStatus.GREEN, 2, 3)]


def test_real_retirements_at_the_last_timed_lap(shared_data, history):
    """Saudi: GAS retired after 1 lap, STR crashed on lap 6 (an untimed row); Bahrain: every car finished."""
    saudi = _laps(shared_data, "saudi-arabian")
    got = {r.driver: r.lap for r in real_retirements(saudi, history.facts("2024 Saudi Arabian Grand Prix"))}
    assert got == {"GAS": 1, "STR": 5}
    assert real_retirements(_laps(shared_data, "bahrain"), history.facts("2024 Bahrain Grand Prix")) == []


def test_score_bahrain_is_the_table_row(shared_data, history):
    """score_real_race on the catalogue's Bahrain gives docs/montecarlo.md's deterministic row (in-sample)."""
    race = load_race_definition(resolve_race("bahrain-2024"))
    laps = _laps(shared_data, "bahrain")
    facts = history.facts(race.name)
    score = score_real_race(race, laps, facts, runs=20, seed=0, name="bahrain-2024")
    assert score.cars == 20 and score.winner == "VER" and score.plan == [] and not score.red_flag
    assert score.rho_det == pytest.approx(0.901, abs=5e-4)
    assert score.winner_real_s == pytest.approx(5504.7, abs=0.05)
    assert score.winner_det_s == pytest.approx(5501.4, abs=0.05)
    assert 100 * score.det_error == pytest.approx(-0.06, abs=0.005)
    # the deterministic rho is that of the race simulate() gives with real_race's strategies and events
    real = real_race(race, laps, facts)
    det = simulate(real.race, None, real.strategies, real.events, runs=1, seed=0, deterministic=True)
    assert score.rho_det == spearman(det.position[0], [facts.classified[d] for d in det.drivers])
    assert -1 <= score.rho_mc <= 1 and score.rho_mc_sd > 0  # Monte Carlo races differ from one another
    lines = format_scores([score])
    assert lines[1].split()[:3] == ["bahrain-2024", "20", "0.901"] and "-0.06%" in lines[1]
    # fitted on the fly from the lap table (racetwin fit's path): the same race, the same score
    path = shared_data / "real-races" / "2024-bahrain-race-laps.csv"
    table, drivers = read_laps(path)
    fitted = fit_race(table, drivers=drivers, event=event_name_from_path(path), history=history,
                      start_model=load_start_model(), source="x")
    again = score_real_race(parse_race_definition(fitted.race), table, facts, runs=20, seed=0, name="bahrain-2024")
    assert again == score


def test_red_flag_race_has_no_time_error(shared_data, history):
    race = load_race_definition(resolve_race("japanese-2024"))
    score = score_real_race(race, _laps(shared_data, "japanese"), history.facts(race.name), runs=2)
    assert score.red_flag and score.det_error is None and score.mc_error is None
    assert "red flag" in format_scores([score])[1]


def test_real_name_from_path():
    assert real_name_from_path("/x/2024-saudi-arabian-race-laps.csv") == "saudi-arabian-2024"
    assert real_name_from_path("mine-laps.csv") == "mine"
    assert real_name_from_path("table.csv") == "table"


def test_cli_fit_real_out_files_run_in_simulate(shared_data, tmp_path, capsys):
    """racetwin fit --real-out writes files racetwin simulate accepts; --deterministic gives the scored race."""
    laps = shared_data / "real-races" / "2024-saudi-arabian-race-laps.csv"
    race_file = tmp_path / "saudi.race.json"
    assert main(["fit", str(laps), "-o", str(race_file), "--real-out", str(tmp_path / "real"),
                 "--score", "--runs", "5"]) == 0
    out = capsys.readouterr().out
    strategies, events = tmp_path / "real" / "saudi.strategies.json", tmp_path / "real" / "saudi.events.json"
    assert f"wrote {strategies}" in out and f"racetwin simulate {race_file} --strategies {strategies}" in out
    row = next(line for line in out.splitlines() if line.startswith("saudi "))
    assert row.split()[1] == "20"  # cars scored
    stints = json.loads(strategies.read_text())
    assert sorted(stints) == sorted(set(pd.read_csv(laps).Driver) - {"STR", "GAS"})  # those two: on their plan
    assert {"kind": "SC", "first_lap": 7, "last_lap": 9} in json.loads(events.read_text())
    assert {"kind": "RETIREMENT", "driver": "STR", "lap": 5} in json.loads(events.read_text())

    assert main(["simulate", str(race_file), "--strategies", str(strategies), "--events", str(events),
                 "--deterministic", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["first_race"]
    race = load_race_definition(race_file)
    real = real_race(race, pd.read_csv(laps), load_history(shared_data / "historical").facts(race.name))
    det = simulate(real.race, None, real.strategies, real.events, runs=1, seed=0, deterministic=True)
    assert [r["driver"] for r in first] == det.finishing_order(0)
    rho = float(row.split()[2])
    classified = load_history(shared_data / "historical").facts(race.name).classified
    scored = [d for d in race.drivers if d in classified]
    sim_pos = {r["driver"]: i for i, r in enumerate(first)}
    assert rho == pytest.approx(spearman([sim_pos[d] for d in scored], [classified[d] for d in scored]), abs=5e-4)


def test_cli_fit_score_without_event_is_one_clear_error(shared_data, tmp_path, capsys):
    """A lap table whose race the history cannot find (no --event, no YEAR-SLUG name): exit 2, one line."""
    mine = tmp_path / "mine.csv"
    shutil.copy(shared_data / "real-races" / "2024-bahrain-race-laps.csv", mine)
    capsys.readouterr()
    assert main(["fit", str(mine), "--score"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["racetwin fit: event: none given and 'mine.csv' is not named YEAR-SLUG-race-laps.csv: --score "
                   "needs the race's real classification from the history tables; pass --event 'YEAR NAME', "
                   "e.g. --event '2024 Bahrain Grand Prix'"]
    assert main(["fit", str(mine), "-o", str(tmp_path / "m.race.json"), "--real-out", str(tmp_path),
                 "--event", "2024 Atlantis Grand Prix"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("racetwin fit: event: '2024 Atlantis Grand Prix' is not a race of "
                                               "the history tables")
    assert not (tmp_path / "m.race.json").exists()
    assert main(["fit", str(mine), "--real-out", str(tmp_path), "--event", "2024 Bahrain Grand Prix"]) == 2
    assert capsys.readouterr().err.strip() == ("racetwin fit: --real-out: needs -o RACE.json, the race definition "
                                               "that racetwin simulate runs with the strategies and events files")
    # a table without TrackStatus: the real events cannot be read
    no_status = tmp_path / "2024-bahrain-race-laps.csv"
    pd.read_csv(mine).drop(columns="TrackStatus").to_csv(no_status, index=False)
    assert main(["fit", str(no_status), "--score", "--runs", "2"]) == 2
    assert capsys.readouterr().err.strip() == ("racetwin fit: laps: column 'TrackStatus' is missing: the real events "
                                               "(each lap's SC, VSC or red flag) are read from it (FastF1's "
                                               "TrackStatus digits)")
    # named with --event, the same table scores as Bahrain
    assert main(["fit", str(mine), "--event", "2024 Bahrain Grand Prix", "--score", "--runs", "2"]) == 0
    out = capsys.readouterr().out
    assert next(line for line in out.splitlines() if line.startswith("mine ")).split()[2] == "0.901"


@pytest.mark.parametrize("name", list_races())
def test_fit_on_the_fly_is_the_catalogue_entry(shared_data, repo_root, history, name):
    """Every committed catalogue entry is what today's fit gives (Japan and Monaco were once older than the lap
    reader's stint rule), so sim_vs_real.py --laps and the catalogue loop score the same races."""
    slug, year = name.rsplit("-", 1)
    path = shared_data / "real-races" / f"{year}-{slug}-race-laps.csv"
    table, drivers = read_laps(path)
    fitted = fit_race(table, drivers=drivers, event=event_name_from_path(path), history=history,
                      start_model=load_start_model(), source=f"../shared/data/real-races/{path.name}")
    committed = json.loads((repo_root / "data" / "races" / f"{name}.race.json").read_text())
    assert json.loads(json.dumps(fitted.race))["cars"] == committed["cars"]


@pytest.mark.parametrize("slug, event", [("bahrain", "2024 Bahrain Grand Prix"),
                                         ("canadian", "2024 Canadian Grand Prix")])
def test_facts_from_laps_match_the_history(shared_data, history, slug, event):
    """For a race the tables lack, the lap table's own classification stands in; on races the tables hold it is
    theirs (Bahrain: no penalty; Canada: five retirements, lapped finishers) and the winner's time is exact."""
    from workbench.strategy.racefit.real import facts_from_laps

    laps = _laps(shared_data, slug)
    official = history.facts(event)
    mine = facts_from_laps(laps, event)
    cars = sorted(laps.Driver.unique())
    assert {d: mine.classified[d] for d in cars} == {d: official.classified[d] for d in cars}
    assert {d: mine.finished[d] for d in cars} == {d: official.finished[d] for d in cars}
    assert mine.laps == official.laps and mine.grid == {} and mine.number == {}
    if slug == "bahrain":  # every lap of the winner timed: the sum is the official race time
        assert mine.winner_time_s == pytest.approx(official.winner_time_s, abs=1e-6)


def test_cli_fit_score_of_a_race_after_the_history_uses_the_lap_table_and_says_so(shared_data, tmp_path, capsys):
    """--score on a race the tables have no results for (a later season) scores against the laps' own
    classification, says so on stderr, and a typo'd name is still refused."""
    laps = tmp_path / "laps.csv"
    shutil.copy(shared_data / "real-races" / "2024-bahrain-race-laps.csv", laps)
    assert main(["fit", str(laps), "--event", "2031 Bahrain Grand Prix", "--score", "--runs", "2"]) == 0
    out, err = capsys.readouterr()
    assert ("racetwin fit: note: --score: the history tables have no results for '2031 Bahrain Grand Prix': the "
            "real classification is the lap table's") in err
    row = next(line for line in out.splitlines() if line.startswith("laps"))
    assert row.split()[1] == "20" and row.split()[7] == "5504.7"  # 20 cars scored; the winner's summed laps
    assert main(["fit", str(laps), "--event", "2024 Bahrian Grand Prix", "--score", "--runs", "2"]) == 2
    assert "is not a race of the history tables" in capsys.readouterr().err
