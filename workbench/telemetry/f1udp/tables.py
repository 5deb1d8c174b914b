"""Lookup tables from the appendices of EA's F1-game UDP specifications (ids → our names)."""

from __future__ import annotations

from workbench.telemetry.records import Compound, SessionType, TrackStatus

__all__ = ["TRACKS", "session_type", "VISUAL_COMPOUNDS", "ACTUAL_COMPOUNDS", "SAFETY_CAR_STATUS",
           "RETIRED_RESULT_STATUS"]

TRACKS = {0: "Melbourne", 1: "Paul Ricard", 2: "Shanghai", 3: "Sakhir (Bahrain)", 4: "Catalunya", 5: "Monaco",
          6: "Montreal", 7: "Silverstone", 8: "Hockenheim", 9: "Hungaroring", 10: "Spa", 11: "Monza",
          12: "Singapore", 13: "Suzuka", 14: "Abu Dhabi", 15: "Texas", 16: "Brazil", 17: "Austria", 18: "Sochi",
          19: "Mexico", 20: "Baku (Azerbaijan)", 21: "Sakhir Short", 22: "Silverstone Short", 23: "Texas Short",
          24: "Suzuka Short", 25: "Hanoi", 26: "Zandvoort", 27: "Imola", 28: "Portimao", 29: "Jeddah",
          30: "Miami", 31: "Las Vegas", 32: "Losail", 39: "Silverstone (Reverse)", 40: "Austria (Reverse)",
          41: "Zandvoort (Reverse)"}

# F1 23: 0 unknown, 1-4 practice, 5-9 qualifying (9 one-shot), 10-12 race, 13 time trial.
_SESSION_2023 = {**dict.fromkeys(range(1, 5), SessionType.PRACTICE),
                 **dict.fromkeys(range(5, 10), SessionType.QUALIFYING),
                 **dict.fromkeys(range(10, 13), SessionType.RACE), 13: SessionType.TIME_TRIAL}
# F1 24 on: 10-14 sprint shootout (a qualifying), 15-17 race (R2 is the sprint race), 18 time trial.
_SESSION_2024 = {**dict.fromkeys(range(1, 5), SessionType.PRACTICE),
                 **dict.fromkeys(range(5, 15), SessionType.QUALIFYING),
                 15: SessionType.RACE, 16: SessionType.SPRINT, 17: SessionType.RACE, 18: SessionType.TIME_TRIAL}


def session_type(packet_format: int, code: int) -> SessionType | None:
    """Our session type for the game's ``m_sessionType`` (None when unknown)."""
    return (_SESSION_2023 if packet_format == 2023 else _SESSION_2024).get(code)


VISUAL_COMPOUNDS = {16: Compound.SOFT, 17: Compound.MEDIUM, 18: Compound.HARD, 7: Compound.INTERMEDIATE,
                    8: Compound.WET}
ACTUAL_COMPOUNDS = {16: "C5", 17: "C4", 18: "C3", 19: "C2", 20: "C1", 21: "C0", 22: "C6"}
SAFETY_CAR_STATUS = {0: TrackStatus.GREEN, 1: TrackStatus.SC, 2: TrackStatus.VSC, 3: TrackStatus.GREEN}
RETIRED_RESULT_STATUS = {4: "did not finish", 5: "disqualified", 6: "not classified", 7: "retired"}
