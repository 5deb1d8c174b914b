"""Benchmark of the Monte Carlo kernels, optionally against an older commit (prints numbers; not a test).

    python tests/benchmarks/bench_kernels.py [--before COMMIT] [--runs N] [--races N]

Single-car lap evaluations/s (`single_car_times`, LEC's plan on the bundled race) and
full-field races/s (`run_races`, 20 cars from the grid) for numba and, where Mojo is
installed, Mojo. With ``--before COMMIT`` the kernels of that commit (``git show``) run
in the same process, interleaved with the current ones, so both see the same machine
load, and their single-car results are checked to be bit-identical to the current ones.

Each line gives the best wall-clock rate and the best rate per CPU-second times the
number of threads: on a shared machine wall time measures the neighbours, CPU time much
less so.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

from workbench.kernels import mojo_backend, numba_race
from workbench.strategy.montecarlo import pack
from workbench.strategy.racedef import bundled_race

REPO = Path(__file__).resolve().parents[2]


def git_file(commit: str, path: str, dest: Path, was: str | None = None) -> Path:
    """``path`` as of ``commit`` (or ``was``, its older path, where ``commit`` predates a move), written to ``dest``."""
    out = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPO, capture_output=True)
    if out.returncode != 0 and was is not None:
        out = subprocess.run(["git", "show", f"{commit}:{was}"], cwd=REPO, capture_output=True)
    out.check_returncode()
    dest.write_bytes(out.stdout)
    return dest


def import_file(name: str, path: Path):
    """Import a Python file as a module called ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_mojo_module(module, fn: Callable) -> Callable:
    """``fn`` (a `mojo_backend` wrapper) run against another build of the Mojo module."""
    def call(*args):
        keep, mojo_backend._module = mojo_backend._module, module
        try:
            return fn(*args)
        finally:
            mojo_backend._module = keep
    return call


def compare(title: str, variants: dict[str, Callable[[], object]], work: float, rounds: int) -> None:
    """Print the best wall and CPU-time rates of each variant over interleaved rounds."""
    for fn in variants.values():
        fn()
    best = {name: (float("inf"), float("inf")) for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    threads = numba.get_num_threads()
    print(title)
    for name, (wall, cpu) in best.items():
        print(f"  {name:28s} wall {work / wall:16,.0f}/s   per CPU-second x {threads} {threads * work / cpu:16,.0f}/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="COMMIT", help="also time the kernels of this commit")
    parser.add_argument("--runs", type=int, default=200_000, help="single-car races per timing (default 200000)")
    parser.add_argument("--races", type=int, default=20_000, help="full-field races per timing (default 20000)")
    args = parser.parse_args(argv)

    race = bundled_race()
    packed = pack(race)
    n_cars, n_laps = len(race.cars), race.track.laps
    car = race.drivers.index("LEC")
    plan = race.car("LEC").strategy
    stops = np.cumsum([s.laps for s in plan[:-1]]).astype(np.int64)
    comps = np.array([packed.compounds.index(s.compound) for s in plan[1:]], dtype=np.int64)

    def single(kernel, n: int) -> Callable[[], np.ndarray]:
        out = np.zeros(n)

        def run() -> np.ndarray:
            kernel(1, 0, n, car, 0, n_laps, packed.track, packed.comp_offset, packed.comp_model, packed.comp_k1,
                   packed.comp_k2, int(packed.compound0[car]), 0, race.fuel.start_kg, float(packed.pace[car]),
                   float(packed.sigma[car]), stops, comps, len(stops), out)
            return out
        return run

    def full(kernel, n: int) -> Callable[[], None]:
        out = (np.zeros((n, n_cars), dtype=np.int64), np.zeros((n, n_cars)), np.zeros((n, n_cars), dtype=np.int64))
        args = packed.kernel_args()
        py = getattr(kernel, "py_func", None)
        if py is not None:  # a numba kernel, maybe of an older commit: pass the packed arrays it names
            fields = dict(zip([f.name for f in dataclasses.fields(packed)], args))
            args = tuple(fields[name] for name in py.__code__.co_varnames[3:py.__code__.co_argcount - 3])
        return lambda: kernel(1, 0, n, *args, *out)

    singles = {"numba": numba_race.single_car_times}
    fulls = {"numba": numba_race.run_races}
    mojo = mojo_backend.available()[0]
    if mojo:
        singles["Mojo"] = mojo_backend.single_car_times
        fulls["Mojo"] = mojo_backend.run_races
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            old = import_file("numba_race_before", git_file(args.before, "workbench/kernels/numba_race.py",
                                                            Path(tmp) / "numba_race_before.py"))
            singles[f"numba {args.before}"] = old.single_car_times
            fulls[f"numba {args.before}"] = old.run_races
            if mojo:
                module = mojo_backend.build(git_file(args.before, "kernels/mojo_race.mojo",
                                                     Path(tmp) / "mojo_race.mojo",
                                                     was="workbench/kernels/mojo_race.mojo"))
                fulls[f"Mojo {args.before}"] = with_mojo_module(module, mojo_backend.run_races)
                if hasattr(module, "single_car_times"):
                    singles[f"Mojo {args.before}"] = with_mojo_module(module, mojo_backend.single_car_times)
        reference = single(numba_race.single_car_times, 10_007)()
        for name, kernel in singles.items():
            same = np.array_equal(single(kernel, 10_007)(), reference)
            print(f"single car, {name}: {'bit-identical to' if same else 'DIFFERS from'} numba (current)")
        print(os.popen("uptime").read().strip())
        compare(f"single-car lap evaluations ({args.runs} races x {n_laps} laps)",
                {name: single(k, args.runs) for name, k in singles.items()}, args.runs * n_laps, 10)
        compare(f"full-field races ({args.races} races, {n_cars} cars)",
                {name: full(k, args.races) for name, k in fulls.items()}, args.races, 5)
        print(os.popen("uptime").read().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
