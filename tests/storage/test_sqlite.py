"""The embedded backend: runs that open a new home at the same moment all get its store."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from podium.errors import StorageDamaged
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
    with pytest.raises(StorageDamaged, match="disk I/O"):  # named, with a fix
        prepare_store(tmp_path / "b.sqlite")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def _zero_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[4096:8192] = bytes(4096)
    path.write_bytes(bytes(data))


CORRUPTIONS = {
    "emptied": lambda path: path.write_bytes(b""),
    "deleted": lambda path: path.unlink(),
    "truncated": _truncate,
    "header overwritten": _header,
    "a page zeroed": _zero_page,
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_thread_store_is_named_never_started_over(
    corruption: str, tmp_path: Path
) -> None:
    from podium.agent import Agent
    from podium.config import Settings
    from podium.errors import StorageDamaged

    settings = Settings.load(home=tmp_path, audit=False)
    for number in range(3):
        Agent(builtins=True, settings=settings).invoke(f"what is {number} + 2", thread_id="t")
    backend._PREPARED.clear()  # as a new process would find it
    CORRUPTIONS[corruption](tmp_path / "threads.sqlite")
    with pytest.raises(StorageDamaged) as raised:
        Agent(builtins=True, settings=settings).invoke("what is 1 + 1", thread_id="t")
    assert "threads.sqlite" in raised.value.problem
    assert "backup" in raised.value.fix and "threads.sqlite.created" in raised.value.fix


def test_starting_over_on_purpose_takes_deleting_the_marker(tmp_path: Path) -> None:
    from podium.agent import Agent
    from podium.config import Settings

    settings = Settings.load(home=tmp_path, audit=False)
    Agent(builtins=True, settings=settings).invoke("what is 2 + 2", thread_id="t")
    backend._PREPARED.clear()
    (tmp_path / "threads.sqlite").unlink()
    (tmp_path / "threads.sqlite.created").unlink()
    result = Agent(builtins=True, settings=settings).invoke("what is 1 + 1", thread_id="t")
    assert result.stop_reason == "answered"


def test_the_cli_names_a_damaged_store_with_the_fix(tmp_path: Path, isolated: Path) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    runner = CliRunner()
    assert runner.invoke(app, ["run", "--no-memory", "what is 2 + 2"]).exit_code == 0
    backend._PREPARED.clear()
    _header(isolated / "threads.sqlite")
    result = runner.invoke(app, ["run", "--no-memory", "what is 2 + 2"])
    assert result.exit_code == 2
    assert "is damaged (file is not a database)" in result.stderr and "fix:" in result.stderr


def test_holds_nest_and_overlap_and_the_connection_outlives_every_run_inside_them(
    tmp_path: Path,
) -> None:
    # A server holds the store for its lifetime; a handler, or a test, may hold it again
    # inside or beside that: each shares the connection, which closes with the last hold.
    import asyncio

    from podium.agent import Agent
    from podium.config import Settings
    from podium.planner.models.scripted import ScriptedChatModel

    agent = Agent(
        [],
        model=ScriptedChatModel(turns=["ok"], repeat_last=True),
        settings=Settings.load(home=tmp_path, audit=False),
        guards=None,
        memory=None,
    )
    held = agent.storage._holds.held  # type: ignore[attr-defined]

    async def nested() -> None:
        async with agent.hold():
            async with agent.hold():
                assert (await agent.ainvoke("one")).ok
            assert asyncio.get_running_loop() in held  # the outer hold still holds
            assert (await agent.ainvoke("two")).ok
        assert not held

    async def overlapping() -> None:
        async def handler(delay: float) -> None:
            async with agent.hold():
                await asyncio.sleep(delay)
                assert (await agent.ainvoke(f"after {delay}")).ok

        await asyncio.gather(handler(0.01), handler(0.05), handler(0.0))
        assert not held

    asyncio.run(nested())
    asyncio.run(overlapping())


def test_holds_entered_at_once_by_many_tasks_all_share_and_all_end(tmp_path: Path) -> None:
    # Tasks that find the store unheld all open; the first to finish keeps its connection,
    # the others close theirs and join it, even when its own block ends in between.
    import asyncio

    from podium.storage.sqlite import SqliteStorage

    storage = SqliteStorage(tmp_path)

    async def handler() -> None:
        async with storage.hold(), storage.checkpointer() as saver:
            await saver.aget_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})

    async def rounds() -> list[BaseException]:
        failed: list[BaseException] = []
        for _ in range(40):
            done = await asyncio.gather(handler(), handler(), handler(), return_exceptions=True)
            failed += [d for d in done if isinstance(d, BaseException)]
        return failed

    assert asyncio.run(rounds()) == []
    assert storage._holds.held == {}


def _index_in_child(storage: SqliteStorage, run: object) -> None:
    storage.runs().begin(run)  # type: ignore[arg-type]


def test_the_run_index_shares_one_connection_while_held_and_never_across_processes(
    tmp_path: Path,
) -> None:
    # A service's runs begin and end in the index through one connection; opening the file
    # twice a run was a third of podium's fixed cost per run (benchmarks/step_overhead.py).
    import asyncio

    from podium.storage.base import IndexedRun
    from tests.forking import forked

    storage = SqliteStorage(tmp_path)
    runs = storage.runs()
    opened: list[int] = []
    connect = runs._connect

    def counted() -> sqlite3.Connection:
        opened.append(1)
        return connect()

    runs._connect = counted  # type: ignore[method-assign]

    def run(thread: str) -> IndexedRun:
        return IndexedRun(thread, "r" + thread, "local", "hi", "local", "running", (), 1.0)

    async def held() -> None:
        async with storage.hold():
            async with storage.hold():  # nested: the same connection
                await asyncio.to_thread(runs.begin, run("a"))
            await asyncio.gather(*(asyncio.to_thread(runs.begin, run(t)) for t in "bcdef"))
            await asyncio.to_thread(runs.end, "a", "ra", [])
            child = forked(_index_in_child, storage, run("g"))  # forked while kept
            child.join(30)
            assert child.exitcode == 0
        assert runs._kept is None  # closed with the last hold

    asyncio.run(held())
    assert opened == []  # every call inside the hold used the kept connection
    runs.begin(run("h"))
    assert opened == [1]  # outside it, a call opens its own
    got = {t: runs.get(t) for t in "abcdefgh"}
    assert all(got.values()), got
    assert got["a"] is not None and got["a"].state == "done"
