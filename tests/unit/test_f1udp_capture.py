"""The real F1 25 capture (../shared/data/f1-udp) decodes 100 %, with the manifest's counts and plausible values."""

import collections
import json

import pytest

from workbench.telemetry.f1udp import F1GameMapper, decode_packet
from workbench.telemetry.pcap import read_pcap
from workbench.telemetry.records import CarSample, SessionType


@pytest.fixture(scope="module")
def capture(shared_data):
    folder = shared_data / "f1-udp"
    manifest = json.loads((folder / "f1-25-catalunya-time-trial.manifest.json").read_text())
    datagrams = list(read_pcap(folder / manifest["file"]))
    return manifest, datagrams


@pytest.fixture(scope="module")
def decoded(capture):
    _, datagrams = capture
    return [decode_packet(d.payload) for d in datagrams]


def test_every_packet_decodes_and_counts_match_the_manifest(capture, decoded):
    manifest, datagrams = capture
    assert len(datagrams) == manifest["packet_count"] == len(decoded)
    counts = collections.Counter(str(h["packetId"]) for h, _ in decoded)
    assert counts == {pid: v["count"] for pid, v in manifest["packets_per_packetId"].items()}
    assert {h["packetFormat"] for h, _ in decoded} == set(manifest["packetFormat"])
    assert all(d.dst_port == 20777 for d in datagrams)


def test_session_fields_match_the_manifest(capture, decoded):
    manifest, _ = capture
    first = next(b for h, b in decoded if h["packetId"] == 1)
    fields = manifest["session_packet_fields"]
    assert (first["weather"], first["trackTemperature"], first["airTemperature"], first["totalLaps"],
            first["trackLength"], first["sessionType"], first["trackId"], first["formula"]) == (
        fields["weather"], fields["trackTemperature_C"], fields["airTemperature_C"], fields["totalLaps"],
        fields["trackLength_m"], fields["sessionType"], fields["trackId"], fields["formula"])


def test_event_codes_match_the_manifest(capture, decoded):
    manifest, _ = capture
    codes = collections.Counter(b["eventStringCode"].decode() for h, b in decoded if h["packetId"] == 3)
    assert codes == manifest["event_codes"]


def test_values_are_plausible(decoded):
    player_laps = []
    for h, b in decoded:
        me = h["playerCarIndex"]
        if h["packetId"] == 6:
            car = b["cars"][me]
            assert 0 <= car["speed"] <= 380
            assert -1 <= car["gear"] <= 8
            assert 0.0 <= car["throttle"] <= 1.0 and 0.0 <= car["brake"] <= 1.0
            assert all(10 <= t <= 160 for t in car["tyresSurfaceTemperature"] + car["tyresInnerTemperature"])
        elif h["packetId"] == 2:
            player_laps.append(b["cars"][me]["currentLapNum"])
        elif h["packetId"] == 7:
            car = b["cars"][me]
            assert 0 < car["fuelInTank"] <= car["fuelCapacity"] <= 120
    assert player_laps and player_laps == sorted(player_laps)
    assert 1 <= min(player_laps)


def test_mapped_records_carry_the_players_car(decoded):
    mapper = F1GameMapper()
    records = [r for h, b in decoded for r in mapper.records(h, b)]
    samples = [r for r in records if isinstance(r, CarSample)]
    assert len(samples) == 1000  # one per CarTelemetry packet: one active car
    assert {s.driver for s in samples} == {"C00"}
    assert max(s.speed_kph for s in samples) > 100
    # the player's own data is real although the participant's UDP setting is "restricted"
    assert mapper.participants[0]["telemetry"] == "restricted"
    # the first sample precedes the first CarStatus packet: fuel unknown (None), never 0 kg
    assert samples[0].fuel_kg is None
    assert all(s.fuel_kg is not None and s.fuel_kg > 0 for s in samples[1:])
    session = next(r for r in records if r.type == "session")
    assert (session.track, session.session_type, session.total_laps) == ("Catalunya", SessionType.TIME_TRIAL, 1)
    assert mapper.classification[0]["laps"] == 7
