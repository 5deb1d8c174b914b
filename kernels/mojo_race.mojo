# Full-field Monte Carlo race kernel in Mojo: the same model and the same random numbers
# as workbench/kernels/numba_race.py (race_one / run_races); read the two side by side.
# Built and imported by workbench/kernels/mojo_backend.py (optional extra: pip install
# .[mojo]), which finds this file through workbench.paths.kernel_source (kernels/ in a
# checkout, workbench/_kernels in a wheel).

from std.python import PythonObject
from std.python.bindings import PythonModuleBuilder
from std.os import abort
from std.math import sqrt, floor
from std.ffi import external_call
from std.sys.intrinsics import compressed_store
from max.algorithm import parallelize

comptime FP = UnsafePointer[Float64, MutUntrackedOrigin]
comptime IP = UnsafePointer[Int64, MutUntrackedOrigin]

comptime GOLDEN: UInt64 = 0x9E3779B97F4A7C15
comptime M1: UInt64 = 0xBF58476D1CE4E5B9
comptime M2: UInt64 = 0x94D049BB133111EB
comptime INV_2_53: Float64 = 1.0 / 9007199254740992.0
comptime P_LOW: Float64 = 0.02425
comptime P_HIGH: Float64 = 1.0 - 0.02425
# Acklam's inverse normal CDF (workbench/rng.py _A, _B, _C, _D)
comptime A0: Float64 = -3.969683028665376e01
comptime A1: Float64 = 2.209460984245205e02
comptime A2: Float64 = -2.759285104469687e02
comptime A3: Float64 = 1.383577518672690e02
comptime A4: Float64 = -3.066479806614716e01
comptime A5: Float64 = 2.506628277459239e00
comptime B0: Float64 = -5.447609879822406e01
comptime B1: Float64 = 1.615858368580409e02
comptime B2: Float64 = -1.556989798598866e02
comptime B3: Float64 = 6.680131188771972e01
comptime B4: Float64 = -1.328068155288572e01
comptime C0: Float64 = -7.784894002430293e-03
comptime C1: Float64 = -3.223964580411365e-01
comptime C2: Float64 = -2.400758277161838e00
comptime C3: Float64 = -2.549732539343734e00
comptime C4: Float64 = 4.374664141464968e00
comptime C5: Float64 = 2.938163982698783e00
comptime D0: Float64 = 7.784695709041462e-03
comptime D1: Float64 = 3.224671290700398e-01
comptime D2: Float64 = 2.445134137142996e00
comptime D3: Float64 = 3.754408661907416e00

# workbench/kernels/layout.py, value for value (tests/unit/test_kernel_interface.py reads this file)
comptime BASE_LAP_TIME_S = 0
comptime PIT_LOSS_GREEN_S = 1
comptime PIT_LOSS_VSC_S = 2
comptime PIT_LOSS_SC_S = 3
comptime STANDSTILL_MEDIAN_S = 4
comptime STANDSTILL_SIGMA_LOG = 5
comptime OVERTAKING_DIFFICULTY = 6
comptime DRS_BONUS_S = 7
comptime START_LOSS_S = 8
comptime START_LOSS_PER_SLOT_S = 9
comptime START_SIGMA_S = 10
comptime SC_FACTOR = 11
comptime VSC_FACTOR = 12
comptime MIN_GAP_S = 13
comptime FUEL_MASS_EFFECT_S_PER_KG = 14
comptime FUEL_BURN_KG_PER_LAP = 15
comptime DRS_GAIN_S = 16
comptime NOISE_SCALE = 17
comptime DETERMINISTIC_PASS = 18
comptime PASS_THRESHOLD_S = 19
comptime FREE = -1
comptime GREEN = 0
comptime SC = 1
comptime VSC = 2
comptime LINEAR = 0
comptime QUADRATIC = 1
comptime SC_GAP_S: Float64 = 0.8
comptime SC_EARLY_STOP_LAPS = 8
comptime NEUTRAL_BURN_FACTOR: Float64 = 0.6
comptime VSC_NOISE_S: Float64 = 0.1
comptime PASS_SCALE_S: Float64 = 0.6
comptime PASS_HOLD_S: Float64 = 0.2
comptime IN_LAP_SHARE: Float64 = 0.35
comptime PIT_SHIFT_SIGMA_LAPS: Float64 = 1.5
comptime MIN_STINT_LAPS = 3
comptime DRS_WINDOW_S: Float64 = 1.0
comptime P_LAP_NOISE = 1
comptime P_PIT_STANDSTILL = 2
comptime P_START = 3
comptime P_PIT_LAP_SHIFT = 4
comptime P_SC_COUNT = 5
comptime P_RETIREMENT = 8
comptime P_RETIREMENT_LAP = 9
comptime P_OVERTAKE = 10
comptime P_VSC_COUNT = 11


