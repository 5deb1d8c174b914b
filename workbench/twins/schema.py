"""JSON Schemas of twin states, generated from the twins' `param` declarations."""

from __future__ import annotations

import enum
from typing import Any

import param

__all__ = ["parameterized_state_schema"]


def parameterized_state_schema(cls: type[param.Parameterized], exclude: tuple[str, ...] = ("name",),
                               extra: dict[str, dict] | None = None) -> dict[str, Any]:
    """The JSON Schema of ``cls(...).state()``: one property per parameter.

    `param` gives types, bounds and docs; enum-valued selectors become enums of
    their values (as ``state()`` writes them); list-of-float parameters allow null
    items (NaN is written as null).
    """
    props: dict[str, Any] = {}
    for name, schema in cls.param.schema().items():
        if name in exclude:
            continue
        p = cls.param[name]
        if isinstance(p, param.Selector):
            values = [o.value if isinstance(o, enum.Enum) else o for o in p.objects if o is not None]
            schema = {"enum": values + ([None] if p.allow_None else []), "description": p.doc or ""}
        elif isinstance(p, param.List) and p.item_type is float:
            schema = {"type": "array", "items": {"type": ["number", "null"]}, "description": p.doc or ""}
        props[name] = schema
    props.update(extra or {})
    return {"type": "object", "title": f"{cls.__name__}State", "properties": props,
            "required": sorted(props), "additionalProperties": True}
