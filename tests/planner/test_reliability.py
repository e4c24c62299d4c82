"""Budgets, loop detection, approvals and resume (ScriptedChatModel gives known plans)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from podium.agent import Agent
from podium.config import Limits, Price, Settings
from podium.errors import ConfigError, InvalidRequest
from podium.planner.approvals import Approval
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from podium.tracing.events import ApprovalDecided, ApprovalRequested

ran: list[str] = []


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool(needs_approval=True, risk="high", side_effects=True)
def deploy(version: str) -> str:
    """Deploy a version to production."""
    ran.append(f"deploy {version}")
    return f"deployed {version}"


@tool(needs_approval=True, risk="high", side_effects=True)
def drop_table(name: str) -> str:
    """Drop a database table."""
    ran.append(f"drop {name}")
    return f"dropped {name}"


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    ran.clear()


def results(messages: list[BaseMessage]) -> AIMessage:
    outputs: list[str] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        outputs.insert(0, str(message.content))
    return AIMessage(content=" | ".join(outputs))


def agent(model: ScriptedChatModel, *tools: object, **options: object) -> Agent:
    options.setdefault("guards", None)
    return Agent(list(tools) or [add], model=model, **options)  # type: ignore[arg-type]


def test_a_repeated_call_returns_the_earlier_result_then_the_loop_is_stopped() -> None:
    model = ScriptedChatModel(turns=[calls(call("add", a=1, b=1))], repeat_last=True)
    result = agent(model, limits=Limits(max_steps=10)).invoke("loop")
    assert [c["status"] for c in result.tool_calls] == ["ok", "repeated", "repeated"]
    note = result.tool_calls[1]["output"]
    assert "already called with these arguments in step 1" in note and "returned: 2" in note
    assert result.stop_reason == "loop_detected" and len(model.calls) == 3


def test_a_repeatable_tool_runs_again_but_the_same_answer_counts_as_nothing_new() -> None:
    @tool(repeatable=True)
    def status() -> str:
        """Check the deployment status."""
        return "pending"

    model = ScriptedChatModel(turns=[calls(call("status"))], repeat_last=True)
    result = agent(model, status, limits=Limits(max_steps=10)).invoke("wait")
    assert [c["status"] for c in result.tool_calls] == ["ok", "ok", "ok"]
    assert result.stop_reason == "loop_detected"


def test_progress_is_not_a_loop() -> None:
    model = ScriptedChatModel(
        turns=[
            calls(call("add", a=1, b=1)),
            calls(call("add", a=2, b=2)),
            calls(call("add", a=3, b=3)),
            "done",
        ]
    )
    assert agent(model).invoke("count").ok


def test_the_tool_call_budget_also_bounds_a_parallel_round() -> None:
    model = ScriptedChatModel(
        turns=[
            calls(*(call("add", a=i, b=i) for i in range(4))),
            results,
            "unreachable",
        ]
    )
    result = agent(model, limits=Limits(max_tool_calls=2)).invoke("many")
    assert [c["status"] for c in result.tool_calls] == ["ok", "ok", "denied", "denied"]
    assert "tool-call budget (2) is used up" in result.tool_calls[2]["output"]
    assert result.stop_reason == "tool_call_limit"


def test_token_and_cost_budgets_end_the_run() -> None:
    def spend(messages: list[BaseMessage]) -> AIMessage:
        message = calls(call("add", a=len(messages), b=1))
        message.usage_metadata = {"input_tokens": 600, "output_tokens": 100, "total_tokens": 700}
        return message

    tokens = agent(
        ScriptedChatModel(turns=[spend], repeat_last=True), limits=Limits(max_tokens=1000)
    ).invoke("spend")
    assert tokens.stop_reason == "token_limit" and tokens.usage.model_calls == 2
    priced = Settings.load(prices={"scripted": Price(input=100, output=100)})
    cost = agent(
        ScriptedChatModel(turns=[spend], repeat_last=True),
        settings=priced,
        limits=Limits(max_cost_usd=0.1),
    ).invoke("spend")
    assert cost.stop_reason == "cost_limit" and "cost budget ($0.1)" in cost.answer


@pytest.mark.parametrize("budget", ["max_tool_calls", "max_tokens", "max_cost_usd", "max_steps"])
@pytest.mark.parametrize("value", [0, -1])
def test_budgets_must_be_positive(budget: str, value: int) -> None:
    with pytest.raises(ConfigError, match=f"{budget} must be positive"):
        Limits(**{budget: value})


def test_zero_budget_in_the_environment_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_MAX_TOKENS", "0")
    with pytest.raises(ConfigError, match="max_tokens"):
        Settings.load()


def approval_script() -> ScriptedChatModel:
    return ScriptedChatModel(
        turns=[
            calls(
                call("deploy", "c-deploy", version="2.0"),
                call("drop_table", "c-drop", name="users"),
                call("add", "c-add", a=1, b=2),
            ),
            results,
        ]
    )


def test_calls_needing_approval_wait_and_are_decided_together() -> None:
    model = approval_script()
    runner = agent(model, add, deploy, drop_table)
    waiting = runner.invoke("ship it", thread_id="t")
    assert waiting.stop_reason == "awaiting_approval" and ran == []
    assert [r.call_id for r in waiting.pending_approvals] == ["c-deploy", "c-drop"]
    assert waiting.pending_approvals[0].arguments == {"version": "2.0"}
    assert sum(isinstance(e, ApprovalRequested) for e in waiting.events) == 2
    done = runner.resume(
        "t",
        {
            "c-deploy": Approval(approved=True, by="maria"),
            "c-drop": Approval(approved=False, by="maria", reason="never in production"),
        },
    )
    assert ran == ["deploy 2.0"]
    assert [(c["name"], c["status"]) for c in done.tool_calls] == [
        ("deploy", "ok"),
        ("drop_table", "denied"),
        ("add", "ok"),
    ]
    assert "not approved by maria: never in production" in done.tool_calls[1]["output"]
    assert done.ok and done.answer.startswith("deployed 2.0 | not approved by maria")
    assert sum(isinstance(e, ApprovalDecided) for e in done.events) == 2
    model.assert_complete()


def test_bad_resumes_are_refused_and_the_run_stays_resumable() -> None:
    runner = agent(approval_script(), add, deploy, drop_table)
    runner.invoke("ship it", thread_id="t")
    with pytest.raises(InvalidRequest, match=r"no pending approval for call id.*c-nope"):
        runner.resume("t", {"c-deploy": True, "c-drop": True, "c-nope": True})
    with pytest.raises(InvalidRequest, match="no decision was given"):
        runner.resume("t", {})
    with pytest.raises(InvalidRequest, match="waits for approval"):
        runner.resume("t")
    assert runner.resume("t", {"c-deploy": True, "c-drop": True}).ok
    assert ran == ["deploy 2.0", "drop users"]
    with pytest.raises(InvalidRequest, match="nothing to resume: its last run finished"):
        runner.resume("t", {"c-deploy": True})
    with pytest.raises(InvalidRequest, match="nothing to resume"):
        runner.resume("never-used")


def test_a_resumed_run_keeps_its_principal_and_a_fresh_time_budget() -> None:
    from podium.identity import Principal

    @tool(scopes=["release"], needs_approval=True)
    def release(version: str) -> str:
        """Release a version."""
        return f"released {version}"

    model = ScriptedChatModel(turns=[calls(call("release", "c1", version="1")), results])
    runner = agent(model, release, limits=Limits(max_seconds=30))
    releaser = Principal(id="ci", scopes=frozenset({"release"}))
    assert runner.invoke("go", thread_id="t", principal=releaser).stop_reason == (
        "awaiting_approval"
    )
    done = runner.resume("t", {"c1": True})
    assert done.answer == "released 1"


class RateLimitError(Exception):
    """Named as the openai client's: podium classifies model errors by class name."""


