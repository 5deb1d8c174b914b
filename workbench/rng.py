"""Counter-based random numbers keyed by (seed, simulation, car, lap, purpose).

Every draw in Race Twin Edge is a pure function of its key: there is no shared
stream whose state depends on the order of calls. Two strategies simulated with
the same key see the same random numbers (common random numbers), a replay at any
speed sees the same draws, and a later numba or Mojo kernel can reproduce the
numbers bit for bit by applying the same integer arithmetic.

The generator hashes the key with the SplitMix64 finaliser (Steele, Lea & Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014), applied once per
key component so that neighbouring keys give unrelated outputs. Normals come from
the inverse normal CDF (Acklam's rational approximation, relative error below
1.2e-9, refined by nothing), not from Box-Muller, so one uniform gives one normal.
"""

from __future__ import annotations

import enum
import math

import numpy as np

__all__ = ["Purpose", "uniform", "normal", "lognormal", "key_hash"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


class Purpose(enum.IntEnum):
    """What a random draw is for; part of every key so purposes never share numbers."""

    LAP_NOISE = 1
    PIT_STANDSTILL = 2
    START = 3
    PIT_LAP_SHIFT = 4
    SC_COUNT = 5
    SC_START_LAP = 6
    SC_LENGTH = 7
    RETIREMENT = 8
    RETIREMENT_LAP = 9
    OVERTAKE = 10
    VSC_COUNT = 11
    VSC_START_LAP = 12
    VSC_LENGTH = 13
    SECTOR_SPLIT = 14
    SC_PIT_DECISION = 15


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


def key_hash(seed, sim, car, lap, purpose) -> np.ndarray:
    """Hash a key to 64 random bits; arguments broadcast like numpy arrays.

    Parameters
    ----------
    seed, sim, car, lap, purpose : int or array_like of int
        Non-negative integers: the race seed, the simulation index, the car index
        (0-based), the lap (1-based; 0 for race-level draws) and a `Purpose`.

    Returns
    -------
    numpy.ndarray of uint64
    """
    parts = np.broadcast_arrays(*(np.asarray(p, dtype=np.int64) for p in (seed, sim, car, lap, purpose)))
    shape = parts[0].shape
    with np.errstate(over="ignore"):
        h = np.zeros(max(1, int(np.prod(shape))), dtype=np.uint64)
        for part in parts:
            h = _mix(h + _GOLDEN + np.ravel(part).astype(np.uint64))
    return h.reshape(shape)


def uniform(seed, sim, car, lap, purpose) -> np.ndarray:
    """Uniform numbers in the open interval (0, 1), one per broadcast key."""
    h = key_hash(seed, sim, car, lap, purpose)
    return ((h >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


# Acklam's inverse normal CDF coefficients.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)
_P_LOW = 0.02425


def inverse_normal_cdf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile of probabilities in (0, 1) (Acklam's algorithm)."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low = p < _P_LOW
    high = p > 1.0 - _P_LOW
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = ((((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
                / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0))
    for mask, sign in ((low, 1.0), (high, -1.0)):
        tail = p[mask] if sign > 0 else 1.0 - p[mask]
        # math.log (the C library's, as in compiled kernels), not np.log: numpy's SIMD log can
        # differ in the last bit between CPUs, and the tails must be the same everywhere.
        q = np.sqrt(-2.0 * np.fromiter((math.log(x) for x in tail), np.float64, tail.size))
        out[mask] = sign * ((((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5])
                            / ((((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0))
    return out


def normal(seed, sim, car, lap, purpose) -> np.ndarray:
    """Standard normal numbers, one per broadcast key (inverse-CDF transform)."""
    return inverse_normal_cdf(uniform(seed, sim, car, lap, purpose))


def lognormal(seed, sim, car, lap, purpose, median: float, sigma_log: float) -> np.ndarray:
    """Log-normal numbers with the given median and log-space standard deviation."""
    return median * np.exp(sigma_log * normal(seed, sim, car, lap, purpose))
