"""The bundled pit hazard is what data/build_pit_hazard.py fits on the historical tables."""

import importlib.util
import json

import numpy as np

from workbench.twins.pit_hazard import compound_life, fit_logistic, hazard_features


def test_bundled_coefficients_are_the_fit_of_the_shared_tables(shared_data, repo_root):
    spec = importlib.util.spec_from_file_location("build_pit_hazard", repo_root / "data" / "build_pit_hazard.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    data = build.person_laps(shared_data)
    coef = fit_logistic(hazard_features(data.age, data.norm, data.neutral, data.extra, data.to_go),
                        data.pit.to_numpy(dtype=float))
    bundled = json.loads((repo_root / "data" / "pit-hazard.json").read_text())
    np.testing.assert_allclose(coef, bundled["coef"], atol=1e-4)
    assert bundled["rows"] == len(data) and bundled["stops"] == int(data.pit.sum())


def test_logistic_fit_recovers_known_coefficients():
    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(20000), rng.normal(size=20000)])
    y = (rng.uniform(size=20000) < 1 / (1 + np.exp(-(x @ [-2.0, 1.5])))).astype(float)
    np.testing.assert_allclose(fit_logistic(x, y), [-2.0, 1.5], atol=0.1)


def test_compound_life_shrinks_towards_one():
    assert compound_life([], 19.0) == 1.0
    assert 1.0 < compound_life([30.0], 19.0) < 30.0 / 19.0
    assert compound_life([10.0] * 20, 20.0) < 0.6
