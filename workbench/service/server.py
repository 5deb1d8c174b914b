"""`racetwin serve`: the hub, a telemetry source, REST and the Panel app in one process.

One tornado/asyncio loop runs everything: the simulator source feeds the hub at
``speed`` x race time, REST handlers and every browser session read the hub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

from workbench.service.session import RaceSession
from workbench.telemetry.simulator import TelemetrySimulator

__all__ = ["RaceService", "serve"]

log = logging.getLogger("racetwin")


class RaceService:
    """The running service: a hub plus the source that feeds it.

    Parameters
    ----------
    hub : RaceSession
    simulator : TelemetrySimulator
        The built-in source (a replay of a simulated race).
    speed : float
        Race seconds per wall second; ``inf`` runs as fast as possible.
    data_dir : Path
        Where this run's state goes (the record log and a run manifest).
    """

    def __init__(self, hub: RaceSession, simulator: TelemetrySimulator, speed: float, data_dir: Path):
        self.hub = hub
        self.simulator = simulator
        self.speed = speed
        self.data_dir = data_dir
        self.state = "idle"
        self.records_sent = 0
        self.error: str | None = None
        self.started_wall_s: float | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.orchestrator = None  # HPCOrchestrator: strategy runs triggered by hub events

    def start(self) -> None:
        """Start the source on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        self.state = "running"
        self.started_wall_s = time.monotonic()

        def sink(record) -> None:
            self.records_sent += 1
            self.hub.submit(record, source="simulator")
        try:
            await self.simulator.stream(sink, speed=self.speed, stop=self._stop)
            self.hub.flush()
            self.state = "stopped" if self._stop.is_set() else "finished"
        except Exception as exc:  # reported in /api/v1/health, never silently lost
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("telemetry source failed")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait([self._task], timeout=5)
        if self.orchestrator is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.orchestrator.close)
        self.hub.close()

    def source_state(self) -> dict[str, Any]:
        return {"state": self.state, "kind": "simulator", "seed": self.simulator.seed,
                "speed": None if self.speed == float("inf") else self.speed, "records_sent": self.records_sent,
                "error": self.error}

    def store_state(self) -> dict[str, Any]:
        return {"data_dir": str(self.data_dir), "record_log": str(self.data_dir / "records.jsonl")}


def serve(*, host: str, port: int, speed: float, seed: int, car: str, data_dir: Path, race=None,
          show: bool = False, strategy_runs: int = 10_000, dask_scheduler: str | None = None) -> None:
    """Run the service until Ctrl-C / SIGTERM (blocking).

    ``strategy_runs`` races per strategy decision (0 turns the orchestrator off);
    ``dask_scheduler`` sends them to a Dask cluster instead of a local thread.
    """
    import panel as pn

    from workbench.service.rest import routes
    from workbench.ui.race import RaceDashboard

    simulator = TelemetrySimulator(race, seed=seed, sample_drivers=[car])
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = data_dir / f"race-seed{seed}-{time.strftime('%Y%m%dT%H%M%S')}"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps({"race": simulator.race.name, "seed": seed, "car": car,
                                                  "speed": speed, "started": time.time()}, indent=1))
    hub = RaceSession(car, race=simulator.race, record_log=run_dir / "records.jsonl")
    service = RaceService(hub, simulator, speed, run_dir)
    if strategy_runs > 0:
        from workbench.strategy.orchestrator import HPCOrchestrator

        service.orchestrator = HPCOrchestrator(simulator.race, car, total_runs=strategy_runs, seed=seed,
                                               dask_scheduler=dask_scheduler)
        service.orchestrator.attach(hub)
    origins = [f"{h}:{port}" for h in {host, "localhost", "127.0.0.1"}]
    def race_page() -> RaceDashboard:
        page = RaceDashboard(hub=hub)
        page.start_refresh()
        return page

    server = pn.serve({"/": race_page}, port=port, address=host,
                      show=show, start=False, extra_patterns=routes(service), websocket_origin=origins,
                      title="Race Twin Edge")
    loop = server.io_loop

    async def shutdown() -> None:
        log.info("stopping")
        await service.stop()
        server.stop()
        loop.stop()

    def on_signal(signum, frame) -> None:
        loop.add_callback_from_signal(shutdown)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    loop.add_callback(service.start)
    server.start()
    print(f"Race Twin Edge: {simulator.race.name}, seed {seed}, car {car}, speed {speed}x\n"
          f"  app  http://{host}:{port}/\n  api  http://{host}:{port}/api/v1/health\n  state {run_dir}",
          flush=True)
    loop.start()
