"""`racetwin calibrate`: tyre degradation on one lap table, or the leave-one-race-out pace backtest over several."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.service.commands.common import integer_arg, output_file, print_lap_table_notes

_LAP_TABLE_SUFFIXES = ("-race-laps.csv", "-laps.csv", ".csv")


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "calibrate",
        help="fit per-compound tyre degradation on a lap table (CSV) and backtest lap-time predictions; with "
             "several tables, the leave-one-race-out backtest",
        description="One lap table: fit linear / quadratic / logarithmic degradation per compound on the clean "
                    "laps of a FastF1-shaped lap table (Bayesian, family chosen by evidence), then backtest: "
                    "predict laps k..k+4 of every stint from laps before k, against a naive 'repeat the last "
                    "clean lap' predictor; the fuel correction needs the race distance (--laps N, --race, the race "
                    "the file name names (2024-canadian-race-laps.csv), or a table that shows the chequered flag). "
                    "Two or more tables (or a folder of *-laps.csv): the out-of-sample leave-one-race-out backtest "
                    "of the cross-race pace model: each race scored with parameters fitted on the others only.",
    )
    parser.add_argument("laps", type=Path, nargs="+", metavar="LAPS.csv",
                        help="FastF1-shaped lap table(s), times in seconds, or a folder of *-laps.csv")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--race", type=Path, default=None,
                        help="one table: take priors, the fuel model and the distance from this race definition "
                             "(default: generic priors, 100 kg over the race, 0.03 s/kg)")
    parser.add_argument("--laps", dest="race_laps", type=integer_arg("--laps", 1, 200), default=None, metavar="N",
                        help="one table: the race distance in laps (default: the race the file name names, else "
                             "the table's, when it shows the chequered flag)")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.html",
                        help="also write the plot as a standalone HTML page (HoloViews/Bokeh, works offline): one "
                             "table, lap time vs tyre age per compound with the fit; several, the leave-one-race-out "
                             "MAE per race, model vs naive")


def _table_paths(paths: list[Path]) -> list[Path]:
    """The lap tables named: files as given, a folder as its ``*-laps.csv`` files (sorted)."""
    out = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*-laps.csv"))
            if not found:
                raise ValueError(f"{path}: folder holds no *-laps.csv lap table")
            out.extend(found)
        else:
            out.append(path)
    return out


def read_lap_table(path: Path):
    """`read_fastf1_laps_csv`, with every way a file can be wrong said in one line naming the file.

    Raises
    ------
    ValueError
        ``FILE: why`` for a missing, empty, binary, JSON or unparsable file, or a bad column.
    """
    import pandas as pd

    from workbench.twins.lap_table import read_fastf1_laps_csv

    if not path.is_file():
        raise ValueError(f"{path}: is not a file")
    head = path.read_bytes()[:4096]
    if not head.strip():
        raise ValueError(f"{path}: is empty; a lap table is a CSV with a header row (Driver, LapNumber, LapTime, "
                         "Compound, Stint, TyreLife)")
    if b"\x00" in head:
        raise ValueError(f"{path}: is a binary file, not a CSV lap table")
    if head.lstrip()[:1] in (b"{", b"["):
        raise ValueError(f"{path}: is JSON, not a CSV lap table (FastF1 Laps columns, one row per lap)")
    try:
        return read_fastf1_laps_csv(path)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: is not UTF-8 text, not a CSV lap table") from None
    except pd.errors.ParserError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise ValueError(f"{path}: is not a readable CSV lap table ({first})") from None


def race_name(path: Path) -> str:
    """A lap table's race name from its file name: ``2024-bahrain-race-laps.csv`` -> ``2024-bahrain``."""
    name = path.name
    for suffix in _LAP_TABLE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _text(report: dict) -> str:
    lines = [f"race distance {report['race_laps']} laps ({report['race_laps_source']})",
             f"{report['laps']} laps, {report['clean_laps']} clean; excluded: "
             + ", ".join(f"{k} {v}" for k, v in report["excluded"].items())]
    for compound, m in report["compounds"].items():
        coef = f"k1 {m['k1_s']:.4f} ± {m['k1_s_sd']:.4f}"
        if "k2_s" in m:
            coef += f", k2 {m['k2_s']:.5f} ± {m['k2_s_sd']:.5f}"
        lines.append(f"{compound:<12} {m['model']:<11} {coef}; noise {m['noise_s']:.3f} s; "
                     f"{m['degradation_at_max_age_s']:.2f} ± {m['degradation_at_max_age_sd_s']:.2f} s lost at "
                     f"{m['max_age_laps']} laps; {m['n_laps']} laps in {m['n_stints']} stints")
        lines.append(" " * 13 + "log evidence: " + ", ".join(f"{f} {v['log_evidence']:.1f}"
                                                            for f, v in m["families"].items()))
    b = report["backtest"]
    lines.append(f"backtest (laps k..k+{b['horizon_laps'] - 1} from laps before k): model MAE {b['mae_s']:.3f} s, "
                 f"naive MAE {b['naive_mae_s']:.3f} s, n {b['n']} (this race's degradation fit above)")
    p = report["pace_backtest"]
    lines.append(f"cross-race pace model backtest (laps k..k+{p['horizon_laps'] - 1} from laps before k): model MAE "
                 f"{p['model_mae_s']:.3f} s, naive MAE {p['naive_mae_s']:.3f} s, n {p['laps_scored']}, "
                 f"{p['winner']} wins; {p['note']}")
    return "\n".join(lines)


