"""Fit a race definition for any real race (``racetwin fit``): see `workbench.strategy.racefit.fit`.

Modules: `lapmodel` (the lap-time model of the race's own laps), `history` (the Ergast-schema
tables: circuit, pit-lane times, position changes), `start` (the start model), `circuits`
(lap lengths and corner profiles) and `fit` (the one code path that assembles them).
"""

from workbench.strategy.racefit.fit import RaceFit, fit_race, read_laps
from workbench.strategy.racefit.history import event_name_from_path, load_history

__all__ = ["RaceFit", "fit_race", "read_laps", "event_name_from_path", "load_history"]
