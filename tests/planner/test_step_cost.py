"""What a run costs per step and per run: no thread hop per edge, no read of a new thread.

The work counted here is what benchmarks/step_overhead.py found in podium's fixed cost per
run; each test fails on the code before its fix.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from podium.agent import Agent
from podium.config import Limits, Settings
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool


@tool
def noop(x: int) -> int:
    """Return x."""
    return x


def scripted_agent(steps: int, durability: str = "exit") -> Agent:
    """The default guards and policy, over a scripted model (a stand-in for an LLM)."""
    turns: list[object] = [calls(call("noop", f"c{i}", x=i)) for i in range(steps)]
    return Agent(
        [noop],
        model=ScriptedChatModel(turns=[*turns, "done"]),
        settings=Settings.load(durability=durability),
        limits=Limits(max_steps=steps + 5),
    )


@pytest.mark.parametrize("durability", ["exit", "sync"])
def test_a_run_hops_to_the_executor_as_often_for_five_steps_as_for_one(
    monkeypatch: pytest.MonkeyPatch, durability: str
) -> None:
    # LangGraph runs a plain function given as an edge on the executor: a thread hop at
    # every edge of every step (a sixth of a bare step's cost on a fast machine).
    hops: list[str] = []
    executor = asyncio.base_events.BaseEventLoop.run_in_executor

    def counted(self: Any, pool: Any, function: Any, *args: Any) -> Any:
        hops.append(getattr(function, "__qualname__", repr(function)))
        return executor(self, pool, function, *args)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "run_in_executor", counted)

    def hops_of(steps: int) -> list[str]:
        hops.clear()
        result = scripted_agent(steps, durability).invoke("go")
        assert result.ok and len(result.tool_calls) == steps, result.stop_reason
        return list(hops)

    hops_of(1)  # the first run of a process also prepares the store
    one, five = hops_of(1), hops_of(5)
    assert len(five) == len(one), (one, five)


def test_a_run_on_a_thread_it_names_asks_the_store_for_no_checkpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []
    latest = AsyncSqliteSaver.aget_tuple

    async def counted(self: AsyncSqliteSaver, config: Any) -> Any:
        read.append(config["configurable"]["thread_id"])
        return await latest(self, config)

    monkeypatch.setattr(AsyncSqliteSaver, "aget_tuple", counted)
    for durability in ("exit", "sync"):
        agent = scripted_agent(2, durability)
        fresh = agent.invoke("go")
        assert fresh.ok and read == [], read  # a thread named by the run has no checkpoint
        # ... and what it wrote is read back like any other thread's.
        view = asyncio.run(agent.athread(fresh.thread_id))
        assert (view.exists, view.request, view.stop_reason) == (True, "go", fresh.stop_reason)
        assert read == [fresh.thread_id]
        read.clear()
        agent.model.restart()  # type: ignore[attr-defined]
        named = agent.invoke("go", thread_id=fresh.thread_id)  # the caller's thread: read
        assert named.ok and fresh.thread_id in read
        read.clear()
