"""`racetwin serve`: the hub, a telemetry source, the store, REST and the Panel app in one process.

One tornado/asyncio loop runs everything: the built-in source (the simulator, or a
replay of a file) feeds the hub through its one entrance, ``hub.ingest``, at ``speed`` x
race time; optional live listeners (UDP, WebSocket) are decoded by the `TelemetryIngestor`,
which hands their records to the same entrance; the hub writes
what it applies to the StateStore (a writer thread does the disk work), REST handlers
and every browser session read the hub.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import os
import secrets
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.race.definition import RaceDefinition, bundled_race, load_race_definition
from workbench.race.simulator import TelemetrySimulator
from workbench.service.monitor import SystemMonitor
from workbench.service.session import RaceSession
from workbench.service.stream import EventStream
from workbench.store import StateStore

__all__ = ["RaceService", "ServiceSettings", "serve", "shared_service", "STORE_FILE", "SNAPSHOT_PERIOD_S"]

log = logging.getLogger("racetwin")

STORE_FILE = "racetwin.sqlite"
SNAPSHOT_PERIOD_S = 5.0
UNUSED_SESSION_CHECK_MS = 1000  # how often Bokeh looks for browser sessions with no connection left
UNUSED_SESSION_LIFETIME_MS = 2000  # ...and how long such a session is kept before it is destroyed


@dataclasses.dataclass(frozen=True)
class ServiceSettings:
    """Security settings of the served API."""

    api_token: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    cors_origin: str | None = None


class RaceService:
    """The running service: a hub, the source that feeds it and (optionally) its store.

    Parameters
    ----------
    hub : RaceSession
    simulator : TelemetrySimulator or ReplaySource or None
        The built-in source (a simulated race or a file replay, at ``speed``); None for live-only.
    speed : float
        Race seconds per wall second; ``inf`` runs as fast as possible.
    skip : int
        Simulator records already applied before a restart (``--resume``).
    settings : ServiceSettings
        API token and CORS origin (a random token by default).
    ingestor : TelemetryIngestor, optional
        Decodes and queues the live listeners' input (health shows its queue); every source,
        the built-in one included, enters the hub through ``hub.ingest`` (de-duplication,
        per-source counts).
    listeners : IngestListeners, optional
        Live UDP / WebSocket listeners started and stopped with the service.
    """

    def __init__(self, hub: RaceSession, simulator, speed: float, skip: int = 0,
                 settings: ServiceSettings | None = None, ingestor=None, listeners=None,
                 stream: EventStream | None = None):
        self.hub = hub
        self.ingestor = ingestor
        self.listeners = listeners
        self.settings = settings or ServiceSettings()
        self.monitor = SystemMonitor()
        self.stream = stream if stream is not None else EventStream(hub)
        self.response_cache: dict[str, tuple[float, int, str]] = {}
        self.simulator = simulator
        self.speed = speed
        self.skip = skip
        self.state = "idle"
        self.records_sent = 0
        self.snapshots = 0
        self.error: str | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.orchestrator = None  # HPCOrchestrator: strategy runs triggered by hub events
        self.recommender = None  # RecommendationService: strategy results -> recommendations (+ LLM wording)
        self.predictor = None  # LivePredictor: the finish predicted each leader lap
        self.view_state: Callable[[], dict[str, int]] | None = None  # browser sessions and their callbacks (serve)

    def llm_state(self) -> dict[str, Any]:
        """The explainer's state (``off`` without a RecommendationService): health API and app read this."""
        return self.recommender.state() if self.recommender is not None else {"state": "off"}

    def start(self) -> None:
        """Start the source (and the snapshot timer when there is a store) on the running loop."""
        loop = asyncio.get_running_loop()
        if self.listeners is not None:
            loop.create_task(self.listeners.start())
        if self.simulator is None:
            self.state = "listening"
        else:
            self._tasks.append(loop.create_task(self._run()))
        if self.hub.store is not None:
            self._tasks.append(loop.create_task(self._snapshots()))
        if self.recommender is not None:
            self._tasks.append(loop.create_task(self.recommender.run(self._stop)))

    async def _run(self) -> None:
        self.state = "running"

        clock = time.perf_counter
        kind = getattr(self.simulator, "kind", "simulator")

        def sink(record) -> None:
            self.records_sent += 1
            t0 = clock()
            self.hub.ingest([record], kind)  # the hub's one entrance: de-duplicated, counted per source
            self.monitor.observe("ingest", clock() - t0)
        try:
            await self.simulator.stream(sink, speed=self.speed, stop=self._stop, skip=self.skip)
            self.hub.flush()
            self.state = "stopped" if self._stop.is_set() else "finished"
        except Exception as exc:  # reported in /api/v1/health, never silently lost
            self.state, self.error = "failed", f"{type(exc).__name__}: {exc}"
            log.exception("telemetry source failed")

    async def _snapshots(self) -> None:
        """Store a snapshot of the twins every SNAPSHOT_PERIOD_S (wall time) while data flows."""
        last_seq = -1
        while not self._stop.is_set():
            if self.hub.applied_seq != last_seq:
                last_seq = self.hub.applied_seq
                self.hub.store.snapshot(self.hub.session_id, last_seq, self.hub.environment.session_time_s,
                                        self.hub.snapshot_state())
                self.snapshots += 1
            try:
                await asyncio.wait_for(self._stop.wait(), SNAPSHOT_PERIOD_S)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.listeners is not None:
            await self.listeners.stop()
        if self.orchestrator is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.orchestrator.close)
        if self.recommender is not None and self.recommender.ai.client is not None:
            await self.recommender.ai.client.close()
        if self.predictor is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.predictor.close)
        self.hub.close()
        if self.hub.store is not None:
            self.hub.store.close()

    def problems(self) -> list[str]:
        """Why the service is degraded (empty when it is not): each item names its cause."""
        out = []
        if self.state not in ("idle", "running", "finished", "listening", "stopped"):
            out.append(f"telemetry source {self.state}: {self.error}")
        if self.listeners is not None:
            out.extend(self.listeners.problems())
        store = self.hub.store
        if store is not None and store.write_errors:
            out.append(f"store: {store.write_errors} write error(s); last: {store.last_error}")
        return out

    def source_state(self) -> dict[str, Any]:
        out = {"state": self.state,
               "kind": getattr(self.simulator, "kind", "simulator") if self.simulator is not None else "live",
               "seed": getattr(self.simulator, "seed", None),
               "speed": None if self.speed == float("inf") else self.speed,
               "records_sent": self.records_sent, "resumed_after": self.skip, "error": self.error}
        if isinstance(getattr(self.simulator, "path", None), Path):
            out["file"] = self.simulator.path.name  # the name only: readers never see server paths
        if self.listeners is not None:
            out["listeners"] = self.listeners.state()
        return out

    def store_state(self) -> dict[str, Any]:
        store = self.hub.store
        if store is None:
            return {"enabled": False}
        health = store.health()
        health["path"] = Path(health["path"]).name  # the name only: readers never see server paths
        return {"enabled": True, "session_id": self.hub.session_id, "applied_seq": self.hub.applied_seq,
                "committed_seq": store.committed_seq(self.hub.session_id), "snapshots": self.snapshots,
                **health}


