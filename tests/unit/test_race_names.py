"""`--race NAME` (and simulate's RACE_FILE) take a bundled catalogue name everywhere (issue 14 item 3)."""

import json
import subprocess
import sys

import pytest

from workbench.service.commands.common import CliError, load_race, race_path
from workbench.strategy.catalogue import catalogue_dir, list_races


def test_every_catalogue_name_loads_its_race():
    names = list_races()
    assert "bahrain-2024" in names and len(names) >= 8
    for name in names:
        assert race_path(name) == catalogue_dir() / f"{name}.race.json"
        assert load_race(name).track.laps >= 40


def test_a_file_of_that_name_wins_over_the_catalogue(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bahrain-2024").write_text("{}")
    assert race_path("bahrain-2024").resolve() == tmp_path / "bahrain-2024"


def test_an_unknown_name_is_one_clear_error_listing_the_names():
    with pytest.raises(CliError, match=r"--race: .monza-2031. is neither a file nor a bundled race \(.*bahrain-2024"):
        load_race("monza-2031")


@pytest.mark.integration
def test_simulate_takes_a_catalogue_name():
    out = subprocess.run([sys.executable, "-m", "workbench", "simulate", "saudi-arabian-2024", "--runs", "20",
                          "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert "Saudi" in json.dumps(result)[:2000]
