"""Fault suite: tasks under 30% failing tool calls, and 10,000 malformed model outputs.

Part 1: each task asks for one lookup; a seeded 30% of tool attempts fail (half raise
ConnectionError, half hang past the 50 ms timeout). Success rates with and without retries
and a fallback tool, against the fault-free rate. Part 2: malformed replies of eleven kinds
(podium.evals.faults); a crash is an exception out of invoke(); a message is clear when it
starts with "error:", "not run", "blocked" or "the output of".

    .venv/bin/python benchmarks/fault_suite.py [--tasks 200] [--malformed 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from podium.agent import Agent
from podium.config import Settings
from podium.evals.faults import malformed_outputs
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, tool

FAILURE_RATE = 0.3
CLEAR = ("error:", "not run", "blocked", "the output of")


def lookup_tools(rng: random.Random | None, resilient: bool) -> list[Tool]:
    """A lookup tool and its backup, failing at FAILURE_RATE when ``rng`` is given."""

    async def maybe_fail() -> None:
        if rng is not None and rng.random() < FAILURE_RATE:
            if rng.random() < 0.5:
                raise ConnectionError("connection reset")
            await asyncio.sleep(1)  # hangs past the timeout

    async def lookup(key: int) -> str:
        await maybe_fail()
        return f"value-{key}"

    async def lookup_backup(key: int) -> str:
        await maybe_fail()
        return f"value-{key}"

    options: dict[str, Any] = {"timeout": 0.05}
    if resilient:
        options |= {"retries": 3, "retry_on": (ConnectionError, TimeoutError)}
    lookup.__doc__ = lookup_backup.__doc__ = "Look up the value stored under a key."
    main = tool(**options, fallback="lookup_backup" if resilient else None)(lookup)  # type: ignore[arg-type]
    return [main, tool(**options)(lookup_backup)]


def plan(key: int) -> Any:
    def turn(messages: list[BaseMessage]) -> AIMessage:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            return calls(call("lookup", key=key))
        return AIMessage(content=str(results[-1].content))

    return turn


def task_success(tasks: int, faults: bool, resilient: bool, settings: Settings) -> float:
    rng = random.Random(1234) if faults else None
    tools = lookup_tools(rng, resilient)
    successes = 0
    for key in range(tasks):
        model = ScriptedChatModel(turns=[plan(key)], repeat_last=True)
        agent = Agent(tools, model=model, settings=settings)  # one per task: no shared breaker
        successes += agent.invoke(f"look up {key}").answer == f"value-{key}"
    return successes / tasks


def malformed(count: int, settings: Settings) -> tuple[int, int, int, float]:
    """(runs, crashes, unclear messages, seconds)."""

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    crashes = unclear = 0
    started = time.perf_counter()
    for _, reply in malformed_outputs(count, seed=42):
        try:
            result = Agent(
                [add], model=ScriptedChatModel(turns=[reply, "ok"]), settings=settings
            ).invoke("add")
        except Exception:
            crashes += 1
            continue
        unclear += sum(
            1
            for c in result.tool_calls
            if c["status"] != "ok" and not c["output"].startswith(CLEAR)
        )
    return count, crashes, unclear, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--malformed", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PODIUM_HOME"] = home
        settings = Settings.load(durability="exit", audit=False, model_retry_wait=0.001)
        free = task_success(options.tasks, faults=False, resilient=False, settings=settings)
        bare = task_success(options.tasks, faults=True, resilient=False, settings=settings)
        resilient = task_success(options.tasks, faults=True, resilient=True, settings=settings)
        print(f"tasks: {options.tasks}, tool-attempt failure rate {FAILURE_RATE:.0%} (seed 1234)\n")
        print("| configuration | task success | vs fault-free |")
        print("|---|---:|---:|")
        for name, rate in (
            ("no faults", free),
            ("faults, no retries or fallback", bare),
            ("faults, 3 retries + fallback tool", resilient),
        ):
            print(f"| {name} | {rate:.3f} | {rate / free:.3f} |")
        runs, crashes, unclear, seconds = malformed(options.malformed, settings)
        print(
            f"\nmalformed model outputs: {runs} runs, {crashes} crashes, {unclear} unclear "
            f"messages, {seconds:.0f} s"
        )


if __name__ == "__main__":
    main()
