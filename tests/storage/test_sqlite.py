"""The embedded backend: runs that open a new home at the same moment all get its store."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from podium.storage import sqlite as backend
from podium.storage.sqlite import SqliteStorage, prepare_store


async def _open(home: Path) -> int:
    async with SqliteStorage(home).checkpointer() as saver:
        found = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
        return 0 if found is None else 1


def test_sessions_opening_a_new_store_at_once_all_open_it(tmp_path: Path) -> None:
    # A fan-out's branches open one home's store together; SQLite refuses a concurrent
    # switch to WAL mode ("database is locked") unless the store is set up once first.
    async def main() -> list[int | BaseException]:
        results: list[int | BaseException] = []
        for attempt in range(120):
            home = tmp_path / str(attempt)
            home.mkdir()
            results += await asyncio.gather(
                *[_open(home) for _ in range(8)], return_exceptions=True
            )
        return results

    results = asyncio.run(main())
    failures = [r for r in results if isinstance(r, BaseException)]
    assert not failures, failures[:3]
    assert results == [0] * 960


def test_setup_retries_a_locked_store_and_raises_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph.checkpoint.sqlite import SqliteSaver

    failures = [sqlite3.OperationalError("database is locked")] * 2
    real_setup = SqliteSaver.setup

    def flaky(self: SqliteSaver) -> None:
        if failures:
            raise failures.pop()
        real_setup(self)

    monkeypatch.setattr(SqliteSaver, "setup", flaky)
    prepare_store(tmp_path / "a.sqlite")
    assert not failures and tmp_path / "a.sqlite" in backend._PREPARED

    def broken(self: SqliteSaver) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SqliteSaver, "setup", broken)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        prepare_store(tmp_path / "b.sqlite")
