"""The Postgres backend: every kind of durable state in one database, shared by many workers.

Checkpoints go through LangGraph's own ``AsyncPostgresSaver`` (its schema, its migrations)
with podium's RedactingSerializer; the run index, the side-effect ledger, handoff desks and
trigger firings are podium's tables (postgres_tables.py), versioned in postgres_schema.py.
``PODIUM_DATABASE_URL=postgresql://...`` (or ``--database-url``) selects it.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from podium.errors import PodiumError, SchemaOutdated, StorageUnavailable
from podium.storage import postgres_schema as schema
from podium.storage.holds import Holds
from podium.storage.postgres_tables import (
    PostgresDesk,
    PostgresFirings,
    PostgresLedger,
    PostgresRuns,
)

if TYPE_CHECKING:
    import psycopg
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from psycopg_pool import AsyncConnectionPool, ConnectionPool


_POOLS: dict[tuple[str, int], ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()
# A loop's pools while ``hold()`` is open, shared by every PostgresStorage of the same URL
# (a bus's subscribers each have their own): the checkpointer, and connections for leases.
_HOLDS: Holds[tuple[str, asyncio.AbstractEventLoop], tuple[Any, AsyncConnectionPool[Any]]] = Holds()
# A pooled connection is checked (one round trip) before use only when it sat idle this
# long: a connection just used is known to work, and each run takes dozens of them. One
# that broke in between fails its first statement, as any statement can, and the run's
# job is retried (StorageUnavailable).
IDLE_CHECK_SECONDS = 2.0
_RETURNED: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _returned(connection: psycopg.Connection[Any]) -> None:
    _RETURNED[connection] = time.monotonic()


def _check(connection: psycopg.Connection[Any]) -> None:
    from psycopg_pool import ConnectionPool

    if time.monotonic() - _RETURNED.get(connection, 0.0) > IDLE_CHECK_SECONDS:
        ConnectionPool.check_connection(connection)


async def _returned_async(connection: psycopg.AsyncConnection[Any]) -> None:
    _RETURNED[connection] = time.monotonic()


async def _check_async(connection: psycopg.AsyncConnection[Any]) -> None:
    from psycopg_pool import AsyncConnectionPool

    if time.monotonic() - _RETURNED.get(connection, 0.0) > IDLE_CHECK_SECONDS:
        await AsyncConnectionPool.check_connection(connection)


async def _unlock_all(connection: psycopg.AsyncConnection[Any]) -> None:
    """A lease connection goes back to the pool holding no advisory lock."""
    await connection.execute("SELECT pg_advisory_unlock_all()")
    _RETURNED[connection] = time.monotonic()


def _shared_pool(url: str, size: int) -> ConnectionPool:
    """The process's pool of connections to ``url`` (a forked child opens its own)."""
    with _POOLS_LOCK:
        key = (url, os.getpid())
        pool = _POOLS.get(key)
        if pool is None:
            from psycopg_pool import ConnectionPool

            if not _POOLS:
                atexit.register(_close_pools)
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=size,
                timeout=15,
                # autocommit: a statement on its own is one round trip, not three (BEGIN,
                # it, COMMIT); statements that commit together say so (db.transaction())
                kwargs={"connect_timeout": 10, "autocommit": True},
                check=_check,
                reset=_returned,
                open=True,
                name="podium",
            )
            _POOLS[key] = pool
        return pool


def _close_pools() -> None:
    with _POOLS_LOCK:
        pools = [p for (_, pid), p in _POOLS.items() if pid == os.getpid()]
        _POOLS.clear()
    for pool in pools:
        pool.close(timeout=1)


