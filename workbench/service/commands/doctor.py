"""`racetwin doctor`: check the install and the machine before a race (the seed's validate_system)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

OK, FAIL, SKIP = "ok", "FAIL", "skip"


def add_parser(sub) -> None:
    parser = sub.add_parser("doctor", help="check the install, numba, data, store, ports and optional parts",
                            description="Print a table of checks; exit 1 if any check fails (skipped optional "
                                        "parts do not fail).")
    parser.add_argument("--data-dir", type=Path, default=Path("racetwin-state"), help="the data dir to check")
    parser.add_argument("--port", type=int, action="append", default=None,
                        help="a port that must be free (repeatable; default 5006)")
    parser.add_argument("--llm-url", default=None, help="an OpenAI-compatible server to check (e.g. "
                                                        "http://localhost:8000/v1); skipped when not given")


def _python() -> tuple[str, str]:
    ok = sys.version_info >= (3, 11)
    return (OK if ok else FAIL), f"Python {sys.version.split()[0]} (needs >= 3.11)"


def _packages() -> tuple[str, str]:
    found, missing = [], []
    for name in ("panel", "bokeh", "holoviews", "param", "numpy", "numba", "pandas", "httpx", "pydantic"):
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return (FAIL, "missing: " + ", ".join(missing)) if missing else (OK, ", ".join(found))


def _bundled_race() -> tuple[str, str]:
    from workbench.race.definition import bundled_race
    race = bundled_race()
    return OK, f"{race.name}: {len(race.cars)} cars, {race.track.laps} laps"


def _numba() -> tuple[str, str]:
    import numba
    import numpy as np

    @numba.njit(nogil=True)
    def total(x):
        s = 0.0
        for v in x:
            s += v
        return s
    t0 = time.perf_counter()
    value = total(np.arange(10.0))
    ok = value == 45.0
    return (OK if ok else FAIL), f"numba {numba.__version__} JIT compiled in {time.perf_counter() - t0:.2f} s"


def _store(data_dir: Path) -> Callable[[], tuple[str, str]]:
    def check() -> tuple[str, str]:
        from workbench.store import StateStore
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-", suffix=".sqlite") as tmp:
            store = StateStore(tmp.name)
            store.create_session("doctor", {})
            store.close()
        return OK, f"{data_dir.resolve()} writable; SQLite WAL store opens"
    return check


def _port(port: int) -> Callable[[], tuple[str, str]]:
    def check() -> tuple[str, str]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                return FAIL, f"port {port} is taken ({exc.strerror})"
        return OK, f"port {port} free on 127.0.0.1"
    return check


def _mojo() -> tuple[str, str]:
    if importlib.util.find_spec("max") is None:
        return SKIP, "Mojo/MAX not installed (optional: pip install '.[mojo]'); numba is the default backend"
    return OK, f"MAX {importlib.metadata.version('max')} installed"


def _gpu() -> tuple[str, str]:
    from workbench.kernels.select import gpu_status, resolve_backend
    status = gpu_status()
    return (OK if status.gpu_name else SKIP), f"{status.reason}; auto-selected kernel: {resolve_backend('auto')}"


def _llm(url: str | None) -> Callable[[], tuple[str, str]]:
    def check() -> tuple[str, str]:
        if not url:
            return SKIP, "no --llm-url: the built-in explainer is used"
        import httpx
        try:
            response = httpx.get(url.rstrip("/") + "/models", timeout=5)
            response.raise_for_status()
            models = [m.get("id") for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError) as exc:
            return FAIL, f"{url}: not reachable or not OpenAI-compatible ({exc})"
        return OK, f"{url}: models {', '.join(map(str, models)) or '(none listed)'}"
    return check


def run(args) -> int:
    checks: list[tuple[str, Callable[[], tuple[str, str]]]] = [
        ("python", _python), ("packages", _packages), ("bundled race", _bundled_race), ("numba", _numba),
        ("data dir + store", _store(args.data_dir)),
        *[(f"port {p}", _port(p)) for p in (args.port or [5006])],
        ("mojo", _mojo), ("gpu", _gpu), ("llm", _llm(args.llm_url)),
    ]
    failed = skipped = 0
    width = max(len(name) for name, _ in checks)
    for name, check in checks:
        try:
            status, detail = check()
        except Exception as exc:  # a broken part is a failed check, never a crash of the doctor
            status, detail = FAIL, f"{type(exc).__name__}: {exc}"
        failed += status == FAIL
        skipped += status == SKIP
        print(f"{name:<{width}}  {status:<4}  {detail}")
    passed = len(checks) - failed - skipped
    if failed:
        print(f"{passed} of {len(checks)} checks passed, {failed} failed, {skipped} skipped")
    else:
        print(f"all checks passed ({passed} ok, {skipped} skipped)" if skipped else "all checks passed")
    return 1 if failed else 0