_shared: RaceService | None = None


def shared_service(seed: int = 0, car: str = "VER", speed: float = 1.0) -> RaceService:
    """The process-wide service for ``panel serve apps/...``: created and started on first use.

    `racetwin serve` builds its own; this is for apps served by Panel directly, where
    every browser session must share one hub and one ingest. It keeps no store.
    """
    global _shared
    if _shared is None:
        simulator = TelemetrySimulator(seed=seed, sample_drivers=[car])
        _shared = RaceService(RaceSession(car, race=simulator.race), simulator, speed)
        _shared.start()
    return _shared


def open_service(*, seed: int, car: str, speed: float, data_dir: Path, race: RaceDefinition | None = None,
                 race_file: Path | None = None, resume: bool | str = False,
                 settings: ServiceSettings | None = None, replay=None, live: bool = False,
                 listeners: dict | None = None, future_tolerance_s: float | None = None) -> RaceService:
    """Build the service over the store in ``data_dir``: a new session, or one resumed.

    ``replay`` (a `ReplaySource`) or ``live`` replace the simulator as the built-in
    source (a new session; ``race`` may then be None); ``listeners`` (keyword arguments
    of `IngestListeners`) adds UDP / WebSocket ingest. Every source goes through one
    `TelemetryIngestor`. ``resume``: True carries on the newest simulator session that
    holds records; a string names the session (see `racetwin sessions`).
    ``future_tolerance_s``: see `RaceSession` (None keeps its default).
    """
    from workbench.service.ingest_server import IngestListeners
    from workbench.telemetry.ingestor import TelemetryIngestor

    hub_kw = {} if future_tolerance_s is None else {"future_tolerance_s": future_tolerance_s}
    if replay is not None or live:
        if resume:
            raise ValueError("--resume: only the simulator source can be resumed")
        store = StateStore(data_dir / STORE_FILE)
        tag = "replay" if replay is not None else "live"
        meta = {"race": race.name if race else tag, "race_file": None, "seed": None, "car": car, "source": tag,
                "file": replay.path.name if replay is not None else None}

        def new_session_id() -> str:
            return f"{time.strftime('%Y%m%dT%H%M%S')}-{tag}-{car}-{len(store.sessions()) + 1}"

        session_id = new_session_id()
        store.create_session(session_id, meta)
        hub = RaceSession(car, race=race, store=store, session_id=session_id, **hub_kw)

        def on_new_session(reason: str) -> None:
            sid = new_session_id()
            store.create_session(sid, {**meta, "started_by": reason, "previous": hub.session_id})
            hub.start_new_session(sid, reason)

        ingestor = TelemetryIngestor(hub, on_new_session=on_new_session)
        if replay is not None:
            replay.on_reject = lambda error: ingestor.reject("replay", error)
        ingest = IngestListeners(ingestor, **listeners) if listeners else None
        return RaceService(hub, replay, speed, settings=settings, ingestor=ingestor, listeners=ingest)
    store = StateStore(data_dir / STORE_FILE)
    previous = store.sessions()
    chosen = pick_resume_session(previous, resume) if resume else None
    if chosen is not None:
        meta = chosen["meta"]
        session_id, seed, car = chosen["session_id"], meta["seed"], meta["car"]
        race = load_race_definition(meta["race_file"]) if meta.get("race_file") else bundled_race()
        log.info("resuming session %s (seed %s, car %s)", session_id, seed, car)
    else:
        if resume:
            log.info("--resume: no simulator session with records in %s yet, starting a new one", store.path)
        race = race if race is not None else bundled_race()
        session_id = f"{time.strftime('%Y%m%dT%H%M%S')}-seed{seed}-{car}-{len(previous) + 1}"
        store.create_session(session_id, {"race": race.name, "race_file": str(race_file) if race_file else None,
                                          "seed": seed, "car": car})
    simulator = TelemetrySimulator(race, seed=seed, sample_drivers=[car])
    hub = RaceSession(car, race=race, store=store, session_id=session_id, **hub_kw)
    stream = EventStream(hub)  # before the restore: replayed events get their old numbers again
    restored = hub.restore() if chosen is not None else {}
    if restored:
        log.info("restored %d records (%s)", sum(restored.values()), restored)
    ingestor = TelemetryIngestor(hub)
    ingest = IngestListeners(ingestor, **listeners) if listeners else None
    return RaceService(hub, simulator, speed, skip=restored.get("simulator", 0), settings=settings,
                       ingestor=ingestor, listeners=ingest, stream=stream)


