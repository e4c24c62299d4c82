"""One checkpoint per tool step: act runs a round, then plans the next, and what that costs.

A round's results reach the checkpoint with the plan that follows them. These tests cut a
run short while that plan is being asked for (the model's turn: the longest part of a step)
and check that nothing the round did is repeated, lost or left half-written.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from podium.agent import Agent
from podium.config import Settings
from podium.errors import InvalidRequest
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.runner import CANCEL_REASON
from podium.threads import roll_back
from podium.tools.registry import tool
from podium.tracing.events import ApprovalRequested, Event
from tests.forking import forked


def sync() -> Settings:
    """Checkpoints after every node, under the test's own PODIUM_HOME."""
    return Settings.load(durability="sync", audit=False)


def effects_tools(effects: Path) -> list[object]:
    @tool(side_effects=True, name="charge")
    def charge(amount: int) -> str:
        """Charge the card."""
        with open(effects, "a") as handle:
            handle.write(f"charged {amount}\n")
        return f"receipt for {amount}"

    @tool(side_effects=True, name="ship", needs_approval=True)
    def ship(to: str) -> str:
        """Ship the parcel (a person approves it)."""
        with open(effects, "a") as handle:
            handle.write(f"shipped {to}\n")
        return f"shipped to {to}"

    return [charge, ship]