class PostgresStorage:
    """Every kind of durable state in the Postgres database at ``url``."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StorageUnavailable(
                f"{schema.where(url)!r} is not a Postgres URL",
                "give PODIUM_DATABASE_URL (or --database-url) as "
                "postgresql://user:password@host:port/database",
            )
        self.url = url
        self.pool_size = pool_size

    def __repr__(self) -> str:
        return f"PostgresStorage({schema.where(self.url)!r})"

    def prepare(self) -> None:
        """Set the database up (first use) or check its schema version; once per process."""
        schema.prepare(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in autocommit: each statement commits by itself.

        Statements that must commit together go in ``db.transaction()``.
        """
        import psycopg

        pool = self._sync_pool()
        try:
            with pool.connection() as connection:
                yield connection
        except psycopg.OperationalError as error:
            raise schema.unreachable(self.url, error) from None
        except TimeoutError as error:  # no connection from the pool in time: the server is gone
            raise schema.unreachable(self.url, error) from None

    def _sync_pool(self) -> ConnectionPool:
        self.prepare()
        return _shared_pool(self.url, self.pool_size)

    def close(self) -> None:
        """Close this process's pooled connections to the database (a new call reopens them)."""
        with _POOLS_LOCK:
            pool = _POOLS.pop((self.url, os.getpid()), None)
        if pool is not None:
            pool.close()

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        """LangGraph's Postgres checkpointer for one call (inside ``hold()``: the loop's pool)."""
        held = _HOLDS.held.get((self.url, asyncio.get_running_loop()))
        if held is not None:
            yield held[0]
            return
        import psycopg
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row

        from podium.storage.fresh import skipping_new
        from podium.storage.serde import RedactingSerializer

        await asyncio.to_thread(self.prepare)
        try:
            connection = await psycopg.AsyncConnection.connect(
                self.url,
                autocommit=True,
                prepare_threshold=0,
                row_factory=dict_row,
                connect_timeout=10,
            )
        except psycopg.OperationalError as error:
            raise schema.unreachable(self.url, error) from None
        async with connection:
            yield skipping_new(AsyncPostgresSaver)(connection, serde=RedactingSerializer())

    @asynccontextmanager
    async def session(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection of its own for session state (advisory locks), autocommit.

        Inside ``hold()`` it comes from the loop's pool and goes back holding no lock;
        outside, it is a new connection, closed at the end.
        """
        import psycopg

        held = _HOLDS.held.get((self.url, asyncio.get_running_loop()))
        try:
            if held is not None:
                async with held[1].connection() as connection:
                    yield connection
                return
            connection = await psycopg.AsyncConnection.connect(
                self.url, autocommit=True, connect_timeout=10
            )
        except psycopg.OperationalError as error:
            raise schema.unreachable(self.url, error) from None
        async with connection:
            yield connection

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Share pools of connections among this loop's calls until the block ends.

        Holds nest and overlap: the pools close when the last of them ends.
        """
        async with _HOLDS.hold((self.url, asyncio.get_running_loop()), self._pools):
            yield

    @asynccontextmanager
    async def _pools(self) -> AsyncIterator[tuple[Any, AsyncConnectionPool[Any]]]:
        """The checkpointer over a pool of its own, and the pool of run leases, open."""
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        from podium.storage.fresh import skipping_new
        from podium.storage.serde import RedactingSerializer

        await asyncio.to_thread(self.prepare)
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            timeout=15,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            check=_check_async,
            reset=_returned_async,
            open=False,
            name="podium-checkpoints",
        )
        leases: AsyncConnectionPool[Any] = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=256,  # one a run in hand: as many as the worker's concurrency
            timeout=15,
            kwargs={"autocommit": True, "connect_timeout": 10},
            check=_check_async,
            reset=_unlock_all,
            open=False,
            name="podium-leases",
        )
        await pool.open()
        await leases.open()
        try:
            yield skipping_new(AsyncPostgresSaver)(pool, serde=RedactingSerializer()), leases
        finally:
            await leases.close()
            await pool.close()

    def durability_gaps(self) -> list[str]:
        """The server's settings that let a crash lose writes it acknowledged, each with why.

        podium's promises across a crash of Postgres itself (no effect lost or repeated, no
        run lost) hold only for commits that survive it: Postgres's defaults keep them.
        """
        with self.connection() as db:
            settings = dict(
                db.execute(
                    "SELECT name, setting FROM pg_settings"
                    " WHERE name IN ('fsync', 'synchronous_commit')"
                ).fetchall()
            )
        gaps = []
        if settings.get("synchronous_commit") == "off":
            gaps.append(
                "synchronous_commit is off: a crash of Postgres loses the last writes it "
                "acknowledged (a tool's recorded effect, a run's result): set it on"
            )
        if settings.get("fsync") == "off":
            gaps.append(
                "fsync is off: a crash of the machine can lose or corrupt the database: set it on"
            )
        return gaps

    def failure(self, error: BaseException) -> PodiumError | None:
        """StorageUnavailable for a database that cannot be reached; None for anything else."""
        import psycopg

        if isinstance(error, PodiumError):
            return error if isinstance(error, StorageUnavailable | SchemaOutdated) else None
        if isinstance(error, psycopg.OperationalError | psycopg.errors.AdminShutdown):
            return schema.unreachable(self.url, error)
        if type(error).__name__ == "PoolTimeout":
            return schema.unreachable(self.url, error)
        return None

    def runs(self) -> PostgresRuns:
        """The index of each thread's last run."""
        return PostgresRuns(self)

    def ledger(self) -> PostgresLedger:
        """The side-effect ledger."""
        return PostgresLedger(self)

    def desk(self) -> PostgresDesk:
        """What handoff desks remember."""
        return PostgresDesk(self)

    def firings(self) -> PostgresFirings:
        """What triggers started, on every machine."""
        return PostgresFirings(self)
