"""`racetwin decode` on the real capture, a lap table and bad files (real subprocesses)."""

import json
import subprocess
import sys

from tests.util import REPO


def racetwin(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_decode_json_summary_of_the_capture(shared_data):
    manifest = json.loads((shared_data / "f1-udp" / "f1-25-catalunya-time-trial.manifest.json").read_text())
    proc = racetwin("decode", str(shared_data / "f1-udp" / "f1-25-catalunya-time-trial.pcap"), "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert (s["items"], s["decoded"], s["rejected"], s["decoded_pct"]) == (11969, 11969, 0, 100.0)
    assert {str(p["packetId"]): p["count"] for p in s["packets"]} == {
        k: v["count"] for k, v in manifest["packets_per_packetId"].items()}
    assert (s["track"], s["session_type"], s["cars"], s["total_laps"]) == ("Catalunya", "time_trial", ["C00"], 1)


def test_decode_text_summary_of_a_lap_table(shared_data):
    proc = racetwin("decode", str(shared_data / "real-races" / "2024-bahrain-race-laps.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "decoded 1129 (100.0 %)" in proc.stdout and "cars: 20" in proc.stdout and "max lap 57" in proc.stdout


def test_decode_counts_bad_lines_by_reason(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"type": "car_sample", "session_time_s": 1, "driver": "VER", "lap": 1}\n'
                    '{"type": "car_sample", "session_time_s": 2, "driver": "VER", "lap": 0}\nnot json\n')
    s = json.loads(racetwin("decode", str(path), "--json").stdout)
    assert (s["decoded"], s["rejected"]) == (1, 2)
    assert s["rejected_by_reason"] == {"lap: is below minimum 1": 1, "json: invalid": 1}
    assert "line 2: lap: 0 is below minimum 1" in s["reject_examples"]["lap: is below minimum 1"][0]


def test_decode_missing_and_pcapng_files_fail_clearly(tmp_path):
    proc = racetwin("decode", str(tmp_path / "nope.pcap"))
    assert proc.returncode == 2 and "is not a file" in proc.stderr
    ng = tmp_path / "x.pcapng"
    ng.write_bytes(b"\x0a\x0d\x0d\x0a" + b"\0" * 40)
    proc = racetwin("decode", str(ng))
    assert proc.returncode == 2 and "pcapng" in proc.stderr
