"""The numba RNG draws exactly the numbers of workbench.rng."""

import numpy as np

from workbench import rng
from workbench.kernels import numba_rng


def test_numba_normals_are_bit_identical_to_numpy():
    r = np.random.default_rng(5)
    n = 100_000  # covers both Acklam tails (about 2,400 draws each)
    sims, cars, laps = r.integers(0, 10**6, n), r.integers(0, 24, n), r.integers(0, 80, n)
    out = np.empty(n)
    numba_rng.fill_normals(11, sims, cars, laps, rng.Purpose.LAP_NOISE, out)
    ref = rng.normal(11, sims, cars, laps, rng.Purpose.LAP_NOISE)
    assert np.array_equal(out, ref)
    assert (np.abs(ref) > 1.98).sum() > 4000


def test_uniform_and_prefix_forms_agree_with_numpy():
    for key in [(0, 0, 0, 0, 1), (7, 123456, 19, 57, 10), (2**40, 3, 2, 1, 15)]:
        seed, sim, car, lap, purpose = key
        want = rng.uniform(*key)[()]
        assert numba_rng.uniform(*key) == want
        prefix = np.uint64(numba_rng.car_prefix(seed, sim, car))
        assert numba_rng.uniform_at(prefix, lap, purpose) == want
        assert numba_rng.normal_at(prefix, lap, purpose) == rng.normal(*key)[()]
