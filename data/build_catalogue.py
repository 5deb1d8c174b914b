"""Build the bundled race catalogue and the start model from the real data in ../shared/data.

Run from the repository root:  python data/build_catalogue.py [SHARED_DATA_DIR]

For every ``real-races/<year>-<slug>-race-laps.csv`` it writes ``data/races/<slug>-<year>.race.json``
and ``data/races/<slug>-<year>.fit-report.json`` (`workbench.strategy.racefit.fit_race`, the same
code as ``racetwin fit``), after ``data/start-model.json`` (the start model those fits read).
It also writes ``data/pace-params.json``: the cross-race pace model's parameters fitted on those
races (`workbench.twins.pace_model.pace_params_bundle`; ``racetwin calibrate`` on one table uses
them; tests/unit/test_pace_model.py compares them with a re-fit).
``data/bahrain-2024.race.json``, the bundled default race, is the catalogue's Bahrain entry
(``data/build_bahrain_2024.py``). tests/unit/test_racefit_real.py re-runs the fits and compares (test_fit_on_the_fly_is_the_catalogue_entry).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps  # noqa: E402
from workbench.strategy.racefit.start import build_start_model  # noqa: E402

_NAME = re.compile(r"^(?P<year>\d{4})-(?P<slug>[a-z-]+?)-race-laps\.csv$")


def default_shared() -> Path:
    return HERE.parent.parent / "shared" / "data"


def race_files(shared: Path) -> dict[str, Path]:
    """Catalogue name (``bahrain-2024``) -> lap table, for every real race in ``shared``."""
    out = {}
    for path in sorted((shared / "real-races").glob("*-race-laps.csv")):
        m = _NAME.match(path.name)
        if m:
            out[f"{m['slug']}-{m['year']}"] = path
    return out


def start_model(shared: Path) -> dict:
    history = load_history(shared / "historical")
    return build_start_model({event_name_from_path(p): read_laps(p)[0] for p in race_files(shared).values()},
                             history)


def fit_one(shared: Path, name: str, model: dict | None = None):
    """The `RaceFit` of one catalogue entry (the start model is rebuilt unless given)."""
    path = race_files(shared)[name]
    laps, drivers = read_laps(path)
    rel = f"../shared/data/real-races/{path.name}"
    history = load_history(shared / "historical")
    return fit_race(laps, drivers=drivers, event=event_name_from_path(path), history=history,
                    start_model=model if model is not None else start_model(shared), source=rel)


def pace_params(shared: Path) -> dict:
    """The ``data/pace-params.json`` object: every real race, keyed by its event name."""
    from workbench.twins.pace_model import pace_params_bundle

    return pace_params_bundle({event_name_from_path(p): read_laps(p)[0] for p in race_files(shared).values()})


def dump(obj) -> str:
    return json.dumps(obj, indent=1) + "\n"


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else default_shared()
    model = start_model(shared)
    (HERE / "start-model.json").write_text(dump(model))
    (HERE / "pace-params.json").write_text(dump(pace_params(shared)))
    (HERE / "races").mkdir(exist_ok=True)
    for name in race_files(shared):
        fitted = fit_one(shared, name, model)
        (HERE / "races" / f"{name}.race.json").write_text(dump(fitted.race))
        (HERE / "races" / f"{name}.fit-report.json").write_text(dump(fitted.report))
        t = fitted.race["track"]
        print(f"{name:<20} {t['laps']:>3} laps  base {t['base_lap_time_s']:.3f} s  pit {t['pit_loss_green_s']:.1f} s  "
              f"overtaking {t['overtaking_difficulty']:.2f}  start sigma {t['start_sigma_s']:.2f} s")


if __name__ == "__main__":
    main(sys.argv)
