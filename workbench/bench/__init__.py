"""Benchmark harnesses: `racetwin bench`, the GPU numbers, the adaptive-racing benchmark states.

They drive the whole engine (a hub fed by the simulator, the strategy engine, every kernel
backend), so they sit above it: nothing in the engine imports this package.

- `workbench.bench.harness`: `run_bench` (``racetwin bench``), `live_session` (a hub fed a
  simulated race up to a lap, also used by notebooks and tests);
- `workbench.bench.cuda`: the CUDA backend's numbers (None without a GPU);
- `workbench.bench.adaptive_states`: real race states and the adaptive run's agreement with the full run.
"""
