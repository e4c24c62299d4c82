"""The audit log: every run recorded, redacted, hash-chained; tampering is named."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.agent import Agent
from podium.cli.main import app
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.audit import LOG_NAME, verify
from podium.tracing.events import RunStarted
from podium.tracing.views import load_runs


@tool
def lookup(name: str) -> str:
    """Look up a person's contact details."""
    return f"{name}: ana@example.com, key sk-proj-{'a1B2' * 10}"


def run(request: str = "hello", answer: str = "hi") -> RunResult:
    model = ScriptedChatModel(turns=[calls(call("lookup", name="Ana")), answer])
    return Agent([lookup], model=model).invoke(request)


def lines(home: Path) -> list[str]:
    return (home / "audit" / LOG_NAME).read_text().splitlines()


def rewrite(home: Path, new_lines: list[str]) -> None:
    (home / "audit" / LOG_NAME).write_text("".join(f"{line}\n" for line in new_lines))


def test_every_run_is_recorded_with_its_events_and_the_chain_verifies(isolated: Path) -> None:
    first, second = run(), run("again", "bye")
    runs = load_runs(isolated / "audit")
    assert [r.trace_id for r in runs] == [first.trace_id, second.trace_id]
    kinds = [type(e).__name__ for e in runs[0].events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert {"NodeFinished", "ModelCalled", "ToolCalled", "GuardDecided", "PolicyDecided"} <= set(
        kinds
    )
    assert len(runs[0].events) == len(first.events)
    result = verify(isolated / "audit")
    assert result.intact and result.records == len(first.events) + len(second.events)


def test_secrets_and_personal_data_never_reach_the_log(isolated: Path) -> None:
    result = run("email bob@example.com about card 4111 1111 1111 1111", "sent to bob@example.com")
    text = (isolated / "audit" / LOG_NAME).read_text()
    for secret in ("bob@example.com", "4111 1111 1111 1111", "ana@example.com", "sk-proj-"):
        assert secret not in text
    started = result.events[0]
    assert isinstance(started, RunStarted) and "[EMAIL]" in started.request


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("edit", "edited, its hash does not match"),
        ("garble", "does not follow record"),
        ("delete", "does not follow record"),
        ("insert", "does not follow record"),
        ("truncate_tail", "records were deleted from the end"),
    ],
)
def test_tampering_is_named(isolated: Path, tamper: str, problem: str) -> None:
    run()
    original = lines(isolated)
    changed = list(original)
    if tamper == "edit":
        record = json.loads(changed[3])
        record["event"]["time"] += 1
        changed[3] = json.dumps(record)
    elif tamper == "garble":
        changed[3] = changed[3][:40]  # a complete record destroyed, not a crash
    elif tamper == "delete":
        del changed[3]
    elif tamper == "insert":
        changed.insert(3, changed[2])
    else:
        changed = changed[:-2]
    rewrite(isolated, changed)
    result = verify(isolated / "audit")
    assert not result.intact
    assert any(problem in p for p in result.problems), result.problems


def test_a_record_cut_short_by_a_crash_is_reported_and_the_rest_verifies(isolated: Path) -> None:
    run()
    with (isolated / "audit" / LOG_NAME).open("a") as handle:
        handle.write('{"seq": 999, "prev": "abc", "ha')  # the process died mid-write
    run("after the crash")
    result = verify(isolated / "audit")
    assert result.intact, result.problems
    assert any("incomplete record" in w for w in result.warnings)
    assert len(load_runs(isolated / "audit")) == 2


def test_an_unwritable_audit_directory_is_reported_not_fatal(
    isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    isolated.mkdir(parents=True)
    (isolated / "audit").write_text("a file where the directory should be")
    with caplog.at_level(logging.WARNING, logger="podium.tracing.audit"):
        first, second = run(), run()
    assert first.ok and second.ok
    for result in (first, second):
        assert result.warnings and "event(s) of this run not recorded" in result.warnings[0]
    # reported once
    assert len([r for r in caplog.records if r.name == "podium.tracing.audit"]) == 1


WRITER = """
import sys
from podium.agent import Agent
from podium.planner.models.scripted import ScriptedChatModel
for i in range(15):
    Agent([], model=ScriptedChatModel(turns=[f"{sys.argv[1]}-{i}"]), guards=None).invoke("hi")
"""


def test_processes_sharing_a_home_keep_one_chain(isolated: Path) -> None:
    import os

    environment = {**os.environ, "PODIUM_HOME": str(isolated)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, name], env=environment)
        for name in ("a", "b", "c")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    result = verify(isolated / "audit")
    assert result.intact, result.problems
    assert len(load_runs(isolated / "audit")) == 45


def test_trace_commands(isolated: Path) -> None:
    result = run()
    runner = CliRunner(env={"COLUMNS": "200"})
    listed = runner.invoke(app, ["trace", "list"])
    assert listed.exit_code == 0 and result.trace_id[:12] in listed.stdout
    shown = runner.invoke(app, ["trace", "show", result.trace_id[:8]])
    assert shown.exit_code == 0
    for expected in (
        "screen_input",
        "execute",
        "tool lookup ok",
        "policy lookup allow",
        "model scripted → lookup",
        "answer: hi",
    ):
        assert expected in shown.stdout
    missing = runner.invoke(app, ["trace", "show", "zzzz"])
    assert missing.exit_code == 2 and "no run with a trace id starting 'zzzz'" in missing.stderr
    assert runner.invoke(app, ["trace", "verify"]).exit_code == 0
    stats = runner.invoke(app, ["stats"])
    assert stats.exit_code == 0 and "lookup" in stats.stdout and "100.0%" in stats.stdout
    original = lines(isolated)
    rewrite(isolated, original[:2] + original[3:])
    tampered = runner.invoke(app, ["trace", "verify"])
    assert tampered.exit_code == 1 and "TAMPERED" in tampered.stdout


def test_trace_show_includes_approvals_and_compensations(isolated: Path) -> None:
    @tool(needs_approval=True, side_effects=True, compensate=lambda name: None)
    def reserve(name: str) -> str:
        """Reserve a room."""
        return "reserved"

    def refuse(messages: object) -> str:
        raise PermissionError("model gone")

    model = ScriptedChatModel(turns=[calls(call("reserve", "c9", name="Ana")), refuse])
    agent = Agent([reserve], model=model, guards=None)
    agent.invoke("reserve", thread_id="t")
    done = agent.resume("t", {"c9": True})
    shown = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["trace", "show", done.trace_id])
    for expected in (
        "reserve [c9] approved",
        "compensation of reserve [c9]: undone",
        "stopped: model_error",
    ):
        assert expected in shown.stdout, shown.stdout
