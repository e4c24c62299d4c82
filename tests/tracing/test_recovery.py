"""A crashed writer never reads as tampering: the next one recovers, and says so in the log."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from podium.tracing.events import RunStarted
from podium.tracing.records import HEAD_NAME, LOG_NAME, Head, parse_record, record_line
from podium.tracing.verify import Verification, verify
from podium.tracing.views import load_runs
from tests.tracing.recorded import TAMPERINGS, lines, run


def event(name: str) -> RunStarted:
    return RunStarted(trace_id=name, thread_id="t", model="m", request=f"request {name}")


def chained_after_the_log(home: Path, names: list[str]) -> str:
    """The lines a writer appends for ``names`` after the log's last record."""
    last = json.loads(lines(home)[-1])
    head, text = Head(last["seq"], last["hash"]), ""
    for name in names:
        line, digest = record_line(head.seq + 1, head.hash, event(name).model_dump_json())
        text, head = text + line, Head(head.seq + 1, digest)
    return text


def every_line_is_a_record(directory: Path) -> bool:
    data = (directory / LOG_NAME).read_bytes()
    return all(parse_record(line) for line in data.split(b"\n")[:-1])


def test_records_written_before_a_crash_moved_the_head_are_taken_in(isolated: Path) -> None:
    first = run()
    with (isolated / "audit" / LOG_NAME).open("a") as handle:
        handle.write(chained_after_the_log(isolated, ["crashed-1", "crashed-2"]))
    # The writer was killed after appending, before it replaced head.json.
    result = verify(isolated / "audit")
    assert result.intact, result.problems  # it said TAMPERED, for ever
    assert any("come after the head" in w for w in result.warnings), result.warnings
    run("after the crash")
    result = verify(isolated / "audit")
    assert result.intact, result.problems
    assert not any("come after the head" in w for w in result.warnings)
    n = len(first.events)
    advanced = f"head advanced over 2 record(s) ({n + 1}..{n + 2}) written before a crash"
    assert any(advanced in w for w in result.warnings), result.warnings
    assert {"crashed-1", "crashed-2"} <= {r.trace_id for r in load_runs(isolated / "audit")}


def test_a_torn_last_line_is_dropped_and_the_drop_is_recorded(isolated: Path) -> None:
    first = run()
    torn = chained_after_the_log(isolated, ["torn"])[:90]  # killed mid-write
    with (isolated / "audit" / LOG_NAME).open("a") as handle:
        handle.write(torn)
    result = verify(isolated / "audit")
    assert result.intact and any("incomplete last record" in w for w in result.warnings)
    run("after the crash")
    result = verify(isolated / "audit")
    assert result.intact, result.problems
    dropped = (
        "dropped the incomplete record a crash mid-write left as the last line "
        f"(the start of record {len(first.events) + 1}, 90 bytes, sha256 "
    )
    assert any(dropped in w for w in result.warnings), result.warnings
    assert every_line_is_a_record(isolated / "audit")


def test_a_record_cut_short_by_a_crash_is_reported_and_the_rest_verifies(isolated: Path) -> None:
    run()
    with (isolated / "audit" / LOG_NAME).open("a") as handle:
        handle.write('{"seq": 999, "prev": "abc", "ha')  # the process died mid-write
    run("after the crash")
    result = verify(isolated / "audit")
    assert result.intact, result.problems
    assert any("incomplete record" in w for w in result.warnings)
    assert len(load_runs(isolated / "audit")) == 2


def test_a_head_written_before_sizes_were_kept_is_found_by_a_scan(isolated: Path) -> None:
    run()
    head = isolated / "audit" / HEAD_NAME
    data = json.loads(head.read_text())
    head.write_text(json.dumps({"seq": data["seq"], "hash": data["hash"]}))
    assert verify(isolated / "audit").intact
    run("with the old head")
    result = verify(isolated / "audit")
    assert result.intact and result.warnings == [], (result.problems, result.warnings)
    assert json.loads(head.read_text())["size"] == (isolated / "audit" / LOG_NAME).stat().st_size


