"""Bounded growth: keep a thread's newest checkpoints, delete threads past their time to live.

LangGraph writes a checkpoint after every node and never drops one; a long thread's history
grows with every step. ``prune_checkpoints`` keeps the ``keep`` newest checkpoints of a
thread (with their pending writes and, in Postgres, the channel blobs they still use) and
drops the rest; ``prune_store`` does it for every thread and deletes the threads whose last
run ended more than ``days`` ago. podium's graph has no DeltaChannel, so no kept checkpoint
depends on a dropped one.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from podium.storage.base import Storage
    from podium.storage.postgres import PostgresStorage
    from podium.storage.sqlite import SqliteStorage

_PG_KEEP = """
DELETE FROM checkpoints c WHERE c.thread_id = %(thread)s AND c.checkpoint_id NOT IN (
    SELECT checkpoint_id FROM checkpoints WHERE thread_id = %(thread)s
    AND checkpoint_ns = c.checkpoint_ns ORDER BY checkpoint_id DESC LIMIT %(keep)s)
"""
_PG_WRITES = """
DELETE FROM checkpoint_writes w WHERE w.thread_id = %(thread)s AND NOT EXISTS (
    SELECT 1 FROM checkpoints c WHERE c.thread_id = w.thread_id
    AND c.checkpoint_ns = w.checkpoint_ns AND c.checkpoint_id = w.checkpoint_id)
"""
_PG_BLOBS = """
DELETE FROM checkpoint_blobs b WHERE b.thread_id = %(thread)s AND NOT EXISTS (
    SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id
    AND c.checkpoint_ns = b.checkpoint_ns
    AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)
"""
_SQLITE_KEEP = """
DELETE FROM checkpoints WHERE thread_id = :thread AND checkpoint_id NOT IN (
    SELECT checkpoint_id FROM checkpoints c WHERE c.thread_id = :thread
    AND c.checkpoint_ns = checkpoints.checkpoint_ns ORDER BY checkpoint_id DESC LIMIT :keep)
"""
_SQLITE_WRITES = """
DELETE FROM writes WHERE thread_id = :thread AND NOT EXISTS (
    SELECT 1 FROM checkpoints c WHERE c.thread_id = writes.thread_id
    AND c.checkpoint_ns = writes.checkpoint_ns AND c.checkpoint_id = writes.checkpoint_id)
"""


def _postgres(storage: PostgresStorage, thread: str, keep: int) -> int:
    with storage.connection() as db, db.transaction():
        dropped = db.execute(_PG_KEEP, {"thread": thread, "keep": keep}).rowcount
        if dropped:
            db.execute(_PG_WRITES, {"thread": thread})
            db.execute(_PG_BLOBS, {"thread": thread})
    return max(dropped, 0)


def _sqlite(storage: SqliteStorage, thread: str, keep: int) -> int:
    from podium.storage.sqlite import prepare_store

    prepare_store(storage.threads)
    with closing(sqlite3.connect(storage.threads, timeout=30)) as db, db:
        dropped = db.execute(_SQLITE_KEEP, {"thread": thread, "keep": keep}).rowcount
        if dropped:
            db.execute(_SQLITE_WRITES, {"thread": thread})
    return max(dropped, 0)


def prune_thread(storage: Storage, thread: str, keep: int) -> int:
    """Keep the thread's ``keep`` newest checkpoints (blocking); the number dropped."""
    from podium.storage.postgres import PostgresStorage
    from podium.storage.sqlite import SqliteStorage

    if isinstance(storage, PostgresStorage):
        return _postgres(storage, thread, keep)
    if isinstance(storage, SqliteStorage):
        return _sqlite(storage, thread, keep)
    return 0  # another backend bounds its own growth


async def prune_checkpoints(storage: Storage, thread: str, keep: int) -> int:
    """Keep the thread's ``keep`` newest checkpoints; the number dropped."""
    return await asyncio.to_thread(prune_thread, storage, thread, keep)


def _threads(storage: Storage) -> list[str]:
    from podium.storage.postgres import PostgresStorage
    from podium.storage.sqlite import SqliteStorage, prepare_store

    query = "SELECT DISTINCT thread_id FROM checkpoints"
    if isinstance(storage, PostgresStorage):
        with storage.connection() as db:
            return [str(r[0]) for r in db.execute(query).fetchall()]
    if isinstance(storage, SqliteStorage):
        prepare_store(storage.threads)
        with closing(sqlite3.connect(storage.threads, timeout=30)) as db:
            return [str(r[0]) for r in db.execute(query).fetchall()]
    return []


def expired(storage: Storage, days: float) -> list[str]:
    """The threads whose last run ended more than ``days`` ago (not those that wait)."""
    moment = time.time() - days * 86_400
    return [r.thread_id for r in storage.runs().in_state("done") if r.since < moment]


async def prune_store(storage: Storage, keep: int | None, days: float | None) -> tuple[int, int]:
    """Prune each thread to ``keep`` checkpoints, delete those idle ``days``: (dropped, deleted)."""
    deleted = 0
    if days is not None:
        for thread in await asyncio.to_thread(expired, storage, days):
            async with storage.checkpointer() as saver:
                await saver.adelete_thread(thread)
            await asyncio.to_thread(storage.runs().delete, thread)
            deleted += 1
    dropped = 0
    if keep is not None:
        for thread in await asyncio.to_thread(_threads, storage):
            dropped += await prune_checkpoints(storage, thread, keep)
    return dropped, deleted
