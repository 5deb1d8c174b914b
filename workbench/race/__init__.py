"""The race model: what a race is and how it runs, below both the simulator and the strategy engine.

- `workbench.race.definition`: the race definition file format (track, fuel, compounds, events, cars);
- `workbench.race.model`: strategies, race state, events, and `pack` (the race as kernel arrays);
- `workbench.race.reference`: the numpy reference of the race kernel (the executable spec);
- `workbench.race.simulator`: `TelemetrySimulator`, one race run lap by lap and streamed as telemetry.

Nothing is imported here, so ``import workbench.race.definition`` loads only what it needs.
"""
