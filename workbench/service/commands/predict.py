"""`racetwin predict`: the finish of a real race predicted from the end of lap K, scored when the table has it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from workbench.service.commands.common import integer_arg, output_file, print_lap_table_notes


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "predict",
        help="predict a real race's finish from the end of lap K (Monte Carlo), and score it against the result",
        description="Cut a FastF1-shaped lap table at lap K (laps 1..K of every car, nothing later), fit pace, "
                    "degradation, pit loss, overtaking and the rivals' remaining stops from those laps, take SC/VSC "
                    "and retirement probabilities from the races run before this one, and simulate to the flag. "
                    "With the finish in the table, score against the naive 'order at lap K stays'. The race "
                    "distance is never assumed: --laps N, --race, the identified race's history entry, or the "
                    "chequered flag in the lap table (see docs/predict.md); otherwise the command stops.",
    )
    parser.add_argument("laps", type=Path, metavar="LAPS.csv", help="FastF1-shaped lap table, times in seconds")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--at-lap", type=integer_arg("--at-lap", 1), metavar="K", help="predict from the end of lap K")
    when.add_argument("--sweep", action="store_true",
                      help="score predictions from 25 %%, 50 %% and 75 %% of the race distance, model vs naive")
    parser.add_argument("--laps", dest="race_laps", type=integer_arg("--laps", 2), default=None, metavar="N",
                        help="the race distance in laps")
    parser.add_argument("--runs", type=integer_arg("--runs", 1), default=2000, help="Monte Carlo races (default 2000)")
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0, help="fixes every random draw (default 0)")
    parser.add_argument("--race", default=None, metavar="RACE",
                        help="race definition file, or a catalogue name such as bahrain-2024 when the catalogue is "
                             "installed: the race distance and the track facts not fitted from the laps (without "
                             "it those facts are priors, listed in the output)")
    parser.add_argument("--race-name", default=None,
                        help="race in data/event-history.json whose date limits the history used (default: the race "
                             "definition's name, else the race the file name names, e.g. 2024-bahrain-race-laps.csv)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.html",
                        help="also write a plot as a standalone HTML page (HoloViews/Bokeh, works offline): "
                             "positions per driver (mean, predicted, at lap K, actual); with --sweep, MAE per K")


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}"


def _provenance(fit: dict) -> list[str]:
    race = fit["race"]
    lines = [f"race distance: {fit['distance']['laps']} laps, from {fit['distance']['source']}",
             f"race: {race['name'] or '-'} ({race['identified_by']}); SC/VSC/retirement priors from "
             f"{fit['events_from']}"]
    priors = ", ".join(f"{k} {v['value']}" for k, v in fit["priors"].items() if str(v["from"]).startswith("prior"))
    lines.append(f"not fitted from these laps (priors): {priors}")
    return lines


def _text(pred) -> str:
    lines = [f"Prediction from the end of lap {pred.at_lap} of {pred.race_laps} ({pred.runs} races, seed {pred.seed})",
             *_provenance(pred.fit),
             f"{'pred':>4} {'driver':<6} {'at K':>4} {'mean':>6} {'mode':>4} {'win%':>6} {'pod%':>6} {'pts%':>6} "
             f"{'dnf%':>6} {'tyre':>7} {'made':>4} {'to go':>5}  planned stops" + ("  actual" if pred.actual else "")]
    for r in pred.drivers:
        plan = ", ".join(f"L{s['lap']} {s['compound']}" for s in r["planned_stops"]) or "-"
        tyre = f"{r['compound'][:1]}{r['tyre_age_laps']}" + ("" if r["two_compound_rule_met"] else "*")
        line = (f"{r['predicted_position']:>4} {r['driver']:<6} {r['position_at_k']:>4} {r['mean_position']:>6.2f} "
                f"{r['mode_position']:>4} {_pct(r['p_win']):>6} {_pct(r['p_podium']):>6} {_pct(r['p_points']):>6} "
                f"{_pct(r['p_retired']):>6} {tyre:>7} {r['stops_made']:>4} {r['predicted_remaining_stops']:>5.2f}  "
                f"{plan}")
        if pred.actual:
            d = r["driver"]
            line += f"  P{pred.actual['position'][d]}" + (" (retired)" if d in pred.actual["retired"] else "")
        lines.append(line)
    lines.append("tyre: compound initial and age in laps; * = the two-compound rule is not met yet; made / to go: "
                 "stops made by lap K / mean stops still to come")
    if pred.score:
        s = pred.score
        lines.append(f"score (out of sample: fitted on laps <= {pred.at_lap} only): model spearman "
                     f"{s['spearman']:.3f}, MAE {s['mae_positions']:.2f} positions; naive (order at lap "
                     f"{pred.at_lap} stays) spearman {s['naive_spearman']:.3f}, MAE {s['naive_mae_positions']:.2f}; "
                     f"actual retirements after lap {pred.at_lap}: {pred.retirements_after_k}")
    else:
        lines.append("no score: the lap table does not reach the finish")
    return "\n".join(lines)


def sweep_text(rows: list[dict]) -> str:
    """The sweep as one table."""
    lines = [f"race distance: {rows[0]['race_laps']} laps, from {rows[0]['race_laps_source']}; each K scored out of "
             "sample (fitted on laps <= K and on races before this one)" if rows else "",
             f"{'K':>3} {'dist':>5} {'model rho':>9} {'naive rho':>9} {'model MAE':>9} {'naive MAE':>9} "
             f"{'DNF>K':>5}"]
    for r in rows:
        lines.append(f"{r['at_lap']:>3} {100 * r['fraction']:>4.0f}% {r['spearman']:>9.3f} {r['naive_spearman']:>9.3f} "
                     f"{r['mae_positions']:>9.2f} {r['naive_mae_positions']:>9.2f} {r['retirements_after_k']:>5}")
    return "\n".join(lines)


def read_lap_csv(path: Path):
    """The lap table at ``path`` as a DataFrame; ValueError naming the file and the problem, never pandas' text."""
    import pandas as pd

    name = str(path)
    if not path.exists():
        raise ValueError(f"{name}: no such file")
    if not path.is_file():
        raise ValueError(f"{name}: is not a file (a directory?)")
    try:
        head = path.open("rb").read(65536)
    except OSError as exc:
        raise ValueError(f"{name}: cannot be read ({exc.strerror})") from None
    if not head.strip():
        raise ValueError(f"{name}: is empty; a lap table is a CSV file with a header row and one row per lap")
    if b"\0" in head:
        raise ValueError(f"{name}: is a binary file, not a CSV lap table")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            raise ValueError(f"{name}: is not UTF-8 text (byte {exc.start}), not a CSV lap table") from None
    if head.lstrip()[:1] in (b"{", b"["):
        raise ValueError(f"{name}: is JSON, not a CSV lap table (FastF1 columns Driver, LapNumber, LapTime, ...)")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{name}: has no header row; a lap table is a CSV file with a header row") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f" at line {line.group(1)}" if line else ""
        raise ValueError(f"{name}: is not a well-formed CSV table{where} (rows with different numbers of "
                         "fields, or bad quoting)") from None
    if frame.empty:
        raise ValueError(f"{name}: has a header but no rows")
    return frame


