"""`racetwin predict` on bad lap files: one line naming the file and the problem, exit 2, no traceback (issue 15)."""

import subprocess
import sys

import pytest

CASES = [
    ("empty.csv", b"", "is empty"),
    ("blank.csv", b"\n\n  \n", "is empty"),
    ("binary.csv", bytes(range(256)) * 4, "is a binary file, not a CSV lap table"),
    ("latin.csv", "Driver,LapNumber\nP\xe9rez,1\nX,2\n".encode("latin-1"), "is not UTF-8 text"),
    ("laps.json", b'{"Driver": ["VER"], "LapNumber": [1]}', "is JSON, not a CSV lap table"),
    ("array.json", b'[{"Driver": "VER"}]', "is JSON, not a CSV lap table"),
    ("header.csv", b"Driver,LapNumber,LapTime,Compound,Stint,TyreLife,Position\n", "has a header but no rows"),
    ("ragged.csv", b"a,b\n1,2\n1,2,3,4\n", "is not a well-formed CSV table at line 3"),
    ("columns.csv", b"a,b\n1,2\n", "column 'Driver' is missing"),
]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "predict", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("name, content, problem", CASES)
def test_bad_lap_file_gets_one_line(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    r = _cli(str(path), "--at-lap", "10", "--laps", "57")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"racetwin predict: {path}: ") and problem in lines[0], lines[0]
    assert "Error tokenizing" not in lines[0] and "C error" not in lines[0]  # no raw pandas text


def test_a_directory_and_a_missing_file(tmp_path):
    r = _cli(str(tmp_path), "--at-lap", "10")
    assert r.returncode == 2 and r.stderr.strip() == f"racetwin predict: {tmp_path}: is not a file (a directory?)"
    r = _cli(str(tmp_path / "nope.csv"), "--at-lap", "10")
    assert r.returncode == 2 and r.stderr.strip() == f"racetwin predict: {tmp_path / 'nope.csv'}: no such file"


def test_a_missing_race_file(tmp_path, shared_data):
    r = _cli(str(shared_data / "real-races/2024-bahrain-race-laps.csv"), "--at-lap", "10", "--race",
             str(tmp_path / "none.json"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("racetwin predict: ") and "none.json" in r.stderr  # catalogue's or predict's words
