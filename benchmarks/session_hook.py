"""What naming a connection leak costs: a SQLAlchemy session plus one query, with and
without the probe's session hook (where and when each ``Session`` was opened).

One process, sync SQLite (no threads to blur the timing), the best of several rounds
each way; the hook cannot be taken out once in, so "without" runs first.

    .venv/bin/python benchmarks/session_hook.py [--sessions 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from lagscope.harness.probe import hooks
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool


def per_session_us(sessions: sessionmaker, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        with sessions() as session:
            session.execute(text("select 1"))
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'db.sqlite3'}", poolclass=QueuePool)
        sessions = sessionmaker(engine)
        per_session_us(sessions, args.sessions)  # warm up
        off = min(per_session_us(sessions, args.sessions) for _ in range(args.rounds))
        hooks.install_sqlalchemy()
        on = min(per_session_us(sessions, args.sessions) for _ in range(args.rounds))
        engine.dispose()
    print(f"session + one query: {off:.1f} µs without the hook, {on:.1f} µs with it "
          f"({on - off:+.1f} µs per session)")  # fmt: skip


if __name__ == "__main__":
    main()
