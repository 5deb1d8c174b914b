"""Event priors come only from races before the predicted one; the bundled history is what the data gives."""

import importlib.util
import json

import pytest

from workbench.paths import bundled_data_dir
from workbench.strategy.event_history import history, priors_before, race_entry


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
