"""The kernel interface, declared once: argument names, order and dtypes; array layouts; fixed model numbers.

Every backend (the numba kernel, the numpy reference, the CUDA kernel, the Mojo
kernel and its loader) reads or is checked against this module, so they can never
disagree on what the 14th argument is or what index 3 of the track vector means.
``tests/unit/test_kernel_interface.py`` checks each backend's signatures and call
sites against `RACE_ARGS`, `KERNELS` and `MOJO_RACE`, and the Mojo source's argument
unpacking and ``comptime`` constants against this module, by reading its text (so
without Mojo installed).

To add a kernel argument: add it to `RACE_ARGS` (and so to `PackedRace`, whose
fields follow it), then to every backend; the test names each one that lags.
"""

import dataclasses

from workbench.rng import Purpose

# Index of each track/fuel number in the packed ``track`` vector (float64).
BASE_LAP_TIME_S = 0
PIT_LOSS_GREEN_S = 1
PIT_LOSS_VSC_S = 2
PIT_LOSS_SC_S = 3
STANDSTILL_MEDIAN_S = 4
STANDSTILL_SIGMA_LOG = 5
OVERTAKING_DIFFICULTY = 6
DRS_BONUS_S = 7
START_LOSS_S = 8
START_LOSS_PER_SLOT_S = 9
START_SIGMA_S = 10
SC_FACTOR = 11
VSC_FACTOR = 12
MIN_GAP_S = 13
FUEL_MASS_EFFECT_S_PER_KG = 14
FUEL_BURN_KG_PER_LAP = 15
DRS_GAIN_S = 16  # lap time gained within DRS_WINDOW_S of the car ahead on a green lap (0 without DRS)
NOISE_SCALE = 17  # multiplies every lap-noise normal: 1.0, or 0.0 in deterministic mode
DETERMINISTIC_PASS = 18  # 1.0: a pass happens when margin + DRS bonus > PASS_THRESHOLD_S (no draw)
PASS_THRESHOLD_S = 19  # the deterministic pass threshold on the pace margin, in s
N_TRACK = 20

# Track status codes of the per-lap status vector.
FREE = -1  # not forced: random neutralisations may go here, otherwise green
GREEN = 0
SC = 1
VSC = 2

# Degradation model codes.
LINEAR = 0
QUADRATIC = 1
LOGARITHMIC = 2

# Fixed model numbers (after Heilmeier et al. 2020 and the telemetry simulator's calibration).
SC_GAP_S = 0.8  # closest gap behind the car ahead that a car closes up to under SC
SC_EARLY_STOP_LAPS = 8  # an opportunistic car due to stop within this many laps stops under SC/VSC
NEUTRAL_BURN_FACTOR = 0.6  # fuel burnt per neutralised lap relative to a green lap
VSC_NOISE_S = 0.1  # lap-time noise under VSC
PASS_SCALE_S = 0.6  # pace margin at which a pass gets 63% of its maximum probability
PASS_HOLD_S = 0.2  # a passed car crosses the line this far behind the passer
IN_LAP_SHARE = 0.35  # share of the pit time paid on the in-lap (rest on the out-lap)
PIT_SHIFT_SIGMA_LAPS = 1.5  # spread of a rival's stop lap around its plan
MIN_STINT_LAPS = 3  # a rival's shifted stops stay at least this far apart
DRS_WINDOW_S = 1.0  # gap at the line behind the car ahead that opens DRS on the next green lap
GRID_SLOT_S = 0.2  # start-line crossing delay per grid slot behind pole (sets the lap-1 running order)

# Purposes of the kernels' draws: `workbench.rng.Purpose` values as plain ints (numba and Mojo take ints).
P_LAP_NOISE = int(Purpose.LAP_NOISE)
P_PIT_STANDSTILL = int(Purpose.PIT_STANDSTILL)
P_START = int(Purpose.START)
P_PIT_LAP_SHIFT = int(Purpose.PIT_LAP_SHIFT)
P_SC_COUNT = int(Purpose.SC_COUNT)
P_SC_START_LAP = int(Purpose.SC_START_LAP)  # P_SC_COUNT + 1 in _place_phases
P_SC_LENGTH = int(Purpose.SC_LENGTH)  # P_SC_COUNT + 2
P_RETIREMENT = int(Purpose.RETIREMENT)
P_RETIREMENT_LAP = int(Purpose.RETIREMENT_LAP)
P_OVERTAKE = int(Purpose.OVERTAKE)
P_VSC_COUNT = int(Purpose.VSC_COUNT)
P_VSC_START_LAP = int(Purpose.VSC_START_LAP)  # P_VSC_COUNT + 1
P_VSC_LENGTH = int(Purpose.VSC_LENGTH)  # P_VSC_COUNT + 2


