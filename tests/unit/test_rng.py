"""The counter-based RNG: a pure function of its key, with sound distributions."""

from statistics import NormalDist

import numpy as np

from workbench import rng
from workbench.rng import Purpose


def test_same_key_same_number_whatever_the_call_order():
    a = rng.uniform(7, 0, np.arange(20), 5, Purpose.LAP_NOISE)
    b = np.array([rng.uniform(7, 0, c, 5, Purpose.LAP_NOISE)[()] for c in reversed(range(20))])[::-1]
    assert np.array_equal(a, b)


def test_each_key_component_changes_the_number():
    base = rng.uniform(1, 2, 3, 4, 5)
    for changed in ((2, 2, 3, 4, 5), (1, 3, 3, 4, 5), (1, 2, 4, 4, 5), (1, 2, 3, 5, 5), (1, 2, 3, 4, 6)):
        assert rng.uniform(*changed) != base


def test_uniform_is_in_open_interval_and_uniform():
    u = rng.uniform(3, np.arange(200_000), 0, 0, Purpose.LAP_NOISE)
    assert u.min() > 0 and u.max() < 1
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    expected = len(u) / 20
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 50  # 19 degrees of freedom: p < 1e-4 beyond this


def test_normal_moments_and_tails():
    z = rng.normal(11, np.arange(400_000), 1, 1, Purpose.LAP_NOISE)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert abs(np.mean(np.abs(z) > 1.959964) - 0.05) < 0.002


def test_inverse_normal_cdf_matches_the_standard_library():
    p = np.array([1e-9, 1e-6, 0.001, 0.02424, 0.02426, 0.3, 0.5, 0.8413447460685429, 0.975, 0.999, 1 - 1e-9])
    want = np.array([NormalDist().inv_cdf(x) for x in p])
    assert np.allclose(rng.inverse_normal_cdf(p), want, rtol=1e-8, atol=1e-8)


def test_lognormal_median():
    x = rng.lognormal(5, np.arange(100_000), 0, 0, Purpose.PIT_STANDSTILL, median=2.4, sigma_log=0.2)
    assert abs(np.median(x) - 2.4) < 0.01 and x.min() > 0
