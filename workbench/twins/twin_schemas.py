"""The twins' JSON (``state()``) and its schema, both built from their `param` parameters.

`parameterized_state` writes every declared parameter's value; `parameterized_state_schema`
describes the same properties (types, bounds, docs). REST, the push stream, the store's
snapshots and the Panel page all read the twin through this one definition.

The tests validate real states against `workbench.twins.car.car_twin_schema` / `field_twin_schema`; the OpenAPI
document (`workbench.service.openapi`) embeds the same `parameterized_state_schema` output.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import param

__all__ = ["field_twin_schema", "parameterized_state",
           "parameterized_state_schema", "TWIN_SCHEMA_VERSION"]

TWIN_SCHEMA_VERSION = "1.0"
_SKIP = ("name",)


def _param_schema(p: param.Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {"description": p.doc or ""}
    nullable = bool(getattr(p, "allow_None", False))
    if isinstance(p, param.Boolean):
        kind = "boolean"
    elif isinstance(p, param.Integer):
        kind = "integer"
    elif isinstance(p, param.Number):
        kind = "number"
    elif isinstance(p, param.String):
        kind = "string"
    elif isinstance(p, param.List):
        kind = "array"
        if p.item_type is float:  # NaN is written as null
            out["items"] = {"type": ["number", "null"]}
    elif isinstance(p, param.Dict):
        kind = "object"
    elif isinstance(p, param.Selector):
        values = [o.value if isinstance(o, enum.Enum) else o for o in p.objects]
        out["enum"] = values if not nullable or None in values else [*values, None]
        return out
    else:
        return out
    out["type"] = [kind, "null"] if nullable else kind
    bounds = getattr(p, "bounds", None)
    if kind in ("number", "integer") and bounds:
        if bounds[0] is not None:
            out["minimum"] = bounds[0]
        if bounds[1] is not None:
            out["maximum"] = bounds[1]
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def parameterized_state(obj: param.Parameterized, exclude: tuple[str, ...] = _SKIP) -> dict[str, Any]:
    """The JSON value of every declared parameter of ``obj`` (the properties `parameterized_state_schema` lists).

    Enums are written as their value; NaN and infinities (also inside lists) as None.
    """
    return {name: _json_value(getattr(obj, name)) for name in obj.param.objects("existing") if name not in exclude}


def parameterized_state_schema(cls: type[param.Parameterized], exclude: tuple[str, ...] = _SKIP,
                               extra: dict[str, dict] | None = None, title: str | None = None) -> dict[str, Any]:
    """The JSON schema of ``cls(...).state()``: one required property per parameter, plus ``extra``.

    Parameters
    ----------
    cls : param.Parameterized subclass
        Whose parameters ``state()`` writes (types, bounds and docs come from them).
    exclude : tuple of str
        Parameters ``state()`` leaves out.
    extra : dict, optional
        Properties ``state()`` adds beside the parameters.
    title : str, optional
        The schema's title (default ``"<ClassName>State"``).
    """
    props = {name: _param_schema(p) for name, p in cls.param.objects("existing").items() if name not in exclude}
    props.update(extra or {})
    return {"title": title or f"{cls.__name__}State", "type": "object", "properties": props,
            "required": sorted(props), "additionalProperties": False}


def field_twin_schema() -> dict[str, Any]:
    """JSON schema of `FieldTwin.state`."""
    nullable_number = {"type": ["number", "null"]}
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    row = {"type": "object", "required": ["rank", "driver", "position", "status", "lap", "compound", "pit_probability",
                                          "corrected_pace_s", "pit_window_ideal_lap"],
           "properties": {"rank": {"type": ["integer", "null"], "minimum": 1}, "driver": {"type": "string"},
                          "position": {"type": ["integer", "null"], "minimum": 1},
                          "status": {"enum": ["RUNNING", "PIT", "OUT"]},
                          "corrected_pace_s": nullable_number, "degradation_s": nullable_number,
                          "pit_window_ideal_lap": {"type": ["integer", "null"]},
                          "pit_probability": {"type": ["object", "null"],
                                              "properties": {h: probability for h in ("1", "3", "5")}}}}
    move = {"type": "object", "required": ["kind", "rival", "probability"],
            "properties": {"kind": {"type": "string"}, "rival": {"type": ["string", "null"]},
                           "probability": probability, "gain_s": nullable_number,
                           "expected_gain_s": nullable_number, "margin_s": nullable_number}}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "FieldTwin state",
            "version": TWIN_SCHEMA_VERSION, "type": "object",
            "required": ["leader_lap", "order", "our_driver", "track_status", "total_laps", "cars", "compounds",
                         "traffic_cost_s", "threats", "opportunities", "profiles"],
            "properties": {"leader_lap": {"type": "integer", "minimum": 0},
                           "order": {"type": "array", "items": {"type": "string"}},
                           "our_driver": {"type": ["string", "null"]},
                           "track_status": {"enum": ["GREEN", "YELLOW", "VSC", "SC", "RED"]},
                           "total_laps": {"type": ["integer", "null"]},
                           "cars": {"type": "array", "items": row},
                           "compounds": {"type": "object", "additionalProperties": {
                               "type": "object", "required": ["model", "k1_s", "k1_s_sd", "noise_s"]}},
                           "traffic_cost_s": nullable_number,
                           "threats": {"type": "array", "items": move},
                           "opportunities": {"type": "array", "items": move},
                           "profiles": {"type": "object"}}}
