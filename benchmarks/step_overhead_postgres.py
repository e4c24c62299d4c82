"""Orchestration overhead per tool step over Postgres: podium against create_agent.

The same runs as benchmarks/step_overhead.py (one ScriptedChatModel per configuration, one
trivial sync tool, STEPS calls then the answer), with both sides checkpointing to one
Postgres server of their own (tests/postgres.py starts it on loopback; as root the cluster
runs as the ``postgres`` user): create_agent over LangGraph's AsyncPostgresSaver, podium with
``database_url`` (its checkpoints, run index and ledger in that database), each over
connections held for all its runs. Every checkpoint is a round trip here, so what podium
writes more per step shows more than on SQLite. Configurations run in turn, ROUNDS rounds;
medians of wall and CPU time per step.

    .venv/bin/python benchmarks/step_overhead_postgres.py [--steps 20] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]

from step_overhead import Runner, measure, peer_over, podium_runner  # noqa: E402


async def peer_runner(held: AsyncExitStack, steps: int, url: str | None) -> Runner:
    """create_agent compiled once; over one held AsyncPostgresSaver connection, or none."""
    saver = None
    if url is not None:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        saver = await held.enter_async_context(AsyncPostgresSaver.from_conn_string(url))
        await saver.setup()
    return peer_over(steps, saver, "sync")


async def main_async(
    peer_url: str, podium_url: str, steps: int, rounds: int
) -> dict[str, tuple[float, float]]:
    async with AsyncExitStack() as held:
        configurations = {
            "create_agent, no checkpointer": await peer_runner(held, steps, None),
            "create_agent, Postgres checkpointer, durability=sync": await peer_runner(
                held, steps, peer_url
            ),
            "podium, full pipeline, Postgres, durability=sync (its default)": (
                await podium_runner(held, True, steps, "sync", database_url=podium_url)
            ),
            "podium, full pipeline, Postgres, durability=exit": await podium_runner(
                held, True, steps, "exit", database_url=podium_url
            ),
        }
        return await measure(configurations, steps, rounds)


def main() -> None:
    from tests.postgres import PostgresServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    server = PostgresServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["PODIUM_HOME"] = home
            load = os.getloadavg()[0]
            results = asyncio.run(
                main_async(
                    server.create_database(),
                    server.create_database(),
                    options.steps,
                    options.rounds,
                )
            )
            load = max(load, os.getloadavg()[0])
    finally:
        server.close()
    bare_cpu = results["create_agent, no checkpointer"][1]
    same_wall, same_cpu = results["create_agent, Postgres checkpointer, durability=sync"]
    print(
        f"steps per run: {options.steps}, rounds: {options.rounds}, medians; "
        f"load average (1 min) up to {load:.1f}\n"
    )
    print(
        "| configuration | ms per step (wall) | vs + Postgres (sync) | CPU ms per step "
        "| vs + Postgres (sync) | vs bare (CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, (wall, cpu) in results.items():
        print(
            f"| {name} | {wall:.2f} | {wall / same_wall:.2f}x | {cpu:.2f} "
            f"| {cpu / same_cpu:.2f}x | {cpu / bare_cpu:.2f}x |"
        )


if __name__ == "__main__":
    main()
