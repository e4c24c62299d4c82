"""Runs recorded into the audit log, its lines, and ways to tamper with it, for the tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from podium.agent import Agent
from podium.planner.models.scripted import ScriptedChatModel, call, calls
from podium.results import RunResult
from podium.tools.registry import tool
from podium.tracing.events import RunStarted
from podium.tracing.records import HEAD_NAME, LOG_NAME, record_line


@tool
def lookup(name: str) -> str:
    """Look up a person's contact details."""
    return f"{name}: ana@example.com, key sk-proj-{'a1B2' * 10}"


def run(request: str = "hello", answer: str = "hi") -> RunResult:
    """One run of a tool call and an answer, recorded in $PODIUM_HOME/audit."""
    model = ScriptedChatModel(turns=[calls(call("lookup", name="Ana")), answer])
    return Agent([lookup], model=model).invoke(request)


def lines(home: Path) -> list[str]:
    """The log's lines, without their newlines."""
    return (home / "audit" / LOG_NAME).read_text().split("\n")[:-1]


def rewrite(home: Path, new_lines: list[str]) -> None:
    """Replace the log with ``new_lines``."""
    (home / "audit" / LOG_NAME).write_text("".join(f"{line}\n" for line in new_lines))


FORGED = RunStarted(trace_id="f0rged", thread_id="t", model="m", request="wire the money")


def edit(home: Path) -> None:
    changed = lines(home)
    record = json.loads(changed[3])
    record["event"]["time"] += 1
    changed[3] = json.dumps(record)
    rewrite(home, changed)


def garble(home: Path) -> None:
    changed = lines(home)
    changed[3] = changed[3][:40]  # a complete record destroyed, not a crash
    rewrite(home, changed)


def delete(home: Path) -> None:
    changed = lines(home)
    del changed[3]
    rewrite(home, changed)


def insert(home: Path) -> None:
    changed = lines(home)
    changed.insert(3, changed[2])
    rewrite(home, changed)


def forge_line(home: Path) -> None:
    # Not a record at all: it used to be only a warning, and `trace show` displayed it.
    changed = lines(home)
    changed.insert(3, json.dumps({"event": FORGED.model_dump()}))
    rewrite(home, changed)


def forge_record(home: Path) -> None:
    # A record whose own hash is right, in the place of record 4.
    changed = lines(home)
    record = json.loads(changed[3])
    changed[3] = record_line(record["seq"], record["prev"], FORGED.model_dump_json())[0][:-1]
    rewrite(home, changed)


def delete_last(home: Path) -> None:
    rewrite(home, lines(home)[:-2])


def truncate(home: Path) -> None:
    log = home / "audit" / LOG_NAME
    data = log.read_bytes()
    log.write_bytes(data[: len(data) * 2 // 3])  # cut mid-record, like a crash would


def delete_head(home: Path) -> None:
    (home / "audit" / HEAD_NAME).unlink()


def delete_log(home: Path) -> None:
    (home / "audit" / LOG_NAME).unlink()


def empty_log(home: Path) -> None:
    (home / "audit" / LOG_NAME).write_bytes(b"")


TAMPERINGS: dict[str, tuple[Callable[[Path], None], str]] = {
    "edit": (edit, "edited, its hash does not match"),
    "garble": (garble, "line 4: not a record"),
    "delete": (delete, "does not follow record"),
    "insert": (insert, "does not follow record"),
    "forge_line": (forge_line, "line 4: not a record"),
    "forge_record": (forge_record, "does not follow record 4"),
    "delete_last": (delete_last, "records were deleted from the end"),
    "truncate": (truncate, "records were deleted from the end"),
    "delete_head": (delete_head, "head.json is missing but the log holds"),
    "delete_log": (delete_log, "the log is missing or empty but its head says"),
    "empty_log": (empty_log, "the log is missing or empty but its head says"),
}
