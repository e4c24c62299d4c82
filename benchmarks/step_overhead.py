"""Orchestration overhead per tool step: podium against LangGraph's prebuilt ReAct agent.

Both run the same ScriptedChatModel (no model latency) calling one trivial tool STEPS times
per run, then answering; the time per step is the framework's own cost. Measured in one
process, one after the other, medians over RUNS runs.

    .venv/bin/python benchmarks/step_overhead.py [--steps 20] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool as langchain_tool

from podium.agent import Agent
from podium.config import Limits, Settings
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool


def script(steps: int) -> ScriptedChatModel:
    turns: list[object] = [calls(call("noop", f"c{i}", x=i)) for i in range(steps)]
    return ScriptedChatModel(turns=[*turns, AIMessage(content="done")])


Runner = Callable[[ScriptedChatModel], Awaitable[None]]


def prebuilt_runner(checkpointer_path: Path | None) -> Runner:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    @langchain_tool
    def noop(x: int) -> int:
        """Return x."""
        return x

    async def run(model: ScriptedChatModel) -> None:
        if checkpointer_path is None:
            graph = create_react_agent(model, [noop])
            await graph.ainvoke({"messages": [HumanMessage("go")]}, {"recursion_limit": 500})
            return
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(str(checkpointer_path)) as saver:
            graph = create_react_agent(model, [noop], checkpointer=saver)
            config = {"configurable": {"thread_id": os.urandom(8).hex()}, "recursion_limit": 500}
            await graph.ainvoke({"messages": [HumanMessage("go")]}, config)  # type: ignore[arg-type]

    return run


def podium_runner(guards: bool, steps: int, durability: str = "sync", audit: bool = True) -> Runner:
    @tool
    def noop(x: int) -> int:
        """Return x."""
        return x

    settings = Settings.load(durability=durability, audit=audit)

    async def run(model: ScriptedChatModel) -> None:
        agent = Agent(
            [noop],
            model=model,
            settings=settings,
            guards="default" if guards else None,
            limits=Limits(max_steps=steps + 5, max_seconds=600),
        )
        result = await agent.ainvoke("go")
        assert result.ok and len(result.tool_calls) == steps, result.stop_reason

    return run


async def measure(runner: Runner, steps: int, runs: int) -> float:
    """Median milliseconds per tool step."""
    await runner(script(steps))  # warm-up: imports, first compile
    samples = []
    for _ in range(runs):
        model = script(steps)
        started = time.perf_counter()
        await runner(model)
        samples.append((time.perf_counter() - started) * 1000 / steps)
    return statistics.median(samples)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PODIUM_HOME"] = home
        configurations = {
            "prebuilt create_react_agent, no checkpointer": prebuilt_runner(None),
            "prebuilt create_react_agent, SQLite checkpointer": prebuilt_runner(
                Path(home) / "prebuilt.sqlite"
            ),
            "podium, guards off (SQLite checkpoints after every node, audit log)": podium_runner(
                False, options.steps
            ),
            "podium, full pipeline (guards, SQLite checkpoints after every node, audit log)": (
                podium_runner(True, options.steps)
            ),
            "podium, full pipeline, audit log off": podium_runner(True, options.steps, audit=False),
            "podium, full pipeline, durability=async": podium_runner(True, options.steps, "async"),
            "podium, full pipeline, durability=exit": podium_runner(True, options.steps, "exit"),
            "podium, full pipeline, durability=exit, audit log off": podium_runner(
                True, options.steps, "exit", audit=False
            ),
        }
        results = {}
        for name, runner in configurations.items():
            results[name] = await measure(runner, options.steps, options.runs)
    bare = results["prebuilt create_react_agent, no checkpointer"]
    saved = results["prebuilt create_react_agent, SQLite checkpointer"]
    print(f"steps per run: {options.steps}, runs: {options.runs}, medians\n")
    print("| configuration | ms per step | vs prebuilt bare | vs prebuilt + SQLite |")
    print("|---|---:|---:|---:|")
    for name, value in results.items():
        print(f"| {name} | {value:.2f} | {value / bare:.2f}x | {value / saved:.2f}x |")


if __name__ == "__main__":
    asyncio.run(main())
