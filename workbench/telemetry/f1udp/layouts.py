"""EA F1-game UDP packet layouts as data: one table per packet format.

Every packet starts with the 29-byte little-endian `HEADER`; ``(packetFormat,
packetId)`` picks the body layout from `LAYOUTS`. A layout is a list of
``(name, code)`` fields where ``code`` is a `struct` code (``"H"``, ``"4f"``,
``"32s"``) or a nested `Struct` repeated ``count`` times. Years differ only in
their tables (e.g. F1 24 split the LapData deltas into ms + minutes parts; F1 25
cut names to 32 bytes and added tyre blisters), never in decoding code.

Sources: EA's published "F1 23/24/25 UDP Specification" and "F1 25: 2026 Season Pack UDP
specification" struct text (shipped as ``data/spec.h`` in the ``f1-packets`` sdists on
PyPI; format 2026 from ``f1-packets==2026.1.1``, "(c) 2026 Electronic Arts Inc."). The
struct text is EA's; the tables below restate only names, types and sizes. Packet sizes
are asserted against the sizes the specifications state (`SPEC_SIZES`).

Format 2026 (F1 25 with the 2026 Season Pack): 24 car slots (``cs_maxNumCarsInUDPData``);
motion g-forces quantised to int16 (divide by 1000); a 926-byte Session packet with active
aero and DRS zones and more settings; uint16 driver/network/team ids in Participants,
LobbyInfo and TimeTrial; engine temperature uint8 in CarTelemetry; an ERS harvest limit in
CarStatus; and packet 16, CarTelemetry2 (active aero, overtake mode, 2026 regulations).
"""

from __future__ import annotations

import dataclasses
import struct

__all__ = ["Struct", "Layout", "HEADER", "HEADER_SIZE", "LAYOUTS", "PACKET_NAMES", "SPEC_SIZES", "FORMATS",
           "G_FORCE_SCALE_2026"]


@dataclasses.dataclass(frozen=True)
class Struct:
    """A packed C struct: ordered ``(name, code)`` fields; ``code`` is a struct code or (Struct, count)."""

    name: str
    fields: tuple

    def format(self) -> str:
        parts = []
        for _, code in self.fields:
            if isinstance(code, tuple):
                sub, count = code
                parts.append(sub.format() * count)
            else:
                parts.append(code)
        return "".join(parts)

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.format())


@dataclasses.dataclass(frozen=True)
class Layout:
    """The body of one packet type in one format (everything after the header)."""

    packet_id: int
    name: str
    body: Struct

    @property
    def size(self) -> int:
        return HEADER_SIZE + self.body.size


def S(name: str, *fields) -> Struct:  # noqa: N802 - reads like the C text
    return Struct(name, tuple(fields))


HEADER = S("PacketHeader", ("packetFormat", "H"), ("gameYear", "B"), ("gameMajorVersion", "B"),
           ("gameMinorVersion", "B"), ("packetVersion", "B"), ("packetId", "B"), ("sessionUID", "Q"),
           ("sessionTime", "f"), ("frameIdentifier", "I"), ("overallFrameIdentifier", "I"),
           ("playerCarIndex", "B"), ("secondaryPlayerCarIndex", "B"))
HEADER_SIZE = HEADER.size  # 29

PACKET_NAMES = {0: "Motion", 1: "Session", 2: "LapData", 3: "Event", 4: "Participants", 5: "CarSetups",
                6: "CarTelemetry", 7: "CarStatus", 8: "FinalClassification", 9: "LobbyInfo", 10: "CarDamage",
                11: "SessionHistory", 12: "TyreSets", 13: "MotionEx", 14: "TimeTrial", 15: "LapPositions",
                16: "CarTelemetry2"}

# ---- structs shared by all years ---------------------------------------------------------------
CAR_MOTION = S("CarMotionData", ("worldPosition", "3f"), ("worldVelocity", "3f"), ("worldForwardDir", "3h"),
               ("worldRightDir", "3h"), ("gForceLateral", "f"), ("gForceLongitudinal", "f"),
               ("gForceVertical", "f"), ("yaw", "f"), ("pitch", "f"), ("roll", "f"))
