"""The thread store: runs that open a new home at the same moment all get it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver

from podium.runner import session


async def _open(home: Path) -> int:
    async with session(home, max_steps=4, durability="sync") as runs:
        saver = runs.graph.checkpointer
        assert isinstance(saver, BaseCheckpointSaver)
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
