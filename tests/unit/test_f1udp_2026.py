"""Format 2026 (F1 25: 2026 Season Pack): a 22-car race capture decodes completely.

No real 2026 capture is committed: the capture here is built by this test from the layout
tables, which restate EA's published 2026 struct text (``data/spec.h`` of the
``f1-packets==2026.1.1`` sdist) and whose sizes `test_f1udp_layouts` asserts against the
spec's stated sizes. The values are set field by field, so the test checks that each
2026 field lands where the spec puts it (offsets computed by hand from the spec below),
and that a whole race in 2026 format, saved as pcapng (Wireshark's default), decodes to
100 % with laps for every car.
"""

from __future__ import annotations

import struct

import pytest

from tests import pcapng_util as ng
from tests.f1util import header, lap_data, packet
from workbench.telemetry.f1udp import PACKET_NAMES, decode_packet, encode_packet, zero_body
from workbench.telemetry.f1udp.layouts import G_FORCE_SCALE_2026, HEADER_SIZE, LAYOUTS
from workbench.telemetry.records import LapRecord
from workbench.telemetry.summary import summarize

CARS = 22


def test_every_2026_packet_id_and_packet_16():
    assert sorted(LAYOUTS[2026]) == list(range(17)) and PACKET_NAMES[16] == "CarTelemetry2"
    assert len(zero_body(2026, 16)["cars"]) == 24


def test_session_2026_tail_offsets():
    # spec: ... m_sector3LapDistanceStart (float) ends at byte 753 of the packet, as in 2024/2025; then
    # m_activeAeroTrackStatus (753), m_numActiveAeroZonesFull (754), 8 x {start, end} floats (755..818),
    # m_numActiveAeroZonesPartial (819), 8 zones (820..883), m_numDRSZones (884), 4 x DRS zone (885..916),
    # m_startReactionTime float (917), five uint8 assists (921..925): 926 bytes
    zones = [{"zoneStart": 0.1 * i, "zoneEnd": 0.1 * i + 0.05} for i in range(8)]
    body = {**zero_body(2026, 1), "activeAeroTrackStatus": 1, "numActiveAeroZonesFull": 5,
            "activeAeroZonesFull": zones, "numDRSZones": 3, "startReactionTime": 0.25,
            "recurringRewindPrompt": 1, "sector3LapDistanceStart": 3800.0, "totalLaps": 57, "trackId": 3}
    data = encode_packet(header(2026, 1, 1.0), body)
    assert len(data) == 926
    assert struct.unpack_from("<f", data, 749)[0] == 3800.0
    assert data[753] == 1 and data[754] == 5
    assert struct.unpack_from("<2f", data, 755 + 8) == pytest.approx((0.1, 0.15))
    assert data[884] == 3 and struct.unpack_from("<f", data, 917)[0] == 0.25 and data[925] == 1
    _, back = decode_packet(data)
    assert back["activeAeroZonesFull"][1]["zoneStart"] == pytest.approx(0.1) and back["numDRSZones"] == 3


def test_2026_changed_fields_land_where_the_spec_puts_them():
    # Participants: uint8 aiControlled, uint16 driverId, uint16 networkId, uint16 teamId, ... (60 bytes per car)
    data = packet(2026, 4, numActiveCars=22, cars={1: {"driverId": 300, "teamId": 485, "name": b"PIASTRI"}})
    car1 = HEADER_SIZE + 1 + 60
    assert struct.unpack_from("<BHHH", data, car1) == (0, 300, 0, 485) and data[car1 + 10:car1 + 17] == b"PIASTRI"
    # CarTelemetry: m_engineTemperature is a uint8 at byte 38 of the 59-byte car; tyre pressures follow
    data = packet(2026, 6, cars={0: {"engineTemperature": 110, "tyresPressure": (23.0, 23.5, 22.0, 22.5)}})
    assert data[HEADER_SIZE + 38] == 110 and struct.unpack_from("<f", data, HEADER_SIZE + 39)[0] == 23.0
    # CarStatus: m_ersHarvestLimitPerLap between MGU-H harvest and ERS deployed (59-byte car)
    data = packet(2026, 7, cars={0: {"ersHarvestLimitPerLap": 7.5e6, "ersDeployedThisLap": 1.0e6}})
    assert struct.unpack_from("<ff", data, HEADER_SIZE + 50) == (7.5e6, 1.0e6)
    # Motion: g-forces are int16 / 1000 (54-byte car)
    data = packet(2026, 0, cars={2: {"gForceLateral": -2500, "yaw": 1.5}})
    _, body = decode_packet(data)
    assert body["cars"][2]["gForceLateral"] / G_FORCE_SCALE_2026 == -2.5 and body["cars"][2]["yaw"] == 1.5
    assert struct.unpack_from("<h", data, HEADER_SIZE + 2 * 54 + 36)[0] == -2500
    # CarTelemetry2: 10 bytes per car
    data = packet(2026, 16, cars={3: {"activeAeroMode": 1, "activeAeroActivationDistance": 240,
                                      "overtakeAvailable": 1, "overtakeActivationDistance": 515,
                                      "regulations2026": 1}})
    assert struct.unpack_from("<BBHBBHBB", data, HEADER_SIZE + 30) == (1, 0, 240, 1, 0, 515, 1, 0)
    # LobbyInfo and TimeTrial: uint16 teamId
    assert struct.unpack_from("<BH", packet(2026, 9, cars={0: {"teamId": 65535}}), HEADER_SIZE + 1) == (0, 65535)
    assert len(packet(2026, 14)) == 104


