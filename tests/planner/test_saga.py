"""Compensation of side effects, and crash-safe resume (ScriptedChatModel gives the plans)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langgraph.checkpoint.base import BaseCheckpointSaver

from podium.agent import Agent
from podium.config import Settings
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.storage.base import Storage
from podium.storage.sqlite import SqliteStorage
from podium.tools.registry import tool
from podium.tracing.events import Compensated, Event, NodeFinished
from tests.forking import forked

log: list[str] = []


def cancel_flight(city: str) -> None:
    log.append(f"cancel flight {city}")


def cancel_hotel(city: str, result: str) -> None:
    log.append(f"cancel hotel {city} ({result})")


@tool(side_effects=True, compensate=cancel_flight)
def book_flight(city: str) -> str:
    """Book a flight."""
    log.append(f"book flight {city}")
    return "flight F1"


@tool(side_effects=True, compensate=cancel_hotel)
def book_hotel(city: str) -> str:
    """Book a hotel."""
    log.append(f"book hotel {city}")
    return "hotel H1"


@tool(side_effects=True)
def send_email(to: str) -> str:
    """Send an email (cannot be undone)."""
    log.append(f"email {to}")
    return "sent"


@pytest.fixture(autouse=True)
def clear_log() -> None:
    log.clear()


def fail(messages: list[BaseMessage]) -> AIMessage:
    raise PermissionError("the model refuses")


def trip() -> Agent:
    model = ScriptedChatModel(
        turns=[
            calls(call("book_flight", city="Rome")),
            calls(call("book_hotel", city="Rome")),
            calls(call("send_email", to="ana")),
            fail,
        ]
    )
    return Agent([book_flight, book_hotel, send_email], model=model, guards=None)


def test_a_failed_run_undoes_its_side_effects_newest_first() -> None:
    result = trip().invoke("plan a trip")
    assert result.stop_reason == "model_error"
    assert log == [
        "book flight Rome",
        "book hotel Rome",
        "email ana",
        "cancel hotel Rome (hotel H1)",
        "cancel flight Rome",
    ]
    undone = [e for e in result.events if isinstance(e, Compensated)]
    assert [(e.name, e.ok) for e in undone] == [("book_hotel", True), ("book_flight", True)]
    assert "Side effects that may remain: send_email(to='ana'): no way to undo it" in (
        result.answer
    )


def test_a_failing_compensation_is_recorded_and_the_others_still_run() -> None:
    def broken_undo(city: str) -> None:
        raise RuntimeError("hotel API down")

    hotel = book_hotel
    object.__setattr__(hotel, "compensate", broken_undo)
    try:
        result = trip().invoke("plan a trip")
    finally:
        object.__setattr__(hotel, "compensate", cancel_hotel)
    assert "cancel flight Rome" in log
    assert "book_hotel(city='Rome'): undoing it failed (RuntimeError: hotel API down)" in (
        result.answer
    )
    failed = [e for e in result.events if isinstance(e, Compensated) and not e.ok]
    assert [e.name for e in failed] == ["book_hotel"]


def test_an_answered_run_keeps_its_side_effects() -> None:
    model = ScriptedChatModel(turns=[calls(call("book_flight", city="Oslo")), "booked"])
    result = Agent([book_flight], model=model, guards=None).invoke("book")
    assert result.ok and log == ["book flight Oslo"]


async def test_a_cancelled_run_undoes_its_side_effects() -> None:
    started = asyncio.Event()

    @tool
    async def wait_forever() -> str:
        """Hang."""
        started.set()
        await asyncio.sleep(3600)
        return "never"

    model = ScriptedChatModel(
        turns=[calls(call("book_flight", city="Lima")), calls(call("wait_forever"))]
    )
    agent = Agent([book_flight, wait_forever], model=model, guards=None)
    task = asyncio.create_task(agent.ainvoke("go"))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["book flight Lima", "cancel flight Lima"]


# --- crash safety: kill the process after each node in turn, then resume -------------------


def charge_card(amount: int, effects: str) -> str:
    with open(effects, "a") as handle:
        handle.write(f"charged {amount}\n")
    return f"receipt for {amount}"


def checkout_plan(messages: list[BaseMessage]) -> AIMessage:
    """A plan that depends only on the conversation, so a new process continues it."""
    results = [m for m in messages if isinstance(m, ToolMessage)]
    if not results:
        return calls(call("charge", "c-charge", amount=42))
    if len(results) == 1:
        return calls(call("add", "c-add", a=40, b=2))
    return AIMessage(content=f"done: {results[0].content}, total {results[1].content}")


def checkout_agent(
    effects: Path, sinks: list[object] | None = None, storage: Storage | None = None
) -> Agent:
    @tool(side_effects=True, name="charge")
    def charge(amount: int) -> str:
        """Charge the card."""
        return charge_card(amount, str(effects))

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    settings = Settings.load(durability="sync", audit=False)
    model = ScriptedChatModel(turns=[checkout_plan], repeat_last=True)
    return Agent(
        [charge, add],
        model=model,
        guards=None,
        settings=settings,
        sinks=sinks or [],  # type: ignore[arg-type]
        storage=storage,
    )


def _crash_after(boundary: int, effects: Path) -> None:
    seen = {"nodes": 0}

    def crash(event: Event) -> None:
        if isinstance(event, NodeFinished):
            seen["nodes"] += 1
            if seen["nodes"] == boundary:
                os._exit(137)  # the process dies here, mid-run

    checkout_agent(effects, [crash]).invoke("check out", thread_id="checkout")
    os._exit(0)


NODES_IN_A_CHECKOUT = 5  # begin, plan, 2x act (each runs a round, then plans), finish


@pytest.mark.slow
@pytest.mark.parametrize("boundary", range(1, NODES_IN_A_CHECKOUT))
def test_a_run_killed_after_any_node_resumes_without_repeating_side_effects(
    boundary: int, isolated: Path, tmp_path: Path
) -> None:
    effects = tmp_path / "effects.log"
    child = forked(_crash_after, boundary, effects)
    child.join(60)
    assert child.exitcode == 137
    result = checkout_agent(effects).resume("checkout")
    assert result.answer == "done: receipt for 42, total 42", result.answer
    assert effects.read_text().splitlines() == ["charged 42"]


class CrashingStorage(SqliteStorage):
    """The real SQLite store, killed with SIGKILL right after its ``crash_after``-th write.

    Every write counts: a checkpoint (aput) and a task's saved writes (aput_writes), which
    LangGraph stores between a node's end and the next checkpoint.
    """

    def __init__(self, home: Path, crash_after: int | None) -> None:
        super().__init__(home)
        self.crash_after, self.writes = crash_after, 0

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        async with super().checkpointer() as saver:
            for name in ("aput", "aput_writes"):
                setattr(saver, name, self._counted(getattr(saver, name)))
            yield saver

    def _counted(self, write: Any) -> Any:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            result = await write(*args, **kwargs)
            self.writes += 1
            if self.writes == self.crash_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return counted


def _crash_at_write(write: int, effects: Path, home: Path) -> None:
    storage = CrashingStorage(home, crash_after=write)
    checkout_agent(effects, storage=storage).invoke("check out", thread_id="checkout")
    os._exit(0)


@pytest.mark.slow
def test_a_run_killed_after_any_write_of_its_store_is_found_and_resumed(
    isolated: Path, tmp_path: Path
) -> None:
    # Count the writes of a whole checkout first, then kill a run after each one in turn.
    counting = CrashingStorage(tmp_path / "count", crash_after=None)
    (tmp_path / "count").mkdir()
    checkout_agent(tmp_path / "count.log", storage=counting).invoke("check out", thread_id="t")
    assert counting.writes >= 2 * NODES_IN_A_CHECKOUT  # each node: its writes, a checkpoint
    for write in range(1, counting.writes + 1):
        home, effects = tmp_path / f"home-{write}", tmp_path / f"effects-{write}.log"
        home.mkdir()
        child = forked(_crash_at_write, write, effects, home)
        child.join(60)
        assert child.exitcode == -signal.SIGKILL, f"write {write}: {child.exitcode}"
        agent = checkout_agent(effects, storage=SqliteStorage(home))
        view = asyncio.run(agent.athread("checkout"))
        if write == counting.writes:  # the last write ends the run: nothing is left to do
            assert not view.unfinished and view.stop_reason == "answered"
        else:
            assert view.unfinished, f"killed after write {write}, the run looks finished"
            result = agent.resume("checkout")
            assert result.answer == "done: receipt for 42, total 42", (write, result.answer)
        assert effects.read_text().splitlines() == ["charged 42"], write


def _crash_mid_round(effects: Path, marker: Path) -> None:
    @tool
    async def slow_check() -> str:
        """Fails hard the first time: the process dies while its round is running."""
        await asyncio.sleep(0.3)  # the charge in the same round completes first
        if not await asyncio.to_thread(marker.exists):
            await asyncio.to_thread(marker.write_text, "crashed once")
            os._exit(137)
        return "checked"

    plan = ScriptedChatModel(
        turns=[
            calls(call("charge", "c-charge", amount=7), call("slow_check", "c-check")),
            lambda messages: "paid and checked",
        ]
    )
    agent = checkout_agent(effects)
    agent.registry.register(slow_check)
    agent.model = plan
    agent.invoke("check out", thread_id="mid-round")
    os._exit(0)


@pytest.mark.slow
def test_a_crash_inside_a_round_does_not_repeat_the_call_that_completed(
    isolated: Path, tmp_path: Path
) -> None:
    effects, marker = tmp_path / "effects.log", tmp_path / "crashed"
    child = forked(_crash_mid_round, effects, marker)
    child.join(60)
    assert child.exitcode == 137 and effects.read_text().splitlines() == ["charged 7"]

    @tool
    async def slow_check() -> str:
        """Check again."""
        return "checked"

    agent = checkout_agent(effects)
    agent.registry.register(slow_check)
    agent.model = ScriptedChatModel(turns=[lambda messages: "paid and checked"])
    result = agent.resume("mid-round")
    assert result.answer == "paid and checked"
    assert [c["status"] for c in result.tool_calls] == ["replayed", "ok"]
    assert effects.read_text().splitlines() == ["charged 7"]  # the ledger kept it to once


def _crash_while_planning(effects: Path, marker: Path) -> None:
    def dies_once_the_charge_ran(messages: list[BaseMessage]) -> AIMessage:
        ran = any(isinstance(m, ToolMessage) for m in messages)
        if ran and not marker.exists():  # the round ran; the next plan is being asked for
            marker.write_text("crashed once")
            os._exit(137)
        return checkout_plan(messages)

    agent = checkout_agent(effects)
    agent.model = ScriptedChatModel(turns=[dies_once_the_charge_ran], repeat_last=True)
    agent.invoke("check out", thread_id="planning")
    os._exit(0)


@pytest.mark.slow
def test_a_run_killed_while_planning_after_its_round_ran_does_not_repeat_the_round(
    isolated: Path, tmp_path: Path
) -> None:
    # act runs a round and then plans the next one, with one checkpoint for both: the
    # process dies between them, and what the round did was not checkpointed yet.
    effects, marker = tmp_path / "effects.log", tmp_path / "crashed"
    child = forked(_crash_while_planning, effects, marker)
    child.join(60)
    assert child.exitcode == 137 and effects.read_text().splitlines() == ["charged 42"]
    agent = checkout_agent(effects)
    assert asyncio.run(agent.athread("planning")).unfinished
    result = agent.resume("planning")
    assert result.answer == "done: receipt for 42, total 42", result.answer
    assert [c["status"] for c in result.tool_calls] == ["replayed", "ok"]
    assert effects.read_text().splitlines() == ["charged 42"]  # the ledger kept it to once


def test_a_tool_that_aborts_ends_the_run_and_side_effects_are_undone() -> None:
    from podium.errors import AbortRun

    @tool
    def verify(city: str) -> str:
        """Verify the bookings."""
        raise AbortRun(f"no seats left to {city}")

    log.clear()
    model = ScriptedChatModel(
        turns=[
            calls(call("book_flight", city="Oslo")),
            calls(call("verify", city="Oslo")),
            "never reached",
        ]
    )
    result = Agent([book_flight, verify], model=model, guards=None).invoke("trip")
    assert result.stop_reason == "aborted"
    assert result.answer.startswith(
        "Stopped before finishing: aborted by 'verify': no seats left to Oslo."
    )
    assert log == ["book flight Oslo", "cancel flight Oslo"]
    assert [c["status"] for c in result.tool_calls] == ["ok", "aborted"]
