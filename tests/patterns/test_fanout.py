"""Fan-out with LangGraph Send: branches at once, a join that sees them all, failures kept apart."""

from __future__ import annotations

import asyncio

import pytest

from podium.agent import Agent
from podium.errors import ConfigError
from podium.patterns.fanout import Branch, FanOut
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import tool


@tool(repeatable=True)
async def slow_lookup(sku: str) -> str:
    """Look up how many units of a SKU code there are (takes half a second)."""
    await asyncio.sleep(0.5)
    return f"7 units of {sku}"


class Raising(Agent):
    """An agent whose run raises before it answers."""

    async def ainvoke(self, *args: object, **kwargs: object) -> RunResult:
        raise RuntimeError("the region's database is gone")


class Hanging(Agent):
    """An agent whose run never ends."""

    async def ainvoke(self, *args: object, **kwargs: object) -> RunResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


def test_branches_run_at_once_and_the_join_sees_every_one() -> None:
    @tool(name="slow_lookup", repeatable=True)
    async def meeting_lookup(sku: str) -> str:
        """Look up how many units of a SKU code there are (once every branch is here)."""
        await asyncio.wait_for(barrier.wait(), timeout=5)  # passes only if all run at once
        return f"7 units of {sku}"

    barrier = asyncio.Barrier(4)
    agents = {f"region{i}": Agent([meeting_lookup]) for i in range(4)}
    seen: list[list[str]] = []

    def join(request: str, branches: list[Branch]) -> str:
        seen.append(sorted(b.name for b in branches))
        return f"{len(branches)} answers to {request!r}"

    result = FanOut(agents, join=join).invoke("How many units of SKU-9?")
    assert seen == [sorted(agents)]  # the join ran once, after all branches
    assert result.answer == "4 answers to 'How many units of SKU-9?'"
    assert all(b.ok and "7 units of SKU-9" in b.answer for b in result.branches)


def test_a_raising_or_hanging_branch_sinks_none_of_the_others() -> None:
    agents = {
        "good": Agent([slow_lookup]),
        "raises": Raising([slow_lookup]),
        "hangs": Hanging([slow_lookup]),
    }
    result = FanOut(agents, timeout=1.0).invoke("How many units of SKU-1?")
    by_name = {b.name: b for b in result.branches}
    assert by_name["good"].ok
    assert (
        by_name["raises"].stop_reason == "error" and "database is gone" in by_name["raises"].answer
    )
    assert by_name["hangs"].stop_reason == "timeout"
    assert sorted(result.failed) == ["hangs", "raises"]
    assert "good: slow_lookup" in result.answer and "raises: no answer (error" in result.answer


def test_as_a_tool_its_branches_usage_rolls_up_into_the_parent() -> None:
    def branch_model(name: str) -> ScriptedChatModel:
        return ScriptedChatModel(
            turns=[calls(call("slow_lookup", "c1", sku="SKU-2")), lambda messages: f"{name} done"],
            model=f"scripted-{name}-planner",
        )

    fan = FanOut({n: Agent([slow_lookup], model=branch_model(n)) for n in ("a", "b")})
    parent = Agent(
        [fan.as_tool("ask_regions", "Ask every region.")],
        model=ScriptedChatModel(
            turns=[calls(call("ask_regions", "p1", request="units?")), lambda m: "all asked"],
            model="scripted-parent-planner",
        ),
    )
    result = parent.invoke("ask every region")
    assert result.answer == "all asked"
    assert result.usage.model_calls == 2 + 2 + 2  # the parent's two and each branch's two
    assert "a: a done" in result.tool_calls[0]["output"]


def test_misnamed_branches_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least one agent"):
        FanOut({})
    with pytest.raises(ConfigError, match="unknown branches: c"):
        FanOut({"a": Agent([slow_lookup])}, requests={"c": "{request}"})
