"""Notebooks run small under pytest (nbval), also when only notebooks/ is collected.

`RACETWIN_FAST=1` is the size knob every notebook honours; tests/conftest.py sets it for the
whole suite, this file for `pytest notebooks/` alone. Set RACETWIN_FAST=0 for full-size runs.
"""

import os

os.environ.setdefault("RACETWIN_FAST", "1")
