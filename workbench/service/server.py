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
import itertools
import logging
import os
import secrets
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from workbench.hub.monitor import SystemMonitor
from workbench.hub.session import RaceSession
from workbench.hub.stream import EventStream
from workbench.race.definition import RaceDefinition, bundled_race, load_race_definition
from workbench.race.simulator import TelemetrySimulator
from workbench.store import StateStore

__all__ = ["RaceService", "ServiceConfig", "ServiceSettings", "app_service", "build_service", "serve", "STORE_FILE",
           "SNAPSHOT_PERIOD_S"]

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
        self.recommender = None  # RecommendationService: strategy result events -> recommendations (+ LLM wording)
        self.predictor = None  # LivePredictor: the finish predicted each leader lap
        self.view_state: Callable[[], dict[str, int]] | None = None  # browser sessions and their callbacks (serve)
        self.config: ServiceConfig | None = None  # what `build_service` built it from

    def llm_state(self) -> dict[str, Any]:
        """The explainer's state (``off`` without a RecommendationService): health API and app read this."""
        return self.recommender.state() if self.recommender is not None else {"state": "off"}

    def start(self) -> None:
        """Start the source (and the snapshot timer when there is a store) on the running loop.

        The hub's subscribers run on this loop from now on: results published from worker threads
        (strategy, prediction) reach REST, the page, the push stream and the recommendations here."""
        loop = asyncio.get_running_loop()
        self.hub.bind_loop(loop)
        if self.listeners is not None:
            loop.create_task(self.listeners.start())
        if self.simulator is None:
            self.state = "listening"
        else:
            self._tasks.append(loop.create_task(self._run()))
        if self.hub.store is not None:
            self._tasks.append(loop.create_task(self._snapshots()))

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
        if self.recommender is not None:
            self.recommender.close()
            if self.recommender.ai.client is not None:
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


SOURCES = ("simulator", "replay", "live", "none")


