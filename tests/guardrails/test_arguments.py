"""Tool-argument validators, alone and at the arguments boundary of a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from guardrails.validators import Validator

from podium.agent import Agent
from podium.guardrails.arguments import AllowedURLs, ReadOnlySQL, SandboxPath
from podium.guardrails.screens import Check, Screens, ToolChecks
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool


def outcome(validator: Validator, **arguments: object) -> str:
    return "pass" if validator.validate("", {"arguments": arguments}).outcome == "pass" else "fail"


def test_sandbox_path(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    (root / "data").mkdir(parents=True)
    (root / "escape").symlink_to(tmp_path)
    check = SandboxPath(root)
    assert outcome(check, path="data/report.csv") == "pass"
    assert outcome(check, path=str(root / "data")) == "pass"
    assert outcome(check, path="../secrets.txt") == "fail"
    assert outcome(check, path="/etc/passwd") == "fail"
    assert outcome(check, path="escape/anything") == "fail"  # a symbolic link out
    assert outcome(check, files=["data/a", "../../b"]) == "fail"  # nested arguments
    assert outcome(check, note="../not/a/path/field") == "pass"  # only path-like names


def test_allowed_urls() -> None:
    check = AllowedURLs(["api.example.com", "*.corp.example"])
    assert outcome(check, url="https://api.example.com/v1/x") == "pass"
    assert outcome(check, url="https://eu.corp.example/y") == "pass"
    assert outcome(check, url="https://api.example.com.evil.io/") == "fail"
    assert outcome(check, body="see http://evil.io/?q=secret") == "fail"  # any argument
    assert outcome(check, url="file:///etc/passwd") == "fail"


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT * FROM orders WHERE id = 7", True),
        ("with t as (select 1) select * from t", True),
        ("SELECT 'DROP TABLE x; --' AS text", True),
        ("SELECT 1; DROP TABLE orders", False),
        ("DELETE FROM orders", False),
        ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", False),
        ("SELECT * INTO copy FROM orders", False),
        ("PRAGMA journal_mode = DELETE", False),
        ("ATTACH DATABASE 'x.db' AS x", False),
    ],
)
def test_read_only_sql(sql: str, ok: bool) -> None:
    assert outcome(ReadOnlySQL(), query=sql) == ("pass" if ok else "fail")


executed: list[str] = []


@tool
def run_sql(query: str) -> str:
    """Run a SQL query on the orders database."""
    executed.append(query)
    return "3 rows"


def test_a_blocked_call_never_runs_and_reask_lets_the_planner_correct_it() -> None:
    executed.clear()
    model = ScriptedChatModel(
        turns=[
            calls(call("run_sql", "c1", query="DELETE FROM orders")),
            calls(call("run_sql", "c2", query="SELECT count(*) FROM orders")),
            "3 orders",
        ]
    )
    screens = Screens(tools={"run_sql": ToolChecks(arguments=[Check(ReadOnlySQL(), "reask")])})
    result = Agent([run_sql], model=model, guards=screens).invoke("how many orders?")
    assert executed == ["SELECT count(*) FROM orders"]
    first = result.tool_calls[0]
    assert first["status"] == "invalid_arguments"
    assert "it is not a SELECT" in first["output"] and "Correct them" in first["output"]
    assert result.answer == "3 orders"


def test_reasks_are_bounded_then_the_call_is_blocked() -> None:
    executed.clear()
    model = ScriptedChatModel(
        turns=[calls(call("run_sql", query="DROP TABLE orders"))], repeat_last=True
    )
    screens = Screens(
        tools={"run_sql": ToolChecks(arguments=[Check(ReadOnlySQL(), "reask")])}, max_reasks=2
    )
    result = Agent([run_sql], model=model, guards=screens).invoke("clean up")
    statuses = [c["status"] for c in result.tool_calls]
    assert executed == []
    assert statuses[:3] == ["invalid_arguments", "invalid_arguments", "blocked"]


def test_escalate_puts_the_call_to_a_person() -> None:
    executed.clear()
    model = ScriptedChatModel(
        turns=[calls(call("run_sql", "c1", query="UPDATE orders SET paid = 1")), "done"]
    )
    screens = Screens(arguments=[Check(ReadOnlySQL(), "escalate")])
    agent = Agent([run_sql], model=model, guards=screens)
    waiting = agent.invoke("mark paid", thread_id="esc")
    assert waiting.stop_reason == "awaiting_approval"
    (request,) = waiting.pending_approvals
    assert "a guard asks for a person's approval" in request.reason
    assert executed == []
    done = agent.resume("esc", {request.call_id: True})
    assert executed == ["UPDATE orders SET paid = 1"] and done.answer == "done"


def test_escalate_only_where_a_person_can_approve() -> None:
    from podium.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot apply at the output boundary"):
        Screens(output=[Check(ReadOnlySQL(), "escalate")])
