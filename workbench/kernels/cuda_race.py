"""Full-field Monte Carlo race kernel for NVIDIA GPUs (numba-cuda; the optional ``gpu`` extra).

The race step is `workbench.kernels.race_step`, the same source the CPU kernel
(`workbench.kernels.numba_race`) compiles: here it and the random number
functions of `workbench.kernels.numba_rng` are compiled with
``cuda.jit(device=True)`` by `workbench.kernels.retarget.compile_functions`.
One thread simulates one (candidate, race) pair; every pair of a call goes in
one launch. Races are keyed exactly as on the CPU, so positions and stops are
identical and race times agree to the last bits of the GPU's ``exp``/``log``.

Two entry points:

* `run_races` / `run_candidates`: the CPU kernels' signatures, full ``[row, car]``
  outputs copied back (``simulate``, what-if, parity tests).
* `candidate_summaries`: `decide`'s reduction done on the GPU, so only summaries
  come back: per candidate our car's position histogram, points total, finisher
  count and race-time quantiles. The quantiles are histogram-based (see
  `TIME_BINS`): within half a bin width, ``(max - min) / (2 * TIME_BINS)`` of that
  candidate's finishers' race times (about 0.007 s for a 60 s spread), of the
  exact sample quantile (`histogram_quantile`).

Limits (checked, with a clear error): at most `MAX_CARS` cars, `MAX_LAPS` laps and
`MAX_STOPS` planned stops per car, fixed because a GPU thread's scratch arrays are
sized at compile time.

Importing this module needs numba-cuda; `workbench.kernels.select` says whether
it is installed and whether a GPU (or the simulator, ``NUMBA_ENABLE_CUDASIM=1``)
is there.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np

from workbench.kernels import layout as L
from workbench.kernels import numba_rng, race_step
from workbench.kernels.retarget import compile_functions
from workbench.kernels.select import numpy_compat

numpy_compat()  # before numba.cuda loads: np.row_stack on numpy >= 2.5

from numba import cuda  # noqa: E402
from numba.cuda import config as cuda_config  # noqa: E402

MAX_CARS = 32
MAX_LAPS = 127
MAX_STOPS = 8
THREADS_PER_BLOCK = 128
TIME_BINS = 4096  # race-time histogram bins per candidate (quantile resolution: range / TIME_BINS)

# positions in `layout.RACE_ARGS` (`PackedRace.kernel_args()`)
_N_LAPS, _T0, _PIT_LAP = (L.RACE_ARG_NAMES.index(n) for n in ("n_laps", "t0", "pit_lap"))
_STATUS_LEN = MAX_LAPS + 1  # a compile-time constant for cuda.local.array
_NF = race_step.N_FLOAT_SCRATCH
_NI = race_step.N_INT_SCRATCH

_device = cuda.jit(device=True)
_RNG = compile_functions([numba_rng._mix, numba_rng.key_hash, numba_rng.uniform, numba_rng.inverse_normal_cdf,
                          numba_rng.normal, numba_rng.car_prefix, numba_rng.uniform_at, numba_rng.normal_at],
                         _device)
_STEP = compile_functions([race_step._count_le, race_step._place_phases, race_step.degradation_s,
                           race_step._sort_order, race_step._normals_block, race_step.round_half_even,
                           race_step.race_one], _device, bound=_RNG)
_race_one = _STEP["race_one"]


@cuda.jit(device=True)
def _pair(j, seed, sim0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
          track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf,
          retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic,
          shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at, pit_age,
          out_position, out_time, out_stops, row):
    """Race ``j`` of the launch: candidate ``j // n_runs`` (when ``our_car >= 0``), race ``sim0 + j % n_runs``."""
    k = j // n_runs
    n_cars = t0.shape[0]
    width = pit_lap.shape[1]
    pl = cuda.local.array((MAX_CARS, MAX_STOPS), np.int64)
    pc = cuda.local.array((MAX_CARS, MAX_STOPS), np.int64)
    pa = cuda.local.array((MAX_CARS, MAX_STOPS), np.int64)
    ns = cuda.local.array(MAX_CARS, np.int64)
    for c in range(n_cars):
        ns[c] = n_stops[c]
        for s in range(MAX_STOPS):
            pl[c, s] = pit_lap[c, s] if s < width else 0
            pc[c, s] = pit_compound[c, s] if s < width else 0
            pa[c, s] = pit_age[c, s] if s < width else 0
    if our_car >= 0:
        for s in range(cand_pit_lap.shape[1]):
            pl[our_car, s] = cand_pit_lap[k, s]
            pc[our_car, s] = cand_pit_compound[k, s]
        ns[our_car] = cand_n_stops[k]
    status = cuda.local.array(_STATUS_LEN, np.int64)
    stops = cuda.local.array((MAX_CARS, MAX_STOPS), np.int64)
    prefix = cuda.local.array(MAX_CARS, np.uint64)
    fs = cuda.local.array((_NF, MAX_CARS), np.float64)
    iscr = cuda.local.array((_NI, MAX_CARS), np.int64)
    _race_one(seed, sim0 + j - k * n_runs, start_lap, n_laps, track, comp_offset, comp_model, comp_k1, comp_k2,
              sc_count_cdf, sc_len_cdf, vsc_count_cdf, vsc_len_cdf, retire_p, forced_status,
              t0, alive0, compound0, age0, fuel0, pace, sigma, grid, opportunistic, shift_plan,
              pl, pc, ns, neutral_from, deg_factor, retire_at, pa, out_position, out_time, out_stops, row,
              status, stops, prefix, fs, iscr)


