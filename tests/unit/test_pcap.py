"""The pure-Python pcap reader/writer: byte-exact round trip of the real capture, link types, bad files."""

import hashlib
import json
import struct

import pytest

from workbench.telemetry.pcap import PcapError, PcapWriter, is_pcap, read_pcap


def test_rewriting_the_real_capture_is_byte_identical(shared_data, tmp_path):
    src = shared_data / "f1-udp" / "f1-25-catalunya-time-trial.pcap"
    manifest = json.loads((shared_data / "f1-udp" / "f1-25-catalunya-time-trial.manifest.json").read_text())
    out = tmp_path / "copy.pcap"
    with PcapWriter(out) as w:
        for d in read_pcap(src):
            w.write(d.payload, d.time_s, d.src, d.src_port, d.dst, d.dst_port)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == manifest["pcap_sha256"]


def test_writer_round_trip_and_timestamps(tmp_path):
    path = tmp_path / "a.pcap"
    with PcapWriter(path) as w:
        w.write(b"hello", 1735689600.25, "10.0.0.1", 5000, "10.0.0.2", 20777)
        w.write(b"", 1735689600.9999996)
    got = list(read_pcap(path))
    assert [(g.payload, g.src, g.src_port, g.dst, g.dst_port) for g in got] == [
        (b"hello", "10.0.0.1", 5000, "10.0.0.2", 20777), (b"", "127.0.0.1", 20778, "127.0.0.1", 20777)]
    assert got[0].time_s == pytest.approx(1735689600.25)
    assert got[1].time_s == pytest.approx(1735689601.0)
    assert is_pcap(path)


def test_ethernet_linktype_and_non_udp_frames_are_skipped(tmp_path):
    path = tmp_path / "eth.pcap"
    raw = tmp_path / "raw.pcap"
    with PcapWriter(raw) as w:
        w.write(b"payload", 1.0)
    ip = raw.read_bytes()[24 + 16:]
    eth = b"\x00" * 12 + b"\x08\x00" + ip
    arp = b"\x00" * 12 + b"\x08\x06" + b"\x00" * 28
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for frame in (arp, eth):
            f.write(struct.pack("<IIII", 1, 0, len(frame), len(frame)) + frame)
    assert [d.payload for d in read_pcap(path)] == [b"payload"]


@pytest.mark.parametrize("content,needle", [
    (b"\x0a\x0d\x0d\x0a" + b"\0" * 40, "block 1: byte-order magic 00000000 is not 1a2b3c4d"),
    (b"hello world, not a capture at all", "not a pcap or pcapng file"),
    (b"", "magic empty"),
])
def test_not_pcap_is_a_clear_error(tmp_path, content, needle):
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    with pytest.raises(PcapError, match=needle):
        list(read_pcap(path))


def test_cut_file_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.pcap"
    with PcapWriter(path) as w:
        w.write(b"x" * 100, 1.0)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(PcapError, match="record 1: 118 of 128 bytes present"):
        list(read_pcap(path))


def test_pcapng_sections_interfaces_resolutions_and_skipped_blocks(tmp_path):
    """A pcapng written per the specification (tests/pcapng_util.py): what Wireshark saves by default."""
    from tests import pcapng_util as ng

    frame = ng.ipv4_udp(b"first", 1111, 20777)
    data = b"".join([
        ng.section_header("<"), ng.interface(1, "<"), ng.interface(101, "<", tsresol=9), ng.name_resolution("<"),
        ng.enhanced_packet(0, 1_700_000_000_250_000, ng.ethernet(frame), "<"),  # us: 1700000000.25 s
        ng.enhanced_packet(1, 1_700_000_001_500_000_000, ng.ipv4_udp(b"second!", 2222, 20777), "<"),  # ns
        ng.simple_packet(ng.ethernet(ng.ipv4_udp(b"simple", 3333)), "<"),
        ng.enhanced_packet(0, 5, ng.ethernet(b"\x45" + b"\0" * 8 + b"\x06" + b"\0" * 10), "<"),  # TCP: skipped
        ng.interface_statistics("<"),
        ng.section_header(">"), ng.interface(101, ">", tsresol=0x80 | 10),  # a big-endian section, 2^-10 s
        ng.enhanced_packet(0, 3 * 1024, ng.ipv4_udp(b"big-endian", 4444), ">"),
    ])
    path = tmp_path / "capture.pcapng"
    path.write_bytes(data)
    assert is_pcap(path)
    got = list(read_pcap(path))
    assert [(d.payload, d.src_port, d.dst_port) for d in got] == [
        (b"first", 1111, 20777), (b"second!", 2222, 20777), (b"simple", 3333, 20777), (b"big-endian", 4444, 20777)]
    assert got[0].time_s == pytest.approx(1_700_000_000.25) and got[1].time_s == pytest.approx(1_700_000_001.5)
    assert got[3].time_s == 3.0 and got[0].src == "10.0.0.2" and got[0].dst == "10.0.0.1"


@pytest.mark.parametrize("cut,needle", [
    (lambda d: d[:-6], r"block 3: 94 of 100 bytes present \(file cut short\)"),
    (lambda d: d[:52] + d[72:], r"block 2: interface 0 is not described \(the section has 0\)"),
    (lambda d: d[:-4] + b"\x99\0\0\0", "block 3: trailing length 153 is not the leading 100"),
])
def test_bad_pcapng_is_a_clear_error(tmp_path, cut, needle):
    from tests import pcapng_util as ng

    data = ng.section_header() + ng.interface(101) + ng.enhanced_packet(0, 1, ng.ipv4_udp(b"x" * 20))
    path = tmp_path / "bad.pcapng"
    path.write_bytes(cut(data))
    with pytest.raises(PcapError, match=needle):
        list(read_pcap(path))
