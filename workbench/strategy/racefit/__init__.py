"""Fit a race definition for any real race (``racetwin fit``): see `workbench.strategy.racefit.fit`.

Modules: `lapmodel` (the lap-time model of the race's own laps), `history` (the Ergast-schema
tables: circuit, pit-lane times, position changes), `start` (the start model), `circuits`
(lap lengths and corner profiles), `fit` (the one code path that assembles them) and `real`
(simulated vs real: the race re-run with its real strategies and events, scored against the
real classification; ``racetwin fit --real-out/--score``).
"""

from workbench.strategy.racefit.fit import RaceFit, fit_race, read_laps
from workbench.strategy.racefit.history import event_name_from_path, load_history

__all__ = ["RaceFit", "fit_race", "read_laps", "event_name_from_path", "load_history"]
