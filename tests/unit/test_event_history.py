"""Event priors come only from races before the predicted one; the bundled history is what the data gives."""

import importlib.util
import json

import pytest

from workbench.paths import bundled_data_dir
from workbench.strategy.event_history import (
    fold_race_name,
    history,
    later_race,
    priors_before,
    race_entry,
    race_from_file_name,
)


def test_bundled_history_is_rebuilt_exactly_from_shared_data(repo_root, shared_data):
    spec = importlib.util.spec_from_file_location("build_event_history", repo_root / "data" / "build_event_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(shared_data)
    committed = json.loads((bundled_data_dir() / "event-history.json").read_text())
    assert built == committed


def test_priors_use_only_races_before_the_date():
    entry = race_entry("2024 Bahrain Grand Prix")
    before = priors_before(entry["date"], entry["circuit_id"])
    assert before.races == sum(1 for r in history() if r["date"] < "2024-03-02")
    assert before.circuit_races == sum(1 for r in history() if r["date"] < "2024-03-02" and r["circuit_id"] == 3)
    # the 2024 race itself (0 SC, 0 retirements) and anything later cannot move the priors
    same = priors_before("2024-03-01", 3)
    assert same.sc_phases_p == before.sc_phases_p and same.retirement_p == before.retirement_p
    later = priors_before("2024-03-03", 3)
    assert later.circuit_races == before.circuit_races + 1 and later.sc_phases_p != before.sc_phases_p


def test_priors_are_distributions():
    p = priors_before("2024-03-02", 3)
    for name in ("sc_phases_p", "sc_length_laps_p", "vsc_phases_p", "vsc_length_laps_p"):
        assert sum(getattr(p, name)) == pytest.approx(1.0)
    assert 0 < p.retirement_p < 0.5 and p.expected_stops == 2.0


def test_no_history_before_the_first_race():
    with pytest.raises(ValueError, match="date: '2013-01-01' has no race before it"):
        priors_before("2013-01-01", 3)


@pytest.mark.parametrize("file_name, race", [
    ("2024-bahrain-race-laps.csv", "2024 Bahrain Grand Prix"),
    ("2024-saudi-arabian-race-laps.csv", "2024 Saudi Arabian Grand Prix"),
    ("2024-mexico-city-race-laps.csv", "2024 Mexico City Grand Prix"),
    ("2024-sao-paulo-race-laps.csv", "2024 São Paulo Grand Prix"),
    ("2024-são-paulo-race-laps.csv", "2024 São Paulo Grand Prix"),
    ("2024_las_vegas.csv", "2024 Las Vegas Grand Prix"),
    ("2024-atlantis-race-laps.csv", None),
    ("2024-chinese-sprint-laps.csv", None),  # a sprint is not the Grand Prix: no race distance or priors from it
    ("2024-miami-sprint-race-laps.csv", None),
    ("2024-australian-qualifying-laps.csv", None),
    ("laps.csv", None),
])
def test_a_file_name_names_its_race_accents_folded(file_name, race):
    assert race_from_file_name(file_name) == race


def test_every_2024_race_of_the_history_is_found_from_its_file_name():
    races = [r["race"] for r in history() if r["race"].startswith("2024 ")]
    assert len(races) == 24
    for race in races:
        slug = fold_race_name(race.removesuffix(" Grand Prix")).replace(" ", "-")
        assert race_from_file_name(f"{slug}-race-laps.csv") == race


def test_race_entry_ignores_accents_and_case():
    assert race_entry("2024 sao paulo grand prix")["race"] == "2024 São Paulo Grand Prix"
    with pytest.raises(ValueError, match="'2024 Atlantis Grand Prix' is not in data/event-history.json"):
        race_entry("2024 Atlantis Grand Prix")


def test_a_race_after_the_history_keeps_its_circuit_and_never_a_distance():
    """Real 2026 lap tables (FastF1) were predicted with no circuit and a note that the score "may be optimistic if
    this race is in that history"; a 2026 race cannot be. Its circuit is the latest race of its name's."""
    last = history()[-1]
    monaco = later_race("2026 Monaco Grand Prix")
    assert monaco["after_history"] == "2025 Monaco Grand Prix" and monaco["laps"] is None
    assert monaco["circuit_id"] == race_entry("2025 Monaco Grand Prix")["circuit_id"]
    assert monaco["date"] == "2026-01-01" and all(r["date"] < monaco["date"] for r in history())
    assert priors_before(monaco["date"], monaco["circuit_id"]).circuit_races >= 10
    # a race of the history's own season that it does not hold yet: dated the day after its last race
    rest = later_race(f"{last['date'][:4]} Abu Dhabi Grand Prix")
    assert rest["date"] > last["date"] and rest["after_history"].endswith("Abu Dhabi Grand Prix")
    new = later_race("2026 Barcelona Grand Prix")  # a name never raced before: no circuit
    assert new["circuit_id"] is None and new["after_history"] is None and new["race"] == "2026 Barcelona Grand Prix"
    assert later_race("2024 Bahrain Grand Prix") is None  # in the history: race_entry
    assert later_race("2024 Atlantis Grand Prix") is None  # a season the history holds: not a new race