def _load_race(spec: str | None):
    """A race definition by file, or by catalogue name when `workbench.strategy.catalogue` exists."""
    if spec is None:
        return None
    from workbench.service.commands.common import load_race

    return load_race(spec)


def run(args) -> int:
    from workbench.strategy.event_history import session_from_file_name
    from workbench.strategy.predict import file_race_name, predict_from_laps, sweep
    from workbench.strategy.sweep import progress_bar
    from workbench.telemetry.schema import TelemetryValidationError

    try:
        plot = output_file("--plot", args.plot) if args.plot is not None else None
        laps = read_lap_csv(args.laps)
        print_lap_table_notes("predict", laps, str(args.laps))
        session = session_from_file_name(args.laps)
        if session is not None:
            print(f"racetwin predict: note: {args.laps}: the file name says {session!r}, not the Grand Prix; the model "
                  "simulates Grand Prix rules (a stop onto a second dry compound is owed) and Grand Prix SC/VSC "
                  f"and stop priors, which a {session} session does not have", file=sys.stderr)
        track = _load_race(args.race)
        kw = dict(runs=args.runs, seed=args.seed, track=track, race_name=args.race_name, race_laps=args.race_laps,
                  file_race=file_race_name(args.laps),
                  progress=progress_bar("predict", not args.json and sys.stderr.isatty(), unit="race"))
        try:
            if args.sweep:
                rows = sweep(laps, **kw)
            else:
                pred = predict_from_laps(laps, args.at_lap, **kw)
        except ValueError as exc:  # name the file where the lap table is at fault
            text = str(exc)
            raise ValueError(f"{args.laps}: {text[6:]}" if text.startswith("laps: ") else text) from None
    except (ValueError, TelemetryValidationError) as exc:
        print(f"racetwin predict: {exc}", file=sys.stderr)
        return 2
    if args.sweep:
        print(json.dumps({"runs": args.runs, "seed": args.seed, "sweep": rows}, indent=1) if args.json
              else sweep_text(rows))
    else:
        print(json.dumps(pred.to_json(), indent=1) if args.json else _text(pred))
    if plot is not None:
        from workbench.plots import write_plot

        write_plot(*(("sweep", rows) if args.sweep else ("predict", pred)), plot)
    return 0