class InternalServerError(Exception):
    """Named as the openai client's."""


def test_transient_model_errors_are_retried_then_the_fallback_model_answers() -> None:
    from podium.tracing.events import FallbackUsed, Retried

    def busy(messages: list[BaseMessage]) -> AIMessage:
        raise RateLimitError("slow down")

    def broken(messages: list[BaseMessage]) -> AIMessage:
        raise InternalServerError("boom")

    settings = Settings.load(model_retries=2, model_retry_wait=0.001)
    recovered = agent(
        ScriptedChatModel(turns=[busy, busy, "third time lucky"]), settings=settings
    ).invoke("hi")
    assert recovered.answer == "third time lucky"
    assert [e.attempt for e in recovered.events if isinstance(e, Retried)] == [1, 2]

    backup = ScriptedChatModel(turns=["from the backup"], model="backup-model")
    fallen = agent(
        ScriptedChatModel(turns=[broken], repeat_last=True),
        settings=settings,
        fallback_model=backup,
    ).invoke("hi")
    assert fallen.answer == "from the backup"
    (used,) = [e for e in fallen.events if isinstance(e, FallbackUsed)]
    assert used.target == "model" and used.fallback == "backup-model"
    assert "InternalServerError: boom" in used.reason


def test_a_non_transient_model_error_is_not_retried() -> None:
    def refuse(messages: list[BaseMessage]) -> AIMessage:
        raise PermissionError("no access to this model")

    model = ScriptedChatModel(turns=[refuse, "never"])
    result = agent(model, settings=Settings.load(model_retry_wait=0.001)).invoke("hi")
    assert result.stop_reason == "model_error" and len(model.calls) == 1


def test_a_thread_waiting_for_approval_takes_no_new_request() -> None:
    runner = agent(approval_script(), add, deploy, drop_table)
    runner.invoke("ship it", thread_id="t")
    with pytest.raises(InvalidRequest, match="the last run of thread t waits for approval"):
        runner.invoke("something else", thread_id="t")
    assert runner.resume("t", {"c-deploy": False, "c-drop": False}).ok


