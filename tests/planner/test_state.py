"""What a run's state holds and what each tool step writes to the checkpoints."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from podium.agent import Agent
from podium.config import Limits
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.planner.state import RunState, calls_of, planned_calls, planned_reply
from podium.tools.registry import tool


@tool
def echo(x: int) -> int:
    """Return x."""
    return x


def written_channels(home: Path) -> Counter[str]:
    with sqlite3.connect(home / "threads.sqlite") as database:
        return Counter(row[0] for row in database.execute("SELECT channel FROM writes"))


def run(steps: int) -> None:
    turns: list[object] = [calls(call("echo", f"c{i}", x=i)) for i in range(steps)]
    model = ScriptedChatModel(turns=[*turns, AIMessage(content="done")])
    result = Agent([echo], model=model, limits=Limits(max_steps=10)).invoke("go")
    assert result.ok and len(result.tool_calls) == steps
    assert result.usage.steps == steps + 1 and result.usage.model_calls == steps + 1


def test_a_tool_step_writes_the_reply_the_results_and_the_usage_only(isolated: Path) -> None:
    run(2)
    short = written_channels(isolated)
    run(5)
    longer = written_channels(isolated) - short  # the second run's writes
    extra = longer - short  # what its three more tool steps wrote
    # act writes, once per tool step, the tool messages with the next reply (one write of
    # messages), the outcomes, the usage (the step count in it) and its edge. No channel
    # repeats what another holds (the calls, the step count, the route).
    assert {"route", "step"}.isdisjoint(longer)
    assert short["pending"] == 1  # the run's input resets it; no node writes it
    assert extra == Counter({"messages": 3, "usage": 3, "outcomes": 3, "branch:to:act": 3})


def test_the_calls_of_a_round_are_read_from_the_reply_unless_the_planner_changed_them() -> None:
    reply = AIMessage(
        content="",
        tool_calls=[{"name": "echo", "args": {"x": 1}, "id": "a"}],
        invalid_tool_calls=[
            {"type": "invalid_tool_call", "name": "echo", "args": "{x", "id": "b", "error": "bad"}
        ],
    )
    state = RunState(messages=[reply], pending=[])
    assert planned_reply(state) is reply
    assert [(c["id"], c["parse_error"]) for c in planned_calls(state)] == [
        ("a", None),
        ("b", "bad"),
    ]
    refused = [{**calls_of(reply)[0], "denial": "no"}]
    assert planned_calls(RunState(messages=[reply], pending=refused)) == refused  # type: ignore[typeddict-item]
    assert planned_reply(RunState(messages=[AIMessage(content="the answer")])) is None
    assert planned_calls(RunState(messages=[AIMessage(content="the answer")])) == []


@tool(needs_approval=True, risk="high")
def deploy(version: str) -> str:
    """Deploy a version."""
    return f"deployed {version}"


async def as_written_before_usage_counted_steps(agent: Agent, thread: str) -> int:
    """Rewrite the thread's newest checkpoint in SQLite as podium wrote it then: the step
    count in a channel of its own, the usage without it. The count, returned."""
    async with agent.storage.checkpointer() as saver:
        saved = await saver.aget_tuple({"configurable": {"thread_id": thread, "checkpoint_ns": ""}})
        assert saved is not None and saved.parent_config is not None
        checkpoint = saved.checkpoint
        values = checkpoint["channel_values"]
        usage = dict(values["usage"])
        values["usage"], values["step"] = usage, usage.pop("steps")
        checkpoint["channel_versions"]["step"] = checkpoint["channel_versions"]["usage"]
        await saver.aput(saved.parent_config, checkpoint, saved.metadata, {})
    return int(values["step"])


@pytest.mark.parametrize(
    ("max_steps", "ran"),
    [(4, ["c0", "c1", "d", "c3"]), (3, ["c0", "c1", "d"])],  # one turn left; none left
)
def test_a_thread_checkpointed_with_the_old_step_channel_keeps_its_count_when_resumed(
    max_steps: int, ran: list[str]
) -> None:
    import asyncio

    turns: list[object] = [
        calls(call("echo", "c0", x=0)),
        calls(call("echo", "c1", x=1)),
        calls(call("deploy", "d", version="2.0")),  # waits for approval at step 3
        *(calls(call("echo", f"c{i}", x=i)) for i in range(3, 8)),
    ]
    model = ScriptedChatModel(turns=turns)
    agent = Agent([echo, deploy], model=model, limits=Limits(max_steps=max_steps))
    waiting = agent.invoke("go", thread_id="old")
    assert waiting.stop_reason == "awaiting_approval"
    assert asyncio.run(as_written_before_usage_counted_steps(agent, "old")) == 3
    result = agent.resume("old", {"d": True})
    # The turns left of the budget, not the whole budget again.
    assert result.stop_reason == "step_limit"
    assert [c["call_id"] for c in result.tool_calls] == ran
    assert result.usage.steps == max_steps and result.usage.model_calls == max_steps


async def as_saved_on_the_way_into(agent: Agent, thread: str, new: str, old: str) -> None:
    """Make the thread's newest checkpoint the one on its way into node ``new``, saved as
    the six-node graph saved it: on its way into ``old``, a node the four replace."""
    async with agent.storage.checkpointer() as saver:
        config: Any = {"configurable": {"thread_id": thread, "checkpoint_ns": ""}}
        history = [saved async for saved in saver.alist(config)]
        target = next(s for s in history if f"branch:to:{new}" in s.checkpoint["channel_values"])
        checkpoint: Any = dict(target.checkpoint)
        values = dict(checkpoint["channel_values"])
        versions = dict(checkpoint["channel_versions"])
        values[f"branch:to:{old}"] = values.pop(f"branch:to:{new}")
        versions[f"branch:to:{old}"] = versions.pop(f"branch:to:{new}")
        checkpoint.update(channel_values=values, channel_versions=versions)
        checkpoint["updated_channels"] = [  # what LangGraph starts the next step from
            f"branch:to:{old}" if c == f"branch:to:{new}" else c
            for c in checkpoint["updated_channels"] or []
        ]
        checkpoint["id"] = history[0].checkpoint["id"][:-4] + "ffff"  # the newest
        await saver.aput(history[0].config, checkpoint, target.metadata, {})


@pytest.mark.parametrize(
    ("new", "old"), [("begin", "screen_input"), ("begin", "recall"), ("finish", "screen_output")]
)
def test_a_thread_saved_on_its_way_into_a_node_of_the_six_node_graph_finishes_its_run(
    new: str, old: str
) -> None:
    # The run is resumed where it stood: its answer checked (the e-mail address redacted),
    # not left looking finished with its checks and its ending never run.
    import asyncio

    model = ScriptedChatModel(turns=[calls(call("echo", "c0", x=0)), "write to ana@example.com"])
    agent = Agent([echo], model=model, guards="default", memory=None)
    assert agent.invoke("go", thread_id="old").answer == "write to [EMAIL]"
    asyncio.run(as_saved_on_the_way_into(agent, "old", new, old))
    assert asyncio.run(agent.athread("old")).unfinished
    model.restart()
    resumed = agent.resume("old")
    assert resumed.stop_reason == "answered" and resumed.answer == "write to [EMAIL]"
