"""`racetwin serve`: the hub, a telemetry source, REST and the Panel app in one process.

One tornado/asyncio loop runs everything: the built-in source (the simulator, or a
replay of a file) feeds the hub through the `TelemetryIngestor` at ``speed`` x race
time; optional live listeners (UDP, WebSocket) feed the same ingestor; REST
handlers and every browser session read the hub.
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
    simulator : TelemetrySimulator or ReplaySource or None
        The built-in source (a simulated race or a file replay); None for live-only.
    speed : float
        Race seconds per wall second; ``inf`` runs as fast as possible.
    data_dir : Path
        Where this run's state goes (the record log and a run manifest).
    ingestor : TelemetryIngestor, optional
        When given, the built-in source goes through it (de-duplication, per-source metrics).
    listeners : IngestListeners, optional
        Live UDP / WebSocket listeners started and stopped with the service.
    """

    def __init__(self, hub: RaceSession, simulator, speed: float, data_dir: Path, ingestor=None,
                 listeners=None):
        self.hub = hub
        self.ingestor = ingestor
        self.listeners = listeners
        self.simulator = simulator
        self.speed = speed
        self.data_dir = data_dir
        self.state = "idle"
        self.records_sent = 0
        self.error: str | None = None
        self.started_wall_s: float | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the source on the running event loop."""
        loop = asyncio.get_running_loop()
        if self.listeners is not None:
            loop.create_task(self.listeners.start())
        if self.simulator is None:
            self.state = "listening"
            return
        self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        self.state = "running"
        self.started_wall_s = time.monotonic()
        kind = getattr(self.simulator, "kind", "simulator")

        def sink(record) -> None:
            self.records_sent += 1
            if self.ingestor is not None:
                self.ingestor.ingest_records([record], kind)
            else:
                self.hub.submit(record, source=kind)
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
        if self.listeners is not None:
            await self.listeners.stop()
        self.hub.close()

    def source_state(self) -> dict[str, Any]:
        out = {"state": self.state, "kind": getattr(self.simulator, "kind", "simulator") if self.simulator else "live",
               "seed": getattr(self.simulator, "seed", None),
               "speed": None if self.speed == float("inf") else self.speed, "records_sent": self.records_sent,
               "error": self.error}
        if isinstance(getattr(self.simulator, "path", None), Path):
            out["file"] = str(self.simulator.path)
        if self.listeners is not None:
            out["listeners"] = self.listeners.state()
        return out

    def store_state(self) -> dict[str, Any]:
        return {"data_dir": str(self.data_dir), "record_log": str(self.data_dir / "records.jsonl")}


def serve(*, host: str, port: int, speed: float, seed: int, car: str, data_dir: Path, race=None,
          show: bool = False, replay=None, live: bool = False, listeners: dict | None = None) -> None:
    """Run the service until Ctrl-C / SIGTERM (blocking).

    ``replay`` (a `ReplaySource`) or ``live`` replace the simulator as the built-in
    source; ``listeners`` (keyword arguments of `IngestListeners`) starts UDP /
    WebSocket ingest on the same loop.
    """
    import panel as pn

    from workbench.service.ingest_server import IngestListeners
    from workbench.service.rest import routes
    from workbench.telemetry.ingestor import TelemetryIngestor
    from workbench.ui.race import RaceDashboard

    data_dir.mkdir(parents=True, exist_ok=True)
    if replay is not None:
        source, name, tag = replay, f"replay of {replay.path.name}", "replay"
    elif live:
        source, name, tag = None, "live telemetry", "live"
    else:
        source = TelemetrySimulator(race, seed=seed, sample_drivers=[car])
        name, tag, race = source.race.name, f"seed{seed}", source.race
    run_dir = data_dir / f"race-{tag}-{time.strftime('%Y%m%dT%H%M%S')}"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps({"race": name, "seed": seed, "car": car,
                                                  "speed": speed, "started": time.time()}, indent=1))
    hub = RaceSession(car, race=race, record_log=run_dir / "records.jsonl")
    ingestor = TelemetryIngestor(hub)
    if replay is not None:
        replay.on_reject = lambda error: ingestor.reject("replay", error)
    ingest = IngestListeners(ingestor, **listeners) if listeners else None
    service = RaceService(hub, source, speed, run_dir, ingestor=ingestor, listeners=ingest)
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
    print(f"Race Twin Edge: {name}, seed {seed}, car {car}, speed {speed}x\n"
          f"  app  http://{host}:{port}/\n  api  http://{host}:{port}/api/v1/health\n  state {run_dir}"
          + (f"\n  udp  {host}:{ingest.udp_port}" if ingest and ingest.udp_port else "")
          + (f"\n  ws   ws://{host}:{ingest.ws_port}/telemetry" if ingest and ingest.ws_port else ""),
          flush=True)
    loop.start()
