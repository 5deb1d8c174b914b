"""StateStore: the embedded database behind a race — SQLite in WAL mode.

Why SQLite (not DuckDB): the workload is many small appends from a live loop
(telemetry at 10-200 Hz, snapshots, audit rows) that must survive a SIGKILL at
any moment; SQLite's WAL journal gives atomic, durable group commits for that
with no dependency (it ships with Python) and readers that never block the
writer. DuckDB is built for analytical scans, not a stream of small
transactions. Notebooks still get DataFrames (`read_records`, `laps_frame`).

Writes go through one writer thread: callers enqueue and return at once; the
thread commits whatever arrived in one transaction every ``commit_interval_s``
(group commit), so at most that much accepted data is at risk on a crash. With
``synchronous=NORMAL`` a committed WAL transaction survives a process kill
(only an OS crash or power loss can drop the last ones).
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench.telemetry.records import Record
from workbench.telemetry.schema import to_wire, validate

__all__ = ["StateStore", "StoreError"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, created_wall REAL NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, session_time_s REAL NOT NULL, type TEXT NOT NULL,
    source TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS snapshots (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, session_time_s REAL NOT NULL, wall REAL NOT NULL,
    state TEXT NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS results (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, session_time_s REAL, lap INTEGER,
    message TEXT NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, wall REAL NOT NULL,
    session_time_s REAL, action TEXT NOT NULL, input_hash TEXT, actor TEXT, detail TEXT NOT NULL);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or written."""


