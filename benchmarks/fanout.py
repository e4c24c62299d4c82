"""Parallel sub-agents: fan-out to N in one round against calling them one round each.

Each sub-agent is an Agent whose scripted model takes 0.2 s a turn and whose tool takes
0.1 s (asyncio sleeps standing in for model and API latency): one delegation costs about
0.5 s (two model turns and a tool call). The parent, also scripted, asks all N sub-agents
in one round (podium runs a round's calls concurrently), or one per round; and the same
specialists through ``FanOut`` (LangGraph ``Send`` to each branch, then a join node).
Same process, one after the other, median of 3.

    PODIUM_HOME=$(mktemp -d) .venv/bin/python benchmarks/fanout.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from podium.agent import Agent
from podium.config import Limits
from podium.patterns.fanout import FanOut
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, tool

MODEL_LATENCY, TOOL_LATENCY = 0.2, 0.1


@tool
async def lookup(topic: str) -> str:
    """Look a topic up (simulated API latency)."""
    await asyncio.sleep(TOOL_LATENCY)
    return f"facts about {topic}"


def specialist_agent(index: int) -> Agent:
    model = ScriptedChatModel(
        turns=[calls(call("lookup", topic=f"t{index}")), "summary"],
        repeat_last=False,
        latency=MODEL_LATENCY,
    )
    return Agent([lookup], model=model, guards=None)


def specialist(index: int) -> Tool:
    return specialist_agent(index).as_tool(f"specialist_{index}", f"Specialist number {index}.")


def parent(count: int, parallel: bool) -> tuple[Agent, list[Tool]]:
    helpers = [specialist(i) for i in range(count)]
    asks = [call(h.name, f"c{i}", request="research") for i, h in enumerate(helpers)]
    turns = [calls(*asks)] if parallel else [calls(a) for a in asks]
    model = ScriptedChatModel(turns=[*turns, "joined"], latency=0.0)
    limits = Limits(max_steps=count + 4, max_seconds=120)
    return Agent(helpers, model=model, guards=None, limits=limits), helpers


async def timed(count: int, parallel: bool) -> float:
    agent, _ = parent(count, parallel)
    started = time.perf_counter()
    result = await agent.ainvoke("fan out")
    assert result.answer == "joined", result.answer
    return time.perf_counter() - started


async def timed_send(count: int) -> float:
    """The same N specialists through FanOut: LangGraph Send to each, then a join."""
    fan = FanOut({f"s{i}": specialist_agent(i) for i in range(count)})
    started = time.perf_counter()
    result = await fan.ainvoke("research")
    assert not result.failed, result.answer
    return time.perf_counter() - started


def main() -> None:
    print(
        "| sub-agents | one round (s) | FanOut with Send (s) | one per round (s) "
        "| one per round / one round |"
    )
    print("|---:|---:|---:|---:|---:|")
    for count in (1, 2, 4, 8):
        fan = statistics.median(asyncio.run(timed(count, True)) for _ in range(3))
        send = statistics.median(asyncio.run(timed_send(count)) for _ in range(3))
        one = statistics.median(asyncio.run(timed(count, False)) for _ in range(3))
        print(f"| {count} | {fan:.2f} | {send:.2f} | {one:.2f} | {one / fan:.2f}x |")


if __name__ == "__main__":
    main()