@dataclasses.dataclass(frozen=True)
class ServiceConfig:
    """What `build_service` builds: the race, its source, the store and the engines attached to the hub.

    The defaults are `racetwin serve`'s: the bundled race simulated at 1x with seed 0, our car VER,
    the strategy engine (10,000 races per decision, the auto-selected kernel), the built-in explainer and
    the live finish prediction (1000 races each leader lap).

    Parameters
    ----------
    car : str
        Our driver.
    seed : int
        Fixes the simulated race, the strategy engine's and the predictor's random numbers.
    speed : float
        Race seconds per wall second of the built-in source; ``inf`` runs as fast as possible.
    source : str
        ``simulator`` (the race simulated), ``replay`` (``replay`` paced by ``speed``), ``live`` (only the
        listeners feed the hub) or ``none`` (the caller feeds ``service.hub.ingest``: notebooks, tests).
    race : RaceDefinition, optional
        The race; None: the bundled race for ``simulator`` / ``none``, the telemetry alone otherwise.
    race_file : Path, optional
        Where ``race`` came from (kept in the store, so ``resume`` loads the same race).
    replay : ReplaySource, optional
        The file replayed when ``source`` is ``replay``.
    data_dir : Path, optional
        The store lives in ``data_dir / STORE_FILE``; None keeps no store.
    resume : bool or str
        True carries on the newest simulator session holding records; a string names the session.
    settings : ServiceSettings, optional
        API token and CORS origin (a random token by default).
    listeners : dict, optional
        Keyword arguments of `IngestListeners` (UDP / WebSocket ingest).
    future_tolerance_s : float, optional
        See `RaceSession` (None keeps its default).
    strategy_runs : int
        Races per strategy decision; 0 attaches no strategy engine (and no recommendations).
    dask_scheduler : str, optional
        Send the strategy races to this Dask cluster instead of a local thread.
    llm_url, llm_model, llm_api_key : str, optional
        An OpenAI-compatible server words the recommendations; without ``llm_url`` the built-in explainer does.
    llm_timeout_s : float
        Timeout of one LLM call.
    predict_runs : int
        Races per finish prediction, each leader lap; 0 attaches no predictor.
    """

    car: str = "VER"
    seed: int = 0
    speed: float = 1.0
    source: str = "simulator"
    race: RaceDefinition | None = None
    race_file: Path | None = None
    replay: Any = None
    data_dir: Path | None = None
    resume: bool | str = False
    settings: ServiceSettings | None = None
    listeners: dict | None = None
    future_tolerance_s: float | None = None
    strategy_runs: int = 10_000
    dask_scheduler: str | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = dataclasses.field(default=None, repr=False)
    llm_timeout_s: float = 60.0
    predict_runs: int = 1000

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source: {self.source!r} is not one of {', '.join(SOURCES)}")
        if (self.replay is not None) != (self.source == "replay"):
            raise ValueError(f"replay: {'None' if self.replay is None else 'a file'} does not fit source "
                             f"{self.source!r} (a replay source needs a replay, and only it takes one)")
        if self.resume and self.source != "simulator":
            raise ValueError("--resume: only the simulator source can be resumed")
        if self.resume and self.data_dir is None:
            raise ValueError("resume: needs data_dir (there is no store to resume from)")
        for name in ("strategy_runs", "predict_runs"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: {getattr(self, name)} is below minimum 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceConfig:
        """`racetwin serve`'s defaults with RACETWIN_SEED, RACETWIN_CAR and RACETWIN_SPEED (``panel serve apps/...``).

        Raises
        ------
        ValueError
            A variable that is not a number (naming it and its value).
        """
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        for var, field, kind in (("RACETWIN_SEED", "seed", int), ("RACETWIN_SPEED", "speed", float)):
            text = env.get(var)
            if text:
                try:
                    kw[field] = kind(text)
                except ValueError:
                    raise ValueError(f"{var}: {text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if env.get("RACETWIN_CAR"):
            kw["car"] = env["RACETWIN_CAR"]
        return cls(**{**kw, **overrides})


def build_service(config: ServiceConfig | None = None) -> RaceService:
    """Build the service `config` describes: the one builder behind every way of running it.

    `racetwin serve` (via `serve`), ``panel serve apps/*.py`` (via `app_service`) and the notebooks
    build their service here, so each gets the same hub, source, store and engines (strategy
    orchestrator, recommendations, finish prediction) for the same config. Nothing is started:
    `RaceService.start` on a running loop starts the source and the recommendation task; with
    ``source="none"`` the caller feeds ``service.hub.ingest`` itself.

    Raises
    ------
    ValueError
        A config that cannot be built (an unknown car, a session that cannot be resumed).
    """
    config = config if config is not None else ServiceConfig()
    service = _open(config)
    service.config = config
    _attach_engines(service, config)
    return service


def _open(config: ServiceConfig) -> RaceService:
    """The hub, its source and store (see `ServiceConfig`)."""
    from workbench.service.ingest_server import IngestListeners
    from workbench.telemetry.ingestor import TelemetryIngestor

    car, seed, speed, race, settings = config.car, config.seed, config.speed, config.race, config.settings
    hub_kw = {} if config.future_tolerance_s is None else {"future_tolerance_s": config.future_tolerance_s}
    store = StateStore(config.data_dir / STORE_FILE) if config.data_dir is not None else None
    if config.source in ("replay", "live"):
        replay = config.replay
        tag = config.source
        meta = {"race": race.name if race else tag, "race_file": None, "seed": None, "car": car, "source": tag,
                "file": replay.path.name if replay is not None else None}
        counter = itertools.count(1)

        def new_session_id() -> str:
            n = len(store.sessions()) + 1 if store is not None else next(counter)
            return f"{time.strftime('%Y%m%dT%H%M%S')}-{tag}-{car}-{n}"

        session_id = new_session_id()
        if store is not None:
            store.create_session(session_id, meta)
        hub = RaceSession(car, race=race, store=store, session_id=session_id, **hub_kw)

        def on_new_session(reason: str) -> None:
            sid = new_session_id()
            if store is not None:
                store.create_session(sid, {**meta, "started_by": reason, "previous": hub.session_id})
            hub.start_new_session(sid, reason)

        ingestor = TelemetryIngestor(hub, on_new_session=on_new_session)
        if replay is not None:
            replay.on_reject = lambda error: ingestor.reject("replay", error)
        ingest = IngestListeners(ingestor, **config.listeners) if config.listeners else None
        return RaceService(hub, replay, speed, settings=settings, ingestor=ingestor, listeners=ingest)
    chosen = None
    if store is not None:
        previous = store.sessions()
        chosen = pick_resume_session(previous, config.resume) if config.resume else None
    if chosen is not None:
        meta = chosen["meta"]
        session_id, seed, car = chosen["session_id"], meta["seed"], meta["car"]
        race = load_race_definition(meta["race_file"]) if meta.get("race_file") else bundled_race()
        log.info("resuming session %s (seed %s, car %s)", session_id, seed, car)
    else:
        if config.resume:
            log.info("--resume: no simulator session with records in %s yet, starting a new one", store.path)
        race = race if race is not None else bundled_race()
        if car not in race.drivers:
            raise ValueError(f"car: {car!r} is not in the race {race.name}; drivers are {', '.join(race.drivers)}")
        session_id = None
        if store is not None:
            session_id = f"{time.strftime('%Y%m%dT%H%M%S')}-seed{seed}-{car}-{len(previous) + 1}"
            store.create_session(session_id, {"race": race.name, "race_file": str(config.race_file)
                                              if config.race_file else None, "seed": seed, "car": car})
    simulator = TelemetrySimulator(race, seed=seed, sample_drivers=[car]) if config.source == "simulator" else None
    hub = RaceSession(car, race=race, store=store, session_id=session_id, **hub_kw)
    stream = EventStream(hub)  # before the restore: replayed events get their old numbers again
    restored = hub.restore() if chosen is not None else {}
    stream.restored()  # the stored result messages after the last replayed event; seq goes on from the highest
    if restored:
        log.info("restored %d records (%s)", sum(restored.values()), restored)
    ingestor = TelemetryIngestor(hub)
    ingest = IngestListeners(ingestor, **config.listeners) if config.listeners else None
    return RaceService(hub, simulator, speed, skip=restored.get("simulator", 0), settings=settings,
                       ingestor=ingestor, listeners=ingest, stream=stream)


def _attach_engines(service: RaceService, config: ServiceConfig) -> None:
    """The strategy orchestrator with the recommendations, and the finish predictor, seeded by ``config.seed``."""
    hub = service.hub
    if hub.race is None:
        return  # live telemetry without a race definition: no race model to simulate
    seed = config.seed
    if config.strategy_runs > 0:
        from workbench.hub.recommendations import RecommendationService
        from workbench.kernels.select import resolve_backend  # cuda on a GPU with the gpu extra, else numba
        from workbench.llm.client import DEFAULT_MODEL
        from workbench.strategy.ai_strategist import AIStrategist
        from workbench.strategy.orchestrator import HPCOrchestrator

        service.orchestrator = HPCOrchestrator(hub.race, hub.our_driver, total_runs=config.strategy_runs, seed=seed,
                                               dask_scheduler=config.dask_scheduler,
                                               backend=resolve_backend("auto"))
        service.orchestrator.attach(hub)
        ai = AIStrategist(base_url=config.llm_url, model=config.llm_model or DEFAULT_MODEL,
                          api_key=config.llm_api_key, timeout_s=config.llm_timeout_s)
        service.recommender = RecommendationService(hub, ai, explain_timeout_s=2 * config.llm_timeout_s)
        service.recommender.attach()  # strategy results reach it as hub events
    if config.predict_runs > 0:
        from workbench.strategy.live_predict import LivePredictor

        service.predictor = LivePredictor(hub.race, runs=config.predict_runs, seed=seed)
        service.predictor.attach(hub)


_app_service: RaceService | None = None


def app_service(config: ServiceConfig | None = None) -> RaceService:
    """The process-wide service of ``panel serve apps/...``: built by `build_service` and started on first use.

    Every app and browser session of the process shares it (one hub, one source, one strategy engine);
    later calls return it and ignore ``config``. Default config: `ServiceConfig.from_env` (`racetwin serve`'s
    defaults, no store). Call it on the server's loop (an app script does).
    """
    global _app_service
    if _app_service is None:
        _app_service = build_service(config if config is not None else ServiceConfig.from_env())
        _app_service.start()
    return _app_service


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


def serve(config: ServiceConfig, *, host: str, port: int, show: bool = False, api_token: str | None = None,
          cors_origin: str | None = None, rotate_token: bool = False) -> None:
    """Run the service `build_service(config)` builds until Ctrl-C / SIGTERM (blocking).

    ``config.data_dir`` (required here) holds the store and the API token; the token comes from
    ``api_token``, else RACETWIN_API_TOKEN, else ``data_dir/api-token`` (see `_settings`) and replaces
    ``config.settings``. The race page is served at ``/``, the what-if explorer at ``/whatif``, REST and the
    push stream under ``/api/v1``.
    """
    import panel as pn

    from workbench.service.urls import routes
    from workbench.ui.race import RaceDashboard
    from workbench.ui.sessions import view_counts
    from workbench.ui.whatif import WhatIfExplorer

    if config.data_dir is None:
        raise ValueError("data_dir: None; racetwin serve keeps its store and API token in a data directory")
    data_dir, listeners = config.data_dir, config.listeners
    check_ports(host, port, listeners)  # a second serve on a busy port must not touch this data dir
    data_dir.mkdir(parents=True, exist_ok=True)
    settings, token_source = _settings(data_dir, api_token, cors_origin, rotate_token)
    if listeners and listeners.get("ws_port") and not listeners.get("token") and not listeners.get("ws_open"):
        listeners = {**listeners, "token": settings.api_token}  # the ingest WebSocket needs the same token
    service = build_service(dataclasses.replace(config, settings=settings, listeners=listeners))
    if not _is_loopback(host):
        log.warning("LISTENING ON %s: the app and every read endpoint are open to anyone who can reach this "
                    "address; writes still need the bearer token", host)
    hub, seed, speed = service.hub, config.seed, config.speed

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
    service.view_state = lambda: view_counts(server, hub)
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
    name = (f"replay of {source.path.name}" if config.source == "replay" else "live telemetry" if source is None
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