@cuda.jit
def _full_kernel(n_rows, seed, sim0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap,
                 n_laps, track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
                 vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
                 opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
                 pit_age, out_position, out_time, out_stops):
    j = cuda.grid(1)
    if j < n_rows:
        _pair(j, seed, sim0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
              track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
              vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
              opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
              pit_age, out_position, out_time, out_stops, j)


@cuda.jit
def _summary_kernel(n_rows, seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap,
                    n_laps, track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf,
                    vsc_count_cdf, vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace,
                    sigma, grid, opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from,
                    deg_factor, retire_at, pit_age, points, hist, points_sum, t_min, t_max, our_time):
    """Pass 1 of the reduction: histogram, points, time range; our car's time kept on the device."""
    j = cuda.grid(1)
    if j >= n_rows:
        return
    pos = cuda.local.array((1, MAX_CARS), np.int64)
    tim = cuda.local.array((1, MAX_CARS), np.float64)
    stp = cuda.local.array((1, MAX_CARS), np.int64)
    _pair(j, seed, 0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, start_lap, n_laps,
          track, comp_offset, comp_model, comp_k1, comp_k2, sc_count_cdf, sc_len_cdf, vsc_count_cdf,
          vsc_len_cdf, retire_p, forced_status, t0, alive0, compound0, age0, fuel0, pace, sigma, grid,
          opportunistic, shift_plan, pit_lap, pit_compound, n_stops, neutral_from, deg_factor, retire_at,
          pit_age, pos, tim, stp, 0)
    k = j // n_runs
    p = pos[0, our_car]
    cuda.atomic.add(hist, (k, p - 1), 1)
    cuda.atomic.add(points_sum, k, points[p - 1])
    t = tim[0, our_car]
    our_time[j] = t
    if not math.isnan(t):
        cuda.atomic.min(t_min, k, t)
        cuda.atomic.max(t_max, k, t)


@cuda.jit
def _time_hist_kernel(n_rows, n_runs, our_time, t_min, t_max, time_hist):
    """Pass 2 of the reduction: each candidate's finishers' race times into `TIME_BINS` bins."""
    j = cuda.grid(1)
    if j >= n_rows:
        return
    t = our_time[j]
    if math.isnan(t):
        return
    k = j // n_runs
    span = t_max[k] - t_min[k]
    b = 0
    if span > 0.0:
        b = min(TIME_BINS - 1, int((t - t_min[k]) / span * TIME_BINS))
    cuda.atomic.add(time_hist, (k, b), 1)


def _check_limits(n_cars: int, n_laps: int, width: int) -> None:
    for name, value, limit in (("cars", n_cars, MAX_CARS), ("laps", n_laps, MAX_LAPS),
                               ("planned stops per car", width, MAX_STOPS)):
        if value > limit:
            raise ValueError(f"backend cuda: {name} = {value} exceeds the GPU kernel's limit of {limit}")


@contextlib.contextmanager
def _launching() -> Iterator[None]:
    """Under the simulator, silence numpy's uint64 wrap-around warnings (the hash wraps by design)."""
    with warnings.catch_warnings():
        if cuda_config.ENABLE_CUDASIM:
            warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning)
        yield


