"""Shared constants of the race model: array layouts and fixed model numbers.

Both the numba kernel and the numpy reference read these, so the two can never
disagree on what index 3 of the track vector means.
"""

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

# Purposes (workbench.rng.Purpose values, repeated as plain ints for the kernels).
P_LAP_NOISE = 1
P_PIT_STANDSTILL = 2
P_START = 3
P_PIT_LAP_SHIFT = 4
P_SC_COUNT = 5
P_SC_START_LAP = 6
P_SC_LENGTH = 7
P_RETIREMENT = 8
P_RETIREMENT_LAP = 9
P_OVERTAKE = 10
P_VSC_COUNT = 11
P_VSC_START_LAP = 12
P_VSC_LENGTH = 13