# -- the kernel arguments ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Arg:
    """One kernel argument.

    Attributes
    ----------
    name : str
        The parameter name in every backend.
    dtype : str
        ``"int64"``, ``"float64"`` or ``"bool"``: the numpy dtype of an array, or of a scalar's value.
    ndim : int
        0 for a scalar, else the array's number of dimensions.
    doc : str
        What it holds; ``[car]``, ``[lap]`` ... name the axes.
    """

    name: str
    dtype: str
    ndim: int
    doc: str = ""


def _a(name: str, dtype: str, ndim: int, doc: str = "") -> Arg:
    return Arg(name, dtype, ndim, doc)


# The race model: `workbench.race.model.PackedRace`'s fields in this order, `PackedRace.kernel_args()`.
RACE_ARGS: tuple[Arg, ...] = (
    _a("start_lap", "int64", 0, "laps already run (0 from the grid)"),
    _a("n_laps", "int64", 0, "race distance in laps"),
    _a("track", "float64", 1, "[N_TRACK] track and fuel numbers, indexed by the constants above"),
    _a("comp_offset", "float64", 1, "[compound] pace offset, s"),
    _a("comp_model", "int64", 1, "[compound] degradation model code (LINEAR, QUADRATIC, LOGARITHMIC)"),
    _a("comp_k1", "float64", 1, "[compound] first degradation coefficient"),
    _a("comp_k2", "float64", 1, "[compound] second degradation coefficient"),
    _a("sc_count_cdf", "float64", 1, "cumulative distribution of the number of SC phases"),
    _a("sc_len_cdf", "float64", 1, "cumulative distribution of an SC phase's length - 1, laps"),
    _a("vsc_count_cdf", "float64", 1, "cumulative distribution of the number of VSC phases"),
    _a("vsc_len_cdf", "float64", 1, "cumulative distribution of a VSC phase's length - 1, laps"),
    _a("retire_p", "float64", 0, "probability that a car retires in a race"),
    _a("forced_status", "int64", 1, "[lap] track status forced on a lap, or FREE (index 0 unused)"),
    _a("t0", "float64", 1, "[car] race time at the start of the first lap simulated, s"),
    _a("alive0", "bool", 1, "[car] still running"),
    _a("compound0", "int64", 1, "[car] compound fitted"),
    _a("age0", "int64", 1, "[car] tyre age, laps"),
    _a("fuel0", "float64", 1, "[car] fuel on board, kg"),
    _a("pace", "float64", 1, "[car] pace offset, s"),
    _a("sigma", "float64", 1, "[car] lap-time noise, s"),
    _a("grid", "int64", 1, "[car] grid slot (1-based)"),
    _a("opportunistic", "bool", 1, "[car] stops early under SC/VSC"),
    _a("shift_plan", "bool", 1, "[car] stop laps shifted at random around the plan"),
    _a("pit_lap", "int64", 2, "[car, stop] planned stop laps"),
    _a("pit_compound", "int64", 2, "[car, stop] compound fitted at each stop"),
    _a("n_stops", "int64", 1, "[car] planned stops"),
    _a("neutral_from", "float64", 1, "[lap] share of a forced SC/VSC lap run green before it comes out"),
    _a("deg_factor", "float64", 1, "[car] multiplies every compound's degradation"),
    _a("retire_at", "int64", 1, "[car] forced retirement at the end of this lap (0: none)"),
    _a("pit_age", "int64", 2, "[car, stop] age of the set fitted at each stop"),
)
RACE_ARG_NAMES: tuple[str, ...] = tuple(a.name for a in RACE_ARGS)

# Outputs of the full-field kernels, filled in place, [row, car].
OUTPUT_ARGS: tuple[Arg, ...] = (
    _a("out_position", "int64", 2, "[row, car] finishing position (1-based; retired cars last)"),
    _a("out_time", "float64", 2, "[row, car] race time, s (NaN: retired)"),
    _a("out_stops", "int64", 2, "[row, car] stops made"),
)

