"""Tyre degradation posterior: recovers known coefficients, picks the family by evidence, reports uncertainty."""

import numpy as np
import pytest

from workbench.twins.tyre_model import (
    FAMILIES,
    best,
    features,
    fit_degradation,
    prior_from_compound,
    prior_from_fit,
)


def _stints(k_true, family, n_stints=12, laps=20, noise_s=0.4, seed=3):
    rng = np.random.default_rng(seed)
    age = np.tile(np.arange(1, laps + 1), n_stints)
    keys = np.repeat([f"S{i}" for i in range(n_stints)], laps)
    level = np.repeat(rng.normal(90.0, 1.0, n_stints), laps)  # each stint its own car/driver level
    y = level + features(family, age) @ np.asarray(k_true) + rng.normal(0, noise_s, age.size)
    return age, y, keys


@pytest.mark.parametrize("family,k_true", [("linear", [0.08]), ("quadratic", [0.03, 0.004]),
                                           ("logarithmic", [0.9])])
def test_recovers_known_degradation_and_picks_its_family(family, k_true):
    age, y, keys = _stints(k_true, family)
    fits = fit_degradation(age, y, keys, prior_from_compound())
    chosen = best(fits)
    assert chosen.family == family
    truth = features(family, [20]) @ np.asarray(k_true)
    assert abs(chosen.degradation_s(20)[0] - truth[0]) < 3 * chosen.degradation_sd_s(20)[0] + 0.05
    assert chosen.noise_s == pytest.approx(0.4, rel=0.15)
    assert chosen.n_stints == 12 and chosen.n_laps == 240


def test_uncertainty_shrinks_with_more_laps():
    few = best(fit_degradation(*_stints([0.08], "linear", n_stints=2), prior_from_compound()))
    many = best(fit_degradation(*_stints([0.08], "linear", n_stints=30), prior_from_compound()))
    assert many.degradation_sd_s(20)[0] < few.degradation_sd_s(20)[0] / 2


def test_no_laps_gives_the_prior():
    prior = prior_from_compound("linear", 0.07, 0.0, source="race")
    fit = fit_degradation([], [], [], prior)["linear"]
    assert fit.coef[0] == pytest.approx(0.07) and fit.n_laps == 0 and fit.prior_source == "race"


def test_field_prior_pulls_a_short_own_stint_towards_the_field():
    field = fit_degradation(*_stints([0.10], "linear", n_stints=20), prior_from_compound(k1_s=0.10))
    own_age, own_y, own_keys = _stints([0.02], "linear", n_stints=1, laps=5, seed=9)
    alone = fit_degradation(own_age, own_y, own_keys, prior_from_compound(k1_s=0.02))["linear"]
    pooled = fit_degradation(own_age, own_y, own_keys, prior_from_fit(field))["linear"]
    assert pooled.coef[0] > alone.coef[0]  # shrunk towards the field's 0.10 s/lap


def test_cliff_risk_rises_with_age_on_a_steepening_tyre():
    fit = best(fit_degradation(*_stints([0.02, 0.006], "quadratic", laps=30), prior_from_compound()))
    risks = [fit.cliff_risk(a) for a in (5, 15, 30)]
    assert risks[0] < 0.05 and risks[2] > 0.95 and risks == sorted(risks)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="family: 'cubic' is not one of linear, quadratic, logarithmic"):
        features("cubic", [1])
    with pytest.raises(ValueError, match=r"lengths: tyre_age_laps 2, corrected_lap_time_s 1, stint_keys 2"):
        fit_degradation([1, 2], [90.0], ["a", "a"], prior_from_compound())
    with pytest.raises(ValueError, match=r"corrected_lap_time_s\[1\]: nan is not a finite number"):
        fit_degradation([1, 2], [90.0, float("nan")], ["a", "a"], prior_from_compound())
    with pytest.raises(ValueError, match="inflate: 0.5 is below minimum 1"):
        prior_from_fit(fit_degradation([1], [90.0], ["a"], prior_from_compound()), inflate=0.5)
    assert set(FAMILIES) == {"linear", "quadratic", "logarithmic"}
