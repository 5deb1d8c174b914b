"""The Mojo backend: ``kernels/mojo_race.mojo`` compiled to a Python extension and imported.

The Mojo source is not a Python module, so it lives in the repository's top-level
``kernels/`` folder (``workbench/_kernels`` in a wheel); `workbench.paths.kernel_source`
finds it in both.

Optional: ``pip install .[mojo]`` (``max==26.7.0`` with Mojo 1.2). `available` says
whether the Mojo toolchain is importable; `run_races`, `run_candidates` and
`single_car_times` have the argument lists of the numba kernels of those names and fill
the same outputs.

The module is built the way ``mojo.importer`` builds it (``mojo build --emit
shared-lib``, cached by source hash) with one addition, ``--fp-mode contract=off``:
Mojo fuses ``a * b + c`` into FMAs by default, which changes the last bits of the
inverse-normal polynomial and breaks bit-identity with numba and numpy, and
``mojo.importer`` has no way to pass build flags.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from pathlib import Path

import numpy as np

from workbench.kernels import layout as L
from workbench.paths import kernel_source

__all__ = ["MojoUnavailable", "available", "load", "build", "run_races", "run_candidates", "single_car_times",
           "normals"]

_HERE = Path(__file__).resolve().parent
MOJO_SOURCE = "mojo_race.mojo"  # in `workbench.paths.kernel_source_dir`
_module = None


class MojoUnavailable(RuntimeError):
    """Mojo is not installed (or the kernel does not build) on this machine."""


def available() -> tuple[bool, str]:
    """(True, "") when the Mojo toolchain is importable, else (False, why)."""
    try:
        importlib.import_module("mojo.run")
    except ImportError as exc:
        return False, (f"backend 'mojo': Mojo is not installed ({exc}); install the optional extra with "
                       "`pip install race-twin-edge[mojo]` (max==26.7.0, Mojo 1.2)")
    return True, ""


def _cache_dir() -> Path:
    here = _HERE / "__mojocache__"
    try:
        here.mkdir(exist_ok=True)
        if os.access(here, os.W_OK):
            return here
    except OSError:
        pass
    fallback = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "racetwin" / "mojo"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def load():
    """Build (first time: about 15-30 s, cached by source hash) and import the kernel module."""
    global _module
    if _module is None:
        _module = build(kernel_source(MOJO_SOURCE))
    return _module


def build(src: Path):
    """Build a ``mojo_race`` source file (cached by its hash) and import it as a new module object.

    `load` uses it for the package's kernel; the kernel benchmark uses it to build an
    older revision of ``mojo_race.mojo`` beside the current one.
    """
    ok, why = available()
    if not ok:
        raise MojoUnavailable(why)
    from mojo.run import subprocess_run_mojo

    src = Path(src)
    digest = hashlib.sha256(src.read_bytes() + b"contract=off").hexdigest()[:16]
    so = _cache_dir() / f"mojo_race.{digest}.so"
    if not so.exists():
        tmp = so.with_suffix(f".{os.getpid()}.tmp.so")
        result = subprocess_run_mojo(["build", str(src), "--fp-mode", "contract=off", "--emit", "shared-lib",
                                      "-o", str(tmp)], capture_output=True, text=True)
        if result.returncode != 0:
            raise MojoUnavailable(f"backend 'mojo': {src} did not build:\n{result.stderr[-4000:]}")
        tmp.replace(so)
    spec = importlib.util.spec_from_file_location("mojo_race", so)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _restore_python_env()
    return module


# Set in the C environment by the Mojo runtime when the extension loads (not in os.environ):
# PYTHONEXECUTABLE points at whichever `python3` is first on PATH, so every Python started
# afterwards as a subprocess (the CLI, Dask workers) found the wrong prefix and packages.
_RUNTIME_ENV = ("PYTHONEXECUTABLE", "PYTHONPATH")


def _restore_python_env() -> None:
    """Put the C environment's Python variables back to this process's own (``os.environ``)."""
    for key in _RUNTIME_ENV:
        if key in os.environ:
            os.putenv(key, os.environ[key])
        else:
            os.unsetenv(key)


_DTYPES = {"float64": np.float64, "int64": np.int64, "bool": np.int64}  # bool arrays go to Mojo as int64


def _f(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _i(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _mojo_list(layout: tuple[L.Arg, ...], values: dict) -> tuple[list, list]:
    """The Mojo argument list for ``layout`` (a declaration of `workbench.kernels.layout`) from ``values``.

    Scalars become ``int``/``float``; arrays become the address of a C-contiguous copy of
    the declared dtype. Returns the list and those copies (keep them alive until the kernel returns).
    """
    args, keep = [], []
    for arg in layout:
        value = values[arg.name]
        if arg.ndim == 0:
            args.append(float(value) if arg.dtype == "float64" else int(value))
        else:
            arr = np.ascontiguousarray(value, dtype=_DTYPES[arg.dtype])
            if arr.ndim != arg.ndim:
                raise ValueError(f"{arg.name}: {arr.ndim} dimensions, the kernel takes {arg.ndim}")
            keep.append(arr)
            args.append(arr.ctypes.data)
    return args, keep


def _race_args(values: dict, n_rows: int) -> tuple[list, list]:
    """The `Race` argument list of the Mojo module (`layout.MOJO_RACE`), and the arrays it points into."""
    n_cars = len(values["t0"])
    for arg in L.OUTPUT_ARGS:
        arr, dtype = values[arg.name], _DTYPES[arg.dtype]
        if arr.dtype != dtype or not arr.flags.c_contiguous or arr.shape != (n_rows, n_cars):
            raise ValueError(f"{arg.name}: must be a C-contiguous {np.dtype(dtype).name} array of shape "
                             f"{(n_rows, n_cars)}")
    if np.shape(values["pit_age"]) != np.shape(values["pit_lap"]):
        raise ValueError(f"pit_age: shape {np.shape(values['pit_age'])} is not pit_lap's {np.shape(values['pit_lap'])}")
    sizes = {name: np.shape(values[array])[axis] for name, (array, axis) in L.MOJO_SIZES.items()}
    return _mojo_list(L.MOJO_RACE, {**values, **sizes})


def run_races(seed, sim0, n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
              sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
              t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
              pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
              out_position, out_time, out_stops):
    """Same contract as `workbench.kernels.numba_race.run_races` (outputs [run, car] filled in place)."""
    values = dict(locals())  # the arguments by name (`layout.KERNELS["run_races"]`)
    module = load()
    args, arrays = _race_args(values, n_runs)
    module.run_races(args, int(n_runs))
    del arrays  # alive until the kernel has returned


def run_candidates(seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
                   track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
                   vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
                   opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
                   pit_age, out_position, out_time, out_stops):
    """Same contract as `workbench.kernels.numba_race.run_candidates` (row ``k * n_runs + r``: race r, candidate k)."""
    values = dict(locals())  # the arguments by name (`layout.KERNELS["run_candidates"]`)
    module = load()
    cand_lap, cand_comp, cand_n = _i(cand_pit_lap), _i(cand_pit_compound), _i(cand_n_stops)
    if cand_lap.ndim != 2 or cand_comp.shape != cand_lap.shape or cand_n.shape != (cand_lap.shape[0],):
        raise ValueError("cand_pit_lap, cand_pit_compound: must be [candidate, stop] arrays of one shape, "
                         "cand_n_stops one number per candidate")
    if cand_lap.shape[1] > pit_lap.shape[1]:
        raise ValueError(f"pit_lap: {pit_lap.shape[1]} stops wide, narrower than the candidates' "
                         f"{cand_lap.shape[1]}")
    n_rows = len(cand_n) * int(n_runs)
    args, arrays = _race_args({**values, "sim0": 0}, n_rows)
    cand, cand_arrays = _mojo_list(L.MOJO_CANDIDATES, {**values, "n_cand": len(cand_n),
                                                        "cand_width": cand_lap.shape[1]})
    module.run_candidates(args, cand)
    del arrays, cand_arrays  # alive until the kernel has returned


def single_car_times(seed, sim0, n_runs, car, start_lap, n_laps, track, comp_offset, comp_model, comp_k1,
                     comp_k2, compound0, age0, fuel0, pace, sigma, pit_lap, pit_compound, n_stops, out_time):
    """Same contract as `workbench.kernels.numba_race.single_car_times` (``out_time`` [run] filled in place)."""
    values = dict(locals())  # the arguments by name (`layout.KERNELS["single_car_times"]`)
    module = load()
    if out_time.dtype != np.float64 or not out_time.flags.c_contiguous or out_time.shape != (n_runs,):
        raise ValueError(f"out_time: must be a C-contiguous float64 array of shape {(n_runs,)}")
    planned = min(len(pit_lap), len(pit_compound))
    if int(n_stops) > planned:
        raise ValueError(f"n_stops: {n_stops} is more than the {planned} stops planned")
    args, arrays = _mojo_list(L.MOJO_SINGLE_CAR, values)
    module.single_car_times(args)
    del arrays  # alive until the kernel has returned


def normals(seed: int, sims, cars, laps, purpose: int) -> np.ndarray:
    """Normals for arrays of keys, drawn in Mojo (for the RNG parity test)."""
    module = load()
    sims, cars, laps = _i(sims), _i(cars), _i(laps)
    out = np.empty(len(sims))
    module.normals([int(seed), int(purpose), len(sims), sims.ctypes.data, cars.ctypes.data, laps.ctypes.data,
                    out.ctypes.data])
    return out