def _results(messages: list[BaseMessage]) -> list[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


# --- a round a person decided ---------------------------------------------------------------


def shop_agent(effects: Path, marker: Path | None, sinks: list[object] | None = None) -> Agent:
    def plan(messages: list[BaseMessage]) -> AIMessage:
        results = _results(messages)
        if not results:
            return calls(call("charge", "c-charge", amount=42))
        if len(results) == 1:
            return calls(call("ship", "c-ship", to="lima"))
        if marker is not None and not marker.exists():  # the approved round ran: die planning
            marker.write_text("died once")
            os._exit(137)
        return AIMessage(content="done: " + " | ".join(str(r.content) for r in results))

    model = ScriptedChatModel(turns=[plan] * 4)  # its own turns keep the call ids it wrote
    return Agent(
        effects_tools(effects),  # type: ignore[arg-type]
        model=model,
        guards=None,
        settings=sync(),
        sinks=sinks or [],  # type: ignore[arg-type]
    )


def _approve_then_die(effects: Path, marker: Path) -> None:
    shop_agent(effects, marker).resume("shop", {"c-ship": True})
    os._exit(0)


@pytest.mark.slow
def test_an_approved_round_killed_while_planning_is_not_put_to_a_person_again(
    isolated: Path, tmp_path: Path
) -> None:
    effects, marker = tmp_path / "effects.log", tmp_path / "died"
    waiting = shop_agent(effects, None).invoke("buy and ship", thread_id="shop")
    assert waiting.stop_reason == "awaiting_approval"
    child = forked(_approve_then_die, effects, marker)
    child.join(60)
    assert child.exitcode == 137
    assert effects.read_text().splitlines() == ["charged 42", "shipped lima"]

    asked: list[Event] = []
    result = shop_agent(effects, marker, [asked.append]).resume("shop")  # no decision again
    assert result.stop_reason == "answered", result.answer
    assert result.answer == "done: receipt for 42 | shipped to lima"
    assert not [e for e in asked if isinstance(e, ApprovalRequested)]
    assert effects.read_text().splitlines() == ["charged 42", "shipped lima"]


# --- a round that delegated -----------------------------------------------------------------


def billing_parent(effects: Path, marker: Path) -> Agent:
    def sub_plan(messages: list[BaseMessage]) -> AIMessage:
        last_request = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        if not _results(messages[last_request:]):
            return calls(call("charge", "s-charge", amount=42))
        return AIMessage(content="charged 42")

    def parent_plan(messages: list[BaseMessage]) -> AIMessage:
        results = _results(messages)
        if not results:
            return calls(call("billing", "p-bill", request="charge 42"))
        if not marker.exists():  # the sub-agent's round ran: die planning the next one
            marker.write_text("died once")
            os._exit(137)
        return AIMessage(content=f"done: {results[0].content}")

    charge = effects_tools(effects)[0]
    sub = Agent(
        [charge],  # type: ignore[list-item]
        model=ScriptedChatModel(turns=[sub_plan], repeat_last=True),
        guards=None,
        settings=sync(),
    )
    return Agent(
        [sub.as_tool("billing", "Bills the customer.")],
        model=ScriptedChatModel(turns=[parent_plan], repeat_last=True),
        guards=None,
        settings=sync(),
    )


def _delegate_then_die(effects: Path, marker: Path) -> None:
    billing_parent(effects, marker).invoke("bill me", thread_id="bill")
    os._exit(0)


@pytest.mark.slow
def test_a_delegated_round_killed_while_planning_does_not_run_the_sub_agent_again(
    isolated: Path, tmp_path: Path
) -> None:
    # A sub-agent's run is a new run each time it is called: its idempotency keys are new,
    # so only the round's checkpoint keeps it from charging twice.
    effects, marker = tmp_path / "effects.log", tmp_path / "died"
    child = forked(_delegate_then_die, effects, marker)
    child.join(60)
    assert child.exitcode == 137 and effects.read_text().splitlines() == ["charged 42"]
    result = billing_parent(effects, marker).resume("bill")
    assert result.answer == "done: charged 42", result.answer
    assert effects.read_text().splitlines() == ["charged 42"]


# --- cancelled or failing while planning ----------------------------------------------------


log: list[str] = []


def cancel_flight(city: str) -> None:
    log.append(f"cancel flight {city}")


def flight_agent(
    booked: asyncio.Event, turns: list[object], latency: float = 0.0, durability: str = "sync"
) -> Agent:
    @tool(side_effects=True, compensate=cancel_flight, name="book_flight")
    async def book(city: str) -> str:
        """Book a flight."""
        log.append(f"book flight {city}")
        booked.set()
        return "flight F1"

    model = ScriptedChatModel(turns=turns, latency=latency)
    settings = Settings.load(durability=durability, audit=False)
    return Agent([book], model=model, guards=None, settings=settings)


@pytest.fixture(autouse=True)
def clear_log() -> None:
    log.clear()


@pytest.fixture
def fault_while_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's second plan raises (a bug, say): after its first round ran."""
    from podium.planner import nodes, turn

    counted = {"plans": 0}
    real = turn.count_usage

    def fails_at_the_second_plan(*args: Any, **kwargs: Any) -> Any:
        counted["plans"] += 1
        if counted["plans"] == 2:
            raise RuntimeError("a fault while planning")
        return real(*args, **kwargs)

    monkeypatch.setattr(nodes, "count_usage", fails_at_the_second_plan)


async def cancel_once_booked(
    agent: Agent, booked: asyncio.Event, worker_reason: str | None = None
) -> None:
    """Start a run on thread t and cancel it 0.05 s after its booking ran.

    With ``flight_agent(latency=0.3)`` that is while the next plan is asked for; with
    ``half_done_agent`` while the round's other call still runs. ``worker_reason`` cancels
    it as a queue worker does (the run keeps what it did).
    """
    reason = CANCEL_REASON.set(None if worker_reason is None else [worker_reason])
    try:  # the task the run gets copies the reason
        task = asyncio.create_task(agent.ainvoke("go", thread_id="t"))
    finally:
        CANCEL_REASON.reset(reason)
    await asyncio.wait_for(booked.wait(), 10)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("durability", ["sync", "exit"])
async def test_a_run_cancelled_while_planning_undoes_the_round_it_just_ran(
    isolated: Path, durability: str
) -> None:
    # With durability=exit no checkpoint holds any round of the run: it is undone still.
    booked = asyncio.Event()
    turns: list[object] = [calls(call("book_flight", "b1", city="Lima")), "booked"]
    agent = flight_agent(booked, turns, latency=0.3, durability=durability)
    await cancel_once_booked(agent, booked)
    assert log == ["book flight Lima", "cancel flight Lima"]
    # Ended, not left to resume: a resumed run would replay the undone booking as booked.
    view = await agent.athread("t")
    assert not view.unfinished and view.stop_reason == "cancelled"
    with pytest.raises(InvalidRequest, match="nothing to resume"):
        await agent.aresume("t")
    assert (await agent.ainvoke("again", thread_id="t")).answer == "booked"


async def test_a_worker_rollback_of_a_run_cancelled_while_planning_undoes_its_round(
    isolated: Path,
) -> None:
    # A worker's cancel keeps what the run did (the runner undoes nothing) and rolls it back
    # from the thread's checkpoint itself: the round must be there.
    booked = asyncio.Event()
    turns: list[object] = [calls(call("book_flight", "b1", city="Lima")), "booked"]
    agent = flight_agent(booked, turns, latency=0.3)
    await cancel_once_booked(agent, booked, worker_reason="rollback")
    assert log == ["book flight Lima"]  # kept, for the worker to decide
    run = agent.storage.runs().get("t")
    assert run is not None
    assert await roll_back(agent, "t", run.run_id) == []
    assert log == ["book flight Lima", "cancel flight Lima"]


@pytest.mark.usefixtures("fault_while_planning")
def test_a_run_failing_while_planning_is_undone_and_leaves_no_call_unanswered(
    isolated: Path,
) -> None:
    # The next run on the thread shows the model its history: a call without its result
    # there is refused by OpenAI-compatible APIs, and every later run would fail.
    turns: list[object] = [calls(call("book_flight", "b1", city="Lima")), "unused", "again"]
    agent = flight_agent(asyncio.Event(), turns)
    failed = agent.invoke("go", thread_id="t")
    assert failed.stop_reason == "error" and "a fault while planning" in failed.answer
    assert [(c["call_id"], c["status"]) for c in failed.tool_calls] == [("b1", "ok")]
    assert log == ["book flight Lima", "cancel flight Lima"]

    model = agent.model
    assert isinstance(model, ScriptedChatModel)
    assert agent.invoke("again", thread_id="t").answer == "again"
    shown = model.calls[-1].messages
    asked = [c["id"] for m in shown if isinstance(m, AIMessage) for c in m.tool_calls]
    answered = {m.tool_call_id for m in shown if isinstance(m, ToolMessage)}
    assert asked == ["b1"] and answered == {"b1"}


@pytest.mark.usefixtures("fault_while_planning")
def test_a_round_that_cannot_be_checkpointed_after_a_fault_is_undone_all_the_same(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The store fails as the runner saves the round: the run's side effects are still undone.
    from langgraph.pregel import Pregel

    real = Pregel.aupdate_state

    async def store_fails_for_the_round(self: Any, config: Any, values: Any, **kw: Any) -> Any:
        if kw.get("as_node") == "act":
            raise OSError("disk I/O error")
        return await real(self, config, values, **kw)

    monkeypatch.setattr(Pregel, "aupdate_state", store_fails_for_the_round)
    turns: list[object] = [calls(call("book_flight", "b1", city="Lima")), "unused"]
    failed = flight_agent(asyncio.Event(), turns).invoke("go", thread_id="t")
    assert failed.stop_reason == "error"
    assert log == ["book flight Lima", "cancel flight Lima"]


# --- cancelled while a round's calls run ------------------------------------------------------


def half_done_agent(booked: asyncio.Event, answer: str = "next") -> Agent:
    @tool(side_effects=True, compensate=cancel_flight, name="book_flight")
    async def book(city: str) -> str:
        """Book a flight."""
        log.append(f"book flight {city}")
        booked.set()
        return "flight F1"

    @tool(name="check_visa")
    async def check_visa(city: str) -> str:
        """Check the visa rules (slow)."""
        await asyncio.sleep(3600)
        return "no visa needed"

    both = calls(call("book_flight", "b1", city="Lima"), call("check_visa", "v1", city="Lima"))
    model = ScriptedChatModel(turns=[both, answer])
    return Agent([book, check_visa], model=model, guards=None, settings=sync())


async def test_a_run_cancelled_mid_round_is_undone_and_its_thread_answers_every_call(
    isolated: Path,
) -> None:
    booked = asyncio.Event()
    agent = half_done_agent(booked)
    await cancel_once_booked(agent, booked)
    assert log == ["book flight Lima", "cancel flight Lima"]
    # The next run shows the model the round: each call with a result (none unanswered).
    model = agent.model
    assert isinstance(model, ScriptedChatModel)
    assert (await agent.ainvoke("again", thread_id="t")).answer == "next"
    shown = model.calls[-1].messages
    asked = [c["id"] for m in shown if isinstance(m, AIMessage) for c in m.tool_calls]
    results = {m.tool_call_id: str(m.content) for m in shown if isinstance(m, ToolMessage)}
    assert asked == ["b1", "v1"] and set(results) == {"b1", "v1"}
    assert "ran" in results["b1"] and "before this call finished" in results["v1"]


async def test_a_worker_rollback_of_a_run_cancelled_mid_round_undoes_what_completed(
    isolated: Path,
) -> None:
    booked = asyncio.Event()
    agent = half_done_agent(booked)
    await cancel_once_booked(agent, booked, worker_reason="rollback")
    assert log == ["book flight Lima"]
    run = agent.storage.runs().get("t")
    assert run is not None
    assert await roll_back(agent, "t", run.run_id) == []
    assert log == ["book flight Lima", "cancel flight Lima"]


async def test_a_run_a_worker_interrupts_mid_round_leaves_every_call_answered(
    isolated: Path,
) -> None:
    # A newer request interrupts the run: it ends where it stopped, keeping what it did, and
    # the newer request's run is shown the round with a result for each call.
    from podium.threads import end_interrupted

    booked = asyncio.Event()
    agent = half_done_agent(booked)
    await cancel_once_booked(agent, booked, worker_reason="interrupt")
    assert log == ["book flight Lima"]  # kept: an interrupt does not undo
    run = agent.storage.runs().get("t")
    assert run is not None
    await end_interrupted(agent, "t", run.run_id)
    model = agent.model
    assert isinstance(model, ScriptedChatModel)
    assert (await agent.ainvoke("newer request", thread_id="t")).answer == "next"
    shown = model.calls[-1].messages
    asked = [c["id"] for m in shown if isinstance(m, AIMessage) for c in m.tool_calls]
    answered = {m.tool_call_id for m in shown if isinstance(m, ToolMessage)}
    assert asked == ["b1", "v1"] and answered == {"b1", "v1"}
