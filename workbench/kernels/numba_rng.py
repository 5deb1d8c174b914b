"""`workbench.rng` inside numba: the same SplitMix64 key hash and Acklam normals.

Every function reproduces its numpy counterpart in `workbench.rng` operation by
operation (the constants are imported from there), so a kernel draws the same
numbers as the numpy reference for the same (seed, simulation, car, lap, purpose).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from workbench import rng

_GOLDEN = np.uint64(rng._GOLDEN)
_M1 = np.uint64(rng._M1)
_M2 = np.uint64(rng._M2)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
A0, A1, A2, A3, A4, A5 = rng._A
B0, B1, B2, B3, B4 = rng._B
C0, C1, C2, C3, C4, C5 = rng._C
D0, D1, D2, D3 = rng._D
P_LOW = rng._P_LOW
P_HIGH = 1.0 - rng._P_LOW
INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, nogil=True, inline="always")
def _mix(x):
    x = x ^ (x >> _S30)
    x = x * _M1
    x = x ^ (x >> _S27)
    x = x * _M2
    return x ^ (x >> _S31)


@njit(cache=True, nogil=True)
def key_hash(seed, sim, car, lap, purpose):
    """64 random bits for one key (all arguments non-negative integers)."""
    h = np.uint64(0)
    h = _mix(h + _GOLDEN + np.uint64(seed))
    h = _mix(h + _GOLDEN + np.uint64(sim))
    h = _mix(h + _GOLDEN + np.uint64(car))
    h = _mix(h + _GOLDEN + np.uint64(lap))
    return _mix(h + _GOLDEN + np.uint64(purpose))


@njit(cache=True, nogil=True)
def uniform(seed, sim, car, lap, purpose):
    """Uniform number in (0, 1) for one key."""
    return (np.float64(key_hash(seed, sim, car, lap, purpose) >> _S11) + 0.5) * INV_2_53


@njit(cache=True, nogil=True)
def inverse_normal_cdf(p):
    """Acklam's standard normal quantile of one probability in (0, 1)."""
    if p < P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        return ((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
    if p > P_HIGH:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        return -((((((C0 * q + C1) * q + C2) * q + C3) * q + C4) * q + C5)
                 / ((((D0 * q + D1) * q + D2) * q + D3) * q + 1.0))
    q = p - 0.5
    r = q * q
    return ((((((A0 * r + A1) * r + A2) * r + A3) * r + A4) * r + A5) * q
            / (((((B0 * r + B1) * r + B2) * r + B3) * r + B4) * r + 1.0))


@njit(cache=True, nogil=True)
def normal(seed, sim, car, lap, purpose):
    """Standard normal number for one key."""
    return inverse_normal_cdf(uniform(seed, sim, car, lap, purpose))


@njit(cache=True, nogil=True, parallel=False)
def fill_normals(seed, sims, cars, laps, purpose, out):
    """Normals for arrays of keys (used by the tests that check bit-identity)."""
    for i in range(sims.size):
        out[i] = normal(seed, sims[i], cars[i], laps[i], purpose)


@njit(cache=True, nogil=True)
def car_prefix(seed, sim, car):
    """The hash state after (seed, sim, car): hoisted out of a car's per-lap draws."""
    h = np.uint64(0)
    h = _mix(h + _GOLDEN + np.uint64(seed))
    h = _mix(h + _GOLDEN + np.uint64(sim))
    return _mix(h + _GOLDEN + np.uint64(car))


@njit(cache=True, nogil=True, inline="always")
def uniform_at(prefix, lap, purpose):
    """`uniform` for a key whose (seed, sim, car) prefix is ``prefix`` (same bits)."""
    h = _mix(np.uint64(prefix) + _GOLDEN + np.uint64(lap))
    h = _mix(h + _GOLDEN + np.uint64(purpose))
    return (np.float64(h >> _S11) + 0.5) * INV_2_53


@njit(cache=True, nogil=True, inline="always")
def normal_at(prefix, lap, purpose):
    """`normal` for a key whose (seed, sim, car) prefix is ``prefix`` (same bits)."""
    return inverse_normal_cdf(uniform_at(prefix, lap, purpose))