KEY = "kept in the secret store"
WRITE = """
def write(directory, name, batches):
    log = AuditLog(Path(directory), KEY)
    rng = random.Random(name)
    for batch in itertools.count() if batches is None else range(batches):
        for _ in range(rng.randint(1, 10)):
            request = "x" * rng.randint(10, 200)
            log.write(RunStarted(trace_id=f"w{name}-{batch}", thread_id="t", model="m",
                                 request=request))
        log.flush()
"""
# One process imports podium once, then forks a writer per line it reads (the writer only
# stops when killed), and reaps it when told: 50 real processes without 50 interpreter starts.
SPAWNER = f"""
import itertools, os, random, sys
from pathlib import Path
from podium.tracing.audit import AuditLog
from podium.tracing.events import RunStarted
KEY = {KEY!r}
{WRITE}
for command in sys.stdin:
    verb, argument = command.split()
    if verb == "spawn":
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            try:
                write(sys.argv[1], argument, None)
            finally:
                os._exit(1)
        print(pid, flush=True)
    else:
        print(os.waitpid(int(argument), 0)[1], flush=True)
"""
FINISH = f"""
import itertools, random, sys
from pathlib import Path
from podium.tracing.audit import AuditLog
from podium.tracing.events import RunStarted
KEY = {KEY!r}
{WRITE}
write(sys.argv[1], "last", 3)
"""


def ask(spawner: subprocess.Popen[str], command: str) -> int:
    assert spawner.stdin is not None and spawner.stdout is not None
    spawner.stdin.write(command + "\n")
    spawner.stdin.flush()
    return int(spawner.stdout.readline())


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Verification]:
    """A signed log whose writers were killed 50 times at random points, then recovered."""
    home = tmp_path_factory.mktemp("crashes")
    directory = home / "audit"
    command = [sys.executable, "-c", SPAWNER, str(directory)]
    spawner = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    chance = random.Random(8)
    try:
        for kill in range(50):
            pid = ask(spawner, f"spawn {kill}")
            time.sleep(chance.uniform(0.0, 0.06))
            os.kill(pid, signal.SIGKILL)
            assert ask(spawner, f"reap {pid}") == signal.SIGKILL  # killed, not ended
            result = verify(directory, KEY)
            assert result.intact, (kill, result.problems)  # a crash is never tampering
    finally:
        spawner.kill()
        spawner.wait()
    finish = subprocess.run([sys.executable, "-c", FINISH, str(directory)], timeout=60)
    assert finish.returncode == 0
    return home, verify(directory, KEY)


def test_killed_writers_leave_a_log_that_verifies_after_recovery(
    crashed: tuple[Path, Verification],
) -> None:
    home, result = crashed
    assert result.intact, result.problems
    assert result.records > 50 and result.signed
    pending = ("come after the head", "incomplete last record")
    assert not [w for w in result.warnings if any(p in w for p in pending)], result.warnings
    assert all("recovered after a crash" in w for w in result.warnings), result.warnings
    assert every_line_is_a_record(home / "audit")


@pytest.mark.parametrize(
    "tamper",
    [
        *("edit", "forge_line", "forge_record", "delete"),
        *("delete_last", "truncate", "delete_head", "delete_log"),
    ],
)
def test_each_tampering_of_a_recovered_log_is_named(
    crashed: tuple[Path, Verification], tmp_path: Path, tamper: str
) -> None:
    home = tmp_path / "copy"
    shutil.copytree(crashed[0], home)
    change, problem = TAMPERINGS[tamper]
    change(home)
    result = verify(home / "audit", KEY)
    assert not result.intact
    assert any(problem in p for p in result.problems), result.problems


def test_verify_while_a_writer_appends_never_says_tampered(tmp_path: Path) -> None:
    # verify reads the log and its head under the lock the writer holds to change them.
    command = [sys.executable, "-c", SPAWNER, str(tmp_path / "audit")]
    spawner = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid = ask(spawner, "spawn busy")
        checked = 0
        deadline = time.monotonic() + 60
        while checked < 10 and time.monotonic() < deadline:  # the log grows fast: a few
            result = verify(tmp_path / "audit", KEY)
            assert result.intact, result.problems
            checked += result.records > 0
        os.kill(pid, signal.SIGKILL)
        ask(spawner, f"reap {pid}")
    finally:
        spawner.kill()
        spawner.wait()
    assert checked == 10