def _launch_shape(n_rows: int) -> tuple[int, int]:
    """(blocks, threads per block) covering ``n_rows`` threads.

    Under the simulator a block's threads run as concurrent Python threads that
    contend for the interpreter: one thread per block (blocks run one after another)
    made a 10-candidate decision 190x faster there (0.7 s against 130 s, measured).
    The kernels use no shared memory or barriers, so the results do not depend on it.
    """
    threads = 1 if cuda_config.ENABLE_CUDASIM else THREADS_PER_BLOCK
    return max(1, (n_rows + threads - 1) // threads), threads


def _launch_full(seed, sim0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, args, out_position,
                 out_time, out_stops):
    _check_limits(args[_T0].shape[0], int(args[_N_LAPS]), max(args[_PIT_LAP].shape[1], cand_pit_lap.shape[1]))
    n_rows = out_position.shape[0]
    if n_rows == 0:
        return
    d_args = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    d_pos, d_time, d_stops = (cuda.device_array_like(out_position), cuda.device_array_like(out_time),
                              cuda.device_array_like(out_stops))
    with _launching():
        _full_kernel[_launch_shape(n_rows)](
            n_rows, seed, sim0, n_runs, our_car, cuda.to_device(cand_pit_lap), cuda.to_device(cand_pit_compound),
            cuda.to_device(cand_n_stops), *d_args, d_pos, d_time, d_stops)
    d_pos.copy_to_host(out_position)
    d_time.copy_to_host(out_time)
    d_stops.copy_to_host(out_stops)


def run_races(seed, sim0, n_runs, *args):
    """`workbench.kernels.numba_race.run_races` on the GPU (same arguments, same outputs)."""
    *model, out_position, out_time, out_stops = args
    none = np.zeros((1, 1), dtype=np.int64)
    _launch_full(seed, sim0, max(1, n_runs), -1, none, none, np.zeros(1, dtype=np.int64), model,
                 out_position[:n_runs], out_time[:n_runs], out_stops[:n_runs])


def run_candidates(seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, *args):
    """`workbench.kernels.numba_race.run_candidates` on the GPU: one launch over every (candidate, race) pair."""
    *model, out_position, out_time, out_stops = args
    _launch_full(seed, 0, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, model,
                 out_position, out_time, out_stops)


def histogram_quantile(hist: np.ndarray, lo: float, hi: float, q: float) -> float:
    """Quantile ``q`` of a sample known only as ``hist``, ``len(hist)`` equal bins over ``[lo, hi]``.

    `numpy.quantile`'s default (linear) rule, with each order statistic replaced by
    the centre of the bin it fell in (half a bin width off at most): the answer is
    within half a bin width, ``(hi - lo) / (2 * len(hist))``, of the exact sample quantile.
    """
    n = int(hist.sum())
    if n == 0:
        return float("nan")
    if hi <= lo:
        return float(lo)
    rank = q * (n - 1)
    below, frac = int(math.floor(rank)), rank - math.floor(rank)
    cum = np.cumsum(hist)
    width = (hi - lo) / len(hist)

    def order_stat(i: int) -> float:
        return lo + (int(np.searchsorted(cum, i, side="right")) + 0.5) * width

    x0 = order_stat(below)
    return float(x0 if frac == 0.0 else x0 + frac * (order_stat(min(below + 1, n - 1)) - x0))


def candidate_summaries(seed, n_runs, our_car, cand_pit_lap, cand_pit_compound, cand_n_stops, points, *model,
                        quantiles=(0.1, 0.5, 0.9)) -> dict[str, np.ndarray]:
    """`decide`'s per-candidate summaries of ``our_car``, reduced on the GPU.

    Returns
    -------
    dict
        ``position_hist`` [cand, car] (counts of each finishing position),
        ``points_sum`` [cand], ``finished`` [cand] (races our car finished) and
        ``time_quantiles_s`` [cand, len(quantiles)] (histogram-based, see the module).
    """
    n_cand = int(cand_n_stops.size)
    n_cars = model[_T0].shape[0]
    _check_limits(n_cars, int(model[_N_LAPS]), max(model[_PIT_LAP].shape[1], cand_pit_lap.shape[1]))
    n_rows = n_cand * n_runs
    d_model = [cuda.to_device(a) if isinstance(a, np.ndarray) else a for a in model]
    hist = cuda.to_device(np.zeros((n_cand, n_cars), dtype=np.int64))
    points_sum = cuda.to_device(np.zeros(n_cand))
    t_min = cuda.to_device(np.full(n_cand, np.inf))
    t_max = cuda.to_device(np.full(n_cand, -np.inf))
    our_time = cuda.device_array(n_rows)
    time_hist = cuda.to_device(np.zeros((n_cand, TIME_BINS), dtype=np.int64))
    with _launching():
        _summary_kernel[_launch_shape(n_rows)](
            n_rows, seed, n_runs, our_car, cuda.to_device(cand_pit_lap), cuda.to_device(cand_pit_compound),
            cuda.to_device(cand_n_stops), *d_model, cuda.to_device(np.asarray(points, dtype=np.float64)), hist,
            points_sum, t_min, t_max, our_time)
        _time_hist_kernel[_launch_shape(n_rows)](n_rows, n_runs, our_time, t_min, t_max, time_hist)
    h, th, lo, hi = hist.copy_to_host(), time_hist.copy_to_host(), t_min.copy_to_host(), t_max.copy_to_host()
    tq = np.array([[histogram_quantile(th[k], lo[k], hi[k], q) for q in quantiles] for k in range(n_cand)])
    return {"position_hist": h, "points_sum": points_sum.copy_to_host(), "finished": th.sum(axis=1),
            "time_quantiles_s": tq.reshape(n_cand, len(quantiles))}