@export
def PyInit_mojo_race() abi("C") -> PythonObject:
    try:
        var m = PythonModuleBuilder("mojo_race")
        m.def_function[run_races]("run_races", docstring="Full-field races; see numba_race.run_races.")
        m.def_function[run_candidates]("run_candidates",
                                       docstring="Races 0..n_runs-1 per candidate plan; see numba_race.run_candidates.")
        m.def_function[normals]("normals", docstring="Normals for (seed, sim, car, lap, purpose) keys.")
        m.def_function[single_car_times]("single_car_times",
                                         docstring="One car alone on track; see numba_race.single_car_times.")
        return m.finalize()
    except e:
        abort(t"error creating the mojo_race module: {e}")


# The C library's log/exp/log1p, as numba and workbench.rng use: same last bits everywhere.
@always_inline
def log(x: Float64) -> Float64:
    return external_call["log", Float64](x)


@always_inline
def exp(x: Float64) -> Float64:
    return external_call["exp", Float64](x)


@always_inline
def log1p(x: Float64) -> Float64:
    return external_call["log1p", Float64](x)


@always_inline
def mix(x0: UInt64) -> UInt64:
    var x = x0
    x = x ^ (x >> 30)
    x = x * M1
    x = x ^ (x >> 27)
    x = x * M2
    return x ^ (x >> 31)


@always_inline
def car_prefix(seed: Int, sim: Int, car: Int) -> UInt64:
    var h = mix(UInt64(0) + GOLDEN + UInt64(seed))
    h = mix(h + GOLDEN + UInt64(sim))
    return mix(h + GOLDEN + UInt64(car))


@always_inline
def uniform_at(prefix: UInt64, lap: Int, purpose: Int) -> Float64:
    var h = mix(prefix + GOLDEN + UInt64(lap))
    h = mix(h + GOLDEN + UInt64(purpose))
    return (Float64(h >> 11) + 0.5) * INV_2_53


@always_inline
def uniform(seed: Int, sim: Int, car: Int, lap: Int, purpose: Int) -> Float64:
    return uniform_at(car_prefix(seed, sim, car), lap, purpose)


