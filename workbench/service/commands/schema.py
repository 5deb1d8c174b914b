"""`racetwin schema`: print the telemetry JSON Schema."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    sub.add_parser(
        "schema",
        help="print the telemetry JSON Schema",
        description="Print the versioned JSON Schema of the telemetry wire form.",
    )


def run(args) -> int:
    from workbench.telemetry.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0
