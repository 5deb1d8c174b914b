"""ReplaySource and file detection: recordings replay in order through a sink, rejects are reported."""

import asyncio
import json

import pytest

from workbench.telemetry.pcap import PcapWriter
from workbench.telemetry.sources import IngestError, ReplaySource, file_kind


def write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_replay_sends_records_in_file_order_and_reports_rejects(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [
        json.dumps({"type": "session", "session_time_s": 0, "track": "Sakhir"}),
        json.dumps({"type": "batch", "records": [
            {"type": "car_sample", "session_time_s": 0.1, "driver": "VER", "lap": 1},
            {"type": "car_sample", "session_time_s": 0.2, "driver": "HAM", "lap": 1}]}),
        "{broken",
        json.dumps({"type": "car_sample", "session_time_s": 0.3, "driver": "VER", "lap": 1, "gear": 12})])
    rejects: list[IngestError] = []
    replay = ReplaySource(path, on_reject=rejects.append)
    got = []
    sent = asyncio.run(replay.stream(got.append, speed=float("inf")))
    assert sent == 3 and [r.type for r in got] == ["session", "car_sample", "car_sample"]
    assert replay.drivers == ["VER", "HAM"]
    assert [e.reason for e in rejects] == ["json: invalid", "gear: is above maximum 8"]
    assert str(rejects[1]).startswith("line 4: gear: 12")


def test_stop_event_ends_the_replay(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [json.dumps({"type": "car_sample", "session_time_s": t, "driver": "VER",
                                                          "lap": 1}) for t in range(10)])
    stop = asyncio.Event()
    got = []

    def sink(record):
        got.append(record)
        if len(got) == 3:
            stop.set()
    assert asyncio.run(ReplaySource(path).stream(sink, speed=float("inf"), stop=stop)) == 3


def test_bad_speed_is_refused(tmp_path):
    path = write_jsonl(tmp_path / "r.jsonl", [])
    with pytest.raises(ValueError, match="speed: 0 is not above 0"):
        asyncio.run(ReplaySource(path).stream(lambda r: None, speed=0))


def test_file_kind(tmp_path, shared_data):
    pcap = tmp_path / "x.bin"
    with PcapWriter(pcap) as w:
        w.write(b"{}", 1.0)
    openf1 = tmp_path / "o.json"
    openf1.write_text(json.dumps({"laps": [], "stints": []}, indent=1))
    assert file_kind(pcap) == "pcap"
    assert file_kind(openf1) == "openf1-json"
    assert file_kind(shared_data / "real-races" / "2024-bahrain-race-laps.csv") == "laps-csv"
    assert file_kind(write_jsonl(tmp_path / "a.jsonl", ['{"type": "session"}'])) == "jsonl"
