"""The customer-support example, offline (its planner is scripted: it chains the steps)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from examples.support import store
from examples.support.workflow import build_agent, classify
from podium.memory.store import MemoryStore
from podium.tracing.events import MemoryUsed


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return store.seed(tmp_path / "shop.db")


def test_requests_are_classified() -> None:
    assert classify("My parcel arrived broken, I want my money back today") == ("refund", "high")
    assert classify("Where is my order?") == ("order_status", "normal")
    assert classify("Do you sell gift cards?") == ("other", "normal")


def test_personal_data_is_redacted_before_any_tool_sees_it(database: Path) -> None:
    agent = build_agent(database)
    result = agent.invoke(
        "I'm ana@example.com, call me on +44 20 7946 0958. Where is order 1001?",
        principal=agent.policy.principal("ana"),
    )
    arguments = " ".join(str(c["arguments"]) for c in result.tool_calls)
    assert "ana@example.com" not in arguments and "7946" not in arguments
    assert "[EMAIL]" in arguments and "[PHONE]" in arguments
    assert "order 1001: 120.00 EUR, shipped" in result.answer


def test_a_small_refund_goes_through_and_a_large_one_waits_for_a_person(
    database: Path,
) -> None:
    agent = build_agent(database)
    ana = agent.policy.principal("ana")
    small = agent.invoke("Refund 60 EUR on order 1001, it arrived broken", principal=ana)
    assert "refunded 60.00 EUR on order 1001" in small.answer
    large = agent.invoke("Refund 300 EUR on order 1002, it is damaged", principal=ana)
    assert large.stop_reason == "awaiting_approval"
    assert large.pending_approvals[0].reason == (
        "a guard asks for a person's approval: refund of 300 is above 100"
    )
    assert store.refunds(database, "acme") == [(1001, 60.0)]
    declined = agent.resume(large.thread_id, {large.pending_approvals[0].call_id: False})
    assert store.refunds(database, "acme") == [(1001, 60.0)]
    assert "refunded 300" not in declined.answer
    again = agent.invoke("Refund 300 EUR on order 1002, it is damaged", principal=ana)
    agent.resume(again.thread_id, {again.pending_approvals[0].call_id: True})
    assert store.refunds(database, "acme") == [(1001, 60.0), (1002, 300.0)]


def test_refunds_never_add_up_to_more_than_was_paid_and_a_refused_one_is_in_the_reply(
    database: Path,
) -> None:
    """What the user did: three 60 EUR refunds on order 1001, which was paid 120 EUR."""
    agent = build_agent(database)
    ana = agent.policy.principal("ana")
    request = "Refund 60 EUR on order 1001, it arrived broken"
    replies = [agent.invoke(request, principal=ana).answer for _ in range(3)]
    assert "refunded 60.00 EUR on order 1001 (60.00 EUR left to refund)." in replies[0]
    assert "refunded 60.00 EUR on order 1001 (0.00 EUR left to refund)." in replies[1]
    assert replies[2] == (
        "We are sorry about your order. order 1001: 120.00 EUR, shipped, customer C-17."
        " We could not refund 60.00 EUR on order 1001: only 0.00 EUR of the 120.00 EUR paid"
        " is left to refund (120.00 EUR refunded already). Kind regards, Support"
    )
    assert store.refunds(database, "acme") == [(1001, 60.0), (1001, 60.0)]


def test_a_refund_that_was_not_approved_is_in_the_reply(database: Path) -> None:
    agent = build_agent(database)
    large = agent.invoke("Refund 300 EUR on order 1002", principal=agent.policy.principal("ana"))
    declined = agent.resume(large.thread_id, {large.pending_approvals[0].call_id: False})
    assert "We could not refund 300.00 EUR on order 1002: it was not approved." in declined.answer


def test_refunds_racing_each_other_cannot_pass_what_was_paid(database: Path) -> None:
    """The check and the insert are one transaction: six at once, only two fit in 120 EUR."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(store.add_refund, database, "acme", 1001, 50.0) for _ in range(6)]
    errors = [future.exception() for future in futures]
    assert sum(error is None for error in errors) == 2
    assert all(isinstance(error, store.RefundRefused) for error in errors if error is not None)
    assert store.refunds(database, "acme") == [(1001, 50.0), (1001, 50.0)]
    with pytest.raises(store.RefundRefused, match=r"only 20\.00 EUR of the 120\.00 EUR paid"):
        store.add_refund(database, "acme", 1001, 20.01)
    assert store.add_refund(database, "acme", 1001, 20.0) == 0.0


def test_tenants_do_not_see_each_others_orders(database: Path) -> None:
    agent = build_agent(database)
    bob = agent.policy.principal("bob")
    result = agent.invoke("Refund 50 EUR on order 1001, it arrived broken", principal=bob)
    assert "We could not find order 1001 in your account." in result.answer
    assert [c["name"] for c in result.tool_calls if c["status"] == "ok"] == [
        "classify_request",
        "draft_reply",
    ]
    assert store.refunds(database, "acme") == store.refunds(database, "globex") == []


def test_an_unknown_order_gets_a_clear_reply(database: Path) -> None:
    agent = build_agent(database)
    result = agent.invoke("Where is order 9999?", principal=agent.policy.principal("ana"))
    assert result.stop_reason == "answered"
    assert "We could not find order 9999 in your account." in result.answer


@pytest.mark.slow
def test_memory_recalls_a_tenants_earlier_tickets_and_only_its_own(
    database: Path, tmp_path: Path
) -> None:
    agent = build_agent(database, MemoryStore(tmp_path / "memory"))
    ana, bob = agent.policy.principal("ana"), agent.policy.principal("bob")
    agent.invoke("Where is order 1001? It should have arrived by now", principal=ana)
    again = agent.invoke("Any news on where order 1001 is?", principal=ana)
    other = agent.invoke("Any news on where order 1001 is?", principal=bob)

    def recalled(events: Sequence[object]) -> int:
        return sum(e.count for e in events if isinstance(e, MemoryUsed) and e.operation == "recall")

    assert recalled(again.events) >= 1
    assert recalled(other.events) == 0


def test_an_unknown_customer_gets_a_clear_reply_and_the_trace_renders(database: Path) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    agent = build_agent(database)
    known = agent.invoke("How many orders does C-17 have?", principal=agent.policy.principal("ana"))
    assert "customer C-17: 2 order(s) on file." in known.answer
    other = agent.invoke("How many orders does C-17 have?", principal=agent.policy.principal("bob"))
    assert "We could not find customer C-17 in your account." in other.answer
    shown = CliRunner().invoke(app, ["trace", "show", other.trace_id])
    assert shown.exit_code == 0 and "lookup_customer" in shown.output


def test_the_command_names_bad_input_in_one_line_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from examples.support.workflow import main

    monkeypatch.setattr(sys, "argv", ["workflow", "--as", "nobody", "Where is order 1001?"])
    assert main() == 2
    error = capsys.readouterr().err.splitlines()
    assert error[0].startswith("error: principal 'nobody' is not in the policy")
    assert error[1] == "  fix: known: ana, bob or add it under principals"
    monkeypatch.setattr(sys, "argv", ["workflow", "--data", "/proc/nope", "Where is order 1001?"])
    assert main() == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: cannot keep the shop's data in /proc/nope: No such file or directory",
        "  fix: give a folder you can write, like --data support-data",
    ]
