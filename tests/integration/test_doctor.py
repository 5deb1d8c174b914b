"""`racetwin doctor`: passes on this install, fails loudly on a taken port or a dead LLM server."""

import socket
import subprocess
import sys

from tests.util import free_port


def _doctor(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "doctor", *args], capture_output=True, text=True,
                          timeout=120)


def test_doctor_passes_here(tmp_path):
    result = _doctor("--data-dir", str(tmp_path), "--port", str(free_port()))
    assert result.returncode == 0, result.stdout
    assert "all checks passed" in result.stdout and "numba" in result.stdout
    assert "auto-selected kernel: " in result.stdout  # the gpu check


def test_doctor_fails_on_a_taken_port_and_a_dead_llm(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        dead = free_port()
        result = _doctor("--data-dir", str(tmp_path), "--port", str(port), "--llm-url", f"http://127.0.0.1:{dead}/v1")
    assert result.returncode == 1
    assert f"port {port} is taken" in result.stdout
    assert f"http://127.0.0.1:{dead}/v1: not reachable" in result.stdout
    assert "6 of 9 checks passed, 2 failed, 1 skipped" in result.stdout  # the gpu check: a skip without a GPU
