"""`racetwin record --udp PORT -o FILE.pcap --jsonl FILE` as a real process receiving real datagrams."""

import json
import socket
import subprocess
import sys

from tests.f1util import lap_data, packet
from tests.util import REPO, free_port
from workbench.telemetry.pcap import read_pcap
from workbench.telemetry.sources import read_file_items


def test_record_writes_a_readable_pcap_and_jsonl(tmp_path):
    port = free_port()
    out, jsonl = tmp_path / "rec.pcap", tmp_path / "rec.jsonl"
    datagrams = [lap_data(2023, 1.0, {3: {"currentLapNum": 2}}), packet(2023, 6, 1.1, cars={3: {"speed": 199}}),
                 b"\x00\x01", json.dumps({"type": "event", "session_time_s": 2.0, "kind": "sc_deployed"}).encode()]
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "record", "--udp", str(port), "-o", str(out),
                             "--jsonl", str(jsonl), "--count", str(len(datagrams)), "--duration", "60"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("recording UDP 127.0.0.1")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for d in datagrams:
            sock.sendto(d, ("127.0.0.1", port))
        sock.close()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "recorded 4 datagrams, 2 records, 1 rejected" in stdout
    assert [d.payload for d in read_pcap(out)] == datagrams
    assert all(d.dst_port == port for d in read_pcap(out))
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [(r["type"], r.get("driver")) for r in lines] == [("car_sample", "C03"), ("event", None)]
    # the recording replays through the same decoder
    items = list(read_file_items(out))
    assert [len(i.records) for i in items] == [0, 1, 0, 1] and items[2].error.reason == "f1: truncated"


def test_record_needs_an_output(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "workbench", "record", "--udp", "20999"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "give -o FILE.pcap and/or --jsonl" in proc.stderr