MARSHAL_ZONE = S("MarshalZone", ("zoneStart", "f"), ("zoneFlag", "b"))
FORECAST = S("WeatherForecastSample", ("sessionType", "B"), ("timeOffset", "B"), ("weather", "B"),
             ("trackTemperature", "b"), ("trackTemperatureChange", "b"), ("airTemperature", "b"),
             ("airTemperatureChange", "b"), ("rainPercentage", "B"))
_SESSION_HEAD = (("weather", "B"), ("trackTemperature", "b"), ("airTemperature", "b"), ("totalLaps", "B"),
                 ("trackLength", "H"), ("sessionType", "B"), ("trackId", "b"), ("formula", "B"),
                 ("sessionTimeLeft", "H"), ("sessionDuration", "H"), ("pitSpeedLimit", "B"), ("gamePaused", "B"),
                 ("isSpectating", "B"), ("spectatorCarIndex", "B"), ("sliProNativeSupport", "B"),
                 ("numMarshalZones", "B"), ("marshalZones", (MARSHAL_ZONE, 21)), ("safetyCarStatus", "B"),
                 ("networkGame", "B"), ("numWeatherForecastSamples", "B"))
_SESSION_MID = (("forecastAccuracy", "B"), ("aiDifficulty", "B"), ("seasonLinkIdentifier", "I"),
                ("weekendLinkIdentifier", "I"), ("sessionLinkIdentifier", "I"), ("pitStopWindowIdealLap", "B"),
                ("pitStopWindowLatestLap", "B"), ("pitStopRejoinPosition", "B"), ("assists", "9B"),
                ("gameMode", "B"), ("ruleSet", "B"), ("timeOfDay", "I"), ("sessionLength", "B"),
                ("units", "4B"), ("numSafetyCarPeriods", "B"), ("numVirtualSafetyCarPeriods", "B"),
                ("numRedFlagPeriods", "B"))
_SESSION_2024_TAIL = (("settings", "24B"), ("numSessionsInWeekend", "B"), ("weekendStructure", "12B"),
                      ("sector2LapDistanceStart", "f"), ("sector3LapDistanceStart", "f"))
SESSION_2023 = S("PacketSessionData", *_SESSION_HEAD, ("weatherForecastSamples", (FORECAST, 56)), *_SESSION_MID)
SESSION_2024 = S("PacketSessionData", *_SESSION_HEAD, ("weatherForecastSamples", (FORECAST, 64)), *_SESSION_MID,
                 *_SESSION_2024_TAIL)

_LAP_TAIL = (("lapDistance", "f"), ("totalDistance", "f"), ("safetyCarDelta", "f"), ("carPosition", "B"),
             ("currentLapNum", "B"), ("pitStatus", "B"), ("numPitStops", "B"), ("sector", "B"),
             ("currentLapInvalid", "B"), ("penalties", "B"), ("totalWarnings", "B"), ("cornerCuttingWarnings", "B"),
             ("numUnservedDriveThroughPens", "B"), ("numUnservedStopGoPens", "B"), ("gridPosition", "B"),
             ("driverStatus", "B"), ("resultStatus", "B"), ("pitLaneTimerActive", "B"),
             ("pitLaneTimeInLaneInMS", "H"), ("pitStopTimerInMS", "H"), ("pitStopShouldServePen", "B"))
_LAP_HEAD = (("lastLapTimeInMS", "I"), ("currentLapTimeInMS", "I"), ("sector1TimeMSPart", "H"),
             ("sector1TimeMinutesPart", "B"), ("sector2TimeMSPart", "H"), ("sector2TimeMinutesPart", "B"))
LAP_2023 = S("LapData", *_LAP_HEAD, ("deltaToCarInFrontMSPart", "H"), ("deltaToRaceLeaderMSPart", "H"), *_LAP_TAIL)
LAP_2024 = S("LapData", *_LAP_HEAD, ("deltaToCarInFrontMSPart", "H"), ("deltaToCarInFrontMinutesPart", "B"),
             ("deltaToRaceLeaderMSPart", "H"), ("deltaToRaceLeaderMinutesPart", "B"), *_LAP_TAIL,
             ("speedTrapFastestSpeed", "f"), ("speedTrapFastestLap", "B"))

EVENT = S("PacketEventData", ("eventStringCode", "4s"), ("eventDetails", "12s"))

