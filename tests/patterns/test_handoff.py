"""Handoff: control passes for the rest of the conversation, with a filtered brief."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from podium.agent import Agent
from podium.errors import ConfigError, InvalidRequest
from podium.patterns.handoff import Handoffs
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool

DESCRIPTIONS = {"triage": "general questions", "billing": "billing: refunds and charges"}


@tool(repeatable=True)
def lookup_secret_notes(order_id: str) -> str:
    """Read internal notes on an order."""
    return "internal note: customer flagged for fraud review"


@tool
def refund(order_id: str, amount: float) -> str:
    """Refund an amount of money for an order."""
    return f"refunded {amount} for {order_id}"


def last_human(messages: list[BaseMessage]) -> str:
    return str(next(m for m in reversed(messages) if isinstance(m, HumanMessage)).content)


def test_control_passes_with_a_filtered_brief_and_stays_with_the_new_owner(
    tmp_path: Path,
) -> None:
    triage = Agent(
        [lookup_secret_notes],
        model=ScriptedChatModel(
            turns=[
                calls(call("lookup_secret_notes", "c1", order_id="A-7")),
                calls(call("transfer_to_billing", "c2", reason="wants a refund")),
                lambda messages: "handed over",
            ],
            model="scripted-triage-planner",
        ),
    )
    billing = Agent(
        [refund],
        model=ScriptedChatModel(
            turns=[lambda m: f"billing saw: {last_human(m)}", lambda m: f"again: {last_human(m)}"],
            model="scripted-billing-planner",
        ),
    )
    desk = Handoffs({"triage": triage, "billing": billing}, "triage", DESCRIPTIONS, home=tmp_path)
    first = desk.invoke("I was charged twice for A-7", thread_id="t")
    assert first.agent == "billing" and [t.target for t in first.transfers] == ["billing"]
    assert "wants a refund" in first.answer and "I was charged twice for A-7" in first.answer
    assert "fraud" not in first.answer  # the first agent's tool output stays behind
    assert desk.owner("t") == "billing"
    second = desk.invoke("any news?", thread_id="t")
    assert second.agent == "billing" and not second.transfers
    assert second.answer == "again: any news?"
    assert desk.owner("other") == "triage"


def test_the_offline_router_hands_over_when_the_request_names_the_desk(tmp_path: Path) -> None:
    desk = Handoffs(
        {"triage": Agent([lookup_secret_notes]), "billing": Agent([refund])},
        "triage",
        DESCRIPTIONS,
        home=tmp_path,
    )
    result = desk.invoke("A billing problem: I was charged twice", thread_id="r")
    assert [(t.source, t.target) for t in result.transfers] == [("triage", "billing")]


def test_a_cycle_of_handoffs_is_stopped_where_it_would_return(tmp_path: Path) -> None:
    def bouncing(target: str) -> ScriptedChatModel:
        return ScriptedChatModel(
            turns=[calls(call(f"transfer_to_{target}", "c1", reason="not mine")), lambda m: "ok"],
            model=f"scripted-bouncing-{target}-planner",
        )

    desk = Handoffs(
        {
            "triage": Agent([], model=bouncing("billing")),
            "billing": Agent([], model=bouncing("triage")),
        },
        "triage",
        DESCRIPTIONS,
        home=tmp_path,
    )
    result = desk.invoke("whose is this?", thread_id="c")
    assert [t.target for t in result.transfers] == ["billing"]
    assert result.agent == "billing"
    assert "a cycle" in result.warnings[0] and "triage -> billing -> triage" in result.warnings[0]


def test_unknown_agents_are_named(tmp_path: Path) -> None:
    agents = {"triage": Agent([refund]), "billing": Agent([refund])}
    with pytest.raises(ConfigError, match=r"start agent 'sales'.*the agents are: billing, triage"):
        Handoffs(agents, "sales", DESCRIPTIONS, home=tmp_path)
    with pytest.raises(ConfigError, match="unknown agent 'legal'"):
        Handoffs(agents, "triage", DESCRIPTIONS, routes={"triage": ["legal"]}, home=tmp_path)
    desk = Handoffs(agents, "triage", DESCRIPTIONS, home=tmp_path)
    with pytest.raises(InvalidRequest, match="no agent named 'legal'"):
        desk.transfer("t", "legal")


def test_a_handoff_tool_the_route_does_not_allow_is_an_unknown_tool(tmp_path: Path) -> None:
    triage = Agent(
        [refund],
        model=ScriptedChatModel(
            turns=[calls(call("transfer_to_legal", "c1", reason="x")), lambda m: "stayed"],
            model="scripted-triage-planner",
        ),
    )
    desk = Handoffs(
        {"triage": triage, "billing": Agent([refund])}, "triage", DESCRIPTIONS, home=tmp_path
    )
    result = desk.invoke("send me to legal", thread_id="u")
    assert result.agent == "triage" and not result.transfers
    assert result.results[0].tool_calls[0]["status"] == "unknown_tool"
