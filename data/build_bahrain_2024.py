"""Fit the bundled default race, the 2024 Bahrain Grand Prix, from real data in ../shared/data.

Run from the repository root:  python data/build_bahrain_2024.py [SHARED_DATA_DIR]
The fit is the catalogue's (``data/build_catalogue.py`` -> `workbench.strategy.racefit.fit_race`, one
code path); this script writes its Bahrain entry as ``data/bahrain-2024.race.json`` and
``data/bahrain-2024.fit-report.json``. tests/unit/test_racedef.py re-runs it and checks the
committed file. See data/README.md.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "bahrain-2024"


def _catalogue():
    spec = importlib.util.spec_from_file_location("build_catalogue", HERE / "build_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(shared: Path) -> dict:
    """The Bahrain race definition, with its fit report under ``_fit_report``."""
    fitted = _catalogue().fit_one(Path(shared), NAME)
    return {**fitted.race, "_fit_report": fitted.report}


def _normalize_probs(obj: dict) -> None:
    """Kept for callers: `fit_race` already puts each rounding remainder on the largest probability."""


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else _catalogue().default_shared()
    race = build(shared)
    report = race.pop("_fit_report")
    (HERE / "bahrain-2024.race.json").write_text(json.dumps(race, indent=1) + "\n")
    (HERE / "bahrain-2024.fit-report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote data/bahrain-2024.race.json ({race['name']}, {race['track']['laps']} laps)")


if __name__ == "__main__":
    main(sys.argv)
