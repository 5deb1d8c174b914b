"""Strategist: deterministic recommendations with documented priority rules."""

import pytest

from workbench.strategy.strategist import RaceContext, Strategist, StrategyInputError, options_from_results

S = Strategist()


def rec(results, lap, **kw):
    return S.recommend(results, RaceContext(lap=lap, **kw))


@pytest.mark.parametrize("results,lap,status,priority,action", [
    # stop next lap, 0.7 positions better than the alternative: urgent pit
    ([[20, 3.2, 0.55, 5600.0], [24, 3.9, 0.5, 5601.0]], 19, "GREEN", "urgent", "pit"),
    # stop this lap but the gain is small and the probability modest: moderate
    ([[19, 3.2, 0.55, 5600.0], [24, 3.3, 0.5, 5601.0]], 19, "GREEN", "moderate", "pit"),
    # stop in 4 laps with a significant time gain: moderate, stay out for now
    ([[23, 3.2, 0.3, 5600.0], [30, 3.3, 0.3, 5605.0]], 19, "GREEN", "moderate", "stay_out"),
    # stop in 10 laps: optional
    ([[29, 3.2, 0.9, 5600.0], [30, 3.9, 0.3, 5605.0]], 19, "GREEN", "optional", "stay_out"),
    # SC out and the best plan stops in 2 laps: urgent even though it is not next lap
    ([[21, 3.0, 0.7, 5600.0], [30, 3.9, 0.3, 5620.0]], 19, "SC", "urgent", "stay_out"),
])
def test_priority_rules(results, lap, status, priority, action):
    first = rec(results, lap, track_status=status)[0]
    assert (first.priority, first.action) == (priority, action)


def test_recommendation_has_the_seed_fields_and_numbers():
    recs = rec([{"pit_laps": [20], "compounds": ["SOFT", "HARD"], "final_position": 3.2,
                 "success_probability": 0.71, "total_time_s": 5600.2, "expected_points": 14.1},
                [24, 3.9, 0.5, 5604.0], [18, 4.4, 0.4, 5610.0]], 19, position=4)
    first = recs[0].to_dict()
    for field in ("priority", "title", "description", "expected_benefit", "reasoning", "execution_lap", "risks",
                  "alternatives"):
        assert field in first
    assert first["title"] == "Box next lap (lap 20) for HARD" and first["execution_lap"] == 20
    assert first["expected_benefit"] == {"positions": 0.7, "seconds": 3.8, "probability": 0.71}
    assert first["numbers"]["positions_vs_now"] == 0.8 and first["explainer"] == "built-in"
    assert [r.priority for r in recs] == ["urgent", "optional", "optional"]
    assert "P3.20" in first["description"] and "3.8 s" in first["reasoning"]


def test_same_input_same_output():
    results = [[20, 3.2, 0.71, 5600.2], [24, 3.9, 0.5, 5604.0]]
    assert [r.to_dict() for r in rec(results, 19)] == [r.to_dict() for r in rec(results, 19)]


@pytest.mark.parametrize("results,message", [
    ([], "simulation_results: [] is not a non-empty list"),
    ([[20, 3.2, 0.7]], "simulation_results[0]: [20, 3.2, 0.7] is not [pit_lap, final_position"),
    ([[20, 3.2, 1.7, 5600]], "simulation_results[0].success_probability: 1.7 is not between 0 and 1"),
    ([[0, 3.2, 0.7, 5600]], "simulation_results[0].pit_laps[0]: 0 is not between 1 and 200"),
    ([{"pit_lap": "soon", "final_position": 3, "success_probability": 0.5, "total_time": 1}],
     "simulation_results[0].pit_lap: 'soon' is not a lap number"),
    ([[20, float("nan"), 0.7, 5600]], "simulation_results[0].final_position: nan is not a finite number"),
    ("fast", "simulation_results: 'fast' is not a non-empty list"),
])
def test_bad_results_name_field_value_and_rule(results, message):
    with pytest.raises(StrategyInputError) as info:
        options_from_results(results)
    assert str(info.value).startswith(message)