PARTICIPANT_2023 = S("ParticipantData", ("aiControlled", "B"), ("driverId", "B"), ("networkId", "B"), ("teamId", "B"),
                     ("myTeam", "B"), ("raceNumber", "B"), ("nationality", "B"), ("name", "48s"),
                     ("yourTelemetry", "B"), ("showOnlineNames", "B"), ("platform", "B"))
PARTICIPANT_2024 = S("ParticipantData", *PARTICIPANT_2023.fields[:-1], ("techLevel", "H"), ("platform", "B"))
PARTICIPANT_2025 = S("ParticipantData", *PARTICIPANT_2023.fields[:7], ("name", "32s"), ("yourTelemetry", "B"),
                     ("showOnlineNames", "B"), ("techLevel", "H"), ("platform", "B"), ("numColours", "B"),
                     ("liveryColours", "12B"))

_SETUP_HEAD = (("frontWing", "B"), ("rearWing", "B"), ("onThrottle", "B"), ("offThrottle", "B"),
               ("frontCamber", "f"), ("rearCamber", "f"), ("frontToe", "f"), ("rearToe", "f"),
               ("suspension", "6B"), ("brakePressure", "B"), ("brakeBias", "B"))
_SETUP_TAIL = (("tyrePressures", "4f"), ("ballast", "B"), ("fuelLoad", "f"))
SETUP_2023 = S("CarSetupData", *_SETUP_HEAD, *_SETUP_TAIL)
SETUP_2024 = S("CarSetupData", *_SETUP_HEAD, ("engineBraking", "B"), *_SETUP_TAIL)

CAR_TELEMETRY = S("CarTelemetryData", ("speed", "H"), ("throttle", "f"), ("steer", "f"), ("brake", "f"),
                  ("clutch", "B"), ("gear", "b"), ("engineRPM", "H"), ("drs", "B"), ("revLightsPercent", "B"),
                  ("revLightsBitValue", "H"), ("brakesTemperature", "4H"), ("tyresSurfaceTemperature", "4B"),
                  ("tyresInnerTemperature", "4B"), ("engineTemperature", "H"), ("tyresPressure", "4f"),
                  ("surfaceType", "4B"))

CAR_STATUS = S("CarStatusData", ("tractionControl", "B"), ("antiLockBrakes", "B"), ("fuelMix", "B"),
               ("frontBrakeBias", "B"), ("pitLimiterStatus", "B"), ("fuelInTank", "f"), ("fuelCapacity", "f"),
               ("fuelRemainingLaps", "f"), ("maxRPM", "H"), ("idleRPM", "H"), ("maxGears", "B"),
               ("drsAllowed", "B"), ("drsActivationDistance", "H"), ("actualTyreCompound", "B"),
               ("visualTyreCompound", "B"), ("tyresAgeLaps", "B"), ("vehicleFIAFlags", "b"),
               ("enginePowerICE", "f"), ("enginePowerMGUK", "f"), ("ersStoreEnergy", "f"), ("ersDeployMode", "B"),
               ("ersHarvestedThisLapMGUK", "f"), ("ersHarvestedThisLapMGUH", "f"), ("ersDeployedThisLap", "f"),
               ("networkPaused", "B"))

_CLASS_HEAD = (("position", "B"), ("numLaps", "B"), ("gridPosition", "B"), ("points", "B"), ("numPitStops", "B"),
               ("resultStatus", "B"))
_CLASS_TAIL = (("bestLapTimeInMS", "I"), ("totalRaceTime", "d"), ("penaltiesTime", "B"), ("numPenalties", "B"),
               ("numTyreStints", "B"), ("tyreStintsActual", "8B"), ("tyreStintsVisual", "8B"),
               ("tyreStintsEndLaps", "8B"))
CLASSIFICATION_2023 = S("FinalClassificationData", *_CLASS_HEAD, *_CLASS_TAIL)
CLASSIFICATION_2025 = S("FinalClassificationData", *_CLASS_HEAD, ("resultReason", "B"), *_CLASS_TAIL)

LOBBY_2023 = S("LobbyInfoData", ("aiControlled", "B"), ("teamId", "B"), ("nationality", "B"), ("platform", "B"),
               ("name", "48s"), ("carNumber", "B"), ("readyStatus", "B"))
