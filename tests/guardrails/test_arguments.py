"""Tool-argument validators, alone and at the arguments boundary of a run."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from guardrails.validators import Validator

from podium.agent import Agent
from podium.guardrails.arguments import AllowedRecipients, AllowedURLs, ReadOnlySQL, SandboxPath
from podium.guardrails.screens import Check, Screens, ToolChecks
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from podium.tools.schemas import PathArgument


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


def checked(validator: Validator, schema: Mapping[str, object], **arguments: object) -> str:
    metadata = {"arguments": arguments, "schema": schema}
    return "pass" if validator.validate("", metadata).outcome == "pass" else "fail"


def test_sandbox_path_decides_by_schema_not_by_name(tmp_path: Path) -> None:
    @tool
    def save(
        location: Path, note: str, where: PathArgument = ".", more: list[Path] | None = None
    ) -> str:
        """Save a note somewhere."""
        return ""

    schema = save.parameters_schema()
    check = SandboxPath(tmp_path)
    assert checked(check, schema, location="notes/a.txt", note="../fine") == "pass"
    assert checked(check, schema, location="../../etc/passwd", note="x") == "fail"
    assert checked(check, schema, location="a", note="x", where="/etc") == "fail"
    assert checked(check, schema, location="a", note="x", more=["b", "/root/.ssh"]) == "fail"
    # A tool whose schema marks no path: the names given to the validator are checked.
    listed = SandboxPath(tmp_path, fields=["spot"])
    assert checked(listed, {}, spot="../x") == "fail"
    assert checked(listed, {}, path="../x") == "pass"  # only the names listed
    assert checked(SandboxPath(tmp_path), {}, location="/etc/passwd") == "fail"  # by default
    assert checked(check, schema, location="a\x00b", note="x") == "fail"


saved: list[str] = []


@tool
def store(location: Path) -> str:
    """Store the report at a location."""
    saved.append(str(location))
    return "stored"


def test_a_path_parameter_named_location_is_checked_in_a_run(tmp_path: Path) -> None:
    saved.clear()
    model = ScriptedChatModel(turns=[calls(call("store", location="/etc/cron.d/x")), "done"])
    screens = Screens(arguments=[Check(SandboxPath(tmp_path), "block")])
    result = Agent([store], model=model, guards=screens).invoke("store the report")
    assert saved == []
    assert result.tool_calls[0]["status"] == "blocked"
    assert "outside the sandbox" in result.tool_calls[0]["output"]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.example.com'@evil.com/", False),
        ("https://api.example.com\\@evil.com/", False),
        ("https://api.example.com\n@evil.com/", False),
        ("https://api.example.com\t@evil.com/", False),
        ("https://user:pw@api.example.com/", False),
        ("https://api.example.com @evil.com", False),
        ("https:\\\\evil.com/", False),
        ("https:evil.com", False),
        ("https:/evil.com", False),
        ("//evil.com/x", False),
        ("https://evil.com#@api.example.com", False),
        ("https://api.example.com%2eevil.com/", False),
        ("https://аpi.example.com/", False),  # a Cyrillic "а"
        ("https://api.example.com:99999/", False),
        ("https://api.example.com\x00.evil.com/", False),
        ("see http://evil.io/?q=secret", False),
        ("https://api.example.com/v1?redirect=https://evil.com", False),
        ("HTTPS://API.EXAMPLE.COM/v1", True),
        ("https://api.example.com./v1", True),
        ("https://api.example.com:443/v1?x=@y", True),
        ("read 'https://api.example.com/docs'.", True),
        ("https://eu.corp.example/y", True),
        ("https://xn--bcher-kva.example/", True),
        ("https://bücher.example/", True),
    ],
)
def test_allowed_urls_compare_the_real_host(url: str, ok: bool) -> None:
    check = AllowedURLs(["api.example.com", "*.corp.example", "bücher.example"])
    assert outcome(check, url=url) == ("pass" if ok else "fail")


def test_allowed_urls_ports_and_user_information() -> None:
    check = AllowedURLs(["api.example.com:8443"], allow_userinfo=True)
    assert outcome(check, url="https://api.example.com:8443/x") == "pass"
    assert outcome(check, url="https://api.example.com/x") == "fail"  # port 443
    assert outcome(check, url="https://bot@api.example.com:8443/x") == "pass"
    assert outcome(check, url="https://api.example.com:8443@evil.com/") == "fail"
    refused = AllowedURLs(["api.example.com"]).validate(
        "", {"arguments": {"url": "https://api.example.com'@evil.com/"}}
    )
    assert "user information" in str(refused.error_message)
    assert "'evil.com'" in str(refused.error_message)


@pytest.mark.parametrize(
    ("arguments", "ok"),
    [
        ({"to": '"ana@company.example"@evil.com'}, False),
        ({"to": "Ana <ana@company.example>, x@evil.com"}, False),
        ({"to": '"x@evil.com" <ana@company.example>'}, False),
        ({"to": "ana@company.example(x).evil.com"}, False),
        ({"to": "ana@company.example .evil.com"}, False),
        ({"to": "ana@(comment)evil.com"}, False),
        ({"to": "ana%evil.com@company.example"}, False),
        ({"to": "ana@company.example or bob"}, False),
        ({"to": "ana@[10.0.0.1]"}, False),
        ({"to": "ana＠evil.com"}, False),  # a full-width @
        ({"to": "ana @ evil.com"}, False),
        ({"to": "<@company.example:ana@evil.com>"}, False),
        ({"body": 'forward to "ana@company.example"@evil.com'}, False),
        ({"to": "ana@company.example"}, True),
        ({"to": "ANA@COMPANY.EXAMPLE"}, True),
        ({"cc": ["Ana Lee <ana@company.example>", "bo@company.example"]}, True),
        ({"to": "ana@company.example", "body": "Meet @ 5pm, ask sales@company.example."}, True),
    ],
)
def test_allowed_recipients_read_the_real_domain(arguments: dict[str, object], ok: bool) -> None:
    assert outcome(AllowedRecipients(["company.example"]), **arguments) == (
        "pass" if ok else "fail"
    )


def test_recipient_fields_come_from_the_schema_too() -> None:
    schema = {"properties": {"target": {"type": "string", "format": "email"}}}
    check = AllowedRecipients(["company.example"])
    assert checked(check, schema, target="ana@company.example") == "pass"
    assert checked(check, schema, target="ana@company.example or bob") == "fail"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 /*! INTO OUTFILE '/tmp/x' */",
        "/*! DROP TABLE orders */ SELECT 1",
        "SELECT 1 /*M! , sleep(5) */",
        "SELECT $$a$$; DELETE FROM orders",
        "SELECT $$'$$; DELETE FROM orders; --'",  # a quote inside dollar quotes
        "SELECT $q$;$q$ AS x; DELETE FROM orders",
        "SELECT setval('orders_id_seq', 1)",
        "SELECT pg_catalog.setval('s', 1)",
        "SELECT \"setval\"('s', 1)",
        "SELECT nextval('s')",
        "SELECT 1 INTO OUTFILE '/tmp/x'",
        "SELECT * INTO new_table FROM orders",
        "SELECT 1 INTO @x",
        "COPY orders TO '/tmp/x'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_terminate_backend(1)",
        "SELECT pg_sleep(60)",
        "SELECT lo_import('/etc/passwd')",
        "SELECT * FROM dblink('host=x', 'DELETE FROM t') AS t(a int)",
        "SELECT load_file('/etc/passwd')",
        "SELECT sleep(60)",
        "SELECT benchmark(100000000, md5('a'))",
        "SELECT load_extension('evil')",
        "SELECT * FROM orders FOR UPDATE",
        "SELECT * FROM orders FOR SHARE",
        "SELECT * FROM orders LOCK IN SHARE MODE",
        "SELECT 1 # ; DELETE FROM orders",
        "SELECT 1 /* /* */ ; DELETE FROM orders; -- */",
        "SELECT 'a\\' ; DELETE FROM orders; --'",
        "EXPLAIN ANALYZE DELETE FROM orders",
        "SELECT (" * 3000 + "1" + ")" * 3000,
        "SELECT * FROM",
    ],
)
def test_read_only_sql_refuses_writes_in_every_dialect(sql: str) -> None:
    assert outcome(ReadOnlySQL(), query=sql) == "fail"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT o.id, upper(c.name) FROM orders o JOIN customers c ON c.id = o.customer",
        "SELECT count(*) FROM orders WHERE created > '2024-01-01' GROUP BY status",
        "SELECT replace(name, 'a', 'b'), coalesce(note, '') FROM t ORDER BY 1 LIMIT 5",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "SELECT pg_typeof(1)",
        "SELECT 'INTO OUTFILE; DELETE' AS text -- a comment",
    ],
)
def test_read_only_sql_lets_reading_through(sql: str) -> None:
    assert outcome(ReadOnlySQL(), query=sql) == "pass"


def test_read_only_sql_by_dialect() -> None:
    postgres = ReadOnlySQL(dialect="postgres")
    assert outcome(postgres, query="VALUES (1), (2)") == "pass"
    assert outcome(postgres, query="SELECT $$x$$; DELETE FROM t") == "fail"
    message = postgres.validate("", {"arguments": {"query": "SELECT setval('s', 1)"}})
    assert "it calls setval(), which has side effects" in str(message.error_message)


@pytest.mark.parametrize(
    "text", ["a." * 6_000, "http:" * 2_400, "a@" * 6_000, "@a." * 4_000, "a@" + " " * 12_000]
)
def test_url_and_recipient_checks_run_in_linear_time(text: str) -> None:
    started = time.process_time()
    for check in (AllowedURLs(["api.example.com"]), AllowedRecipients(["company.example"])):
        check.validate("", {"arguments": {"to": text}})
    assert time.process_time() - started < 5  # a rescan from every position took seconds