def loro_text(report: dict) -> str:
    """The leave-one-race-out table as text."""
    lines = [f"leave-one-race-out backtest, out-of-sample: laps k..k+{report['horizon_laps'] - 1} of each stint "
             "predicted from laps before k; each race scored with parameters fitted on the other races only",
             f"{'race':<24} {'laps scored':>11} {'model MAE s':>12} {'naive MAE s':>12}  winner"]
    for r in report["races"]:
        lines.append(f"{r['race']:<24} {r['laps_scored']:>11} {r['model_mae_s']:>12.3f} {r['naive_mae_s']:>12.3f}"
                     f"  {r['winner']}")
    m = report["mean"]
    lines.append(f"{'mean':<24} {'':>11} {m['model_mae_s']:>12.3f} {m['naive_mae_s']:>12.3f}  {m['winner']}")
    lines.append(f"scored: {report['scored']}")
    return "\n".join(lines)


def _single(args, path: Path) -> dict:
    from workbench.service.commands.common import load_race
    from workbench.strategy.predict import file_race_name, identify_race, race_distance
    from workbench.twins.calibrate import calibrate, pace_backtest, priors_from_race
    from workbench.twins.lap_table import FuelCorrection

    laps = read_lap_table(path)
    print_lap_table_notes("calibrate", laps, str(path))
    priors = race = None
    if args.race is not None:
        race = load_race(args.race)
        priors = priors_from_race(race)
    # one rule for every command (as predict): --laps, the race definition, the race the file name names
    # (its data/event-history.json entry), the lap table's chequered flag
    entry = identify_race(None, race, file_race_name(path))[0]
    found = race_distance(laps, args.race_laps, race, entry)
    distance, source = found.laps, found.source
    base = FuelCorrection.from_race(race) if race is not None else FuelCorrection()
    fuel = FuelCorrection(start_kg=base.start_kg, mass_effect_s_per_kg=base.mass_effect_s_per_kg,
                          burn_kg_per_lap=base.burn_kg_per_lap if base.burn_kg_per_lap is not None
                          else base.start_kg / distance)
    from workbench.strategy.sweep import progress_bar

    progress = progress_bar("backtest", not args.json and sys.stderr.isatty(), unit="lap")
    report = {"race_laps": distance, "race_laps_source": source,
              **calibrate(laps, priors=priors, fuel=fuel, progress=progress),
              "pace_backtest": pace_backtest(laps, entry["race"] if entry else None)}
    if args.plot is not None:
        from workbench.plots import write_plot
        from workbench.twins.lap_table import mark_clean_laps

        marked = mark_clean_laps(laps, fuel)
        write_plot("degradation", report, args.plot, clean=marked[marked.Clean])
    return report


def run(args) -> int:
    from workbench.strategy.sweep import progress_bar
    from workbench.twins.calibrate import leave_one_race_out

    try:
        if args.plot is not None:
            output_file("--plot", args.plot)
        paths = _table_paths(args.laps)
        if len(paths) == 1:
            report = _single(args, paths[0])
            text = _text(report)
        else:
            for option, value in (("--laps", args.race_laps), ("--race", args.race)):
                if value is not None:
                    raise ValueError(f"{option}: applies to one lap table; the leave-one-race-out backtest of "
                                     f"{len(paths)} tables needs no distance or race definition")
            tables = {}
            for path in paths:
                name = race_name(path)
                if name in tables:
                    raise ValueError(f"{path}: race name {name!r} repeats another table's")
                tables[name] = read_lap_table(path)
                print_lap_table_notes("calibrate", tables[name], str(path))
            report = leave_one_race_out(tables, progress=progress_bar(
                "leave-one-race-out", not args.json and sys.stderr.isatty(), unit="race"))
            text = loro_text(report)
            if args.plot is not None:
                from workbench.plots import write_plot

                write_plot("loro", report, args.plot)
    except ValueError as exc:
        print(f"racetwin calibrate: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1) if args.json else text)
    return 0