LOBBY_2024 = S("LobbyInfoData", *LOBBY_2023.fields[:6], ("yourTelemetry", "B"), ("showOnlineNames", "B"),
               ("techLevel", "H"), ("readyStatus", "B"))
LOBBY_2025 = S("LobbyInfoData", *LOBBY_2023.fields[:4], ("name", "32s"), *LOBBY_2024.fields[5:])

_DAMAGE_TAIL = (("frontLeftWingDamage", "B"), ("frontRightWingDamage", "B"), ("rearWingDamage", "B"),
                ("floorDamage", "B"), ("diffuserDamage", "B"), ("sidepodDamage", "B"), ("drsFault", "B"),
                ("ersFault", "B"), ("gearBoxDamage", "B"), ("engineDamage", "B"), ("engineWear", "6B"),
                ("engineBlown", "B"), ("engineSeized", "B"))
DAMAGE_2023 = S("CarDamageData", ("tyresWear", "4f"), ("tyresDamage", "4B"), ("brakesDamage", "4B"), *_DAMAGE_TAIL)
DAMAGE_2025 = S("CarDamageData", ("tyresWear", "4f"), ("tyresDamage", "4B"), ("brakesDamage", "4B"),
                ("tyreBlisters", "4B"), *_DAMAGE_TAIL)

LAP_HISTORY = S("LapHistoryData", ("lapTimeInMS", "I"), ("sector1TimeMSPart", "H"), ("sector1TimeMinutesPart", "B"),
                ("sector2TimeMSPart", "H"), ("sector2TimeMinutesPart", "B"), ("sector3TimeMSPart", "H"),
                ("sector3TimeMinutesPart", "B"), ("lapValidBitFlags", "B"))
TYRE_STINT = S("TyreStintHistoryData", ("endLap", "B"), ("tyreActualCompound", "B"), ("tyreVisualCompound", "B"))
SESSION_HISTORY = S("PacketSessionHistoryData", ("carIdx", "B"), ("numLaps", "B"), ("numTyreStints", "B"),
                    ("bestLapTimeLapNum", "B"), ("bestSector1LapNum", "B"), ("bestSector2LapNum", "B"),
                    ("bestSector3LapNum", "B"), ("lapHistoryData", (LAP_HISTORY, 100)),
                    ("tyreStintsHistoryData", (TYRE_STINT, 8)))

TYRE_SET = S("TyreSetData", ("actualTyreCompound", "B"), ("visualTyreCompound", "B"), ("wear", "B"),
             ("available", "B"), ("recommendedSession", "B"), ("lifeSpan", "B"), ("usableLife", "B"),
             ("lapDeltaTime", "h"), ("fitted", "B"))
TYRE_SETS = S("PacketTyreSetsData", ("carIdx", "B"), ("tyreSetData", (TYRE_SET, 20)), ("fittedIdx", "B"))

_MOTION_EX_2023 = (("suspensionPosition", "4f"), ("suspensionVelocity", "4f"), ("suspensionAcceleration", "4f"),
                   ("wheelSpeed", "4f"), ("wheelSlipRatio", "4f"), ("wheelSlipAngle", "4f"), ("wheelLatForce", "4f"),
                   ("wheelLongForce", "4f"), ("heightOfCOGAboveGround", "f"), ("localVelocity", "3f"),
                   ("angularVelocity", "3f"), ("angularAcceleration", "3f"), ("frontWheelsAngle", "f"),
                   ("wheelVertForce", "4f"))
_MOTION_EX_2024 = (*_MOTION_EX_2023, ("frontAeroHeight", "f"), ("rearAeroHeight", "f"), ("frontRollAngle", "f"),
                   ("rearRollAngle", "f"), ("chassisYaw", "f"))
MOTION_EX_2023 = S("PacketMotionExData", *_MOTION_EX_2023)
MOTION_EX_2024 = S("PacketMotionExData", *_MOTION_EX_2024)
MOTION_EX_2025 = S("PacketMotionExData", *_MOTION_EX_2024, ("chassisPitch", "f"), ("wheelCamber", "4f"),
                   ("wheelCamberGain", "4f"))