TRACK_M = 5412
STREAM_HZ = 2.0  # the game streams continuously (the Session packet's own rate); no gaps in its clock


def race_2026(laps: int = 3) -> list[tuple[float, bytes]]:
    """A 22-car, ``laps``-lap race in format 2026: every packet id, one lap per 90 s.

    Like a real game stream, the clock runs without gaps: between the once-a-lap bursts of every
    packet id, LapData (cars moving round the lap) and Motion go out at `STREAM_HZ`. A stream that
    jumped 90 s from one packet to the next would be held as a clock jump (issue 15), as it should be.
    """
    out = [(0.0, packet(2026, 1, 0.0, totalLaps=laps, trackId=3, sessionType=15, trackLength=TRACK_M,
                        safetyCarStatus=0)),
           (0.0, packet(2026, 4, 0.0, numActiveCars=CARS,
                        cars={i: {"name": f"DRIVER{i}".encode(), "teamId": 476 + i % 11, "yourTelemetry": 1,
                                  "raceNumber": i + 1} for i in range(CARS)})),
           (0.0, packet(2026, 3, 0.0, eventStringCode=b"SSTA"))]
    for lap in range(1, laps + 2):
        t = 1.0 + 90.0 * (lap - 1)
        cars = {i: {"currentLapNum": min(lap, laps), "carPosition": i + 1, "lapDistance": 10.0,
                    "lastLapTimeInMS": 90_000 + 100 * i if lap > 1 else 0,
                    "resultStatus": 3 if lap > laps else 2} for i in range(CARS)}
        out.append((t, lap_data(2026, t, cars)))
        out.append((t, packet(2026, 7, t, cars={i: {"visualTyreCompound": 17, "actualTyreCompound": 19,
                                                    "tyresAgeLaps": lap, "fuelInTank": 100.0 - lap,
                                                    "ersHarvestLimitPerLap": 7.5e6} for i in range(CARS)})))
        out.append((t, packet(2026, 6, t, cars={i: {"speed": 280, "throttle": 1.0, "gear": 7, "engineRPM": 11000,
                                                    "engineTemperature": 110} for i in range(CARS)})))
        out.append((t, packet(2026, 16, t, cars={i: {"overtakeAvailable": 1, "regulations2026": 1}
                                                 for i in range(CARS)})))
        for pid in (0, 5, 10, 12, 13, 15):
            out.append((t, packet(2026, pid, t)))
        if lap <= laps:  # the lap itself: the cars go round, the game keeps sending
            steps = int(90.0 * STREAM_HZ)
            for k in range(1, steps):
                tk = t + k / STREAM_HZ
                moving = {i: {**car, "lapDistance": 10.0 + (TRACK_M - 20.0) * k / steps,
                              "currentLapTimeInMS": int(1000 * k / STREAM_HZ)} for i, car in cars.items()}
                out.append((tk, lap_data(2026, tk, moving)))
                out.append((tk, packet(2026, 0, tk)))
    t = 90.0 * laps + 2
    out += [(t, packet(2026, 11, t, carIdx=0, numLaps=laps)),
            (t, packet(2026, 8, t, numCars=CARS, cars={i: {"position": i + 1, "numLaps": laps, "resultStatus": 3}
                                                       for i in range(CARS)})),
            (t, packet(2026, 9, t)), (t, packet(2026, 14, t)), (t, packet(2026, 3, t, eventStringCode=b"CHQF"))]
    return out


def test_a_2026_race_saved_as_pcapng_decodes_completely(tmp_path):
    path = tmp_path / "race-2026.pcapng"
    ng.write_udp_pcapng(path, [(1_767_225_600 + t, data) for t, data in race_2026()])
    s = summarize(path)
    assert s["kind"] == "pcap" and s["rejected"] == 0 and s["decoded_pct"] == 100.0
    assert {p["packetId"] for p in s["packets"]} == set(range(17))
    assert {p["packetFormat"] for p in s["packets"]} == {2026}
    assert len(s["cars"]) == CARS and s["max_lap"] == 3 and s["total_laps"] == 3
    assert s["records"]["lap"] >= CARS * 2 and s["track"] == "Sakhir (Bahrain)"


def test_2026_laps_carry_the_lap_times(tmp_path):
    from workbench.telemetry.sources import read_file_items

    path = tmp_path / "race-2026.pcapng"
    ng.write_udp_pcapng(path, [(t, data) for t, data in race_2026(laps=2)])
    laps = [r for item in read_file_items(path) for r in item.records if isinstance(r, LapRecord)]
    lap1 = {r.driver: r for r in laps if r.lap_number == 1}
    assert len(lap1) == CARS
    assert lap1["C00"].lap_time_s == 90.0 and lap1["C21"].lap_time_s == 92.1 and lap1["C05"].position == 6
