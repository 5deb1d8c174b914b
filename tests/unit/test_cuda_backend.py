"""The CUDA backend: parity with numba under numba's CUDA simulator, auto-selection, clear errors.

The parity run needs ``NUMBA_ENABLE_CUDASIM=1`` set before numba.cuda is first
imported, so it runs `tests/cuda_parity_check.py` in a fresh interpreter. Tests
skip, saying why, when numba-cuda (the ``gpu`` extra) is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from workbench.kernels.select import CudaUnavailable, gpu_status, resolve_backend

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None,
                                reason="numba-cuda not installed (pip install '.[gpu]'): CUDA backend not tested")


@pytest.fixture(scope="module")
def parity(repo_root):
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONPATH": str(repo_root)}
    done = subprocess.run([sys.executable, str(repo_root / "tests" / "cuda_parity_check.py")], env=env,
                          capture_output=True, text=True, timeout=300, cwd=repo_root)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.integration
@pytest.mark.parametrize("case", ["grid", "sim0", "live_sc", "candidates"])
def test_cuda_kernel_matches_numba_race_by_race(parity, case):
    found = parity[case]
    assert found["positions_equal"] and found["stops_equal"], found
    assert found["max_time_diff_s"] < 1e-9, found


@pytest.mark.integration
def test_decide_on_the_gpu_ranks_as_numba(parity):
    found = parity["decide"]
    assert found["n_candidates"] > 3 and found["runs_per_candidate"] > 1
    assert found["same_ranking"] and found["same_position_p"] and found["same_expected_points"], found
    assert found["quantiles_within_bound"], found  # histogram quantiles: within half a bin of numpy's


@pytest.mark.integration
def test_auto_never_picks_the_simulator(parity):
    assert parity["auto_under_simulator"] == "numba"


def test_histogram_quantile_is_within_half_a_bin_of_numpy():
    from workbench.kernels.cuda_race import histogram_quantile
    rng = np.random.default_rng(1)
    for n in (1, 2, 3, 17, 500):
        x = 5000 + 30 * rng.standard_normal(n)
        lo, hi, bins = x.min(), x.max(), 256
        idx = np.minimum(bins - 1, ((x - lo) / max(hi - lo, 1e-300) * bins).astype(int))
        hist = np.bincount(idx, minlength=bins)
        for q in (0.1, 0.5, 0.9):
            assert abs(histogram_quantile(hist, lo, hi, q) - np.quantile(x, q)) <= (hi - lo) / (2 * bins) + 1e-9
    assert np.isnan(histogram_quantile(np.zeros(8, dtype=np.int64), 0.0, 1.0, 0.5))


def test_auto_resolves_to_cuda_only_with_a_real_gpu():
    expected = "cuda" if gpu_status().gpu_name is not None else "numba"
    assert resolve_backend("auto") == expected
    assert resolve_backend("mojo") == "mojo"  # only auto is resolved


@pytest.mark.skipif(gpu_status().usable, reason="a GPU (or the simulator) is present: cuda runs here")
def test_cuda_without_a_gpu_is_one_clear_error(race):
    from workbench.strategy.montecarlo import simulate
    with pytest.raises(CudaUnavailable, match=r"backend cuda: numba-cuda installed; no CUDA GPU"):
        simulate(race, runs=2, backend="cuda")


def test_gpu_limits_are_checked_with_a_clear_error():
    from workbench.kernels.cuda_race import MAX_CARS, _check_limits
    with pytest.raises(ValueError, match=rf"backend cuda: cars = {MAX_CARS + 1} exceeds the GPU kernel's limit"):
        _check_limits(MAX_CARS + 1, 50, 2)


def test_unknown_backend_names_the_choices(race):
    from workbench.strategy.montecarlo import simulate
    with pytest.raises(ValueError, match=r"backend: 'gpu' is not one of auto, numba, numpy, mojo, cuda"):
        simulate(race, runs=2, backend="gpu")


@pytest.mark.integration  # starts a subprocess
@pytest.mark.skipif(gpu_status().usable, reason="a GPU (or the simulator) is present: cuda runs here")
def test_simulate_cli_with_cuda_and_no_gpu_says_why(repo_root):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run([sys.executable, "-m", "workbench", "simulate", "data/bahrain-2024.race.json",
                           "--backend", "cuda"], capture_output=True, text=True, cwd=repo_root, env=env, timeout=300)
    assert done.returncode != 0
    assert "--backend: cuda is not usable here: numba-cuda installed; no CUDA GPU" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(gpu_status().gpu_name is not None, reason="a GPU is present: bench measures it")
def test_bench_gpu_fields_are_none_without_a_gpu_and_say_why(race):
    from workbench.bench.cuda import cuda_fields
    out = cuda_fields(race, "LEC", 20)
    assert out["full_field_races_per_s_cuda"] is None and out["decision_latency_p95_ms_cuda"] is None
    assert out["gpu"] is None and out["gpu_detail"] == gpu_status().reason


def test_health_kernel_report_names_the_auto_choice():
    from workbench.kernels.select import kernel_report, startup_line
    report = kernel_report()
    assert report["backend"] == resolve_backend("auto") and report["numba_cuda_installed"] is True
    assert startup_line().startswith(f"kernel {report['backend']} (")


@pytest.mark.integration
def test_serve_says_which_kernel_at_start_up_and_in_health(tmp_path):
    from tests.util import ServerProcess
    with ServerProcess("--speed", "50", "--seed", "1", "--car", "LEC", tmp_path=tmp_path) as srv:
        kernel = srv.get("/api/v1/health").json()["components"]["kernel"]
        banner = srv.log()
    assert kernel["backend"] == resolve_backend("auto") and kernel["detail"] == gpu_status().reason
    assert f"kernel {kernel['backend']} (" in banner


def test_numpy_compat_restores_row_stack_only_where_missing(monkeypatch):
    from workbench.kernels.select import numpy_compat
    present = getattr(np, "row_stack", None)
    numpy_compat()
    assert getattr(np, "row_stack", None) is present or present is None  # an existing one is left alone
    monkeypatch.delattr(np, "row_stack", raising=False)
    numpy_compat()
    assert np.row_stack is np.vstack
