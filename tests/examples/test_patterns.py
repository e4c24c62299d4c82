"""The orchestration examples run on the offline router model and do what they say."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from examples.patterns import choreography, fanout, handoff, supervisor


def test_the_supervisor_delegates_each_part_to_its_specialist_at_once() -> None:
    result = supervisor.build_supervisor().invoke(
        "Compute the product 12 * 7. Then what does the handbook say about refunds?"
    )
    assert result.ok, result.answer
    assert [c["name"] for c in result.tool_calls] == ["math_specialist", "handbook_specialist"]
    assert {c["step"] for c in result.tool_calls} == {result.tool_calls[0]["step"]}  # one round
    assert "84" in result.answer and "within 14 days" in result.answer
    assert result.usage.model_calls >= 3  # the supervisor's and each specialist's add up


def test_the_fanout_joins_every_warehouse_and_names_the_one_that_is_down() -> None:
    result = fanout.build_fanout().invoke("What is the stock level of SKU-12?")
    assert result.answer == "77 units in total (east 22, north 40, south 15); no answer from west"
    assert len(result.branches) == 4


def test_the_handoff_moves_billing_talk_to_billing_for_good(tmp_path: Path) -> None:
    handoff.REFUNDS.clear()
    desk = handoff.build_desk(tmp_path)
    first = desk.invoke("A billing problem: I was charged twice and want a refund", "x")
    assert first.agent == "billing" and first.transfers[0].source == "triage"
    second = desk.invoke("Refund 20 EUR for order A-7", "x")
    assert second.agent == "billing" and not second.transfers
    assert handoff.REFUNDS == [("A-7", 20.0)]


def test_the_choreography_chains_three_agents_by_events_alone() -> None:
    choreography.SENT.clear()
    deliveries = choreography.build_bus().run("order.placed", {"order_id": "B-2"})
    assert [(d.topic, d.agent, d.status) for d in deliveries] == [
        ("order.placed", "stock", "answered"),
        ("stock.reserved", "shipping", "answered"),
        ("shipment.booked", "notify", "answered"),
    ]
    assert choreography.SENT == ["B-2"]
    assert "TRK-B-2" in deliveries[1].answer


def test_each_run_of_the_handoff_example_starts_afresh_and_shows_what_was_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the user did: the example twice under one PODIUM_HOME; the second went on."""

    def run(*arguments: str) -> list[str]:
        handoff.REFUNDS.clear()
        monkeypatch.setattr(sys, "argv", ["handoff", *arguments])
        handoff.main()
        return capsys.readouterr().out.splitlines()

    first, second = run(), run()
    thread = first[0].split()[1].rstrip(":")
    assert first[0] == f"thread {thread}: new (continue it with --thread {thread})"
    assert first[1] == "you: A billing problem: I was charged twice and want a refund"
    assert first[2].startswith("billing [triage -> billing]: ")  # triage hands it over
    assert first[3:] == [
        "you: Refund 20 EUR for order A-7",
        'billing: refund(amount=20, order_id="A-7") → refunded 20.00 EUR for order A-7',
    ]
    assert second[0] != first[0] and second[1:] == first[1:]  # a new thread, the same run
    again = run("--thread", thread, "Refund 5 EUR for order A-8")
    assert again[0] == f"thread {thread}: continued, with billing"
    assert again[1] == "you: Refund 5 EUR for order A-8"
    assert handoff.REFUNDS == [("A-8", 5.0)]
