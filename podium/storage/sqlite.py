"""The embedded backend: SQLite files under the home directory, no server to start.

threads.sqlite holds LangGraph's checkpoints (through its own ``AsyncSqliteSaver``, so the
schema is theirs) and the index of each thread's last run; ledger.sqlite the side
effects, handoffs.sqlite the handoff desks. No secret is written to any of them: checkpoints
pass the RedactingSerializer (serde.py), the ledger's outputs and the desks' turns are
redacted before they are stored.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.errors import PodiumError, StorageBusy, StorageDamaged
from podium.redaction import redact_secrets
from podium.storage.base import IndexedRun, RunState
from podium.storage.holds import Holds

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

    A store that is damaged, or missing or emptied where this home had one, is refused
    (StorageDamaged) instead of starting over from an empty history.
    """
    from langgraph.checkpoint.sqlite import SqliteSaver
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    def locked(error: BaseException) -> bool:
        return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)

    with _PREPARING:
        if path in _PREPARED:
            return
        marker = path.with_name(path.name + ".created")
        existed = path.is_file() and path.stat().st_size > 0
        for attempt in Retrying(  # waits of 0.05, 0.1, 0.2, 0.4 s
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.05, min=0.05),
            retry=retry_if_exception(locked),
            reraise=True,
        ):
            with attempt, closing(sqlite3.connect(path, timeout=30, check_same_thread=False)) as db:
                try:
                    _check_intact(db, path, existed, marker)
                    SqliteSaver(db).setup()
                    db.execute(_RUNS_TABLE)
                    db.commit()
                except sqlite3.DatabaseError as error:
                    if locked(error):
                        raise
                    raise damaged(path, error) from None
        if not marker.exists():
            marker.write_text("this home's thread store was created here; see threads.sqlite\n")
        _PREPARED.add(path)


def _check_intact(db: sqlite3.Connection, path: Path, existed: bool, marker: Path) -> None:
    if existed:
        verdict = db.execute("PRAGMA quick_check").fetchone()
        if verdict is None or verdict[0] != "ok":
            raise damaged(path, sqlite3.DatabaseError(str(verdict[0] if verdict else "?")))
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if marker.exists() and "checkpoints" not in tables:
        raise StorageDamaged(
            f"the thread store {path} is missing or empty, but this home had one "
            f"({marker.name} says so): the history of every thread would be lost",
            f"restore {path.name} (and {path.name}-wal) from a backup; to start with no "
            f"history on purpose, delete {marker}",
        )


def damaged(path: Path, error: BaseException) -> StorageDamaged:
    """The error for a store SQLite cannot read."""
    return StorageDamaged(
        f"the thread store {path} is damaged ({error})",
        f"restore it from a backup, or move it aside (mv {path} {path}.damaged) and delete "
        f"{path.name}.created to start with no history",
    )


_RUNS_TABLE = (
    "CREATE TABLE IF NOT EXISTS runs (thread TEXT PRIMARY KEY, run TEXT NOT NULL, "
    "owner TEXT NOT NULL, request TEXT NOT NULL, principal TEXT NOT NULL, "
    "state TEXT NOT NULL, calls TEXT NOT NULL, since REAL NOT NULL)"
)


class SqliteStorage:
    """Every kind of durable state in SQLite files under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.threads = home / "threads.sqlite"
        self._ledger: SqliteLedger | None = None
        self._desk: SqliteDesk | None = None
        self._runs: SqliteRuns | None = None
        self._holds: Holds[asyncio.AbstractEventLoop, BaseCheckpointSaver[Any]] = Holds()

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        """LangGraph's SQLite checkpointer over threads.sqlite, for one call.

        Inside ``hold()`` every call of the loop shares one connection, whose writes
        LangGraph's saver serializes; otherwise each call opens its own. Either way a
        writer waits up to 30 s for another before SQLite reports the store busy.
        """
        held = self._holds.held.get(asyncio.get_running_loop())
        if held is not None:
            yield held
            return
        async with self._open() as saver:
            yield saver

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        from podium.storage.fresh import skipping_new
        from podium.storage.serde import RedactingSerializer

        if self.threads not in _PREPARED:
            await asyncio.to_thread(prepare_store, self.threads)
        async with aiosqlite.connect(str(self.threads), timeout=30) as connection:
            saver = skipping_new(AsyncSqliteSaver)(connection, serde=RedactingSerializer())
            saver.is_setup = True  # prepare_store did it, once per process
            yield saver

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Share one connection among this loop's calls until the block ends.

        Holds nest and overlap: the connection closes when the last of them ends.
        """
        async with self._holds.hold(asyncio.get_running_loop(), self._open):
            with self.runs().kept():
                yield

    def failure(self, error: BaseException) -> PodiumError | None:
        """StorageBusy for a locked store, StorageDamaged for one SQLite cannot read."""
        if isinstance(error, PodiumError):
            return error if isinstance(error, StorageBusy | StorageDamaged) else None
        if isinstance(error, sqlite3.OperationalError) and (
            "locked" in str(error) or "busy" in str(error)
        ):
            return StorageBusy(
                f"the thread store {self.threads} is busy: another writer held it for 30 s",
                "retry in a moment; many processes writing one home contend for it",
            )
        if isinstance(error, sqlite3.DatabaseError):
            return damaged(self.threads, error)
        return None

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

    def runs(self) -> SqliteRuns:
        """The index of each thread's last run, beside the checkpoints."""
        if self._runs is None:
            prepare_store(self.threads)
            self._runs = SqliteRuns(self.threads)
        return self._runs


