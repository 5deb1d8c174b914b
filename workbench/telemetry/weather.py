"""Race-start weather of a track, from the bundled table ``data/track-weather.json`` (sources cited there)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from workbench.paths import bundled_data_dir

__all__ = ["TrackWeather", "track_weather"]

WEATHER_FILE = "track-weather.json"


@dataclass(frozen=True, slots=True)
class TrackWeather:
    """Air and track temperature (°C) and rainfall at the start of a race on one track."""

    air_temp_c: float
    track_temp_c: float
    rainfall: bool


@functools.cache
def _table() -> dict[str, TrackWeather]:
    path = bundled_data_dir() / WEATHER_FILE
    raw = json.loads(path.read_text())["tracks"]
    out = {}
    for name, row in raw.items():
        for field, kind in (("air_temp_c", (int, float)), ("track_temp_c", (int, float)), ("rainfall", bool)):
            value = row.get(field)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ValueError(f"{path.name}: tracks[{name!r}].{field}: {value!r} is not a "
                                 f"{'boolean' if kind is bool else 'number'}")
        out[name] = TrackWeather(float(row["air_temp_c"]), float(row["track_temp_c"]), row["rainfall"])
    return out


def track_weather(track_name: str) -> TrackWeather | None:
    """The race-start weather of ``track_name``; None for a track the table does not hold."""
    return _table().get(track_name)
