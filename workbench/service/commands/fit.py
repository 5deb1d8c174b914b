"""`racetwin fit`: a race definition for a real race from its lap table, the history before it and priors."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "fit",
        help="fit a race definition from a real race's lap table",
        description="Fit a race definition (*.race.json) from a FastF1-shaped lap table (and the *-drivers.csv "
        "beside it), the Ergast-schema history of the circuit before the race, and the start model. Writes "
        "RACE.json and RACE.fit-report.json beside it; the report says which numbers came from the laps, which "
        "from history and which are priors.",
    )
    parser.add_argument("laps", type=Path, metavar="LAPS.csv", help="lap table (FastF1 Laps columns, seconds)")
    parser.add_argument("--event", default=None,
                        help="race name in the history, e.g. '2024 Bahrain Grand Prix' (default: from a file "
                             "named YEAR-SLUG-race-laps.csv; without one, history numbers fall back to priors)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="race definition to write (default: print the JSON to stdout)")
    parser.add_argument("--history", type=Path, default=None,
                        help="folder of the Ergast-schema tables (default: ../shared/data/historical beside the "
                             "checkout, when present)")


def _default_history() -> Path | None:
    from workbench.paths import bundled_data_dir

    candidate = bundled_data_dir().parent.parent / "shared" / "data" / "historical"
    return candidate if candidate.is_dir() else None


def run(args) -> int:
    from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps
    from workbench.strategy.racefit.start import load_start_model

    try:
        laps, drivers = read_laps(args.laps)
        folder = args.history or _default_history()
        history = load_history(folder) if folder is not None else None
        event = args.event or event_name_from_path(args.laps)
        fitted = fit_race(laps, drivers=drivers, event=event, history=history, start_model=load_start_model(),
                          source=str(args.laps))
    except ValueError as exc:
        print(f"racetwin fit: {exc}", file=sys.stderr)
        return 2
    if history is None:
        print("racetwin fit: no history tables (pass --history DIR): circuit numbers are priors", file=sys.stderr)
    elif event is None:
        print("racetwin fit: no --event and the file name does not name one: circuit numbers are priors",
              file=sys.stderr)
    text = json.dumps(fitted.race, indent=1) + "\n"
    if args.output is None:
        print(text, end="")
        return 0
    args.output.write_text(text)
    name = args.output.name
    stem = name[:-len(".race.json")] if name.endswith(".race.json") else args.output.stem
    report = args.output.with_name(f"{stem}.fit-report.json")
    report.write_text(json.dumps(fitted.report, indent=1) + "\n")
    counts: dict[str, int] = {}
    for item in fitted.report["provenance"].values():
        counts[item["source"]] = counts.get(item["source"], 0) + 1
    print(f"wrote {args.output} ({fitted.race['name']}, {fitted.race['track']['laps']} laps, "
          f"{len(fitted.race['cars'])} cars) and {report}")
    print("numbers by source: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
