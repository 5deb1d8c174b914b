"""`racetwin simulate`: Monte Carlo races of a race definition, with given strategies and events."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from workbench.service.commands.common import CliError, integer_arg, output_file, race_path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "simulate",
        help="Monte Carlo race simulation of a race definition",
        description="Simulate full-field races from the grid: every car follows its strategy from --strategies "
        "or its planned stints; with --car and no strategy for that car, the strategy sweep picks ours. "
        "Prints the first race's finishing order and, with --runs > 1, position distributions.",
    )
    parser.add_argument("race_file", type=Path, metavar="RACE_FILE",
                        help="race definition JSON (*.race.json) or a bundled race name (bahrain-2024, ...)")
    parser.add_argument("--strategies", type=Path, default=None,
                        help='JSON: {"VER": [{"compound": "SOFT", "laps": 18}, {"compound": "HARD", "laps": 39, '
                        '"tyre_age_laps": 3}], ...}: stints add up to the race; tyre_age_laps (default 0) is the age '
                        'of the set when fitted; one compound is legal when a stint is INTERMEDIATE or WET (wet race)')
    parser.add_argument("--events", type=Path, default=None,
                        help='JSON: [{"kind": "SC", "first_lap": 19, "last_lap": 22, "start_fraction": 0.4}, '
                        '{"kind": "RETIREMENT", "driver": "VER", "lap": 30}, ...]: forced SC/VSC/GREEN laps (an SC/VSC '
                        'may come out part-way through its first lap) and retirements')
    parser.add_argument("--laps", type=integer_arg("--laps", 1, 200), default=None,
                        help="race distance in laps, overriding the race file's (planned stints are scaled to it)")
    parser.add_argument("--deterministic", action="store_true",
                        help="no noise and no random events: passes decided by a threshold on the pace margin "
                        "(reproduces one real race; every run is the same race)")
    parser.add_argument("--pass-threshold-s", type=float, default=None, dest="pass_threshold_s",
                        help="with --deterministic: pace margin (s, DRS bonus included) a pass needs "
                        "(default: from the track's overtaking difficulty)")
    parser.add_argument("--runs", type=integer_arg("--runs", 1), default=1, help="races to simulate (default 1)")
    parser.add_argument("--seed", type=integer_arg("--seed", 0), default=0, help="fixes every random draw (default 0)")
    parser.add_argument("--car", default=None, help="our car: without a given strategy, the sweep chooses it")
    parser.add_argument("--backend", choices=("numba", "numpy", "mojo", "cuda", "auto"), default="numba",
                        help="kernel (default numba; mojo and cuda need their optional extras: pip install "
                        "'.[mojo]' / '.[gpu]'; auto: cuda when a GPU is present, else numba)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.html",
                        help="also write the finishing-position distribution per driver as a standalone HTML "
                             "page (HoloViews/Bokeh, works offline)")


def _summary(result, race) -> dict:
    import numpy as np

    out = {}
    for c, driver in enumerate(result.drivers):
        p = result.position_distribution(driver)
        times = result.race_time_s[:, c]
        finished = times[~np.isnan(times)]
        out[driver] = {
            "mean_position": float(result.position[:, c].mean()), "position_p": [float(x) for x in p],
            "p_win": float(p[0]), "p_podium": float(p[:3].sum()), "p_points": float(p[:10].sum()),
            "p_retired": float(1 - finished.size / len(times)),
            "race_time_s_p50": float(np.median(finished)) if finished.size else None,
            "mean_stops": float(result.stops[:, c].mean()),
        }
    return out


def _first_race(result, race) -> list[dict]:
    import math

    rows = []
    order = result.finishing_order(0)
    winner = result.race_time_s[0, result.index(order[0])]
    for pos, driver in enumerate(order, start=1):
        c = result.index(driver)
        t = float(result.race_time_s[0, c])
        rows.append({"position": pos, "driver": driver, "team": race.car(driver).team,
                     "race_time_s": None if math.isnan(t) else t,
                     "gap_s": None if math.isnan(t) else t - float(winner), "stops": int(result.stops[0, c]),
                     "retired": math.isnan(t)})
    return rows


class _Failed(Exception):
    """One line for stderr: ``racetwin simulate: what: why``."""


def _read(label: str, path: Path, parse):
    """``parse(obj)`` of the JSON file at ``path``; any failure as `_Failed` naming the option and the file."""
    from workbench.race.definition import JsonFileError, read_json
    from workbench.telemetry.schema import TelemetryValidationError

    try:
        return parse(read_json(path))
    except JsonFileError as exc:
        raise _Failed(f"{label} {path}: {exc.why}") from None
    except TelemetryValidationError as exc:
        raise _Failed(f"{label} {path}: {exc}") from None


def run(args) -> int:
    try:
        if args.plot is not None:
            output_file("--plot", args.plot)
        return _run(args)
    except (_Failed, CliError) as exc:
        print(f"racetwin simulate: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    from workbench.race.definition import parse_race_definition, with_distance
    from workbench.strategy.montecarlo import RaceState, apply_stints, parse_events, simulate
    from workbench.strategy.sweep import decide, progress_bar
    from workbench.telemetry.schema import json_safe

    if args.backend == "mojo":
        from workbench.kernels.mojo_backend import available

        ok, why = available()
        if not ok:
            raise _Failed(f"--backend: {why}")
    from workbench.kernels.select import gpu_status, resolve_backend
    args.backend = resolve_backend(args.backend)
    if args.backend == "cuda" and not gpu_status().usable:
        raise _Failed(f"--backend: cuda is not usable here: {gpu_status().reason}")
    if args.pass_threshold_s is not None:
        if not args.deterministic:
            raise _Failed(f"--pass-threshold-s: {args.pass_threshold_s} needs --deterministic (random passes "
                          "use the overtaking model)")
        if not math.isfinite(args.pass_threshold_s) or args.pass_threshold_s < 0:
            raise _Failed(f"--pass-threshold-s: {args.pass_threshold_s} is not a number >= 0")
    race = _read("RACE_FILE", race_path(args.race_file), parse_race_definition)
    file_laps = race.track.laps
    if args.laps is not None:
        race = with_distance(race, args.laps)
    strategies = {}
    if args.strategies:
        race, strategies = _read("--strategies", args.strategies, lambda obj: apply_stints(race, obj))
    events = (_read("--events", args.events, lambda obj: parse_events(obj, race.track.laps, race.drivers))
              if args.events else [])
    chosen = None
    if args.car is not None:
        if args.car not in race.drivers:
            raise _Failed(f"--car: {args.car!r} is not in the race; drivers are {', '.join(race.drivers)}")
        if args.car not in strategies:
            best = decide(race, args.car, RaceState.grid(race), total_runs=max(2000, args.runs), seed=args.seed,
                          events=events, backend=args.backend,
                          progress=progress_bar("sweep", not args.json and sys.stderr.isatty())).best
            strategies[args.car] = best.strategy
            chosen = best.to_json()
    result = simulate(race, None, strategies, events, runs=args.runs, seed=args.seed, backend=args.backend,
                      deterministic=args.deterministic, pass_threshold_s=args.pass_threshold_s,
                      progress=progress_bar("simulate", not args.json and sys.stderr.isatty(), unit="race"))
    laps_note = (f"{race.track.laps} laps (--laps; the race file says {file_laps})" if args.laps is not None
                 else f"{race.track.laps} laps (race file)")
    payload = {
        "race": race.name, "runs": args.runs, "seed": args.seed, "backend": args.backend,
        "laps": race.track.laps, "laps_from": "--laps" if args.laps is not None else "race file",
        "deterministic": args.deterministic,
        "events": [e.to_json() for e in events],
        "strategies": {d: s.to_json() for d, s in strategies.items()}, "car": args.car, "chosen": chosen,
        "first_race": _first_race(result, race),
        "drivers": _summary(result, race) if args.runs > 1 else None,
    }
    if args.json:
        if args.laps is not None:
            print(f"racetwin simulate: race distance {laps_note}", file=sys.stderr)
        print(json.dumps(json_safe(payload), allow_nan=False))
        _plot(args, payload)
        return 0
    mode = "deterministic" if args.deterministic else f"seed {args.seed}"
    print(f"{race.name}: {args.runs} race(s), {mode}, backend {args.backend}")
    print(f"race distance: {laps_note}")
    if chosen:
        print(f"strategy chosen for {args.car}: {chosen['label']} (expected points {chosen['expected_points']:.2f})")
    print("\nrace 0 finishing order")
    print(f"{'pos':>3}  {'driver':<6} {'team':<18} {'race time':>11} {'gap':>9} stops")
    for row in payload["first_race"]:
        t = "DNF" if row["retired"] else f"{row['race_time_s']:.3f}"
        gap = "" if row["retired"] else f"+{row['gap_s']:.3f}"
        print(f"{row['position']:>3}  {row['driver']:<6} {row['team'][:18]:<18} {t:>11} {gap:>9} {row['stops']:>5}")
    if args.runs > 1:
        print(f"\nposition distributions over {args.runs} races (percent)")
        print(f"{'driver':<6} {'mean':>5} {'win':>5} {'podium':>6} {'points':>6} {'DNF':>5}  P1..P{len(race.cars)}")
        ranked = sorted(payload["drivers"].items(), key=lambda kv: kv[1]["mean_position"])
        for driver, s in ranked:
            hist = " ".join(f"{100 * p:3.0f}" for p in s["position_p"])
            print(f"{driver:<6} {s['mean_position']:5.2f} {100 * s['p_win']:5.1f} {100 * s['p_podium']:6.1f} "
                  f"{100 * s['p_points']:6.1f} {100 * s['p_retired']:5.1f}  {hist}")
    _plot(args, payload)
    return 0


def _plot(args, payload: dict) -> None:
    if args.plot is not None:
        from workbench.plots import write_plot

        write_plot("simulate", payload, args.plot)