class StateStore:
    """One SQLite database per data dir; sessions (one race = one id) kept apart.

    Parameters
    ----------
    path : Path
        The database file (created with its tables if missing).
    commit_interval_s : float
        Group-commit period of the writer thread (data at risk on a crash).
    """

    def __init__(self, path: str | Path, commit_interval_s: float = 0.2):
        if not 0 < commit_interval_s <= 5:
            raise ValueError(f"commit_interval_s: {commit_interval_s} is not in (0, 5]")
        self.path = Path(path)
        self.commit_interval_s = commit_interval_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self._connect()
            conn.executescript(SCHEMA)
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"store: {str(self.path)!r} cannot be opened as a database ({exc})") from None
        self._queue: queue.Queue = queue.Queue()
        self._committed: dict[str, int] = {}
        self.commits = 0
        self.write_errors = 0
        self.last_error: str | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._writer, name="racetwin-store", daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    # -- writing (any thread; never blocks on disk) ------------------------------
    def create_session(self, session_id: str, meta: dict[str, Any]) -> None:
        """Register a session synchronously (it must exist before anything refers to it)."""
        with self._connect() as conn:
            conn.execute("INSERT OR IGNORE INTO sessions VALUES (?, ?, ?)",
                         (session_id, time.time(), json.dumps(meta)))

    def append_record(self, session_id: str, seq: int, record: Record, source: str) -> None:
        self._put(("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?)",
                   (session_id, seq, record.session_time_s, record.type, source, json.dumps(to_wire(record)))),
                  session_id, seq)

    def snapshot(self, session_id: str, seq: int, session_time_s: float, state: dict) -> None:
        self._put(("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)",
                   (session_id, seq, session_time_s, time.time(), json.dumps(state))), None, None)

    def append_result(self, session_id: str, message: dict[str, Any]) -> None:
        """Keep one result event as the push stream numbered it (``seq``, ``kind``, ``data``: see `EventStream`).

        Written through the same queue as the records, so the store always holds a prefix of the stream in
        the order it was numbered: a resumed stream puts these back between the replayed race events.
        ``message`` must be JSON-safe (no NaN).
        """
        self._put(("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                   (session_id, message["seq"], message["kind"], message.get("session_time_s"), message.get("lap"),
                    json.dumps(message, allow_nan=False))), None, None)

    def audit(self, session_id: str, action: str, detail: dict, session_time_s: float | None = None,
              input_hash: str | None = None, actor: str | None = None) -> None:
        """Log a decision: when, what, on which inputs (a hash) and who made or worded it."""
        self._put(("INSERT INTO audit (session_id, wall, session_time_s, action, input_hash, actor, detail) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (session_id, time.time(), session_time_s, action, input_hash, actor, json.dumps(detail))),
                  None, None)

    def _put(self, item, session_id, seq) -> None:
        if self._closed:
            raise StoreError("store: closed; nothing more can be written")
        self._queue.put((item, session_id, seq))  # consumed by _writer

    def _writer(self) -> None:
        conn = self._connect()
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.commit_interval_s
            while batch[-1] is not None and not isinstance(batch[-1], threading.Event):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            items = [b for b in batch if isinstance(b, tuple)]
            if items:
                try:
                    with conn:
                        for (sql, params), _, _ in items:
                            conn.execute(sql, params)
                    self.commits += 1
                    for _, session_id, seq in items:
                        if seq is not None:
                            self._committed[session_id] = max(self._committed.get(session_id, 0), seq)
                except sqlite3.Error as exc:  # counted and reported in health; the loop goes on
                    self.write_errors += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
            for marker in batch:
                if isinstance(marker, threading.Event):
                    marker.set()
            if batch[-1] is None:
                conn.close()
                return

    def committed_seq(self, session_id: str) -> int:
        """Highest record seq known to be committed (durable) for the session."""
        return self._committed.get(session_id, 0)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until everything queued so far is committed; False if that took too long."""
        if self._closed:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout_s)

    def close(self) -> None:
        """Commit what is queued and stop the writer."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join(timeout=30)

    # -- reading (own connection; WAL readers never block the writer) -------------
    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = self._connect()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def sessions(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT s.session_id, s.created_wall, s.meta, COUNT(r.seq), MAX(r.seq), "
                          "MAX(r.session_time_s) FROM sessions s LEFT JOIN records r USING (session_id) "
                          "GROUP BY s.session_id ORDER BY s.created_wall")
        return [{"session_id": sid, "created_wall": created, "meta": json.loads(meta), "records": n,
                 "last_seq": last or 0, "last_session_time_s": t} for sid, created, meta, n, last, t in rows]

    def records(self, session_id: str, after_seq: int = 0) -> Iterator[tuple[int, str, Record]]:
        """(seq, source, record) in seq order."""
        for seq, source, body in self._read("SELECT seq, source, body FROM records WHERE session_id = ? "
                                            "AND seq > ? ORDER BY seq", (session_id, after_seq)):
            yield seq, source, validate(json.loads(body))

    def latest_snapshot(self, session_id: str) -> dict | None:
        rows = self._read("SELECT seq, session_time_s, state FROM snapshots WHERE session_id = ? "
                          "ORDER BY seq DESC LIMIT 1", (session_id,))
        if not rows:
            return None
        seq, t, state = rows[0]
        return {"seq": seq, "session_time_s": t, "state": json.loads(state)}

    def results(self, session_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The session's result events (strategy results, recommendations, predictions) as stream messages,
        in ``seq`` order; only those of ``kind`` when given."""
        sql, params = "SELECT message FROM results WHERE session_id = ?", (session_id,)
        if kind is not None:
            sql, params = sql + " AND kind = ?", (session_id, kind)
        return [json.loads(m) for (m,) in self._read(sql + " ORDER BY seq", params)]

    def audit_log(self, session_id: str) -> list[dict]:
        rows = self._read("SELECT wall, session_time_s, action, input_hash, actor, detail FROM audit "
                          "WHERE session_id = ? ORDER BY id", (session_id,))
        return [{"wall": w, "session_time_s": t, "action": a, "input_hash": h, "actor": actor,
                 "detail": json.loads(d)} for w, t, a, h, actor, d in rows]

    def read_records(self, session_id: str, record_type: str | None = None):
        """A session's records as a pandas DataFrame (one column per wire field)."""
        import pandas as pd
        sql = "SELECT seq, source, body FROM records WHERE session_id = ?"
        params: tuple = (session_id,)
        if record_type is not None:
            sql += " AND type = ?"
            params += (record_type,)
        rows = self._read(sql + " ORDER BY seq", params)
        return pd.DataFrame([{"seq": seq, "source": src, **json.loads(body)} for seq, src, body in rows])

    def health(self) -> dict[str, Any]:
        return {"path": str(self.path), "journal": "wal", "commit_interval_s": self.commit_interval_s,
                "queued": self._queue.qsize(), "commits": self.commits, "write_errors": self.write_errors,
                "last_error": self.last_error}
