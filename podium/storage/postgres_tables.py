"""The Postgres backend's own tables: run index, side-effect ledger, handoff desks, firings.

Each class takes a ``Pool`` (postgres.py): short transactions on connections shared by the
process's threads. Like the SQLite backend, no secret is stored: ledger outputs, desk turns
and firings are redacted first (checkpoints pass the RedactingSerializer).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from podium.redaction import redact_secrets, without_secrets
from podium.storage.base import IndexedRun, RunState

if TYPE_CHECKING:
    import psycopg


class Pool(Protocol):
    """Where the tables get a connection, for one transaction."""

    def connection(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        """A connection whose block is one transaction (committed when it ends)."""
        ...


_SELECT_RUNS = "SELECT thread, run, owner, request, principal, state, calls, since FROM podium_runs"


def _indexed(row: tuple[Any, ...]) -> IndexedRun:
    return IndexedRun.from_row(row, row[6])


class PostgresRuns:
    """Each thread's last run, in ``podium_runs``."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def begin(self, run: IndexedRun) -> None:
        """Record that ``run`` starts (or resumes) now."""
        with self.pool.connection() as db:
            db.execute(
                "INSERT INTO podium_runs VALUES (%s, %s, %s, %s, %s, 'running', %s, %s) "
                "ON CONFLICT (thread) DO UPDATE SET run = EXCLUDED.run, owner = EXCLUDED.owner, "
                "request = EXCLUDED.request, principal = EXCLUDED.principal, state = 'running', "
                "calls = EXCLUDED.calls, since = EXCLUDED.since",
                (
                    run.thread_id,
                    run.run_id,
                    run.owner,
                    run.request,
                    run.principal,
                    json.dumps(run.calls),
                    run.since,
                ),
            )

    def end(self, thread_id: str, run_id: str, waiting: list[tuple[str, str]]) -> None:
        """Record that the run stopped, waiting on ``waiting`` or done."""
        with self.pool.connection() as db:
            db.execute(
                "UPDATE podium_runs SET state = %s, calls = %s, since = %s "
                "WHERE thread = %s AND run = %s",
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
        with self.pool.connection() as db:
            row = db.execute(f"{_SELECT_RUNS} WHERE thread = %s", (thread_id,)).fetchone()
        return None if row is None else _indexed(row)

    def in_state(self, state: RunState) -> list[IndexedRun]:
        """Every thread whose last run is in ``state``, oldest first."""
        with self.pool.connection() as db:
            rows = db.execute(f"{_SELECT_RUNS} WHERE state = %s ORDER BY since", (state,))
            return [_indexed(row) for row in rows.fetchall()]

    def threads(self, namespace: str, limit: int = 200) -> list[IndexedRun]:
        """The last runs of the threads under ``namespace`` (a plain prefix), newest first."""
        with self.pool.connection() as db:
            rows = db.execute(
                f"{_SELECT_RUNS} WHERE left(thread, %s) = %s ORDER BY since DESC LIMIT %s",
                (len(namespace), namespace, limit),
            )
            return [_indexed(row) for row in rows.fetchall()]

    def older_than(self, moment: float) -> list[str]:
        """The threads whose last run ended (done) before ``moment``, oldest first."""
        with self.pool.connection() as db:
            rows = db.execute(
                "SELECT thread FROM podium_runs WHERE state = 'done' AND since < %s ORDER BY since",
                (moment,),
            )
            return [str(row[0]) for row in rows.fetchall()]

    def delete(self, thread_id: str) -> bool:
        """Forget the thread's last run (its checkpoints go apart); whether it was there."""
        with self.pool.connection() as db:
            done = db.execute("DELETE FROM podium_runs WHERE thread = %s", (thread_id,))
            return done.rowcount > 0


class PostgresLedger:
    """Completed side-effecting calls (and compensations) in ``podium_effects``.

    Each record is committed on its own the moment the tool returns, before the run moves
    on (the ledger interface hands over one key at a time, apart from LangGraph's checkpoint
    writes). A worker killed between a tool's completion and that commit can still repeat
    that one call: tools get the idempotency key to guard against even that.
    """

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def get(self, key: str) -> str | None:
        """The recorded output of ``key``, if it completed."""
        with self.pool.connection() as db:
            row = db.execute("SELECT output FROM podium_effects WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, tool: str, output: str) -> None:
        """Record that ``key`` completed with ``output`` (its secrets redacted)."""
        with self.pool.connection() as db:
            db.execute(
                "INSERT INTO podium_effects VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO UPDATE "
                "SET tool = EXCLUDED.tool, output = EXCLUDED.output, at = EXCLUDED.at",
                (key, tool, redact_secrets(output), time.time()),
            )


class PostgresDesk:
    """Thread owners and the person's turns of handoff desks."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def owner(self, thread_id: str) -> str | None:
        """The agent that holds the thread, or None for a new one."""
        with self.pool.connection() as db:
            row = db.execute(
                "SELECT agent FROM podium_desk_owners WHERE thread = %s", (thread_id,)
            ).fetchone()
        return str(row[0]) if row else None

    def set_owner(self, thread_id: str, agent: str) -> None:
        """Give the thread to ``agent``."""
        with self.pool.connection() as db:
            db.execute(
                "INSERT INTO podium_desk_owners VALUES (%s, %s) "
                "ON CONFLICT (thread) DO UPDATE SET agent = EXCLUDED.agent",
                (thread_id, agent),
            )

    def add_turn(self, thread_id: str, said: str, keep: int) -> list[str]:
        """Record a turn (its secrets redacted); the thread's last ``keep`` turns, oldest first."""
        with self.pool.connection() as db:
            db.execute(
                "INSERT INTO podium_desk_turns (thread, said) VALUES (%s, %s)",
                (thread_id, redact_secrets(said)),
            )
            rows = db.execute(
                "SELECT said FROM podium_desk_turns WHERE thread = %s ORDER BY id DESC LIMIT %s",
                (thread_id, keep),
            ).fetchall()
        return [str(r[0]) for r in reversed(rows)]


class PostgresFirings:
    """What triggers started, cluster-wide: the newest ``limit`` firings, as JSON."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def add(self, firing: dict[str, Any]) -> None:
        """Record one firing (its secrets redacted)."""
        with self.pool.connection() as db:
            db.execute(
                "INSERT INTO podium_firings (at, firing) VALUES (%s, %s)",
                (firing.get("at") or time.time(), json.dumps(without_secrets(firing))),
            )

    def recent(self, limit: int = 200) -> Iterator[dict[str, Any]]:
        """The newest ``limit`` firings, oldest first."""
        with self.pool.connection() as db:
            rows = db.execute(
                "SELECT firing FROM podium_firings ORDER BY id DESC LIMIT %s", (limit,)
            ).fetchall()
        for row in reversed(rows):
            yield dict(row[0])
