"""HPCOrchestrator on a real Dask LocalCluster (worker processes): same seed, same answer as local."""

import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (pip install .[dask])")

from tests.util import wait_until  # noqa: E402
from workbench.bench.harness import live_session  # noqa: E402
from workbench.strategy.montecarlo import RaceState  # noqa: E402
from workbench.strategy.orchestrator import HPCOrchestrator  # noqa: E402

GRID = {"lap_step": 4, "two_stop_lap_step": 8}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as c:
        yield c


def _decide(race, state, **kw):
    orch = HPCOrchestrator(race, "LEC", total_runs=1500, seed=7, candidate_grid=GRID, chunks=4, **kw)
    try:
        orch.submit(state, "manual")
        assert orch.wait_idle(300), orch.status()
        assert orch.counts["failed"] == 0, orch.last_error
        return orch.latest
    finally:
        orch.close()


def test_dask_and_local_give_identical_rankings(race, cluster):
    state = RaceState.from_session(live_session(race, "LEC", 18, seed=1))
    local = _decide(race, state)
    remote = _decide(race, state, dask_scheduler=cluster.scheduler_address)
    assert local["where"] == "local" and remote["where"] == "dask"
    for key in ("best", "ranked", "seed_rows", "races", "candidates", "lap"):
        assert remote[key] == local[key], key


def test_stale_dask_run_is_cancelled(race, cluster):
    with distributed.Client(cluster.scheduler_address) as client:
        orch = HPCOrchestrator(race, "LEC", total_runs=60_000, seed=1, client=client, chunks=16)
        try:
            session = live_session(race, "LEC", 10, seed=1)
            orch.attach(session)
            newer = RaceState.from_session(live_session(race, "LEC", 11, seed=1))
            old = orch.submit(RaceState.from_session(session), "lap")
            # the stale run must be running on the cluster (not merely queued) when the newer one comes
            wait_until(lambda: orch.status()["busy"] and any(client.processing().values()), 120,
                       "the first decision's chunks to run on the Dask workers", step_s=0.01)
            orch.total_runs = 400
            new = orch.submit(newer, "rival_pit")
            assert orch.wait_idle(300)
            assert new == old + 1 and session.strategy_results["generation"] == new
            assert session.strategy_results["where"] == "dask"
            # the outcome: the first run was cancelled on the cluster, only the second completed and published
            assert (orch.counts["cancelled"], orch.counts["completed"], orch.counts["failed"]) == (1, 1, 0)
        finally:
            orch.close()
