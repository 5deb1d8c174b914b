"""Adaptive candidate racing (workbench/strategy/adaptive.py): the rule, the backends, and the
agreement with the full run on real race states (figure in docs/montecarlo.md)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.bench.harness import live_session
from workbench.strategy.adaptive import RacingRule, _summaries, race_candidates, round_seed
from workbench.strategy.montecarlo import RaceState
from workbench.strategy.sweep import _summarise, candidates, decide

DRIVER = "LEC"


@pytest.fixture(scope="module")
def lap20(race) -> RaceState:
    return RaceState.from_session(live_session(race, DRIVER, 20))


@pytest.fixture(scope="module")
def lap46(race) -> RaceState:
    """Late in the race: few candidates, so the numpy reference is quick."""
    return RaceState.from_session(live_session(race, DRIVER, 46))


@pytest.mark.parametrize("field, value, rule", [
    ("confidence", 1.0, "is not in [0.5, 1)"), ("indifference_points", -0.1, "is below minimum 0"),
    ("first_runs", 0, "is not an integer >= 1"), ("eta", 1, "is not an integer >= 2"),
    ("budget_fraction", 0.0, "is not in (0, 1]"), ("max_rounds", 2.5, "is not an integer >= 1")])
def test_bad_rule_names_field_value_and_rule(field, value, rule):
    with pytest.raises(ValueError) as err:
        RacingRule(**{field: value})
    assert str(err.value) == f"{field}: {value!r} {rule}"


def test_bad_total_runs_and_backend(race, lap46):
    with pytest.raises(ValueError, match=r"total_runs: 0 is not an integer >= 1"):
        race_candidates(race, DRIVER, lap46, total_runs=0)
    with pytest.raises(ValueError, match=r"backend: 'cuda9' is not one of numba, numpy, mojo"):
        race_candidates(race, DRIVER, lap46, total_runs=500, backend="cuda9")


def test_round_zero_is_the_full_runs_races_and_later_rounds_are_new():
    assert round_seed(7, 0) == 7
    seeds = {round_seed(7, r) for r in range(1, 10)}
    assert len(seeds) == 9 and 7 not in seeds and all(0 <= s < 2**63 for s in seeds)


def test_vectorised_summaries_equal_sweeps(race, lap20):
    from workbench.strategy.montecarlo import pack
    from workbench.strategy.sweep import _run_candidates
    cands = candidates(race, lap20, DRIVER)[:40]
    base = pack(race, lap20)
    idx = base.drivers.index(DRIVER)
    pos, t = _run_candidates(base, idx, cands, 25, 3, "numba", None)
    for got, k in zip(_summaries(cands, pos, t, len(base.drivers), 4, 3), range(len(cands))):
        want = _summarise(cands[k], pos[k], t[k], len(base.drivers), 4, 3)
        assert got.strategy == want.strategy and got.runs == want.runs == 25
        assert got.position_p == pytest.approx(want.position_p) and got.p_retired == pytest.approx(want.p_retired)
        assert got.expected_points == pytest.approx(want.expected_points)
        assert got.mean_position == pytest.approx(want.mean_position)
        assert (got.p_gain, got.success_probability) == pytest.approx((want.p_gain, want.success_probability))
        for q in ("p10", "p50", "p90"):
            assert got.race_time_quantiles_s[q] == pytest.approx(want.race_time_quantiles_s[q], nan_ok=True)


def test_one_round_of_all_races_is_the_full_run(race, lap20):
    """With the full run's races in round 0 and no later round, the top is the full run's top."""
    full = decide(race, DRIVER, lap20, total_runs=3000, seed=2)
    runs = full.ranked[0].runs
    ad = race_candidates(race, DRIVER, lap20, total_runs=3000, seed=2,
                         rule=RacingRule(first_runs=runs, max_rounds=1, budget_fraction=1.0))
    assert ad.races_used == ad.full_races == len(full.ranked) * runs
    assert ad.result.best == full.best
    assert len(ad.result.ranked) == len(full.ranked)
    assert {c.strategy for c in ad.result.ranked} == {c.strategy for c in full.ranked}


def test_racing_spends_a_fraction_on_the_close_ones(race, lap20):
    ad = race_candidates(race, DRIVER, lap20, total_runs=10_000, seed=0)
    n = len(ad.result.ranked)
    assert n == len(candidates(race, lap20, DRIVER)) > 100
    assert ad.races_used == sum(c.runs for c in ad.result.ranked)
    assert ad.races_used <= 0.15 * 10_000 + n and ad.races_used < ad.full_races / 3
    runs = [c.runs for c in ad.result.ranked]
    assert runs[0] == max(runs) >= 8 * min(runs)  # the top plans got many more races than the dropped
    assert runs == sorted(runs, reverse=True)  # survivors first, then dropped, latest round first
    assert ad.stop_reason in ("settled", "budget", "max_rounds")
    js = ad.to_json()["adaptive"]
    assert js["races_used"] == ad.races_used and js["rule"]["confidence"] == 0.95
    assert decide(race, DRIVER, lap20, total_runs=10_000, seed=0, adaptive=True) == ad.result


def test_numpy_reference_races_the_same_as_numba(race, lap46):
    a = race_candidates(race, DRIVER, lap46, total_runs=600, seed=5, backend="numba")
    b = race_candidates(race, DRIVER, lap46, total_runs=600, seed=5, backend="numpy")
    assert [c.strategy for c in a.result.ranked] == [c.strategy for c in b.result.ranked]
    assert [c.runs for c in a.result.ranked] == [c.runs for c in b.result.ranked]
    assert [c.position_p for c in a.result.ranked] == [c.position_p for c in b.result.ranked]
    assert (a.races_used, a.rounds, a.stop_reason) == (b.races_used, b.rounds, b.stop_reason)


def test_mojo_backend_races_through_its_run_candidates(race, lap46):
    from workbench.kernels import mojo_backend
    if not mojo_backend.available()[0]:
        with pytest.raises(mojo_backend.MojoUnavailable, match="pip install"):
            race_candidates(race, DRIVER, lap46, total_runs=600, seed=5, backend="mojo")
        return
    a = race_candidates(race, DRIVER, lap46, total_runs=600, seed=5, backend="numba")
    b = race_candidates(race, DRIVER, lap46, total_runs=600, seed=5, backend="mojo")
    assert [c.strategy for c in a.result.ranked] == [c.strategy for c in b.result.ranked]
    assert (a.races_used, a.stop_reason) == (b.races_used, b.stop_reason)


def test_single_candidate_gets_the_budget(race, lap46):
    only = candidates(race, lap46, DRIVER)[:1]
    ad = race_candidates(race, DRIVER, lap46, total_runs=400, seed=1, strategies=only)
    assert ad.stop_reason == "single candidate" and ad.settled
    assert ad.result.best.strategy == only[0] and ad.result.best.runs == ad.races_used == 60  # 15 % of 400


def test_agreement_with_the_full_run_on_real_race_states(shared_data):
    """The figure in docs/montecarlo.md ("Adaptive candidate racing") on half the benchmark set
    (the 8 catalogue races at 60 % distance, P3 and P8; seed 0; 10,000-race budget)."""
    from workbench.bench.adaptive_states import agreement, real_race_states
    states = real_race_states(shared_data / "real-races", lap_fractions=(0.6,))
    assert len(states) == 16
    res = agreement(states, total_runs=10_000, seed=0)
    assert res["agreement"] >= 0.75, res["rows"]
    assert res["races_fraction"] <= 0.2
    assert res["mean_points_gap"] < 0.2  # when they differ, the full run itself scores the two close
    assert all(np.isfinite(r["points_gap"]) and r["points_gap"] >= 0 for r in res["rows"])


def test_bench_reports_the_adaptive_decision_beside_the_full_one():
    from workbench.bench.harness import run_bench
    r = run_bench(races=64, races_numpy=16, single_runs=1000, single_runs_numpy=200, decisions=2, decision_runs=2000)
    for key in ("decision_latency_p95_ms", "decision_latency_p95_ms_adaptive", "decision_latency_p50_ms_adaptive",
                "decision_latency_p95_ms_numpy_adaptive", "decision_cpu_ms_adaptive"):
        assert r[key] > 0, key
    a, d = r["decision_adaptive"], r["decision"]
    assert d["races"] >= 2000 and 0 < a["races_mean"] <= a["races_max"] < d["races"]
    assert a["races_fraction"] == pytest.approx(a["races_mean"] / d["races"])
    assert 0 <= a["top1_agreement"] <= 1 and 0 <= a["settled"] <= 1


def test_small_rounds_on_one_thread_give_the_same_decision(race, lap20, monkeypatch):
    """Rounds of at most SERIAL_ROWS races run on one numba thread; races are pure functions of
    their keys, so the decision is the same with every round forced parallel."""
    from workbench.strategy import adaptive
    a = race_candidates(race, DRIVER, lap20, total_runs=10_000, seed=4)
    monkeypatch.setattr(adaptive, "SERIAL_ROWS", 0)
    b = race_candidates(race, DRIVER, lap20, total_runs=10_000, seed=4)
    assert a.result == b.result and a.races_used == b.races_used