def inverse_normal_cdf(p: Float64) -> Float64:
    if p < P_LOW:
        var q = sqrt(-2.0 * log(p))
        return ((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
    if p > P_HIGH:
        var q = sqrt(-2.0 * log(1.0 - p))
        return -((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                 / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
    var q = p - 0.5
    var r = q * q
    return ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q
            / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1.0))


@always_inline
def normal_at(prefix: UInt64, lap: Int, purpose: Int) -> Float64:
    return inverse_normal_cdf(uniform_at(prefix, lap, purpose))


def rint(x: Float64) -> Float64:
    """Round half to even, like numpy.rint."""
    var r = floor(x)
    var d = x - r
    if d > 0.5:
        return r + 1.0
    if d < 0.5:
        return r
    if Int(r) % 2 != 0:
        return r + 1.0
    return r


def count_le(cdf: FP, n: Int, u: Float64) -> Int:
    var k = 0
    for i in range(n):
        if cdf.unsafe_load(i) <= u:
            k += 1
    return k


def place_phases(seed: Int, sim: Int, n_laps: Int, start_lap: Int, count_cdf: FP, n_count: Int, len_cdf: FP,
                 n_len: Int, purpose0: Int, kind: Int, mut status: List[Int]):
    var n = count_le(count_cdf, n_count, uniform(seed, sim, 0, 0, purpose0))
    for i in range(n):
        var first = 2 + Int(uniform(seed, sim, i, 0, purpose0 + 1) * Float64(max(1, n_laps - 5)))
        var length = 1 + count_le(len_cdf, n_len, uniform(seed, sim, i, 0, purpose0 + 2))
        var last = min(n_laps - 1, first + length - 1)
        if first <= start_lap or first > last:
            continue
        var ok = True
        for lap in range(first, last + 2):
            if lap <= n_laps and status[lap] != FREE:
                ok = False
        if ok:
            for lap in range(first, last + 1):
                status[lap] = kind


@always_inline
def degradation_s(model: Int, k1: Float64, k2: Float64, age: Int) -> Float64:
    var a = Float64(age)
    if model == LINEAR:
        return k1 * a
    if model == QUADRATIC:
        return k1 * a + k2 * a * a
    return k1 * log1p(a)


def sort_order(mut order: List[Int], t: List[Float64], n: Int):
    for i in range(1, n):
        var c = order[i]
        var j = i - 1
        while j >= 0 and (t[order[j]] > t[c] or (t[order[j]] == t[c] and order[j] > c)):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = c


struct Race(Copyable):
    """The argument list of run_races / run_candidates: workbench/kernels/layout.py MOJO_RACE, in its order."""
    var seed: Int
    var sim0: Int
    var n_cars: Int
    var width: Int
    var n_sc_count: Int
    var n_sc_len: Int
    var n_vsc_count: Int
    var n_vsc_len: Int
    var start_lap: Int
    var n_laps: Int
    var track: FP
    var comp_offset: FP
    var comp_model: IP
    var comp_k1: FP
    var comp_k2: FP
    var sc_count_cdf: FP
    var sc_len_cdf: FP
    var vsc_count_cdf: FP
    var vsc_len_cdf: FP
    var retire_p: Float64
    var forced_status: IP
    var t0: FP
    var alive0: IP
    var compound0: IP
    var age0: IP
    var fuel0: FP
    var pace: FP
    var sigma: FP
    var grid: IP
    var opportunistic: IP
    var shift_plan: IP
    var pit_lap: IP
    var pit_compound: IP
    var n_stops: IP
    var neutral_from: FP
    var deg_factor: FP
    var retire_at: IP
    var pit_age: IP
    var out_position: IP
    var out_time: FP
    var out_stops: IP

    def __init__(out self, a: PythonObject) raises:
        self.seed = Int(py=a[0])
        self.sim0 = Int(py=a[1])
        self.n_cars = Int(py=a[2])
        self.width = Int(py=a[3])
        self.n_sc_count = Int(py=a[4])
        self.n_sc_len = Int(py=a[5])
        self.n_vsc_count = Int(py=a[6])
        self.n_vsc_len = Int(py=a[7])
        self.start_lap = Int(py=a[8])
        self.n_laps = Int(py=a[9])
        self.track = FP(unsafe_from_address=Int(py=a[10]))
        self.comp_offset = FP(unsafe_from_address=Int(py=a[11]))
        self.comp_model = IP(unsafe_from_address=Int(py=a[12]))
        self.comp_k1 = FP(unsafe_from_address=Int(py=a[13]))
        self.comp_k2 = FP(unsafe_from_address=Int(py=a[14]))
        self.sc_count_cdf = FP(unsafe_from_address=Int(py=a[15]))
        self.sc_len_cdf = FP(unsafe_from_address=Int(py=a[16]))
        self.vsc_count_cdf = FP(unsafe_from_address=Int(py=a[17]))
        self.vsc_len_cdf = FP(unsafe_from_address=Int(py=a[18]))
        self.retire_p = Float64(py=a[19])
        self.forced_status = IP(unsafe_from_address=Int(py=a[20]))
        self.t0 = FP(unsafe_from_address=Int(py=a[21]))
        self.alive0 = IP(unsafe_from_address=Int(py=a[22]))
        self.compound0 = IP(unsafe_from_address=Int(py=a[23]))
        self.age0 = IP(unsafe_from_address=Int(py=a[24]))
        self.fuel0 = FP(unsafe_from_address=Int(py=a[25]))
        self.pace = FP(unsafe_from_address=Int(py=a[26]))
        self.sigma = FP(unsafe_from_address=Int(py=a[27]))
        self.grid = IP(unsafe_from_address=Int(py=a[28]))
        self.opportunistic = IP(unsafe_from_address=Int(py=a[29]))
        self.shift_plan = IP(unsafe_from_address=Int(py=a[30]))
        self.pit_lap = IP(unsafe_from_address=Int(py=a[31]))
        self.pit_compound = IP(unsafe_from_address=Int(py=a[32]))
        self.n_stops = IP(unsafe_from_address=Int(py=a[33]))
        self.neutral_from = FP(unsafe_from_address=Int(py=a[34]))
        self.deg_factor = FP(unsafe_from_address=Int(py=a[35]))
        self.retire_at = IP(unsafe_from_address=Int(py=a[36]))
        self.pit_age = IP(unsafe_from_address=Int(py=a[37]))
        self.out_position = IP(unsafe_from_address=Int(py=a[38]))
        self.out_time = FP(unsafe_from_address=Int(py=a[39]))
        self.out_stops = IP(unsafe_from_address=Int(py=a[40]))


def race_one(rc: Race, sim: Int, row: Int, pit_lap: IP, pit_compound: IP, n_stops: IP):
    """Race number sim into row `row` of the outputs, with the stop plans pit_lap/pit_compound/n_stops."""
    var seed = rc.seed
    var n_cars = rc.n_cars
    var n_laps = rc.n_laps
    var start_lap = rc.start_lap
    var W = rc.width
    var base = rc.track.unsafe_load(BASE_LAP_TIME_S)
    var status = List[Int](length=n_laps + 2, fill=0)
    for lap in range(n_laps + 2):
        status[lap] = Int(rc.forced_status.unsafe_load(lap))
    place_phases(seed, sim, n_laps, start_lap, rc.sc_count_cdf, rc.n_sc_count, rc.sc_len_cdf, rc.n_sc_len,
                 P_SC_COUNT, SC, status)
    place_phases(seed, sim, n_laps, start_lap, rc.vsc_count_cdf, rc.n_vsc_count, rc.vsc_len_cdf, rc.n_vsc_len,
                 P_VSC_COUNT, VSC, status)
    var retire_lap = List[Int](length=n_cars, fill=0)
    for c in range(n_cars):
        if rc.alive0.unsafe_load(c) != 0 and uniform(seed, sim, c, 0, P_RETIREMENT) < rc.retire_p:
            var lap = 1 + Int(uniform(seed, sim, c, 0, P_RETIREMENT_LAP) * Float64(n_laps))
            if lap > start_lap:
                retire_lap[c] = lap
        if rc.alive0.unsafe_load(c) != 0 and Int(rc.retire_at.unsafe_load(c)) > start_lap:
            retire_lap[c] = Int(rc.retire_at.unsafe_load(c))  # a forced retirement replaces the draw
    var stops = List[Int](length=n_cars * W, fill=0)
    for i in range(n_cars * W):
        stops[i] = Int(pit_lap.unsafe_load(i))
    for c in range(n_cars):
        if rc.shift_plan.unsafe_load(c) != 0:
            var prev = start_lap + 1 - MIN_STINT_LAPS
            for k in range(Int(n_stops.unsafe_load(c))):
                var shift = rint(PIT_SHIFT_SIGMA_LAPS * normal_at(car_prefix(seed, sim, c), k + 1, P_PIT_LAP_SHIFT))
                var lap = stops[c * W + k] + Int(shift)
                lap = min(max(lap, prev + MIN_STINT_LAPS), n_laps - 1)
                stops[c * W + k] = lap
                prev = lap
    var prefix = List[UInt64](length=n_cars, fill=0)
    var t_prev = List[Float64](length=n_cars, fill=0.0)
    var t_new = List[Float64](length=n_cars, fill=0.0)
    var lt = List[Float64](length=n_cars, fill=0.0)
    var pit_add = List[Float64](length=n_cars, fill=0.0)
    var carried = List[Float64](length=n_cars, fill=0.0)
    var fuel = List[Float64](length=n_cars, fill=0.0)
    var alive = List[Bool](length=n_cars, fill=False)
    var comp = List[Int](length=n_cars, fill=0)
    var age = List[Int](length=n_cars, fill=0)
    var done = List[Int](length=n_cars, fill=0)
    var stopping = List[Bool](length=n_cars, fill=False)
    var out_lap = List[Bool](length=n_cars, fill=False)
    var order = List[Int](length=n_cars, fill=0)
    var n_alive = 0
    for c in range(n_cars):
        prefix[c] = car_prefix(seed, sim, c)
        t_prev[c] = rc.t0.unsafe_load(c)
        alive[c] = rc.alive0.unsafe_load(c) != 0
        comp[c] = Int(rc.compound0.unsafe_load(c))
        age[c] = Int(rc.age0.unsafe_load(c))
        fuel[c] = rc.fuel0.unsafe_load(c)
        order[c] = c
        if alive[c]:
            n_alive += 1
        else:
            t_prev[c] = Float64.MAX * 2.0
    sort_order(order, t_prev, n_cars)
    var drs_gain = rc.track.unsafe_load(DRS_GAIN_S)
    var in_drs = List[Bool](length=n_cars, fill=False)
    for lap in range(start_lap + 1, n_laps + 1):
        var st = status[lap]
        if st == FREE:
            st = GREEN
        var frac = rc.neutral_from.unsafe_load(lap)  # share of the lap run green before a forced SC/VSC
        var loss = rc.track.unsafe_load(PIT_LOSS_GREEN_S)
        if st == SC:
            loss = rc.track.unsafe_load(PIT_LOSS_SC_S)
        elif st == VSC:
            loss = rc.track.unsafe_load(PIT_LOSS_VSC_S)
        var use_drs = drs_gain > 0.0 and st == GREEN and lap > 1
        if use_drs:  # within DRS_WINDOW_S of the car ahead at the line that started this lap
            for i in range(n_cars):
                in_drs[i] = False
            for i in range(1, n_alive):
                in_drs[order[i]] = t_prev[order[i]] - t_prev[order[i - 1]] < DRS_WINDOW_S
        for c in range(n_cars):
            if not alive[c]:
                continue
            age[c] += 1
            var k = comp[c]
            var z = normal_at(prefix[c], lap, P_LAP_NOISE) * rc.track.unsafe_load(NOISE_SCALE)
            var x = (base + rc.pace.unsafe_load(c) + rc.comp_offset.unsafe_load(k)
                     + rc.deg_factor.unsafe_load(c) * degradation_s(Int(rc.comp_model.unsafe_load(k)),
                                                                    rc.comp_k1.unsafe_load(k),
                                                                    rc.comp_k2.unsafe_load(k), age[c])
                     + rc.track.unsafe_load(FUEL_MASS_EFFECT_S_PER_KG) * fuel[c] + rc.sigma.unsafe_load(c) * z)
            if lap == 1:  # from the start signal; t0 is when the car crossed the start line
                x += (rc.track.unsafe_load(START_LOSS_S)
                      + rc.track.unsafe_load(START_LOSS_PER_SLOT_S) * Float64(rc.grid.unsafe_load(c) - 1)
                      + rc.track.unsafe_load(START_SIGMA_S) * normal_at(prefix[c], 1, P_START))
                x -= rc.t0.unsafe_load(c)
            if use_drs and in_drs[c]:
                x -= drs_gain
            if st == VSC:
                var xv = max(x, base * rc.track.unsafe_load(VSC_FACTOR) + VSC_NOISE_S * z)
                if frac == 0.0:
                    x = xv
                else:
                    x = frac * x + (1.0 - frac) * xv
            var stop = False
            if done[c] < Int(n_stops.unsafe_load(c)) and lap < n_laps:
                var due = stops[c * W + done[c]]
                stop = lap >= due or (rc.opportunistic.unsafe_load(c) != 0 and st != GREEN
                                      and due - lap <= SC_EARLY_STOP_LAPS)
            stopping[c] = stop
            var add = 0.0
            var carried_now = 0.0
            if stop:
                var standstill = rc.track.unsafe_load(STANDSTILL_MEDIAN_S) * exp(
                    rc.track.unsafe_load(STANDSTILL_SIGMA_LOG) * normal_at(prefix[c], lap, P_PIT_STANDSTILL))
                carried_now = loss + standstill
                add += IN_LAP_SHARE * carried_now
            if out_lap[c]:
                add += (1.0 - IN_LAP_SHARE) * carried[c]
            carried[c] = carried_now
            pit_add[c] = add
            lt[c] = x + add
            t_new[c] = t_prev[c] + lt[c]
        if st == SC:
            var sc_lap = base * rc.track.unsafe_load(SC_FACTOR)
            var ahead = -1  # the last car ahead on track (cars in the pit lane hold nobody up)
            for i in range(n_alive):
                var c = order[i]
                var own = t_prev[c] + lt[c]
                var target: Float64
                if ahead < 0:
                    target = t_prev[c] + (max(lt[c] - pit_add[c], sc_lap) + pit_add[c])
                else:
                    target = max(own, t_new[ahead] + SC_GAP_S + pit_add[c])
                if frac > 0.0:
                    target = own + (1.0 - frac) * (target - own)
                t_new[c] = target
                if not (stopping[c] or out_lap[c]):
                    ahead = c
        else:
            var min_gap = rc.track.unsafe_load(MIN_GAP_S)
            var drs = rc.track.unsafe_load(DRS_BONUS_S)
            for i in range(1, n_alive):
                var a = order[i - 1]
                var c = order[i]
                if stopping[c] or stopping[a] or out_lap[c] or out_lap[a]:
                    continue
                if t_new[c] < t_new[a] + min_gap:
                    var margin = t_new[a] - t_new[c]
                    var p = 0.0
                    if margin > -drs:
                        p = (1.0 - rc.track.unsafe_load(OVERTAKING_DIFFICULTY)) * (
                            1.0 - exp(-(margin + drs) / PASS_SCALE_S))
                    var passed: Bool
                    if rc.track.unsafe_load(DETERMINISTIC_PASS) > 0.0:
                        passed = margin + drs > rc.track.unsafe_load(PASS_THRESHOLD_S)
                    else:
                        passed = uniform_at(prefix[c], lap, P_OVERTAKE) < p
                    if passed:
                        t_new[a] = max(t_new[a], t_new[c] + PASS_HOLD_S)
                    else:
                        t_new[c] = t_new[a] + min_gap
        var burn = rc.track.unsafe_load(FUEL_BURN_KG_PER_LAP)
        if st != GREEN:
            burn *= frac + (1.0 - frac) * NEUTRAL_BURN_FACTOR
        for c in range(n_cars):
            if not alive[c]:
                continue
            fuel[c] = max(0.0, fuel[c] - burn)
            out_lap[c] = stopping[c]
            if stopping[c]:
                comp[c] = Int(pit_compound.unsafe_load(c * W + done[c]))
                age[c] = Int(rc.pit_age.unsafe_load(c * W + done[c]))  # a used set keeps its age
                done[c] += 1
            t_prev[c] = t_new[c]
            if retire_lap[c] == lap:
                alive[c] = False
                t_prev[c] = Float64.MAX * 2.0
                n_alive -= 1
        sort_order(order, t_prev, n_cars)
    for i in range(n_alive):
        var c = order[i]
        rc.out_position.unsafe_store(row * n_cars + c, Int64(i + 1))
        rc.out_time.unsafe_store(row * n_cars + c, t_prev[c])
        rc.out_stops.unsafe_store(row * n_cars + c, Int64(done[c]))
    var pos = n_alive
    for lap in range(n_laps, -1, -1):
        for c in range(n_cars):
            if not alive[c] and retire_lap[c] == lap:
                pos += 1
                rc.out_position.unsafe_store(row * n_cars + c, Int64(pos))
                rc.out_time.unsafe_store(row * n_cars + c, Float64.MAX * 0.0 / 0.0)
                rc.out_stops.unsafe_store(row * n_cars + c, Int64(done[c]))


def run_races(args: PythonObject, n_runs_obj: PythonObject) raises -> PythonObject:
    """Simulate races sim0 .. sim0 + n_runs - 1 in parallel into the output arrays."""
    var rc = Race(args)
    var n_runs = Int(py=n_runs_obj)

    def body(r: Int) {imm rc}:
        race_one(rc, rc.sim0 + r, r, rc.pit_lap, rc.pit_compound, rc.n_stops)
    parallelize(body, n_runs)
    return PythonObject(n_runs)


def run_candidates(args: PythonObject, cand: PythonObject) raises -> PythonObject:
    """Races 0 .. n_runs - 1 for each candidate plan of our car, in parallel over (candidate, race).

    `args` as for run_races (sim0 unused, outputs n_cand * n_runs rows); `cand` is
    [our_car, n_runs, n_cand, cand_width, cand_pit_lap, cand_pit_compound, cand_n_stops]
    (workbench/kernels/layout.py MOJO_CANDIDATES).
    Row k * n_runs + r is race r with candidate k, like numba_race.run_candidates.
    """
    var rc = Race(args)
    var our_car = Int(py=cand[0])
    var n_runs = Int(py=cand[1])
    var n_cand = Int(py=cand[2])
    var cand_width = Int(py=cand[3])
    var cand_pit_lap = IP(unsafe_from_address=Int(py=cand[4]))
    var cand_pit_compound = IP(unsafe_from_address=Int(py=cand[5]))
    var cand_n_stops = IP(unsafe_from_address=Int(py=cand[6]))
    var size = rc.n_cars * rc.width

    def body(j: Int) {imm rc, imm our_car, imm n_runs, imm cand_width, imm cand_pit_lap, imm cand_pit_compound,
                      imm cand_n_stops, imm size}:
        var k = j // n_runs
        var pl = List[Int64](length=size, fill=0)
        var pc = List[Int64](length=size, fill=0)
        var ns = List[Int64](length=rc.n_cars, fill=0)
        for i in range(size):
            pl[i] = rc.pit_lap.unsafe_load(i)
            pc[i] = rc.pit_compound.unsafe_load(i)
        for c in range(rc.n_cars):
            ns[c] = rc.n_stops.unsafe_load(c)
        for s in range(cand_width):
            pl[our_car * rc.width + s] = cand_pit_lap.unsafe_load(k * cand_width + s)
            pc[our_car * rc.width + s] = cand_pit_compound.unsafe_load(k * cand_width + s)
        ns[our_car] = cand_n_stops.unsafe_load(k)
        race_one(rc, j - k * n_runs, j, IP(unsafe_from_address=Int(pl.unsafe_ptr())),
                 IP(unsafe_from_address=Int(pc.unsafe_ptr())), IP(unsafe_from_address=Int(ns.unsafe_ptr())))
        _ = len(pl) + len(pc) + len(ns)  # the lists live until race_one has returned (ASAP destruction)
    parallelize(body, n_cand * n_runs)
    return PythonObject(n_cand * n_runs)


def normals(args: PythonObject) raises -> PythonObject:
    """Fill out[i] with the normal of key (seed, sims[i], cars[i], laps[i], purpose)."""
    var seed = Int(py=args[0])
    var purpose = Int(py=args[1])
    var n = Int(py=args[2])
    var sims = IP(unsafe_from_address=Int(py=args[3]))
    var cars = IP(unsafe_from_address=Int(py=args[4]))
    var laps = IP(unsafe_from_address=Int(py=args[5]))
    var out = FP(unsafe_from_address=Int(py=args[6]))
    for i in range(n):
        out.unsafe_store(i, normal_at(car_prefix(seed, Int(sims.unsafe_load(i)), Int(cars.unsafe_load(i))),
                                      Int(laps.unsafe_load(i)), purpose))
    return PythonObject(n)


# -- single car, alone on track: numba_race.single_car_times ---------------------------
# The car's plan is fixed, so the lap model's deterministic part is one number per lap
# (computed once); each race then only needs its draws. Races go SCW at a time in SIMD
# registers, all laps of a group before the next group. Every operation is the numba
# kernel's, in its order: same bits.

comptime SCW = 32  # races per SIMD group: four AVX-512 registers, so four hash chains overlap
comptime SC_CHUNK = 1024  # races per parallel work item
comptime LANES = SIMD[DType.int64, SCW](0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                        22, 23, 24, 25, 26, 27, 28, 29, 30, 31)


@always_inline
def mix_v[w: Int](x0: SIMD[DType.uint64, w]) -> SIMD[DType.uint64, w]:
    """`mix` on w lanes."""
    var x = x0
    x = x ^ (x >> 30)
    x = x * SIMD[DType.uint64, w](M1)
    x = x ^ (x >> 27)
    x = x * SIMD[DType.uint64, w](M2)
    return x ^ (x >> 31)


struct SingleCar(Copyable):
    """The arguments of numba_race.single_car_times (workbench/kernels/layout.py MOJO_SINGLE_CAR, in its
    order), and the per-lap plan derived from them."""
    var seed: Int
    var sim0: Int
    var n_runs: Int
    var car: Int
    var start_lap: Int
    var n_laps: Int
    var sigma: Float64
    var loss: Float64
    var median: Float64
    var sigma_log: Float64
    var out_time: FP
    var det: List[Float64]  # deterministic lap time, by lap
    var stop: List[Bool]  # pit stop at the end of this lap, by lap
    var stop_laps: List[Int]  # the laps with a stop, in order

    def __init__(out self, a: PythonObject) raises:
        self.seed = Int(py=a[0])
        self.sim0 = Int(py=a[1])
        self.n_runs = Int(py=a[2])
        self.car = Int(py=a[3])
        self.start_lap = Int(py=a[4])
        self.n_laps = Int(py=a[5])
        var track = FP(unsafe_from_address=Int(py=a[6]))
        var comp_offset = FP(unsafe_from_address=Int(py=a[7]))
        var comp_model = IP(unsafe_from_address=Int(py=a[8]))
        var comp_k1 = FP(unsafe_from_address=Int(py=a[9]))
        var comp_k2 = FP(unsafe_from_address=Int(py=a[10]))
        var compound0 = Int(py=a[11])
        var age0 = Int(py=a[12])
        var fuel0 = Float64(py=a[13])
        var pace = Float64(py=a[14])
        self.sigma = Float64(py=a[15])
        var pit_lap = IP(unsafe_from_address=Int(py=a[16]))
        var pit_compound = IP(unsafe_from_address=Int(py=a[17]))
        var n_stops = Int(py=a[18])
        self.out_time = FP(unsafe_from_address=Int(py=a[19]))
        var k = compound0
        var age = age0
        var fuel = fuel0
        self.loss = track.unsafe_load(PIT_LOSS_GREEN_S)
        self.median = track.unsafe_load(STANDSTILL_MEDIAN_S)
        self.sigma_log = track.unsafe_load(STANDSTILL_SIGMA_LOG)
        var base = track.unsafe_load(BASE_LAP_TIME_S)
        var mass = track.unsafe_load(FUEL_MASS_EFFECT_S_PER_KG)
        var burn = track.unsafe_load(FUEL_BURN_KG_PER_LAP)
        self.det = List[Float64](length=self.n_laps + 1, fill=0.0)
        self.stop = List[Bool](length=self.n_laps + 1, fill=False)
        self.stop_laps = List[Int]()
        var done = 0
        for lap in range(self.start_lap + 1, self.n_laps + 1):
            age += 1
            self.det[lap] = (base + pace + comp_offset.unsafe_load(k)
                             + degradation_s(Int(comp_model.unsafe_load(k)), comp_k1.unsafe_load(k),
                                             comp_k2.unsafe_load(k), age) + mass * fuel)
            if done < n_stops and lap < self.n_laps and lap >= Int(pit_lap.unsafe_load(done)):
                self.stop[lap] = True
                self.stop_laps.append(lap)
                k = Int(pit_compound.unsafe_load(done))
                done += 1
                age = 0
            fuel = max(0.0, fuel - burn)


@always_inline
def draw_row(prefix: SIMD[DType.uint64, SCW], lap: Int, purpose: Int, row: Int, zbuf: FP, pbuf: FP, tails: IP,
             n_tail: Int) -> Int:
    """Normals of key (lap, purpose) for SCW races into row `row` of zbuf: the central formula on all
    lanes; the tails' flat indices appended to `tails` (a compressed store) for `finish_tails`.
    Returns the new tail count."""
    var h = mix_v[SCW](prefix + SIMD[DType.uint64, SCW](GOLDEN + UInt64(lap)))
    h = mix_v[SCW](h + SIMD[DType.uint64, SCW](GOLDEN + UInt64(purpose)))
    var p = ((h >> 11).cast[DType.float64]() + 0.5) * INV_2_53
    var q = p - 0.5
    var r = q * q
    var z = ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q
             / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1.0))
    zbuf.unsafe_store[width=SCW](row * SCW, z)
    pbuf.unsafe_store[width=SCW](row * SCW, p)
    var tail = p.lt(P_LOW) | p.gt(P_HIGH)
    compressed_store(LANES + Int64(row * SCW), tails.unsafe_offset(n_tail), tail)
    return n_tail + tail.reduce_bit_count()