def test_calls_decided_one_resume_at_a_time_wait_on_the_rest_then_run_together() -> None:
    # Each call may be another decider's: a resume deciding some of them left the run
    # refused ("no decision for call id"), so only one who could decide all could resume it.
    runner = agent(approval_script(), add, deploy, drop_table)
    runner.invoke("ship it", thread_id="t")
    first = runner.resume("t", {"c-drop": Approval(approved=False, by="dba", reason="no")})
    assert first.stop_reason == "awaiting_approval" and ran == []  # nothing runs before all
    assert [r.call_id for r in first.pending_approvals] == ["c-deploy"]
    assert [(e.call_id, e.by) for e in first.events if isinstance(e, ApprovalDecided)] == [
        ("c-drop", "dba")
    ]
    assert [e.call_id for e in first.events if isinstance(e, ApprovalRequested)] == ["c-deploy"]
    with pytest.raises(InvalidRequest, match=r"no pending approval for call id.*c-drop"):
        runner.resume("t", {"c-drop": True})  # decided already: not decided twice
    done = runner.resume("t", {"c-deploy": Approval(approved=True, by="rel")})
    assert done.ok and ran == ["deploy 2.0"]
    assert [(e.call_id, e.by) for e in done.events if isinstance(e, ApprovalDecided)] == [
        ("c-deploy", "rel")
    ]  # each decision traced once, in the run that received it
    assert not [e for e in done.events if isinstance(e, ApprovalRequested)]
    assert "not approved by dba: no" in done.tool_calls[1]["output"]


@pytest.mark.parametrize("partial", [True, False])
def test_a_rejection_holds_when_the_policy_stops_asking_for_it(partial: bool) -> None:
    # The policy changed while the round waited: drop_table needs no approval any more. The
    # rejection given then was never read (nothing asked for it) and the call ran; with
    # decisions taken in turns, rel's earlier decision was traced again in its place.
    from podium.guardrails.policy import Policy
    from podium.guardrails.policy_file import PolicyFile

    model = approval_script()

    def fresh(rules: dict[str, Any]) -> Agent:
        policy = Policy(PolicyFile.model_validate(rules))
        return agent(model, add, deploy, drop_table, policy=policy)

    fresh({}).invoke("ship it", thread_id="t")
    decisions: dict[str, bool | Approval] = {
        "c-drop": Approval(approved=False, by="dba", reason="never")
    }
    if partial:
        fresh({}).resume("t", {"c-deploy": Approval(approved=True, by="rel")})
    else:
        decisions["c-deploy"] = Approval(approved=True, by="rel")
    relaxing = ["drop_table"] if partial else ["drop_table", "deploy"]  # (none asked for now)
    relaxed = fresh({"tools": {name: {"needs_approval": False} for name in relaxing}})
    done = relaxed.resume("t", decisions)
    assert done.ok and ran == ["deploy 2.0"], (done.answer, ran)
    assert "not approved by dba: never" in done.tool_calls[1]["output"]
    traced = [(e.call_id, e.by) for e in done.events if isinstance(e, ApprovalDecided)]
    assert traced == ([("c-drop", "dba")] if partial else [("c-deploy", "rel"), ("c-drop", "dba")])


def _approve_deploy_then_die(model: ScriptedChatModel) -> None:
    import os
    import signal

    def die(event: object) -> None:
        if type(event).__name__ == "ToolCalled":  # deploy ran, and is in the ledger
            os.kill(os.getpid(), signal.SIGKILL)

    runner = agent(model, add, deploy, drop_table, sinks=[die])
    runner.resume("t", {"c-deploy": Approval(approved=True, by="rel")})


@pytest.mark.slow
def test_a_call_that_ran_before_a_crash_is_not_reported_rejected_by_a_later_decision(
    isolated: Path,
) -> None:
    # The crash lost the approval and the thread waits again; a rejection given then was
    # applied to the call that had run: "not approved, the call was not made", over a
    # deploy that happened (and was traced as decided so).
    import asyncio

    from tests.forking import forked

    model = ScriptedChatModel(turns=[calls(call("deploy", "c-deploy", version="2.0")), results])
    agent(model, add, deploy, drop_table).invoke("ship", thread_id="t")
    child = forked(_approve_deploy_then_die, model)
    child.join(60)
    assert child.exitcode == -9
    again = agent(model, add, deploy, drop_table)
    assert [w.call_id for w in asyncio.run(again.athread("t")).waiting] == ["c-deploy"]
    done = again.resume("t", {"c-deploy": Approval(approved=False, by="rel", reason="no")})
    assert [(c["name"], c["status"]) for c in done.tool_calls] == [("deploy", "replayed")]
    assert done.answer == "deployed 2.0", done.answer
    assert not [e for e in done.events if isinstance(e, ApprovalDecided)]
    assert ran == []  # (here: the child deployed; the replay did not deploy again)
