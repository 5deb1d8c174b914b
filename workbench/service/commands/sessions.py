"""`racetwin sessions [--data-dir DIR]`: list the races in the store, to choose one for `serve --resume SESSION`."""

from __future__ import annotations

import json
import time
from pathlib import Path


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "sessions",
        help="list the sessions (races) in a data dir's store, newest last",
        description="One line per session: id, source, race, car, records stored and the race time reached. "
        "`racetwin serve --resume SESSION` carries one on; `--resume` alone takes the newest simulator "
        "session that holds records.",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("racetwin-state"),
                        help="the serve data dir (default ./racetwin-state)")
    parser.add_argument("--json", action="store_true", help="print one JSON array")


def run(args) -> int:
    from workbench.service.commands.common import CliError
    from workbench.service.server import STORE_FILE, pick_resume_session
    from workbench.store import StateStore, StoreError

    path = args.data_dir / STORE_FILE
    if not path.is_file():
        raise CliError(f"--data-dir: {str(args.data_dir)!r} holds no store ({STORE_FILE}); run racetwin serve first")
    try:
        store = StateStore(path)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    try:
        sessions = store.sessions()
    finally:
        store.close()
    default = pick_resume_session(sessions, True)
    if args.json:
        print(json.dumps([{**s, "resume_default": s is default} for s in sessions]))
        return 0
    if not sessions:
        print("no sessions")
    for s in sessions:
        meta = s["meta"]
        t = s["last_session_time_s"]
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["created_wall"]))
        mark = "  <- --resume" if s is default else ""
        print(f"{s['session_id']}  {meta.get('source', 'simulator'):<9}  {meta.get('race')}  car {meta.get('car')}  "
              f"{s['records']} records  race time {'-' if t is None else f'{t:.1f} s'}  created {created}{mark}")
    return 0