def pick_resume_session(sessions: list[dict], resume: bool | str) -> dict | None:
    """The session ``--resume`` carries on: the named one, or the newest simulator session holding records.

    Raises
    ------
    ValueError
        A named session that does not exist or cannot be resumed (a replay or live session).
    """
    simulated = [p for p in sessions if p["meta"].get("source", "simulator") == "simulator"]
    if isinstance(resume, str):
        match = next((p for p in sessions if p["session_id"] == resume), None)
        if match is None:
            known = ", ".join(p["session_id"] for p in simulated[-5:]) or "none"
            raise ValueError(f"--resume: {resume!r} is not a session in the store (latest: {known}; "
                             f"see racetwin sessions)")
        if match not in simulated:
            raise ValueError(f"--resume: {resume!r} is a {match['meta'].get('source')} session; only simulator "
                             f"sessions can be resumed")
        return match
    with_records = [p for p in simulated if p["records"] > 0]
    return with_records[-1] if with_records else None


TOKEN_FILE = "api-token"


def _settings(data_dir: Path, api_token: str | None, cors_origin: str | None,
              rotate_token: bool = False) -> tuple[ServiceSettings, str]:
    """Token from the flag, else RACETWIN_API_TOKEN, else DATA_DIR/api-token (kept across restarts;
    written with a new random token when missing or when ``rotate_token``)."""
    token = api_token or os.environ.get("RACETWIN_API_TOKEN")
    where = "--api-token" if api_token else "RACETWIN_API_TOKEN" if token else str(data_dir / TOKEN_FILE)
    if not token:
        path = data_dir / TOKEN_FILE
        token = None if rotate_token or not path.is_file() else path.read_text().strip() or None
        if token is None:
            token = secrets.token_urlsafe(24)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(token + "\n")
            tmp.chmod(0o600)
            tmp.replace(path)
            where += " (new)" if not rotate_token else " (rotated)"
    return ServiceSettings(api_token=token, cors_origin=cors_origin), where