class SqliteRuns:
    """Each thread's last run, in a table of threads.sqlite (beside its checkpoints).

    Each call opens its own connection, except inside ``kept()`` (the storage's ``hold``,
    which a service's runs share): there the calls of this process share one, which saves
    opening the file twice a run (a run begins and ends here).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._kept: sqlite3.Connection | None = None
        self._keeps = 0
        self._pid = os.getpid()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Share one connection among this process's calls until the block ends (nestable)."""
        with self._lock:
            if self._keeps == 0:
                self._kept = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                self._pid = os.getpid()
            self._keeps += 1
        try:
            yield
        finally:
            with self._lock:
                self._keeps -= 1
                if self._keeps == 0 and self._kept is not None:
                    if self._pid == os.getpid():
                        self._kept.close()
                    self._kept = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call: the kept one (one call at a time), or a new one.

        A process forked while one was kept opens its own: a connection is never shared
        across processes.
        """
        with self._lock:
            if self._kept is not None and self._pid == os.getpid():
                yield self._kept
                return
        with closing(self._connect()) as db:
            yield db

    def begin(self, run: IndexedRun) -> None:
        """Record that ``run`` starts (or resumes) now."""
        with self._db() as db, db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.thread_id,
                    run.run_id,
                    run.owner,
                    run.request,
                    run.principal,
                    "running",
                    json.dumps(run.calls),
                    run.since,
                ),
            )

    def end(self, thread_id: str, run_id: str, waiting: list[tuple[str, str]]) -> None:
        """Record that the run stopped, waiting on ``waiting`` or done."""
        with self._db() as db, db:
            db.execute(
                "UPDATE runs SET state = ?, calls = ?, since = ? WHERE thread = ? AND run = ?",
                (
                    "waiting" if waiting else "done",
                    json.dumps(waiting),
                    time.time(),
                    thread_id,
                    run_id,
                ),
            )

    def get(self, thread_id: str) -> IndexedRun | None:
        """The thread's last run."""
        with self._db() as db:
            row = db.execute(f"{_SELECT_RUNS} WHERE thread = ?", (thread_id,)).fetchone()
        return None if row is None else _indexed(row)

    def in_state(self, state: RunState) -> list[IndexedRun]:
        """Every thread whose last run is in ``state``, oldest first."""
        with closing(self._connect()) as db:
            rows = db.execute(f"{_SELECT_RUNS} WHERE state = ? ORDER BY since", (state,))
            return [_indexed(row) for row in rows.fetchall()]

    def threads(self, namespace: str, limit: int = 200) -> list[IndexedRun]:
        """The last runs of the threads under ``namespace`` (a plain prefix), newest first."""
        # substr, not LIKE: principal ids may hold '_', which LIKE reads as a wildcard.
        with closing(self._connect()) as db:
            rows = db.execute(
                f"{_SELECT_RUNS} WHERE substr(thread, 1, ?) = ? ORDER BY since DESC LIMIT ?",
                (len(namespace), namespace, limit),
            )
            return [_indexed(row) for row in rows.fetchall()]

    def delete(self, thread_id: str) -> bool:
        """Forget the thread's last run; whether the index had it."""
        with closing(self._connect()) as db, db:
            return db.execute("DELETE FROM runs WHERE thread = ?", (thread_id,)).rowcount > 0


_SELECT_RUNS = "SELECT thread, run, owner, request, principal, state, calls, since FROM runs"


def _indexed(row: tuple[Any, ...]) -> IndexedRun:
    return IndexedRun.from_row(row, json.loads(row[6]))


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
