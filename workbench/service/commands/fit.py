"""`racetwin fit`: a race definition for a real race from its lap table, the history before it and priors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.service.commands.common import CliError, integer_arg, output_file, print_lap_table_notes, writable_dir


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "fit",
        help="fit a race definition from a real race's lap table",
        description="Fit a race definition (*.race.json) from a FastF1-shaped lap table (and the *-drivers.csv "
        "beside it), the Ergast-schema history of the circuit before the race, and the start model. Writes "
        "RACE.json and RACE.fit-report.json beside it; the report says which numbers came from the laps, which "
        "from history and which are priors. With --real-out, also the race's real strategies and events as "
        "racetwin simulate files; with --score, the simulated-vs-real score (in-sample: the race is fitted on "
        "these laps).",
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
    parser.add_argument("--real-out", type=Path, default=None, metavar="DIR", dest="real_out",
                        help="also write NAME.strategies.json (every car's real stints) and NAME.events.json (each "
                             "lap's majority TrackStatus forced, red as SC, and the real retirements) into DIR, for "
                             "racetwin simulate RACE.json --strategies ... --events ... [--deterministic]; NAME is "
                             "-o's name without .race.json (-o is needed). Needs the race in the history tables")
    parser.add_argument("--score", action="store_true",
                        help="also simulate the fitted race with its real strategies and events (deterministic and "
                             "--runs Monte Carlo races) and print Spearman rho vs the real classification and the "
                             "winner's race-time error (without -o the race JSON is then not printed). Needs the "
                             "race in the history tables")
    parser.add_argument("--runs", type=integer_arg("--runs", 1), default=500,
                        help="with --score: Monte Carlo races (default 500)")
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0,
                        help="with --score: seed of the races (default 0)")


def _default_history() -> Path | None:
    from workbench.paths import bundled_data_dir

    candidate = bundled_data_dir().parent.parent / "shared" / "data" / "historical"
    return candidate if candidate.is_dir() else None


def _stem(output: Path) -> str:
    """``out/bahrain-2024.race.json`` -> ``bahrain-2024`` (the fit report's, --real-out files' and --score's name)."""
    name = output.name
    return name[:-len(".race.json")] if name.endswith(".race.json") else output.stem


def _real_name(args) -> str:
    """NAME of the --real-out files and the --score row: -o's stem, else the lap table's race name
    (``bahrain-2024`` for ``2024-bahrain-race-laps.csv``)."""
    from workbench.strategy.racefit.real import real_name_from_path

    return _stem(args.output) if args.output is not None else real_name_from_path(args.laps)


def _facts(args, history, event, laps):
    """The race's facts (classification, retirements), which --real-out and --score need: from the history
    tables, or the lap table's own for a race they have no results for (`real_facts`, said on stderr)."""
    from workbench.strategy.racefit.real import real_facts

    option = "--score" if args.score else "--real-out"
    if history is None:
        raise CliError(f"history: none found: {option} needs the race's real classification from the history "
                       "tables; pass --history DIR (the Ergast-schema CSV folder)")
    if event is None:
        raise CliError(f"event: none given and {str(args.laps.name)!r} is not named YEAR-SLUG-race-laps.csv: "
                       f"{option} needs the race's real classification from the history tables; pass --event "
                       "'YEAR NAME', e.g. --event '2024 Bahrain Grand Prix'")
    facts, note = real_facts(history, event, laps)
    if note is not None:
        print(f"racetwin fit: note: {option}: {note}", file=sys.stderr)
    return facts


def run(args) -> int:
    from workbench.strategy.racefit import event_name_from_path, fit_race, load_history, read_laps
    from workbench.strategy.racefit.start import load_start_model

    real_wanted = args.real_out is not None or args.score
    if args.real_out is not None and args.output is None:
        raise CliError("--real-out: needs -o RACE.json, the race definition that racetwin simulate runs with the "
                       "strategies and events files")
    if args.output is not None:
        output_file("--output", args.output)
    if args.real_out is not None:
        writable_dir("--real-out", args.real_out)
    try:
        laps, drivers = read_laps(args.laps)
        print_lap_table_notes("fit", laps, str(args.laps))
        folder = args.history or _default_history()
        history = load_history(folder) if folder is not None else None
        event = args.event or event_name_from_path(args.laps)
        facts = _facts(args, history, event, laps) if real_wanted else None
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
    elif not fitted.report["event_found_in_history"]:
        print(f"racetwin fit: note: {fitted.report['provenance']['track.name']['note']}", file=sys.stderr)
    text = json.dumps(fitted.race, indent=1) + "\n"
    if args.output is None:
        if not args.score:
            print(text, end="")
    else:
        args.output.write_text(text)
        report = args.output.with_name(f"{_stem(args.output)}.fit-report.json")
        report.write_text(json.dumps(fitted.report, indent=1) + "\n")
        counts: dict[str, int] = {}
        for item in fitted.report["provenance"].values():
            counts[item["source"]] = counts.get(item["source"], 0) + 1
        print(f"wrote {args.output} ({fitted.race['name']}, {fitted.race['track']['laps']} laps, "
              f"{len(fitted.race['cars'])} cars) and {report}")
        print("numbers by source: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if real_wanted:
        try:
            return _real(args, fitted.race, laps, facts)
        except ValueError as exc:
            print(f"racetwin fit: {exc}", file=sys.stderr)
            return 2
    return 0


def _real(args, race_json: dict, laps, facts) -> int:
    """--real-out and --score on the fitted race."""
    from workbench.race.definition import parse_race_definition
    from workbench.strategy.racefit.real import format_scores, real_race, score_real_race, write_real_files

    race = parse_race_definition(race_json)
    name = _real_name(args)
    if args.real_out is not None:
        real = real_race(race, laps, facts)
        strategies, events = write_real_files(args.real_out, name, real)
        plan = f"; left on their plan: {', '.join(real.skipped)}" if real.skipped else ""
        n = len(real.events)
        print(f"wrote {strategies} ({len(real.strategies)} cars' real stints{plan}) and {events} "
              f"({n} event{'s' if n != 1 else ''}: track-status phases and retirements)")
        print(f"run: racetwin simulate {args.output} --strategies {strategies} --events {events} [--deterministic]")
    if args.score:
        score = score_real_race(race, laps, facts, runs=args.runs, seed=args.seed, name=name)
        print(f"Simulated vs real, in-sample (the race definition is fitted on these laps); {args.runs} Monte Carlo "
              f"races, seed {args.seed}")
        for line in format_scores([score])[:-1]:
            print(line)
    return 0
