"""One module per `racetwin` subcommand, each with ``add_parser(sub)`` and ``run(args) -> int``.

To add a command, write its module here and add its name to `COMMANDS`.
"""

COMMANDS = (
    "serve",
    "generate",
    "schema",
    "validate",
    "decode",
    "record",
    "feed",
    "doctor",
    "simulate",
    "bench",
    "calibrate",
    "predict",
    "fit",
)