def check_ports(host: str, port: int, listeners: dict | None) -> None:
    """Raise OSError naming the first port that cannot be bound (before anything touches the data dir)."""
    import socket

    wanted = [("--port", socket.SOCK_STREAM, port)]
    if listeners:
        if listeners.get("udp_port"):
            wanted.append(("--udp-port", socket.SOCK_DGRAM, listeners["udp_port"]))
        if listeners.get("ws_port"):
            wanted.append(("--ws-port", socket.SOCK_STREAM, listeners["ws_port"]))
    for option, kind, number in wanted:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, kind) as sock:
            if kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as tornado binds it
            try:
                sock.bind((host, number))
            except OSError as exc:
                raise OSError(exc.errno, f"{option}: {host}:{number} cannot be bound ({exc.strerror}); is another "
                                         f"racetwin serve running?") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(*, host: str, port: int, speed: float, seed: int, car: str, data_dir: Path, race=None,
          race_file: Path | None = None, resume: bool = False, show: bool = False, api_token: str | None = None,
          cors_origin: str | None = None, replay=None, live: bool = False, listeners: dict | None = None,
          rotate_token: bool = False, future_tolerance_s: float | None = None,
          strategy_runs: int = 10_000, dask_scheduler: str | None = None, llm_url: str | None = None,
          llm_model: str | None = None, llm_api_key: str | None = None, llm_timeout_s: float = 60.0,
          predict_runs: int = 1000) -> None:
    """Run the service until Ctrl-C / SIGTERM (blocking).

    ``replay`` / ``live`` / ``listeners``: see `open_service`. ``strategy_runs`` races per strategy
    decision (0 turns the orchestrator off); ``dask_scheduler`` sends them to a Dask cluster instead of
    a local thread. ``llm_url`` (an OpenAI-compatible server, e.g. ``max serve`` on
    http://localhost:8000/v1) words the recommendations; without it the built-in explainer does.
    ``predict_runs`` races per finish prediction, each leader lap (0 turns it off).
    """
    import panel as pn

    from workbench.service.urls import routes
    from workbench.ui.race import RaceDashboard
    from workbench.ui.sessions import view_counts
    from workbench.ui.whatif import WhatIfExplorer

    check_ports(host, port, listeners)  # a second serve on a busy port must not touch this data dir
    data_dir.mkdir(parents=True, exist_ok=True)
    settings, token_source = _settings(data_dir, api_token, cors_origin, rotate_token)
    if listeners and listeners.get("ws_port") and not listeners.get("token") and not listeners.get("ws_open"):
        listeners = {**listeners, "token": settings.api_token}  # the ingest WebSocket needs the same token
    service = open_service(seed=seed, car=car, speed=speed, data_dir=data_dir, race=race, race_file=race_file,
                           resume=resume, settings=settings, replay=replay, live=live, listeners=listeners,
                           future_tolerance_s=future_tolerance_s)
    if not _is_loopback(host):
        log.warning("LISTENING ON %s: the app and every read endpoint are open to anyone who can reach this "
                    "address; writes still need the bearer token", host)
    hub = service.hub
    if strategy_runs > 0 and hub.race is not None:
        from workbench.kernels.select import resolve_backend  # cuda on a GPU with the gpu extra, else numba
        from workbench.strategy.orchestrator import HPCOrchestrator

        service.orchestrator = HPCOrchestrator(hub.race, hub.our_driver, total_runs=strategy_runs, seed=seed,
                                               dask_scheduler=dask_scheduler, backend=resolve_backend("auto"))
        service.orchestrator.attach(hub)
        from workbench.llm.client import DEFAULT_MODEL
        from workbench.service.recommendations import RecommendationService
        from workbench.strategy.ai_strategist import AIStrategist

        ai = AIStrategist(base_url=llm_url, model=llm_model or DEFAULT_MODEL, api_key=llm_api_key,
                          timeout_s=llm_timeout_s)
        service.recommender = RecommendationService(hub, ai, explain_timeout_s=2 * llm_timeout_s)
    if predict_runs > 0 and hub.race is not None:
        from workbench.strategy.live_predict import LivePredictor

        service.predictor = LivePredictor(hub.race, runs=predict_runs, seed=seed)
        service.predictor.attach(hub)

    from workbench.ui.template import page_template  # both pages share one template (header, navigation, theme)

    def race_page():
        page = RaceDashboard(hub=hub, service=service)
        page.start_refresh()
        return page_template(page, "Race")

    def whatif_page():
        page = WhatIfExplorer(hub=hub, seed=seed)
        page.sync_url()
        pn.state.onload(page.run)
        return page_template(page, "What if")

    origins = [f"{h}:{port}" for h in {host, "localhost", "127.0.0.1"}]
    # A closed tab's session is discarded within seconds (Bokeh's defaults keep it ~15-30 s).
    server = pn.serve({"/": race_page, "/whatif": whatif_page}, port=port, address=host, show=show, start=False,
                      extra_patterns=routes(service), websocket_origin=origins, title="Race Twin Edge",
                      check_unused_sessions_milliseconds=UNUSED_SESSION_CHECK_MS,
                      unused_session_lifetime_milliseconds=UNUSED_SESSION_LIFETIME_MS)
    service.view_state = lambda: view_counts(server)
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
    def _kernel_line() -> str:  # the race kernel auto-selected (workbench.kernels.select)
        from workbench.kernels.select import startup_line
        return startup_line()

    loop.add_callback(service.start)
    server.start()
    source = service.simulator
    name = (f"replay of {source.path.name}" if replay is not None else "live telemetry" if source is None
            else f"{source.race.name}, seed {source.seed}")
    ingest = service.listeners
    print(f"Race Twin Edge: {name}, car {hub.our_driver}, "
          f"speed {speed}x\n  app  http://{host}:{port}/\n  api  http://{host}:{port}/api/v1/health\n"
          f"  store {hub.store.path} (session {hub.session_id})\n  write token: {token_source}"
          + (f"\n  udp  {host}:{ingest.udp_port}" if ingest and ingest.udp_port else "")
          + (f"\n  ws   ws://{host}:{ingest.ws_port}/telemetry" if ingest and ingest.ws_port else "")
          + f"\n  {_kernel_line()}",
          flush=True)
    loop.start()
