"""Checkpoint bytes of one thread after 10, 100 and 1,000 tool steps, kept whole or pruned.

One thread, runs of STEPS_PER_RUN tool steps each (a ScriptedChatModel calling one trivial
tool, then answering), one run after another; after 1, 10 and 100 runs the thread's stored
bytes are summed (checkpoints, their metadata, pending writes and, in Postgres, the channel
blobs). Measured with every checkpoint kept (LangGraph's default) and with
``checkpoints_keep`` (the newest KEEP kept when a run ends), on SQLite and on Postgres (a
server of its own, tests/postgres.py).

    python benchmarks/checkpoint_growth.py [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from contextlib import closing
from functools import partial
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from podium.agent import Agent  # noqa: E402
from podium.config import Limits, Settings  # noqa: E402
from podium.planner.models.scripted import ScriptedChatModel, call, calls  # noqa: E402
from podium.tools.registry import tool  # noqa: E402

STEPS_PER_RUN, KEEP, MARKS = 10, 10, (10, 100, 1000)


def plan(messages: list[BaseMessage]) -> AIMessage:
    """STEPS_PER_RUN tool calls after the newest request, then an answer."""
    last = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    done = sum(isinstance(m, ToolMessage) for m in messages[last:])
    if done < STEPS_PER_RUN:
        return calls(call("note", f"c{done}", text=f"step {done} of {messages[last].content}"))
    return AIMessage(content="done")


@tool
def note(text: str) -> str:
    """Note ``text``."""
    return f"noted: {text}"


def sqlite_bytes(path: Path) -> int:
    import sqlite3

    with closing(sqlite3.connect(path)) as db:
        checkpoints = db.execute(
            "SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints"
        ).fetchone()[0]
        writes = db.execute("SELECT coalesce(sum(length(value)), 0) FROM writes").fetchone()[0]
    return int(checkpoints) + int(writes)


def postgres_bytes(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT (SELECT coalesce(sum(octet_length(checkpoint::text) "
            "+ octet_length(metadata::text)), 0) FROM checkpoints) "
            "+ (SELECT coalesce(sum(octet_length(blob)), 0) FROM checkpoint_blobs) "
            "+ (SELECT coalesce(sum(octet_length(blob)), 0) FROM checkpoint_writes)"
        ).fetchone()
    assert row is not None
    return int(row[0])


def measure(settings: Settings, size: Callable[[], int]) -> list[int]:
    """Stored bytes after each mark of MARKS steps."""
    model = ScriptedChatModel(turns=[plan], repeat_last=True)
    limits = Limits(max_steps=4 * STEPS_PER_RUN)
    agent = Agent([note], model=model, guards=None, settings=settings, limits=limits)

    async def main() -> list[int]:
        found: list[int] = []
        runs = 0
        for mark in MARKS:
            while runs * STEPS_PER_RUN < mark:
                result = await agent.ainvoke(f"run {runs}", thread_id="long")
                assert result.answer == "done", result.stop_reason
                runs += 1
            found.append(await asyncio.to_thread(size))
        return found

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"| backend | checkpoints | {' | '.join(f'{m} steps' for m in MARKS)} |")
    print(f"|---|---|{'---|' * len(MARKS)}")
    for backend in args.backends.split(","):
        for keep in (None, KEEP):
            label = "all kept" if keep is None else f"newest {keep} kept"
            if backend == "sqlite":
                home = Path(tempfile.mkdtemp())
                settings = Settings.load(home=home, audit=False, checkpoints_keep=keep)
                figures = measure(settings, partial(sqlite_bytes, home / "threads.sqlite"))
            else:
                from tests.postgres import PostgresServer

                server = PostgresServer()
                server.start()
                try:
                    url = server.create_database()
                    settings = Settings.load(
                        database_url=url, audit=False, checkpoints_keep=keep
                    )
                    figures = measure(settings, partial(postgres_bytes, url))
                finally:
                    server.close()
            cells = " | ".join(f"{b / 1024:,.0f} KiB" for b in figures)
            print(f"| {backend} | {label} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
