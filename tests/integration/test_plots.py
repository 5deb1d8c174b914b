"""`--plot FILE.html` on predict, simulate and calibrate (offline pages), and progress only on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading

import numpy as np
import pytest

from tests.conftest import REPO

LAPS = str(REPO / "data" / "2024-bahrain-race-laps.csv")
EXTERNAL = re.compile(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=", re.IGNORECASE)


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO, **kw)


def _page(path) -> str:
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert not EXTERNAL.findall(html), "the page loads a file: it would not work offline"
    assert "Bokeh" in html and len(html) > 500_000  # BokehJS inlined
    return html


def test_simulate_plot_is_an_offline_page_of_the_position_distribution(tmp_path):
    out = _cli("simulate", "bahrain-2024", "--runs", "20", "--seed", "1", "--plot", str(tmp_path / "sim.html"))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # not a terminal: no progress bar
    html = _page(tmp_path / "sim.html")
    assert "finishing position distribution over 20 races" in html
    for label in ("VER", "HAM", "P20", "probability"):
        assert f'"{label}"' in html


def test_predict_plot_shows_positions_and_the_actual_finish(tmp_path):
    out = _cli("predict", LAPS, "--at-lap", "20", "--runs", "60", "--plot", str(tmp_path / "p.html"), "--json")
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    html = _page(tmp_path / "p.html")
    for label in ("mean simulated position", "predicted position", "order at lap 20", "actual finish",
                  "Predicted finish from the end of lap 20 of 57 (60 races, seed 0)", "VER", "SAR"):
        assert label in html


def test_predict_sweep_plot_has_model_and_naive_per_k(tmp_path):
    out = _cli("predict", LAPS, "--sweep", "--runs", "20", "--plot", str(tmp_path / "s.html"))
    assert out.returncode == 0, out.stderr
    html = _page(tmp_path / "s.html")
    for label in ("K=14", "K=28", "K=43", "naive (order at K stays)", "MAE (positions)"):
        assert label in html


def test_calibrate_plot_one_table_draws_each_compound_and_its_fit(tmp_path):
    out = _cli("calibrate", LAPS, "--plot", str(tmp_path / "c.html"))
    assert out.returncode == 0, out.stderr
    html = _page(tmp_path / "c.html")
    for label in ("HARD clean laps", "SOFT clean laps", "tyre age (laps)"):
        assert label in html
    assert re.search(r"HARD fit \((linear|quadratic|logarithmic)\)", html)


def test_calibrate_plot_several_tables_draws_the_loro_bars(tmp_path, shared_data):
    tables = [str(shared_data / "real-races" / f"2024-{r}-race-laps.csv") for r in ("bahrain", "british")]
    out = _cli("calibrate", *tables, "--plot", str(tmp_path / "l.html"))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    html = _page(tmp_path / "l.html")
    for label in ("2024-bahrain", "2024-british", "naive (repeat last clean lap)", "MAE (s)",
                  "leave-one-race-out"):
        assert label in html


@pytest.mark.parametrize("command", [("simulate", "bahrain-2024"), ("predict", LAPS, "--at-lap", "20"),
                                     ("calibrate", LAPS)])
def test_bad_plot_path_is_one_line_naming_the_option(tmp_path, command):
    missing = _cli(*command, "--plot", str(tmp_path / "no" / "x.html"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr == (f"racetwin {command[0]}: --plot: {str(tmp_path / 'no' / 'x.html')!r} is in a folder "
                              f"that does not exist ({str(tmp_path / 'no')!r})\n")
    folder = _cli(*command, "--plot", str(tmp_path))
    assert folder.returncode == 2
    assert folder.stderr == f"racetwin {command[0]}: --plot: {str(tmp_path)!r} is a folder; give a file name\n"


def test_progress_bar_is_off_unless_enabled():
    from workbench.strategy.sweep import progress_bar

    assert progress_bar("x", enabled=False) is None


def test_simulate_progress_reaches_the_total_and_changes_no_race(race):
    from workbench.strategy.montecarlo import simulate

    seen = []
    plain = simulate(race, runs=37, seed=5)
    reported = simulate(race, runs=37, seed=5, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (37, 37) and len(seen) > 1 and all(t == 37 for _, t in seen)
    assert np.array_equal(plain.position, reported.position)
    assert np.array_equal(plain.stops, reported.stops)
    assert np.array_equal(plain.race_time_s, reported.race_time_s, equal_nan=True)


@pytest.mark.parametrize(("command", "bar", "head"), [
    (("simulate", "bahrain-2024", "--runs", "40"), b"simulate:", b"race 0 finishing order"),
    (("calibrate", LAPS), b"backtest:", b"backtest (laps k..k+4"),
])
def test_progress_is_drawn_on_a_terminal_stderr_only(command, bar, head):
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        proc = subprocess.run([sys.executable, "-m", "workbench", *command],
                              stdout=subprocess.PIPE, stderr=child, cwd=REPO, timeout=300)
    finally:
        os.close(child)
        reader.join(10)
        os.close(main)
    err = b"".join(chunks)
    assert proc.returncode == 0
    assert bar in err and re.search(rb"\d+/\d+ \[", err)  # tqdm's bar ("simulate: ... 40/40 [..."), on the tty
    assert bar not in proc.stdout and head in proc.stdout
