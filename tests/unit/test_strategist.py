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


def _payload(mean, p_retired, position_p, n=3):
    """An orchestrator result with ``n`` candidates, the first one best."""
    ranked = [{"strategy": [{"lap": 13 + k, "compound": "HARD"}], "label": f"1-stop L{13 + k} HARD",
               "mean_position": mean + 0.1 * k, "success_probability": 0.6, "expected_points": 20.0 - k,
               "race_time_quantiles_s": {"p50": 5500.0 + k}, "p_retired": p_retired, "position_p": position_p}
              for k in range(n)]
    return {"ranked": ranked}


def test_a_leader_told_to_expect_a_worse_finish_is_told_why():
    """Issue 19: the leader at lap 1 was told "expected finish P4.89" with no reason."""
    dist = [0.55, 0.15, 0.06, 0.04] + [0.0] * 12 + [0.04, 0.05, 0.05, 0.06]
    recs = Strategist().recommend(_payload(3.97, 0.17, dist), RaceContext(lap=1, total_laps=57, position=1))
    best = recs[0]
    why = best.risks[0]
    assert why.startswith("Every candidate plan is expected to finish behind our P1 (P3.97 on average")
    assert "the median finish is P1" in why and "55% of the races end at P1 or better" in why
    assert "17% end in a retirement" in why  # first of the card's risks, beside "expected finish P3.97 from P1"
    n = best.numbers
    assert (n["median_final_position"], n["p_at_or_ahead_now"], n["p_retired"], n["behind_now_positions"]) == \
        (1, 0.55, 0.17, 2.97)


def test_the_reason_is_given_without_a_distribution_and_not_given_when_not_behind():
    seed_shape = [[13, 4.2, 0.5, 5500.0], [15, 4.5, 0.4, 5510.0]]
    recs = Strategist().recommend(seed_shape, RaceContext(lap=1, position=1))
    assert recs[0].risks[0].startswith("Every candidate plan is expected to finish behind our P1 (P4.20")
    assert "retirements" in recs[0].risks[0]
    ahead = Strategist().recommend(_payload(4.2, 0.1, [0.1] * 10), RaceContext(lap=1, position=5))
    assert not any("behind our P" in r for r in ahead[0].risks) and "behind_now_positions" not in ahead[0].numbers
    one_behind = Strategist().recommend([[13, 2.9, 0.5, 5500.0], [15, 2.2, 0.4, 5510.0]],
                                        RaceContext(lap=1, position=2))
    assert not any("behind our P" in r for r in one_behind[0].risks)  # P2.2 from P2: not a loss worth a reason


def test_bad_position_distribution_is_named():
    rule = r"simulation_results\[0\].position_p\[1\]: 1.5 is not between 0 and 1"
    with pytest.raises(StrategyInputError, match=rule):
        options_from_results([{"pit_lap": 3, "final_position": 2, "success_probability": 0.5, "total_time": 5000,
                               "position_p": [0.5, 1.5]}])


def test_the_rest_model_is_derived_from_the_recommendation_dataclass():
    """Issue 17 item 6: one definition of a recommendation; REST's model follows the dataclass."""
    import dataclasses

    import pydantic

    from workbench.service.api_models import RecommendationItem
    from workbench.strategy.strategist import Recommendation

    assert list(RecommendationItem.model_fields) == [f.name for f in dataclasses.fields(Recommendation)]
    for f in dataclasses.fields(Recommendation):
        assert RecommendationItem.model_fields[f.name].description == f.metadata["description"]
    real = rec([[20, 3.2, 0.55, 5600.0], [24, 3.9, 0.5, 5601.0]], 19)[0].to_dict()
    assert RecommendationItem.model_validate(real).model_dump() == real
    with pytest.raises(pydantic.ValidationError, match="action"):
        RecommendationItem.model_validate({**real, "action": "retire"})