TIME_TRIAL_SET = S("TimeTrialDataSet", ("carIdx", "B"), ("teamId", "B"), ("lapTimeInMS", "I"),
                   ("sector1TimeInMS", "I"), ("sector2TimeInMS", "I"), ("sector3TimeInMS", "I"),
                   ("tractionControl", "B"), ("gearboxAssist", "B"), ("antiLockBrakes", "B"),
                   ("equalCarPerformance", "B"), ("customSetup", "B"), ("valid", "B"))
TIME_TRIAL = S("PacketTimeTrialData", ("playerSessionBestDataSet", (TIME_TRIAL_SET, 1)),
               ("personalBestDataSet", (TIME_TRIAL_SET, 1)), ("rivalDataSet", (TIME_TRIAL_SET, 1)))


# ---- format 2026 (F1 25: 2026 Season Pack) -----------------------------------------------------
CAR_MOTION_2026 = S("CarMotionData", *CAR_MOTION.fields[:4], ("gForceLateral", "h"), ("gForceLongitudinal", "h"),
                    ("gForceVertical", "h"), *CAR_MOTION.fields[7:])
AERO_ZONE = S("ActiveAeroZone", ("zoneStart", "f"), ("zoneEnd", "f"))
DRS_ZONE = S("DRSZone", ("zoneStart", "f"), ("zoneEnd", "f"))
SESSION_2026 = S("PacketSessionData", *SESSION_2024.fields, ("activeAeroTrackStatus", "B"),
                 ("numActiveAeroZonesFull", "B"), ("activeAeroZonesFull", (AERO_ZONE, 8)),
                 ("numActiveAeroZonesPartial", "B"), ("activeAeroZonesPartial", (AERO_ZONE, 8)),
                 ("numDRSZones", "B"), ("drsZones", (DRS_ZONE, 4)), ("startReactionTime", "f"),
                 ("antiLockBrakesAssist", "B"), ("tractionControlAssist", "B"), ("dynamicRacingLineHiVis", "B"),
                 ("dynamicRacingLineColourBlind", "B"), ("recurringRewindPrompt", "B"))
PARTICIPANT_2026 = S("ParticipantData", ("aiControlled", "B"), ("driverId", "H"), ("networkId", "H"),
                     ("teamId", "H"), *PARTICIPANT_2025.fields[4:])
CAR_TELEMETRY_2026 = S("CarTelemetryData", *((n, "B" if n == "engineTemperature" else c)
                                             for n, c in CAR_TELEMETRY.fields))
CAR_STATUS_2026 = S("CarStatusData", *CAR_STATUS.fields[:-2], ("ersHarvestLimitPerLap", "f"),
                    *CAR_STATUS.fields[-2:])
LOBBY_2026 = S("LobbyInfoData", ("aiControlled", "B"), ("teamId", "H"), *LOBBY_2025.fields[2:])
TIME_TRIAL_SET_2026 = S("TimeTrialDataSet", ("carIdx", "B"), ("teamId", "H"), *TIME_TRIAL_SET.fields[2:])
TIME_TRIAL_2026 = S("PacketTimeTrialData", ("playerSessionBestDataSet", (TIME_TRIAL_SET_2026, 1)),
                    ("personalBestDataSet", (TIME_TRIAL_SET_2026, 1)), ("rivalDataSet", (TIME_TRIAL_SET_2026, 1)))
CAR_TELEMETRY2 = S("CarTelemetry2Data", ("activeAeroMode", "B"), ("activeAeroAvailable", "B"),
                   ("activeAeroActivationDistance", "H"), ("overtakeAvailable", "B"), ("overtakeActive", "B"),
                   ("overtakeActivationDistance", "H"), ("regulations2026", "B"), ("drivingWrongWay", "B"))
G_FORCE_SCALE_2026 = 1000.0
"""Format 2026 sends g-forces as int16: divide by this for g."""


def _per_car(name: str, car: Struct, n_cars: int, *extra, head=()) -> Struct:
    return S(name, *head, ("cars", (car, n_cars)), *extra)


