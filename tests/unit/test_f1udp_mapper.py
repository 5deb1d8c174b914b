"""Packets of formats 2023, 2024 and 2026 (built from the layout tables) map onto our records."""

import struct

import pytest

from tests.f1util import lap_data, packet
from workbench.telemetry.f1udp import F1GameMapper, decode_packet
from workbench.telemetry.records import CarSample, Compound, EventKind, LapRecord, SessionInfo, TrackStatus
from workbench.telemetry.schema import to_wire, validate


def feed(mapper, *datagrams):
    out = []
    for d in datagrams:
        out += mapper.records(*decode_packet(d))
    return out


def sectors(fmt, s1_ms, s2_ms):
    return {"sector1TimeMSPart": s1_ms % 60000, "sector1TimeMinutesPart": s1_ms // 60000,
            "sector2TimeMSPart": s2_ms % 60000, "sector2TimeMinutesPart": s2_ms // 60000}


@pytest.mark.parametrize("fmt", [2023, 2024, 2025, 2026])
def test_lap_completion_yields_a_lap_record(fmt):
    m = F1GameMapper()
    last = 23 if fmt == 2026 else 21
    feed(m, packet(fmt, 7, 1.0, cars={last: {"visualTyreCompound": 17, "actualTyreCompound": 19,
                                               "tyresAgeLaps": 5, "fuelInTank": 80.0}}))
    first = lap_data(fmt, 10.0, {last: {"currentLapNum": 1, "carPosition": 3, **sectors(fmt, 30_500, 40_250)}})
    second_car = {"currentLapNum": 2, "carPosition": 2, "lastLapTimeInMS": 95_000, "deltaToRaceLeaderMSPart": 1_500,
                  "deltaToCarInFrontMSPart": 700}
    records = feed(m, first, lap_data(fmt, 95.0, {last: second_car}))
    laps = [r for r in records if isinstance(r, LapRecord)]
    assert len(laps) == 1
    lap = laps[0]
    assert (lap.driver, lap.lap_number, lap.position, lap.lap_time_s) == (f"C{last:02d}", 1, 2, 95.0)
    assert (lap.sector1_time_s, lap.sector2_time_s, lap.sector3_time_s) == (30.5, 40.25, 24.25)
    assert (lap.gap_to_leader_s, lap.interval_s) == (1.5, 0.7)
    assert (lap.compound, lap.compound_detail, lap.tyre_age_laps, lap.fuel_kg) == (Compound.MEDIUM, "C2", 5, 80.0)
    assert validate(to_wire(lap)) == lap


def test_2024_sector_minutes_part_counts():
    m = F1GameMapper()
    slow = {"currentLapNum": 1, **sectors(2024, 61_000, 62_000)}
    records = feed(m, lap_data(2024, 1.0, {0: slow}),
                   lap_data(2024, 200.0, {0: {"currentLapNum": 2, "lastLapTimeInMS": 150_000}}))
    lap = next(r for r in records if isinstance(r, LapRecord))
    assert (lap.sector1_time_s, lap.sector2_time_s, lap.sector3_time_s) == (61.0, 62.0, 27.0)


def test_restricted_players_zeros_are_unknown_not_zero():
    m = F1GameMapper()
    feed(m, packet(2024, 4, 0.0, numActiveCars=2, cars={0: {"yourTelemetry": 0, "name": b"ME"},
                                                         1: {"yourTelemetry": 0, "name": b"RIVAL"}}),
         packet(2024, 7, 0.1, cars={0: {"fuelInTank": 42.0}, 1: {"fuelInTank": 0.0}}),
         packet(2024, 10, 0.1, cars={0: {"tyresWear": (10.0, 12.0, 14.0, 16.0)}, 1: {"tyresWear": (0.0,) * 4}}),
         lap_data(2024, 0.2, {0: {"currentLapNum": 1}, 1: {"currentLapNum": 1}}))
    samples = {s.driver: s for s in feed(m, packet(2024, 6, 0.3, cars={0: {"speed": 200}, 1: {"speed": 198}}))}
    assert samples["C00"].fuel_kg == 42.0 and samples["C00"].tyre_wear_pct == 13.0  # our own car: real data
    assert samples["C01"].fuel_kg is None and samples["C01"].tyre_wear_pct is None  # restricted rival: unknown
    assert samples["C01"].speed_kph == 198.0


def test_public_rival_keeps_its_values_and_reverse_gear_is_unknown():
    m = F1GameMapper()
    feed(m, packet(2023, 4, 0.0, numActiveCars=2, cars={1: {"yourTelemetry": 1}}),
         packet(2023, 7, 0.1, cars={1: {"fuelInTank": 33.5}}),
         packet(2023, 10, 0.1, cars={1: {"tyresWear": (4.0,) * 4}}),
         lap_data(2023, 0.2, {1: {"currentLapNum": 3}}))
    (sample,) = feed(m, packet(2023, 6, 0.3, cars={1: {"speed": 12, "gear": -1, "throttle": 0.5, "brake": 0.2}}))
    assert isinstance(sample, CarSample)
    assert (sample.fuel_kg, sample.tyre_wear_pct, sample.gear, sample.throttle_pct, sample.brake, sample.lap) == \
        (33.5, 4.0, None, 50.0, True, 3)


def test_pit_in_and_out_events():
    m = F1GameMapper()
    records = feed(m, lap_data(2025, 1.0, {0: {"currentLapNum": 5}}),
                   lap_data(2025, 2.0, {0: {"currentLapNum": 5, "pitStatus": 1}}),
                   lap_data(2025, 3.0, {0: {"currentLapNum": 6, "pitStatus": 2, "lastLapTimeInMS": 99_000}}),
                   lap_data(2025, 25.0, {0: {"currentLapNum": 6, "pitStatus": 0, "numPitStops": 1}}))
    kinds = [(r.kind, r.lap) for r in records if r.type == "event"]
    assert kinds == [(EventKind.PIT_IN, 5), (EventKind.PIT_OUT, 6)]
    lap5 = next(r for r in records if isinstance(r, LapRecord))
    assert lap5.pit_in and lap5.lap_number == 5


def test_safety_car_from_session_and_events():
    m = F1GameMapper()
    base = {"trackId": 3, "sessionType": 15, "totalLaps": 57, "trackLength": 5412, "airTemperature": 25,
            "trackTemperature": 31}
    r1 = feed(m, packet(2024, 1, 1.0, **base))
    r2 = feed(m, packet(2024, 1, 2.0, **base, safetyCarStatus=1))
    r3 = feed(m, packet(2024, 1, 3.0, **base, safetyCarStatus=0))
    assert isinstance(r1[0], SessionInfo) and r1[0].track == "Sakhir (Bahrain)" and r1[0].total_laps == 57
    assert r2[0].track_status is TrackStatus.SC and r2[1].kind is EventKind.SC_DEPLOYED
    assert [r.kind for r in r3 if r.type == "event"] == [EventKind.SC_ENDED]
    assert feed(m, packet(2024, 1, 4.0, **base)) == []  # unchanged session: nothing new


def test_events_map_retirement_red_flag_and_vsc():
    m = F1GameMapper()
    feed(m, lap_data(2025, 1.0, {4: {"currentLapNum": 12}}))

    def event(code, details=b""):
        return packet(2025, 3, 2.0, eventStringCode=code, eventDetails=details.ljust(12, b"\0"))
    records = feed(m, event(b"RTMT", bytes([4, 8])), event(b"RDFL"), event(b"SCAR", bytes([2, 0])),
                   event(b"BUTN", struct.pack("<I", 1)))
    assert [(r.kind, r.driver) for r in records] == [(EventKind.RETIREMENT, "C04"), (EventKind.RED_FLAG, None),
                                                     (EventKind.VSC_DEPLOYED, None)]
    assert records[0].lap == 12
    assert m.events_seen == {"RTMT": 1, "RDFL": 1, "SCAR": 1, "BUTN": 1}


def test_session_history_fills_laps_not_yet_emitted():
    m = F1GameMapper()
    feed(m, lap_data(2024, 1.0, {2: {"currentLapNum": 3}}))
    history = [{"lapTimeInMS": 91_000, "sector1TimeMSPart": 30_000, "sector1TimeMinutesPart": 0,
                "sector2TimeMSPart": 31_000, "sector2TimeMinutesPart": 0, "sector3TimeMSPart": 30_000,
                "sector3TimeMinutesPart": 0, "lapValidBitFlags": 15}] * 2
    body_laps = history + [dict(history[0], lapTimeInMS=0)] * 98
    records = feed(m, packet(2024, 11, 5.0, carIdx=2, numLaps=3, lapHistoryData=body_laps))
    assert [(r.lap_number, r.lap_time_s, r.sector3_time_s) for r in records] == [(1, 91.0, 30.0), (2, 91.0, 30.0)]
    assert feed(m, packet(2024, 11, 6.0, carIdx=2, numLaps=3, lapHistoryData=body_laps)) == []


def test_final_classification_flags_the_finish_and_dnfs():
    m = F1GameMapper()
    records = feed(m, packet(2026, 8, 5000.0, numCars=24, cars={0: {"position": 1, "resultStatus": 3},
                                                                23: {"position": 24, "resultStatus": 4}}))
    assert [(r.kind, r.driver) for r in records] == [(EventKind.RETIREMENT, "C23"), (EventKind.CHEQUERED_FLAG, None)]
    assert len(m.classification) == 24
