"""The audit log's writer: every run recorded, redacted, chained; one bad event stops nothing."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import field_serializer
from typer.testing import CliRunner

from podium.agent import Agent
from podium.cli.main import app
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.tools.registry import tool
from podium.tracing.audit import AuditLog, audit_log
from podium.tracing.events import RunStarted
from podium.tracing.records import LOG_NAME
from podium.tracing.verify import verify
from podium.tracing.views import load_runs
from tests.tracing.recorded import lines, rewrite, run


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
        "begin",
        "act",
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


def test_a_lone_surrogate_does_not_switch_the_audit_log_off(isolated: Path) -> None:
    # A model's or a tool's text can carry "\udfff" (requests with one are refused at the
    # door); UTF-8 cannot encode it. It used to kill the writer thread: no later run was
    # recorded, without a warning, each 5 s slower.
    first = Agent([], model=ScriptedChatModel(turns=["noted \udfff this"]), guards=None).invoke(
        "note this"
    )
    started = time.perf_counter()
    second = Agent([], model=ScriptedChatModel(turns=["hi"]), guards=None).invoke("hello")
    assert time.perf_counter() - started < 4.0  # no wait on a dead writer
    assert first.warnings == [] and second.warnings == []
    runs = load_runs(isolated / "audit")
    assert [r.trace_id for r in runs] == [first.trace_id, second.trace_id]
    finished_event = runs[0].finished
    assert finished_event is not None and finished_event.answer == "noted \\udfff this"
    result = verify(isolated / "audit")
    assert result.intact and result.records == len(first.events) + len(second.events)
    (isolated / "audit" / LOG_NAME).read_bytes().decode("utf-8")  # valid UTF-8 throughout
    status = audit_log(isolated / "audit").status()
    assert status.ok and status.dropped == 0 and status.written == result.records


class Unwritable(RunStarted):
    """An event whose JSON cannot be made: its serializer raises."""

    @field_serializer("request")
    def _fail(self, value: str) -> str:
        raise RuntimeError("this event cannot be written")


def event(number: int) -> RunStarted:
    return RunStarted(trace_id=f"t{number}", thread_id="t", model="m", request=f"r{number}")


def test_an_event_that_cannot_be_written_is_counted_and_the_writer_goes_on(
    isolated: Path,
) -> None:
    log = AuditLog(isolated / "audit")
    log.write(event(1))
    log.write(Unwritable(trace_id="bad", thread_id="t", model="m", request="x"))
    log.write(event(2))
    assert log.flush(timeout=5)
    status = log.status()
    assert (status.written, status.dropped, status.ok) == (2, 1, False)
    assert status.failure is not None and "this event cannot be written" in status.failure
    log.write(event(3))
    assert log.flush(timeout=5)
    status = log.status()
    assert (status.written, status.dropped, status.ok) == (3, 1, True)
    result = verify(isolated / "audit")
    assert result.intact and [e["trace_id"] for e in result.events] == ["t1", "t2", "t3"]


class StopsTheWriter(RunStarted):
    """An event whose writing ends the writer thread itself (as interpreter shutdown can)."""

    def model_dump_json(self, **options: Any) -> str:
        raise SystemExit("the thread writing this event stops")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # it stops
def test_flush_does_not_wait_on_a_writer_that_stopped(isolated: Path) -> None:
    log = AuditLog(isolated / "audit")
    log.write(StopsTheWriter(trace_id="stop", thread_id="t", model="m", request="x"))
    started = time.perf_counter()
    assert log.flush(timeout=5)  # the lost batch is counted, not waited for
    log.write(event(1))
    assert log.flush(timeout=5)  # the writer is started again
    assert time.perf_counter() - started < 3.0
    status = log.status()
    assert (status.written, status.dropped, status.ok) == (1, 1, True)
    assert [e["trace_id"] for e in verify(isolated / "audit").events] == ["t1"]


def test_status_tells_a_health_check_whether_the_log_records(isolated: Path) -> None:
    isolated.mkdir(parents=True)
    (isolated / "audit").write_text("a file where the directory should be")
    log = AuditLog(isolated / "audit")
    assert log.status().ok  # nothing tried yet
    log.write(event(1))
    assert log.flush(timeout=5)
    status = log.status()
    assert (status.ok, status.written, status.dropped, status.pending) == (False, 0, 1, 0)
    assert status.failure and status.path == str(isolated / "audit" / LOG_NAME)
    (isolated / "audit").unlink()  # the disk is fixed
    log.write(event(2))
    assert log.flush(timeout=5)
    status = log.status()
    assert (status.ok, status.written, status.dropped) == (True, 1, 1)