def _format(year: int, n_cars: int) -> dict[int, Layout]:
    """The layouts of one packet format, built from the per-year struct choices."""
    y24, y25, y26 = year >= 2024, year >= 2025, year >= 2026
    bodies = {
        0: _per_car("PacketMotionData", CAR_MOTION_2026 if y26 else CAR_MOTION, n_cars),
        1: SESSION_2026 if y26 else SESSION_2024 if y24 else SESSION_2023,
        2: _per_car("PacketLapData", LAP_2024 if y24 else LAP_2023, n_cars,
                    ("timeTrialPBCarIdx", "B"), ("timeTrialRivalCarIdx", "B")),
        3: EVENT,
        4: _per_car("PacketParticipantsData",
                    PARTICIPANT_2026 if y26 else PARTICIPANT_2025 if y25 else PARTICIPANT_2024 if y24
                    else PARTICIPANT_2023, n_cars, head=(("numActiveCars", "B"),)),
        5: _per_car("PacketCarSetupData", SETUP_2024 if y24 else SETUP_2023, n_cars,
                    *((("nextFrontWingValue", "f"),) if y24 else ())),
        6: _per_car("PacketCarTelemetryData", CAR_TELEMETRY_2026 if y26 else CAR_TELEMETRY, n_cars,
                    ("mfdPanelIndex", "B"), ("mfdPanelIndexSecondaryPlayer", "B"), ("suggestedGear", "b")),
        7: _per_car("PacketCarStatusData", CAR_STATUS_2026 if y26 else CAR_STATUS, n_cars),
        8: _per_car("PacketFinalClassificationData", CLASSIFICATION_2025 if y25 else CLASSIFICATION_2023, n_cars,
                    head=(("numCars", "B"),)),
        9: _per_car("PacketLobbyInfoData",
                    LOBBY_2026 if y26 else LOBBY_2025 if y25 else LOBBY_2024 if y24 else LOBBY_2023, n_cars,
                    head=(("numPlayers", "B"),)),
        10: _per_car("PacketCarDamageData", DAMAGE_2025 if y25 else DAMAGE_2023, n_cars),
        11: SESSION_HISTORY,
        12: TYRE_SETS,
        13: MOTION_EX_2025 if y25 else MOTION_EX_2024 if y24 else MOTION_EX_2023,
    }
    if y24:
        bodies[14] = TIME_TRIAL_2026 if y26 else TIME_TRIAL
    if y25:
        bodies[15] = S("PacketLapPositionsData", ("numLaps", "B"), ("lapStart", "B"),
                       ("positionForVehicleIdx", f"{50 * n_cars}B"))
    if y26:
        bodies[16] = _per_car("PacketCarTelemetry2Data", CAR_TELEMETRY2, n_cars)
    return {pid: Layout(pid, PACKET_NAMES[pid], body) for pid, body in bodies.items()}


FORMATS: dict[int, int] = {2023: 22, 2024: 22, 2025: 22, 2026: 24}
"""Packet formats we decode and their number of car slots."""

LAYOUTS: dict[int, dict[int, Layout]] = {fmt: _format(fmt, n) for fmt, n in FORMATS.items()}

SPEC_SIZES: dict[int, dict[int, int]] = {
    2023: {0: 1349, 1: 644, 2: 1131, 3: 45, 4: 1306, 5: 1107, 6: 1352, 7: 1239, 8: 1020, 9: 1218, 10: 953,
           11: 1460, 12: 231, 13: 217},
    2024: {0: 1349, 1: 753, 2: 1285, 3: 45, 4: 1350, 5: 1133, 6: 1352, 7: 1239, 8: 1020, 9: 1306, 10: 953,
           11: 1460, 12: 231, 13: 237, 14: 101},
    2025: {0: 1349, 1: 753, 2: 1285, 3: 45, 4: 1284, 5: 1133, 6: 1352, 7: 1239, 8: 1042, 9: 954, 10: 1041,
           11: 1460, 12: 231, 13: 273, 14: 101, 15: 1131},
    2026: {0: 1325, 1: 926, 2: 1399, 3: 45, 4: 1470, 5: 1233, 6: 1448, 7: 1445, 8: 1134, 9: 1062, 10: 1133,
           11: 1460, 12: 231, 13: 273, 14: 104, 15: 1231, 16: 269},
}
"""Packet sizes in bytes as the EA specifications state them (the ``// Name - N bytes`` lines)."""
