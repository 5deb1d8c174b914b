"""Compound steps learnt from the season's earlier catalogue races: no race informs its own prediction."""

import json

import numpy as np
import pytest

from workbench.strategy.catalogue import catalogue_dir
from workbench.strategy.event_history import race_entry
from workbench.strategy.season_prior import race_steps, season_steps_before


def _catalogue() -> list[tuple[str, str, dict]]:
    out = []
    for path in sorted(catalogue_dir().glob("*.fit-report.json")):
        report = json.loads(path.read_text())
        out.append((race_entry(report["race"])["date"], report["race"], report))
    return sorted(out, key=lambda r: r[0])


def test_race_steps_is_the_weighted_slope_of_the_fitted_offsets_only():
    report = {"lap_model": {"reference_compound": "SOFT", "compounds": {
        "SOFT": {"offset_s": 0.0, "offset_sd_s": 0.0, "clean_laps": 50},
        "MEDIUM": {"offset_s": 0.4, "offset_sd_s": 0.2, "clean_laps": 100},
        "HARD": {"offset_s": 1.0, "offset_sd_s": 0.1, "clean_laps": 300},
        "INTERMEDIATE": {"offset_s": 10.0, "offset_sd_s": 0.1, "clean_laps": 30}}}}
    # slope through zero: sum(x y / se^2) / sum(x^2 / se^2) with x = 1, 2 compound steps from SOFT
    expected = (1 * 0.4 / 0.04 + 2 * 1.0 / 0.01) / (1 / 0.04 + 4 / 0.01)
    assert race_steps(report) == pytest.approx(expected)
    # a compound the race fit took from a prior (no standard error, no lap) is no measurement
    report["lap_model"]["compounds"]["HARD"] = {"offset_s": 9.0, "offset_sd_s": None, "clean_laps": 0}
    assert race_steps(report) == pytest.approx(0.4)
    # a reference on the MEDIUM: a HARD one step harder, a SOFT one step softer
    medium_ref = {"lap_model": {"reference_compound": "MEDIUM", "compounds": {
        "SOFT": {"offset_s": -0.3, "offset_sd_s": 0.1, "clean_laps": 20},
        "HARD": {"offset_s": 0.3, "offset_sd_s": 0.1, "clean_laps": 200}}}}
    assert race_steps(medium_ref) == pytest.approx(0.3)
    assert race_steps({"lap_model": {"reference_compound": "SOFT", "compounds": {}}}) is None


def test_the_first_race_of_the_season_and_an_unidentified_race_keep_the_generic_steps():
    first_date, first_race, _ = _catalogue()[0]
    first = season_steps_before(first_date, first_race)
    assert first.steps is None and first.races == {}
    assert f"no catalogue race is dated before {first_race}" in first.source
    unknown = season_steps_before(None)
    assert unknown.steps is None and "not identified" in unknown.source


def test_each_race_learns_only_from_the_races_dated_before_it():
    """No leakage: a race's own catalogue fit (fitted on its whole race) and later ones never count."""
    catalogue = _catalogue()
    assert len(catalogue) >= 8
    for i, (date, race, _) in enumerate(catalogue):
        got = season_steps_before(date, race)
        earlier = [(r, race_steps(rep)) for d, r, rep in catalogue[:i] if d < date]
        earlier = [(r, s) for r, s in earlier if s is not None]
        assert race not in got.races
        assert set(got.races) == {r for r, _ in earlier}
        if earlier:
            s = float(np.median([s for _, s in earlier]))
            assert got.step_s == pytest.approx(s)
            assert got.steps == pytest.approx({"SOFT": 0.0, "MEDIUM": s, "HARD": 2 * s})
    saudi = season_steps_before(race_entry("2024 Saudi Arabian Grand Prix")["date"])
    assert list(saudi.races) == ["2024 Bahrain Grand Prix"]  # a week after the season's first race


def test_a_prediction_reports_where_its_compound_steps_came_from(shared_data):
    import pandas as pd

    from workbench.strategy.predict import predict_from_laps

    laps = pd.read_csv(shared_data / "real-races/2024-saudi-arabian-race-laps.csv")
    name = "2024 Saudi Arabian Grand Prix"
    pred = predict_from_laps(laps, 12, runs=50, seed=0, race_name=name)
    steps = pred.fit["compound_steps"]
    assert list(steps["races"]) == ["2024 Bahrain Grand Prix"] and steps["from"].startswith("season prior")
    listed = pred.fit["priors"]["compound_steps"]  # printed among the priors by `racetwin predict`
    assert listed["from"].startswith("prior: season prior") and listed["value"].endswith("(SOFT/MEDIUM/HARD)")
    # the fitted MEDIUM offset (vs SOFT) shrinks towards the season's step, not the generic +0.3 s
    generic = predict_from_laps(laps, 12, runs=50, seed=0, race_name=name, season_steps=False)
    assert generic.fit["compound_steps"]["steps"] is None
    assert generic.fit["priors"]["compound_steps"]["value"] == "+0.00/+0.30/+0.60 s (SOFT/MEDIUM/HARD)"
    assert pred.fit["compounds"]["MEDIUM"]["offset_s"] < generic.fit["compounds"]["MEDIUM"]["offset_s"]
