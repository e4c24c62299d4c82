"""Orchestration overhead per tool step: podium against LangChain's create_agent.

Every configuration runs the same ScriptedChatModel (no model latency) calling one trivial
tool STEPS times per run, then answering; the time per step is the framework's own cost.
The peer is ``langchain.agents.create_agent`` (LangChain 1.x; the prebuilt agent moved
there from the deprecated ``langgraph.prebuilt.create_react_agent``), bare and with the
same SQLite checkpointer podium uses. The configurations run in turn, one run of each per
round, ROUNDS rounds: machine noise falls on all alike. Medians per configuration, of wall
time and of the process's CPU time (the steadier of the two on a shared machine).

A second table counts the checkpoints, pending writes and checkpoint bytes one run leaves in
SQLite, podium's and the peer's; a third splits a run's CPU time into a fixed part and a part
per added step (runs of 1 and of 41 steps, durability=exit, against bare create_agent); a
fourth profiles podium's full pipeline and says where its time goes per
step, by layer (screens, policy, audit log, loop detection, checkpoint writes, the rest).

    .venv/bin/python benchmarks/step_overhead.py [--steps 20] [--rounds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool as langchain_tool

from podium.agent import Agent
from podium.config import Limits, Settings
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool

Runner = Callable[[], Awaitable[None]]


def script(steps: int) -> ScriptedChatModel:
    turns: list[object] = [calls(call("noop", f"c{i}", x=i)) for i in range(steps)]
    return ScriptedChatModel(turns=[*turns, AIMessage(content="done")])


def peer_over(steps: int, saver: Any, durability: str = "async") -> Runner:
    """create_agent compiled once over ``saver`` (None: no checkpointer), for all its runs."""
    from langchain.agents import create_agent

    @langchain_tool
    def noop(x: int) -> int:
        """Return x."""
        return x

    model = script(steps)
    graph: Any = create_agent(model, [noop], checkpointer=saver)

    async def run() -> None:
        model.restart()
        config = {"configurable": {"thread_id": os.urandom(8).hex()}, "recursion_limit": 500}
        if saver is None:
            await graph.ainvoke({"messages": [HumanMessage("go")]}, config)
        else:
            await graph.ainvoke({"messages": [HumanMessage("go")]}, config, durability=durability)

    return run


async def peer_runner(
    held: AsyncExitStack, steps: int, checkpointer_path: Path | None, durability: str = "async"
) -> Runner:
    """create_agent compiled once, over one SQLite connection held for all its runs."""
    saver = None
    if checkpointer_path is not None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        saver = await held.enter_async_context(
            AsyncSqliteSaver.from_conn_string(str(checkpointer_path))
        )
    return peer_over(steps, saver, durability)


def podium_agent(
    guards: bool, steps: int, durability: str, audit: bool, database_url: str | None = None
) -> Agent:
    @tool
    def noop(x: int) -> int:
        """Return x."""
        return x

    settings = Settings.load(durability=durability, audit=audit, database_url=database_url)
    return Agent(
        [noop],
        model=script(steps),
        settings=settings,
        guards="default" if guards else None,
        limits=Limits(max_steps=steps + 5, max_seconds=600),
    )


async def podium_runner(
    held: AsyncExitStack,
    guards: bool,
    steps: int,
    durability: str = "sync",
    audit: bool = True,
    database_url: str | None = None,
) -> Runner:
    """One agent for all its runs, holding its store's connections (as a service does)."""
    agent = podium_agent(guards, steps, durability, audit, database_url)
    model = agent.model
    assert isinstance(model, ScriptedChatModel)
    await held.enter_async_context(agent.hold())

    async def run() -> None:
        model.restart()
        result = await agent.ainvoke("go")
        assert result.ok and len(result.tool_calls) == steps, result.stop_reason

    return run


