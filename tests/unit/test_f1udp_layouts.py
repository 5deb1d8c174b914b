"""F1-game layout tables: sizes match EA's specs, every (format, id) round-trips, dispatch and rejects."""

import pytest

from tests.f1util import header, packet
from workbench.telemetry.f1udp import LAYOUTS, F1PacketError, decode_packet, encode_packet, zero_body
from workbench.telemetry.f1udp.layouts import HEADER_SIZE, SPEC_SIZES


def test_header_is_29_bytes():
    assert HEADER_SIZE == 29


@pytest.mark.parametrize("fmt,pid,size", [(f, p, s) for f, t in SPEC_SIZES.items() for p, s in t.items()])
def test_layout_size_matches_the_published_spec(fmt, pid, size):
    assert LAYOUTS[fmt][pid].size == size


def test_2026_has_24_car_slots():
    body = zero_body(2026, 6)
    assert len(body["cars"]) == 24
    assert LAYOUTS[2026][6].size == 29 + 24 * 59 + 3  # engine temperature is a uint8 in 2026


@pytest.mark.parametrize("fmt,pid", [(f, p) for f, t in LAYOUTS.items() for p in t])
def test_every_packet_round_trips(fmt, pid):
    data = packet(fmt, pid, t=12.5)
    h, body = decode_packet(data)
    assert (h["packetFormat"], h["packetId"], h["sessionTime"]) == (fmt, pid, 12.5)
    assert encode_packet(h, body) == data


def test_dispatch_is_on_packet_format_not_game_year():
    data = bytearray(packet(2024, 2))
    data[2] = 23  # gameYear says 23, packetFormat says 2024: the 2024 layout (1285 bytes) applies
    h, body = decode_packet(bytes(data))
    assert "deltaToRaceLeaderMinutesPart" in body["cars"][0]


def test_2023_and_2024_lap_layouts_differ_in_delta_parts():
    assert "deltaToRaceLeaderMinutesPart" not in zero_body(2023, 2)["cars"][0]
    assert "speedTrapFastestSpeed" in zero_body(2024, 2)["cars"][0]


@pytest.mark.parametrize("data,reason,needle", [
    (b"", "truncated", "shorter than the 29-byte header"),
    (packet(2025, 6)[:-1], "truncated", "1351 bytes is not the 1352 bytes of a 2025 CarTelemetry"),
    (packet(2025, 6) + b"\0", "oversized", "1353 bytes is not the 1352"),
    (bytes(4096), "oversized", "above the limit of 2048"),
    (packet(2025, 6).replace(b"\xe9\x07", b"\xe3\x07", 1), "unknown_format", "packetFormat: 2019 is not one of"),
    (packet(2023, 3)[:6] + b"\x0e" + packet(2023, 3)[7:], "unknown_packet_id", "packetId: 14 is not a packet of "
                                                                                "format 2023"),
])
def test_bad_datagrams_are_rejected_with_reason_and_message(data, reason, needle):
    with pytest.raises(F1PacketError) as err:
        decode_packet(data)
    assert err.value.reason == reason
    assert needle in str(err.value)


def test_non_finite_session_time_is_a_bad_header():
    with pytest.raises(F1PacketError) as err:
        decode_packet(encode_packet(header(2025, 3, float("nan")), zero_body(2025, 3)))
    assert err.value.reason == "bad_header" and "sessionTime: nan" in str(err.value)
