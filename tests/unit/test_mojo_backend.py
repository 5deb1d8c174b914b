"""The Mojo kernel matches the numba kernel race by race (runs only where Mojo is installed)."""

import subprocess
import sys

import numpy as np
import pytest

from workbench.kernels import mojo_backend

OK, WHY = mojo_backend.available()


def test_missing_mojo_fails_with_a_clear_message(race, monkeypatch):
    monkeypatch.setattr(mojo_backend, "available", lambda: (False, "backend 'mojo': Mojo is not installed (x); "
                                                                  "install the optional extra"))
    monkeypatch.setattr(mojo_backend, "_module", None)
    from workbench.strategy.montecarlo import simulate
    with pytest.raises(mojo_backend.MojoUnavailable, match="Mojo is not installed.*optional extra"):
        simulate(race, runs=2, backend="mojo")


@pytest.mark.integration  # starts a subprocess
@pytest.mark.skipif(OK, reason="Mojo is installed: the missing-Mojo CLI path cannot be exercised")
def test_cli_backend_mojo_without_mojo_exits_2():
    from tests.conftest import REPO
    out = subprocess.run([sys.executable, "-m", "workbench", "simulate", "data/bahrain-2024.race.json", "--backend",
                          "mojo"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 2 and "--backend: backend 'mojo': Mojo is not installed" in out.stderr
    assert "pip install race-twin-edge[mojo]" in out.stderr


needs_mojo = pytest.mark.skipif(not OK, reason=WHY or "Mojo missing")


@needs_mojo
def test_mojo_normals_are_bit_identical():
    from workbench import rng
    r = np.random.default_rng(3)
    n = 50_000
    s, c, lap = r.integers(0, 10**6, n), r.integers(0, 24, n), r.integers(0, 80, n)
    assert np.array_equal(mojo_backend.normals(5, s, c, lap, 1), rng.normal(5, s, c, lap, 1))


@needs_mojo
def test_mojo_and_numba_agree_race_by_race(race):
    import dataclasses

    from workbench.strategy.montecarlo import RaceState, simulate
    from workbench.telemetry.records import TrackStatus
    grid = RaceState.grid(race)
    live = RaceState(20, tuple(dataclasses.replace(c, gap_to_leader_s=2.5 * i, tyre_age_laps=20)
                               for i, c in enumerate(sorted(grid.cars, key=lambda c: c.position))), TrackStatus.SC, 3)
    for state in (None, live):
        a = simulate(race, state, runs=500, seed=9, backend="numba")
        b = simulate(race, state, runs=500, seed=9, backend="mojo")
        assert np.array_equal(a.position, b.position) and np.array_equal(a.stops, b.stops)
        assert np.array_equal(np.isnan(a.race_time_s), np.isnan(b.race_time_s))
        assert np.nanmax(np.abs(a.race_time_s - b.race_time_s)) < 1e-9


@needs_mojo
@pytest.mark.parametrize("deterministic", [False, True])
def test_mojo_and_numba_agree_with_every_new_input(deterministic):
    """Degradation factors, used sets, DRS gain, mid-lap SC/VSC, a forced retirement, deterministic mode."""
    from tests.unit.test_montecarlo_fidelity import featureful_case
    from workbench.strategy.montecarlo import simulate
    race, events = featureful_case()
    a = simulate(race, events=events, runs=300, seed=11, backend="numba", deterministic=deterministic)
    b = simulate(race, events=events, runs=300, seed=11, backend="mojo", deterministic=deterministic)
    assert np.array_equal(a.position, b.position) and np.array_equal(a.stops, b.stops)
    assert np.array_equal(np.isnan(a.race_time_s), np.isnan(b.race_time_s))
    assert np.nanmax(np.abs(a.race_time_s - b.race_time_s)) < 1e-9


@needs_mojo
def test_mojo_candidate_kernel_matches_numba_row_by_row(race):
    from workbench.kernels import numba_race
    from workbench.strategy.montecarlo import Strategy, pack
    base = pack(race).with_strategy(race.drivers.index("HAM"), Strategy()).widened(3)
    idx = base.drivers.index("HAM")
    cand_lap = np.array([[18, 0], [25, 40], [30, 0]], dtype=np.int64)
    cand_comp = np.array([[1, 0], [1, 2], [2, 0]], dtype=np.int64)
    n_stops = np.array([1, 2, 1], dtype=np.int64)
    n_runs, n_cars = 40, len(base.drivers)
    outs = []
    for kernel in (numba_race.run_candidates, mojo_backend.run_candidates):
        out = (np.zeros((3 * n_runs, n_cars), dtype=np.int64), np.zeros((3 * n_runs, n_cars)),
               np.zeros((3 * n_runs, n_cars), dtype=np.int64))
        kernel(4, n_runs, idx, cand_lap, cand_comp, n_stops, *base.kernel_args(), *out)
        outs.append(out)
    (pa, ta, sa), (pb, tb, sb) = outs
    assert np.array_equal(pa, pb) and np.array_equal(sa, sb)
    assert np.array_equal(np.isnan(ta), np.isnan(tb)) and np.nanmax(np.abs(ta - tb)) < 1e-9


@needs_mojo
def test_sweep_and_decide_on_mojo_match_numba(race):
    import dataclasses

    from workbench.strategy.montecarlo import RaceState
    from workbench.strategy.sweep import candidates, decide, sweep
    from workbench.telemetry.records import TrackStatus
    cands = candidates(race, RaceState.grid(race), "HAM", lap_step=8, two_stop_lap_step=16)
    a = sweep(race, "HAM", strategies=cands, runs_per_candidate=25, seed=2)
    b = sweep(race, "HAM", strategies=cands, runs_per_candidate=25, seed=2, backend="mojo")
    assert [c.to_json() for c in a.ranked] == [c.to_json() for c in b.ranked]
    grid = RaceState.grid(race)
    live = RaceState(20, tuple(dataclasses.replace(c, gap_to_leader_s=2.5 * i, tyre_age_laps=20)
                               for i, c in enumerate(sorted(grid.cars, key=lambda c: c.position))), TrackStatus.SC, 3)
    a = decide(race, "LEC", live, total_runs=600, seed=5)
    b = decide(race, "LEC", live, total_runs=600, seed=5, backend="mojo")
    assert [c.to_json() for c in a.ranked] == [c.to_json() for c in b.ranked]


@pytest.mark.integration  # starts a subprocess
@needs_mojo
def test_loading_mojo_leaves_child_pythons_alone(race):
    """The Mojo runtime sets PYTHONEXECUTABLE in the C environment; subprocesses must not see it."""
    import os

    from workbench.strategy.montecarlo import simulate
    simulate(race, runs=20, seed=1, backend="mojo")  # load the extension and run a parallel kernel
    out = subprocess.run([sys.executable, "-c", "import os, sys; print(sys.prefix); "
                          "print(os.environ.get('PYTHONEXECUTABLE'))"], capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines() == [sys.prefix, str(os.environ.get("PYTHONEXECUTABLE"))]


@needs_mojo
def test_the_orchestrator_on_mojo_publishes_what_numba_does(race):
    from workbench.bench.harness import live_session
    from workbench.strategy.montecarlo import RaceState
    from workbench.strategy.orchestrator import HPCOrchestrator

    grid = {"lap_step": 6, "two_stop_lap_step": 12}
    state = RaceState.from_session(live_session(race, "LEC", 15, seed=1))
    published = {}
    for backend in ("numba", "mojo"):
        orch = HPCOrchestrator(race, "LEC", total_runs=600, seed=3, candidate_grid=grid, backend=backend)
        try:
            orch.submit(state, "manual")
            assert orch.wait_idle(300) and orch.counts["failed"] == 0, orch.last_error
            published[backend] = orch.latest
        finally:
            orch.close()
    assert published["mojo"]["backend"] == "mojo"
    assert [c["label"] for c in published["mojo"]["ranked"]] == [c["label"] for c in published["numba"]["ranked"]]
    for a, b in zip(published["mojo"]["ranked"], published["numba"]["ranked"]):
        assert a["mean_position"] == pytest.approx(b["mean_position"], abs=1e-9)