async def measure(
    configurations: dict[str, Runner], steps: int, rounds: int
) -> dict[str, tuple[float, float]]:
    """Median milliseconds per tool step of each configuration, run in turn, round by round.

    Two clocks: wall time, and the process's CPU time (all its threads), which a machine
    shared with other work disturbs less (a CPU-bound run waits for the CPU on a loaded one;
    waiting is wall time, not CPU time).
    """
    for runner in configurations.values():
        await runner()  # warm-up: imports, first compile, store setup
    wall: dict[str, list[float]] = {name: [] for name in configurations}
    cpu: dict[str, list[float]] = {name: [] for name in configurations}
    for _ in range(rounds):
        for name, runner in configurations.items():
            gc.collect()  # the garbage of the run before is not collected in this one's time
            started, used = time.perf_counter(), time.process_time()
            await runner()
            wall[name].append((time.perf_counter() - started) * 1000 / steps)
            cpu[name].append((time.process_time() - used) * 1000 / steps)
    return {
        name: (statistics.median(wall[name]), statistics.median(cpu[name]))
        for name in configurations
    }


async def stored_per_run(steps: int, home: Path) -> dict[str, tuple[int, int, int]]:
    """Checkpoints, pending writes and checkpoint bytes one run leaves in SQLite, both sides."""
    import sqlite3

    def count(path: Path) -> tuple[int, int, int]:
        with sqlite3.connect(path) as database:
            checkpoints, size = database.execute(
                "SELECT count(*), sum(length(checkpoint)) FROM checkpoints"
            ).fetchone()
            writes = database.execute("SELECT count(*) FROM writes").fetchone()[0]
        return int(checkpoints), int(writes), int(size)

    peer = home / "peer-counted.sqlite"
    os.environ["PODIUM_HOME"] = str(home / "counted")
    try:
        async with AsyncExitStack() as held:
            await (await peer_runner(held, steps, peer, "sync"))()
            await (await podium_runner(held, True, steps))()
    finally:
        os.environ["PODIUM_HOME"] = str(home)
    return {"create_agent": count(peer), "podium": count(home / "counted" / "threads.sqlite")}


async def split(home: Path, rounds: int) -> dict[str, tuple[float, float]]:
    """Per run and per step: CPU ms of runs of 1 and of 41 steps, durability=exit, in turn.

    The difference of the two, over 40, is what each added step costs; what is left of the
    short run is the run's fixed cost (its one step counted in).
    """
    async with AsyncExitStack() as held:
        runners = {
            (side, steps): await (
                peer_runner(held, steps, None)
                if side == "create_agent"
                else podium_runner(held, True, steps, "exit")
            )
            for side in ("create_agent", "podium")
            for steps in (1, 41)
        }
        spent: dict[tuple[str, int], list[float]] = {key: [] for key in runners}
        for runner in runners.values():
            await runner()
        for _ in range(rounds):
            for key, runner in runners.items():
                gc.collect()
                used = time.process_time()
                await runner()
                spent[key].append((time.process_time() - used) * 1000)
    figures = {key: statistics.median(values) for key, values in spent.items()}
    result = {}
    for side in ("create_agent", "podium"):
        per_step = (figures[(side, 41)] - figures[(side, 1)]) / 40
        result[side] = (figures[(side, 1)] - per_step, per_step)
    return result


# Where a profiled run spends its time, by the podium (or library) code each function is in.
LAYERS = {
    "screens (guards)": ("podium/guardrails/", "guardrails/"),
    "policy": ("podium/guardrails/policy.py",),
    "audit log and tracing": ("podium/tracing/",),
    "secret redaction (checkpoints, events, results)": (
        "podium/redaction.py",
        "podium/text_patterns.py",
    ),
    "loop detection": ("podium/planner/loops.py",),
    "checkpoint writes": ("langgraph/checkpoint/", "aiosqlite/", "podium/storage/"),
}


