"""Side effects happen once and are undone once, whatever ids a model gives its calls and
whatever changed between a crash and the resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from podium.agent import Agent
from podium.config import Settings
from podium.guardrails.policy import Policy, PolicyDecision
from podium.identity import Principal
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import Tool, tool
from tests.forking import forked

log: list[str] = []


def refund(amount: int) -> None:
    log.append(f"refund {amount}")


@tool(side_effects=True, compensate=refund)
def charge(amount: int) -> str:
    """Charge the card."""
    log.append(f"charge {amount}")
    return f"receipt {amount}"


@tool(side_effects=True)
def book_hotel(city: str) -> str:
    """Book a hotel."""
    log.append(f"hotel {city}")
    return "hotel H1"


@pytest.fixture(autouse=True)
def clear_log() -> None:
    log.clear()


def fail(messages: list[BaseMessage]) -> AIMessage:
    raise PermissionError("the model refuses")


def test_a_repeat_is_refused_when_the_model_gives_every_step_the_same_call_id() -> None:
    # A model that omits ids gets the same one in every step; the call keys were kept by
    # call id alone, and the repeated booking ran.
    turns: list[object] = [
        calls(call("charge", "call_0", amount=1)),
        calls(call("book_hotel", "call_0", city="Rome")),
        calls(call("book_hotel", "call_0", city="Rome")),
        "done",
    ]
    agent = Agent([charge, book_hotel], model=ScriptedChatModel(turns=turns), guards=None)
    result = agent.invoke("trip")
    assert [c["status"] for c in result.tool_calls] == ["ok", "ok", "repeated"]
    assert log == ["charge 1", "hotel Rome"]


def test_each_failed_run_of_a_thread_undoes_its_own_side_effects(isolated: Path) -> None:
    # Two runs whose calls share a step and an id: the second's undo was taken for the first's.
    turns: list[object] = [
        calls(call("charge", "call_0", amount=10)),
        fail,
        calls(call("charge", "call_0", amount=99)),
        fail,
    ]
    agent = Agent([charge], model=ScriptedChatModel(turns=turns), guards=None)
    for request in ("first", "second"):
        assert agent.invoke(request, thread_id="t").stop_reason == "model_error"
    assert log == ["charge 10", "refund 10", "charge 99", "refund 99"]


class ChargesRevoked(Policy):
    """The policy after a change: charges are no longer allowed."""

    def authorize(self, principal: Principal, tool: Tool, call_id: str) -> PolicyDecision:
        if tool.name == "charge":
            return PolicyDecision(tool.name, call_id, "deny", "permission denied: scope revoked")
        return super().authorize(principal, tool, call_id)


def card_agent(effects: Path, marker: Path, policy: Policy | None = None) -> Agent:
    def refund_to_file(amount: int) -> None:
        with open(effects, "a") as handle:
            handle.write(f"refunded {amount}\n")

    @tool(side_effects=True, name="charge", compensate=refund_to_file)
    def charge_to_file(amount: int) -> str:
        """Charge the card."""
        with open(effects, "a") as handle:
            handle.write(f"charged {amount}\n")
        return f"receipt {amount}"

    def plan(messages: list[BaseMessage]) -> AIMessage:
        if not any(isinstance(m, ToolMessage) for m in messages):
            return calls(call("charge", "c1", amount=42))
        if not marker.exists():  # the round ran: die while planning the next one
            marker.write_text("died once")
            os._exit(137)
        raise RuntimeError("the model fails: the run fails and undoes its charge")

    return Agent(
        [charge_to_file],
        model=ScriptedChatModel(turns=[plan], repeat_last=True),
        guards=None,
        policy=policy,
        settings=Settings.load(durability="sync", audit=False),
    )


def _charge_then_die(effects: Path, marker: Path) -> None:
    card_agent(effects, marker).invoke("charge 42", thread_id="t")
    os._exit(0)


@pytest.mark.slow
def test_a_call_that_ran_before_a_crash_is_not_decided_again_on_resume(
    isolated: Path, tmp_path: Path
) -> None:
    # The policy changed between the crash and the resume: the charge that was made was
    # then recorded as denied, and a failed run never refunded it.
    effects, marker = tmp_path / "effects.log", tmp_path / "died"
    child = forked(_charge_then_die, effects, marker)
    child.join(60)
    assert child.exitcode == 137 and effects.read_text().splitlines() == ["charged 42"]
    result = card_agent(effects, marker, ChargesRevoked()).resume("t")
    assert [c["status"] for c in result.tool_calls] == ["replayed"]
    assert effects.read_text().splitlines() == ["charged 42", "refunded 42"]


def _fail_after_taking_money(effects: Path, marker: Path) -> None:
    failing_charge_agent(effects, marker).invoke("charge 42", thread_id="t")
    os._exit(0)


def failing_charge_agent(effects: Path, marker: Path) -> Agent:
    @tool(side_effects=True, name="charge")
    def charge_then_fail(amount: int) -> str:
        """Charge the card; the gateway resets the connection after taking the money."""
        with open(effects, "a") as handle:
            handle.write(f"charged {amount}\n")
        raise ConnectionError("gateway reset the connection")

    def plan(messages: list[BaseMessage]) -> Any:
        results = [m for m in messages if isinstance(m, ToolMessage)]
        if not results:
            return calls(call("charge", "c1", amount=42))
        if not marker.exists():
            marker.write_text("died once")
            os._exit(137)
        return AIMessage(content="the charge could not be confirmed; not trying again")

    return Agent(
        [charge_then_fail],
        model=ScriptedChatModel(turns=[plan], repeat_last=True),
        guards=None,
        settings=Settings.load(durability="sync", audit=False),
    )


@pytest.mark.slow
def test_a_side_effect_that_failed_is_not_run_again_after_a_crash_while_planning(
    isolated: Path, tmp_path: Path
) -> None:
    # A failure is not in the ledger, so running the round again would charge again: whether
    # to retry is the planner's to decide, from the failure it was shown.
    effects, marker = tmp_path / "effects.log", tmp_path / "died"
    child = forked(_fail_after_taking_money, effects, marker)
    child.join(60)
    assert child.exitcode == 137 and effects.read_text().splitlines() == ["charged 42"]
    result = failing_charge_agent(effects, marker).resume("t")
    assert result.answer == "the charge could not be confirmed; not trying again"
    assert effects.read_text().splitlines() == ["charged 42"]
