"""The embedded backend: SQLite files under the home directory, no server to start.

threads.sqlite holds LangGraph's checkpoints (through its own ``AsyncSqliteSaver``, so the
schema is theirs), ledger.sqlite the side effects, handoffs.sqlite the handoff desks. No
secret is written to any of them: checkpoints pass the RedactingSerializer (serde.py), the
ledger's outputs and the desks' turns are redacted before they are stored.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.redaction import redact_secrets

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

_PREPARED: set[Path] = set()
_PREPARING = threading.Lock()


def prepare_store(path: Path, attempts: int = 5) -> None:
    """Create the thread store's tables (in WAL mode) once per process, before runs open it.

    Connections that set up a new store at the same moment (a fan-out's branches, runs
    in threads) collide: SQLite refuses the switch to WAL mode with "database is locked"
    instead of waiting. One setup per path under a lock, retried briefly against another
    process doing the same, leaves every later connection nothing to change.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    def locked(error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)

    with _PREPARING:
        if path in _PREPARED:
            return
        for attempt in Retrying(  # waits of 0.05, 0.1, 0.2, 0.4 s
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.05, min=0.05),
            retry=retry_if_exception(locked),
            reraise=True,
        ):
            with attempt, closing(sqlite3.connect(path, timeout=30, check_same_thread=False)) as db:
                SqliteSaver(db).setup()
        _PREPARED.add(path)


class SqliteStorage:
    """Every kind of durable state in SQLite files under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._ledger: SqliteLedger | None = None
        self._desk: SqliteDesk | None = None

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        """LangGraph's SQLite checkpointer over threads.sqlite, for one call."""
        import asyncio

        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        from podium.storage.serde import RedactingSerializer

        path = self.home / "threads.sqlite"
        if path not in _PREPARED:
            await asyncio.to_thread(prepare_store, path)
        # from_conn_string takes no serializer: the same connection, opened here.
        async with aiosqlite.connect(str(path)) as connection:
            yield AsyncSqliteSaver(connection, serde=RedactingSerializer())

    def ledger(self) -> SqliteLedger:
        """The side-effect ledger in ledger.sqlite."""
        if self._ledger is None:
            self._ledger = SqliteLedger(self.home / "ledger.sqlite")
        return self._ledger

    def desk(self) -> SqliteDesk:
        """The handoff desks' owners and turns in handoffs.sqlite."""
        if self._desk is None:
            self._desk = SqliteDesk(self.home / "handoffs.sqlite")
        return self._desk


class SqliteLedger:
    """Completed side-effecting calls (and compensations), kept in SQLite under the home dir.

    A process killed between a tool's completion and its record can still repeat that one
    call: tools get the idempotency key to guard against even that.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, tool TEXT NOT NULL, "
                "output TEXT NOT NULL, at REAL NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, key: str) -> str | None:
        """The recorded output of ``key``, if it completed."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT output FROM effects WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, tool: str, output: str) -> None:
        """Record that ``key`` completed with ``output`` (its secrets redacted)."""
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO effects VALUES (?, ?, ?, ?)",
                (key, tool, redact_secrets(output), time.time()),
            )


class SqliteDesk:
    """Thread owners and the person's turns of handoff desks, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def _open(self) -> sqlite3.Connection:
        if not self._ready:  # the tables, once per desk
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path)) as db, db:
                db.execute(
                    "create table if not exists owners (thread text primary key, agent text)"
                )
                db.execute("create table if not exists turns (thread text, said text)")
            self._ready = True
        return sqlite3.connect(self.path)

    def owner(self, thread_id: str) -> str | None:
        """The agent that holds the thread, or None for a new one."""
        with closing(self._open()) as db, db:
            row = db.execute("select agent from owners where thread = ?", (thread_id,)).fetchone()
        return str(row[0]) if row else None

    def set_owner(self, thread_id: str, agent: str) -> None:
        """Give the thread to ``agent``."""
        with closing(self._open()) as db, db:
            db.execute("insert or replace into owners values (?, ?)", (thread_id, agent))

    def add_turn(self, thread_id: str, said: str, keep: int) -> list[str]:
        """Record a turn (its secrets redacted); the thread's last ``keep`` turns, oldest first."""
        with closing(self._open()) as db, db:
            db.execute("insert into turns values (?, ?)", (thread_id, redact_secrets(said)))
            rows = db.execute(
                "select said from turns where thread = ? order by rowid desc limit ?",
                (thread_id, keep),
            ).fetchall()
        return [str(r[0]) for r in reversed(rows)]