# What comes before the race model in each entry point.
RUN_RACES_HEAD: tuple[Arg, ...] = (
    _a("seed", "int64", 0, "the RNG seed"),
    _a("sim0", "int64", 0, "number of the first race"),
    _a("n_runs", "int64", 0, "races to run"),
)
RUN_CANDIDATES_HEAD: tuple[Arg, ...] = (
    _a("seed", "int64", 0, "the RNG seed"),
    _a("n_runs", "int64", 0, "races per candidate (races 0 .. n_runs - 1)"),
    _a("our_car", "int64", 0, "index of the car whose plan the candidates replace"),
    _a("cand_pit_lap", "int64", 2, "[candidate, stop] stop laps"),
    _a("cand_pit_compound", "int64", 2, "[candidate, stop] compounds fitted"),
    _a("cand_n_stops", "int64", 1, "[candidate] stops"),
)

_RACE = {a.name: a for a in RACE_ARGS}

# One car alone on track (the pre-screen): the car's own values where the full field has [car] arrays.
SINGLE_CAR_ARGS: tuple[Arg, ...] = (
    *RUN_RACES_HEAD,
    _a("car", "int64", 0, "the car's index (keys its draws)"),
    *(_RACE[n] for n in ("start_lap", "n_laps", "track", "comp_offset", "comp_model", "comp_k1", "comp_k2")),
    _a("compound0", "int64", 0, "compound fitted"),
    _a("age0", "int64", 0, "tyre age, laps"),
    _a("fuel0", "float64", 0, "fuel on board, kg"),
    _a("pace", "float64", 0, "pace offset, s"),
    _a("sigma", "float64", 0, "lap-time noise, s"),
    _a("pit_lap", "int64", 1, "[stop] planned stop laps"),
    _a("pit_compound", "int64", 1, "[stop] compound fitted at each stop"),
    _a("n_stops", "int64", 0, "planned stops"),
    _a("out_time", "float64", 1, "[run] race time, s (filled in place)"),
)

# Every backend's entry points take exactly these arguments, in this order.
KERNELS: dict[str, tuple[Arg, ...]] = {
    "run_races": (*RUN_RACES_HEAD, *RACE_ARGS, *OUTPUT_ARGS),
    "run_candidates": (*RUN_CANDIDATES_HEAD, *RACE_ARGS, *OUTPUT_ARGS),
    "single_car_times": SINGLE_CAR_ARGS,
}


def names(args: tuple[Arg, ...]) -> tuple[str, ...]:
    """The names of ``args``, in order."""
    return tuple(a.name for a in args)


# -- the Mojo kernel's argument lists -------------------------------------------------------
# The Mojo module takes Python lists of ints, floats and array addresses. Each element's Mojo
# type follows from the declaration: a scalar is an Int or a Float64, an array's address an FP
# (float64) or an IP (int64; bool arrays are passed as int64).

# Sizes the Mojo kernel cannot read off its raw pointers: name -> (array, axis).
MOJO_SIZES: dict[str, tuple[str, int]] = {
    "n_cars": ("t0", 0),
    "width": ("pit_lap", 1),
    "n_sc_count": ("sc_count_cdf", 0),
    "n_sc_len": ("sc_len_cdf", 0),
    "n_vsc_count": ("vsc_count_cdf", 0),
    "n_vsc_len": ("vsc_len_cdf", 0),
}

# `Race` in the .mojo source: seed, first race, the sizes, the race model, the outputs.
MOJO_RACE: tuple[Arg, ...] = (
    _a("seed", "int64", 0), _a("sim0", "int64", 0),
    *(_a(n, "int64", 0) for n in MOJO_SIZES),
    *RACE_ARGS, *OUTPUT_ARGS,
)
# The second list of the Mojo `run_candidates`.
MOJO_CANDIDATES: tuple[Arg, ...] = (
    _a("our_car", "int64", 0), _a("n_runs", "int64", 0), _a("n_cand", "int64", 0), _a("cand_width", "int64", 0),
    *RUN_CANDIDATES_HEAD[3:],
)
# `SingleCar` in the .mojo source.
MOJO_SINGLE_CAR: tuple[Arg, ...] = SINGLE_CAR_ARGS


def mojo_type(arg: Arg) -> str:
    """The Mojo type that receives ``arg``: ``Int``, ``Float64``, ``FP`` or ``IP``."""
    if arg.ndim == 0:
        return "Float64" if arg.dtype == "float64" else "Int"
    return "FP" if arg.dtype == "float64" else "IP"