def layers(steps: int, runs: int) -> dict[str, float]:
    """Milliseconds per step in each layer of the full pipeline (cumulative, by profile)."""
    profile = cProfile.Profile()

    async def profiled() -> float:
        async with AsyncExitStack() as held:
            run = await podium_runner(held, True, steps)
            await run()  # warm-up
            started = time.perf_counter()
            profile.enable()
            for _ in range(runs):
                await run()
            profile.disable()
            return time.perf_counter() - started

    total = asyncio.run(profiled())
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    spent = dict.fromkeys(LAYERS, 0.0)
    for (path, _, _), (_, _, own, _, _) in stats.items():
        for layer, places in reversed(list(LAYERS.items())):  # the most specific place wins
            if any(place in path for place in places):
                spent[layer] += own
                break
    per_step = {layer: seconds * 1000 / (runs * steps) for layer, seconds in spent.items()}
    per_step["everything (profiled)"] = total * 1000 / (runs * steps)
    return per_step


async def main_async(steps: int, rounds: int, home: str) -> dict[str, tuple[float, float]]:
    saved = Path(home) / "peer.sqlite"
    async with AsyncExitStack() as held:
        configurations = {
            "create_agent, no checkpointer": await peer_runner(held, steps, None),
            "create_agent, SQLite checkpointer, durability=sync": await peer_runner(
                held, steps, saved, "sync"
            ),
            "create_agent, SQLite checkpointer, durability=async (its default)": (
                await peer_runner(held, steps, saved)
            ),
            "podium, full pipeline, durability=sync (its default)": await podium_runner(
                held, True, steps
            ),
            "podium, full pipeline, durability=async": await podium_runner(
                held, True, steps, "async"
            ),
            "podium, full pipeline, durability=exit": await podium_runner(
                held, True, steps, "exit"
            ),
            "podium, guards off, durability=exit": await podium_runner(held, False, steps, "exit"),
            "podium, full pipeline, audit log off, durability=exit": await podium_runner(
                held, True, steps, "exit", audit=False
            ),
        }
        return await measure(configurations, steps, rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PODIUM_HOME"] = home
        load = os.getloadavg()[0]
        results = asyncio.run(main_async(options.steps, options.rounds, home))
        stored = asyncio.run(stored_per_run(options.steps, Path(home)))
        parts = asyncio.run(split(Path(home), options.rounds))
        profiled = layers(options.steps, max(3, options.rounds // 5))
        load = max(load, os.getloadavg()[0])
    bare_wall, bare_cpu = results["create_agent, no checkpointer"]
    same_wall, same_cpu = results["create_agent, SQLite checkpointer, durability=sync"]
    print(
        f"steps per run: {options.steps}, rounds: {options.rounds}, medians; "
        f"load average (1 min) up to {load:.1f}\n"
    )
    print(
        "| configuration | ms per step (wall) | vs bare | vs + SQLite (sync) "
        "| CPU ms per step | vs bare | vs + SQLite (sync) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (wall, cpu) in results.items():
        print(
            f"| {name} | {wall:.2f} | {wall / bare_wall:.2f}x | {wall / same_wall:.2f}x "
            f"| {cpu:.2f} | {cpu / bare_cpu:.2f}x | {cpu / same_cpu:.2f}x |"
        )
    print(
        "\n| one run, SQLite, durability=sync | checkpoints | pending writes | checkpoint bytes |"
    )
    print("|---|---:|---:|---:|")
    for name, (checkpoints, writes, size) in stored.items():
        print(f"| {name} | {checkpoints} | {writes} | {size} |")
    print("\n| durability=exit, CPU | fixed ms per run | ms per added step |")
    print("|---|---:|---:|")
    for name, (fixed, per_step) in parts.items():
        print(f"| {name} | {fixed:.2f} | {per_step:.2f} |")
    ratio = parts["podium"][1] / parts["create_agent"][1]
    print(
        f"| podium / create_agent | +{parts['podium'][0] - parts['create_agent'][0]:.2f} "
        f"| {ratio:.2f}x |"
    )
    print("\n| layer of the full pipeline (sync, profiled) | ms per step |")
    print("|---|---:|")
    for layer, value in profiled.items():
        print(f"| {layer} | {value:.2f} |")


if __name__ == "__main__":
    main()