def finish_tails(zbuf: FP, pbuf: FP, tails: IP, n_tail: Int):
    """Acklam's tail formula for the gathered tail draws: the lower tail, or the upper one mirrored."""
    for j in range(n_tail):
        var i = Int(tails.unsafe_load(j))
        var p = pbuf.unsafe_load(i)
        var q = sqrt(-2.0 * log(min(p, 1.0 - p)))
        var v = ((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                 / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
        zbuf.unsafe_store(i, v if p < 0.5 else -v)


def single_car_group(sc: SingleCar, r0: Int, zbuf: FP, pbuf: FP, tails: IP):
    """Races r0 .. r0 + SCW - 1 (those below n_runs are written).

    First every draw: row `lap` of the buffers holds the lap noise of that lap, row
    n_laps + 1 + k the pit standstill of stop k (rows of SCW; `draw_row`, then
    `finish_tails`), turned into stop k's pit time; then the laps are summed in order in
    registers.
    """
    var prefix = SIMD[DType.uint64, SCW](0)
    for i in range(SCW):
        prefix[i] = car_prefix(sc.seed, sc.sim0 + r0 + i, sc.car)
    var n_tail = 0
    for lap in range(sc.start_lap + 1, sc.n_laps + 1):
        n_tail = draw_row(prefix, lap, P_LAP_NOISE, lap, zbuf, pbuf, tails, n_tail)
    for k in range(len(sc.stop_laps)):
        n_tail = draw_row(prefix, sc.stop_laps[k], P_PIT_STANDSTILL, sc.n_laps + 1 + k, zbuf, pbuf, tails, n_tail)
    finish_tails(zbuf, pbuf, tails, n_tail)
    for i in range((sc.n_laps + 1) * SCW, (sc.n_laps + 1 + len(sc.stop_laps)) * SCW):
        zbuf.unsafe_store(i, sc.loss + sc.median * exp(sc.sigma_log * zbuf.unsafe_load(i)))  # the pit time
    var total = SIMD[DType.float64, SCW](0.0)
    var carried = SIMD[DType.float64, SCW](0.0)  # pit time still to pay on the out-lap
    var row = sc.n_laps + 1  # the next stop's pit time
    for lap in range(sc.start_lap + 1, sc.n_laps + 1):
        var z = zbuf.unsafe_load[width=SCW](lap * SCW)
        var x = (sc.det[lap] + sc.sigma * z) + (1.0 - IN_LAP_SHARE) * carried
        if sc.stop[lap]:
            carried = zbuf.unsafe_load[width=SCW](row * SCW)
            row += 1
            total += x + IN_LAP_SHARE * carried
        else:
            carried = SIMD[DType.float64, SCW](0.0)
            total += x
    for i in range(min(SCW, sc.n_runs - r0)):
        sc.out_time.unsafe_store(r0 + i, total[i])


def single_car_times(args: PythonObject) raises -> PythonObject:
    """Race time of one car alone on track for races sim0 .. sim0 + n_runs - 1, in parallel."""
    var sc = SingleCar(args)
    var n_chunks = (sc.n_runs + SC_CHUNK - 1) // SC_CHUNK

    def body(c: Int) {imm sc}:
        var r0 = c * SC_CHUNK
        var r1 = min(sc.n_runs, r0 + SC_CHUNK)
        var size = (sc.n_laps + 1 + len(sc.stop_laps)) * SCW
        var zbuf = List[Float64](length=size, fill=0.0)
        var pbuf = List[Float64](length=size, fill=0.0)
        var tails = List[Int64](length=size, fill=0)
        var zp = FP(unsafe_from_address=Int(zbuf.unsafe_ptr()))
        var pp = FP(unsafe_from_address=Int(pbuf.unsafe_ptr()))
        var tp = IP(unsafe_from_address=Int(tails.unsafe_ptr()))
        for r in range(r0, r1, SCW):
            single_car_group(sc, r, zp, pp, tp)
        _ = len(zbuf) + len(pbuf) + len(tails)  # the buffers live until here (ASAP destruction)
    parallelize(body, n_chunks)
    return PythonObject(sc.n_runs)
