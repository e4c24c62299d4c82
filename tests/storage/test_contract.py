"""What every backend must do, run against each one: embedded SQLite and a real Postgres."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from podium.storage.base import Storage
from podium.storage.sqlite import SqliteStorage


def _postgres(request: pytest.FixtureRequest) -> Callable[[Path], Storage]:
    """A PostgresStorage per directory: the same directory, the same database."""
    from podium.storage.postgres import PostgresStorage

    server = request.getfixturevalue("postgres_server")

    def make(path: Path) -> Storage:
        name = "c_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return PostgresStorage(server.create_database(name))

    return make


BACKENDS: dict[str, Callable[[pytest.FixtureRequest], Callable[[Path], Storage]]] = {
    "sqlite": lambda request: SqliteStorage,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Callable[[Path], Storage]:
    return BACKENDS[request.param](request)


@pytest.fixture
def storage(backend: Callable[[Path], Storage], tmp_path: Path) -> Storage:
    return backend(tmp_path)


def test_the_ledger_keeps_what_completed_by_key(storage: Storage) -> None:
    ledger = storage.ledger()
    assert ledger.get("t:1:c1") is None
    ledger.put("t:1:c1", "charge", "charged 7")
    ledger.put("t:1:c2", "charge", "charged 8")
    assert ledger.get("t:1:c1") == "charged 7"
    ledger.put("t:1:c1", "charge", "compensated")
    assert (ledger.get("t:1:c1"), ledger.get("t:1:c2")) == ("compensated", "charged 8")


def test_the_ledger_is_shared_by_everyone_on_the_same_storage(
    backend: Callable[[Path], Storage], tmp_path: Path
) -> None:
    backend(tmp_path).ledger().put("k", "tool", "done")
    assert backend(tmp_path).ledger().get("k") == "done"


def test_a_desk_remembers_owners_and_the_last_turns(storage: Storage) -> None:
    desk = storage.desk()
    assert desk.owner("t") is None
    desk.set_owner("t", "billing")
    desk.set_owner("t", "triage")
    assert (desk.owner("t"), desk.owner("u")) == ("triage", None)
    turns = [desk.add_turn("t", f"turn {n}", keep=3) for n in range(5)]
    assert turns[0] == ["turn 0"]
    assert turns[-1] == ["turn 2", "turn 3", "turn 4"]
    assert desk.add_turn("u", "other", keep=3) == ["other"]


def test_checkpoints_outlive_the_call_that_wrote_them(storage: Storage) -> None:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import empty_checkpoint

    checkpoint = empty_checkpoint()
    config: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}

    async def write_then_read() -> str | None:
        async with storage.checkpointer() as saver:
            await saver.aput(config, checkpoint, {"source": "input", "step": 0}, {})
        async with storage.checkpointer() as saver:
            found = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
        return None if found is None else found.checkpoint["id"]

    assert asyncio.run(write_then_read()) == checkpoint["id"]


def test_a_thread_named_new_is_not_read_until_its_first_write(storage: Storage) -> None:
    # Agent.invoke names a new thread at random and tells the saver so: the read LangGraph
    # makes before the first step can only find nothing, and is skipped. Shown here on a
    # thread that does have a checkpoint: while new it reads as none, and once written it
    # is read from the store again.
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import empty_checkpoint

    from podium.storage.fresh import new_thread

    first, second = empty_checkpoint(), empty_checkpoint()
    assert second["id"] > first["id"]  # the later is the latest
    config: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
    latest: RunnableConfig = {"configurable": {"thread_id": "t"}}
    other: RunnableConfig = {"configurable": {"thread_id": "u"}}

    async def read(saver: object, wanted: RunnableConfig) -> str | None:
        found = await saver.aget_tuple(wanted)  # type: ignore[attr-defined]
        return None if found is None else str(found.checkpoint["id"])

    async def scenario() -> list[str | None]:
        seen: list[str | None] = []
        async with storage.checkpointer() as saver:
            await saver.aput(config, first, {"source": "input", "step": 0}, {})
            elsewhere: RunnableConfig = {"configurable": {"thread_id": "u", "checkpoint_ns": ""}}
            await saver.aput(elsewhere, first, {"source": "input", "step": 0}, {})
        async with storage.checkpointer() as saver:
            with new_thread(saver, "t"):
                seen.append(await read(saver, latest))  # new: no query, so none
                seen.append(await read(saver, other))  # another thread: read
                named: RunnableConfig = {
                    "configurable": {**config["configurable"], "checkpoint_id": first["id"]}
                }
                seen.append(await read(saver, named))  # a checkpoint asked for by id: read
                await saver.aput(config, second, {"source": "loop", "step": 1}, {})
                seen.append(await read(saver, latest))  # written: read from the store
            assert not saver.new  # type: ignore[attr-defined]
            with new_thread(saver, "t"):
                await saver.aput_writes(
                    {"configurable": {**config["configurable"], "checkpoint_id": second["id"]}},
                    [("x", 1)],
                    "task",
                )
                seen.append(await read(saver, latest))  # pending writes count as a write
        return seen

    assert asyncio.run(scenario()) == [None, first["id"], first["id"], second["id"], second["id"]]


def test_the_run_index_keeps_each_threads_last_run(storage: Storage) -> None:
    from podium.storage.base import IndexedRun

    index = storage.runs()
    assert index.get("t") is None

    def run(thread: str, run_id: str, since: float) -> IndexedRun:
        return IndexedRun(thread, run_id, "ana", "do it", '{"id": "ana"}', "running", (), since)

    index.begin(run("t", "r1", 1.0))
    index.begin(run("u", "r2", 2.0))
    assert [r.thread_id for r in index.in_state("running")] == ["t", "u"]
    index.end("t", "r1", [("c1", "release")])
    index.end("u", "other-run", [])  # a stale end changes nothing
    waiting = index.get("t")
    assert waiting is not None and waiting.state == "waiting"
    assert waiting.calls == (("c1", "release"),) and waiting.owner == "ana"
    assert [r.thread_id for r in index.in_state("running")] == ["u"]
    index.begin(run("t", "r3", 3.0))
    index.end("t", "r3", [])
    assert [r.thread_id for r in index.in_state("done")] == ["t"]
    assert index.in_state("waiting") == []
    assert index.delete("t") and index.get("t") is None
    assert not index.delete("t")  # already gone
    assert [r.thread_id for r in index.in_state("running")] == ["u"]


def test_the_run_index_lists_a_namespaces_threads_newest_first(storage: Storage) -> None:
    from podium.storage.base import IndexedRun

    index = storage.runs()
    assert index.threads("ana:") == []
    for thread, since in [("ana:a", 1.0), ("an_x:b", 2.0), ("ana:c", 3.0), ("bob:d", 4.0)]:
        index.begin(IndexedRun(thread, "r", "ana", "hi", "{}", "running", (), since))
    index.end("ana:a", "r", [])  # ending a run makes its thread the newest
    assert [r.thread_id for r in index.threads("ana:")] == ["ana:a", "ana:c"]
    assert [r.thread_id for r in index.threads("ana:", limit=1)] == ["ana:a"]
    assert [r.thread_id for r in index.threads("an_:")] == []  # '_' is no wildcard


def test_no_backend_stores_a_secret(storage: Storage, tmp_path: Path) -> None:
    from langchain_core.messages import ToolMessage
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import empty_checkpoint

    leak = "password=hunter2 Authorization: Bearer abc123def456ghi"
    storage.ledger().put("t:1:c1", "login", f"logged in ({leak})")
    storage.desk().add_turn("t", f"my {leak}", keep=3)
    assert storage.ledger().get("t:1:c1") == (
        "logged in (password=[SECRET] Authorization: Bearer [SECRET])"
    )
    checkpoint = empty_checkpoint()
    checkpoint["channel_values"] = {"messages": [ToolMessage(content=leak, tool_call_id="c1")]}
    config: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}

    async def write() -> None:
        async with storage.checkpointer() as saver:
            stored = await saver.aput(config, checkpoint, {"source": "input", "step": 0}, {})
            await saver.aput_writes(stored, [("answer", leak)], "task-1")

    asyncio.run(write())
    for name, data in _everything_stored(storage, tmp_path):
        assert b"hunter2" not in data and b"abc123def456ghi" not in data, name


def _everything_stored(storage: Storage, tmp_path: Path) -> list[tuple[str, bytes]]:
    """Each file under the directory, and each table of a database, as bytes."""
    from podium.storage.postgres import PostgresStorage

    stored = [(str(f), f.read_bytes()) for f in tmp_path.rglob("*") if f.is_file()]
    if isinstance(storage, PostgresStorage):
        with storage.connection() as db:
            tables = db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            for (table,) in tables:
                rows = db.execute(f"SELECT t::text FROM {table} t").fetchall()
                stored.append((table, "\n".join(r[0] for r in rows).encode()))
            assert any(name == "checkpoint_writes" for name, _ in stored)
    return stored


def test_pruning_keeps_a_threads_newest_checkpoints_readable(storage: Storage) -> None:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import create_checkpoint, empty_checkpoint

    from podium.storage.pruning import prune_checkpoints

    async def write_prune_read() -> tuple[int, int, list[str], list[str]]:
        config: RunnableConfig = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        async with storage.checkpointer() as saver:
            checkpoint = empty_checkpoint()
            for step in range(10):
                checkpoint = create_checkpoint(checkpoint, None, step)
                checkpoint["channel_values"] = {"notes": [f"note {n}" for n in range(step + 1)]}
                version = f"{step + 1:032}"
                checkpoint["channel_versions"] = {"notes": version}
                config = await saver.aput(
                    config, checkpoint, {"source": "loop", "step": step}, {"notes": version}
                )
            other: RunnableConfig = {"configurable": {"thread_id": "u", "checkpoint_ns": ""}}
            await saver.aput(other, empty_checkpoint(), {"source": "input", "step": 0}, {})
        dropped = await prune_checkpoints(storage, "t", 3)
        async with storage.checkpointer() as saver:
            kept = [c async for c in saver.alist({"configurable": {"thread_id": "t"}})]
            found = await saver.aget_tuple({"configurable": {"thread_id": "t"}})
            untouched = [c async for c in saver.alist({"configurable": {"thread_id": "u"}})]
        assert found is not None
        notes = list(found.checkpoint["channel_values"]["notes"])
        return dropped, len(kept), notes, [c.config["configurable"]["thread_id"] for c in untouched]

    dropped, kept, notes, untouched = asyncio.run(write_prune_read())
    assert (dropped, kept) == (7, 3)
    assert notes == [f"note {n}" for n in range(10)]  # the newest is whole, blobs and all
    assert untouched == ["u"]  # another thread is left as it was
