"""The audit log: every run event as a JSON line, chained by hashes so edits show.

Each record carries the hash of the one before; ``head.json`` beside the log holds the
newest record's number and hash, so records deleted from the end show too. ``verify`` walks
the chain. The log is tamper-evident, not tamper-proof: whoever can rewrite the whole file
and its head can forge it (a signing key kept elsewhere would be the next step).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.tracing.events import Event

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "head.json"
QUEUE_LIMIT = 10_000


WRITE_INTERVAL = 0.2  # seconds: at most this much is lost if the process is killed
# A record is this line, with the event's JSON exactly as hashed; verify reads it back the same.
RECORD = re.compile(
    r'^\{"seq": (\d+), "prev": "([0-9a-f]{64})", "hash": "([0-9a-f]{64})", '
    r'"event": (\{.*\})\}$'
)


def record_hash(seq: int, prev: str, event_json: str) -> str:
    """The hash that chains one record to the one before, over the event's exact JSON."""
    return hashlib.sha256(f"{seq}|{prev}|{event_json}".encode()).hexdigest()


def record_line(seq: int, prev: str, event_json: str) -> tuple[str, str]:
    """The log line for one event, and its hash."""
    digest = record_hash(seq, prev, event_json)
    return (
        f'{{"seq": {seq}, "prev": "{prev}", "hash": "{digest}", "event": {event_json}}}\n',
        digest,
    )


@dataclass
class Head:
    """The newest record: its number and hash."""

    seq: int = 0
    hash: str = GENESIS


def _read_head(directory: Path) -> Head | None:
    try:
        data = json.loads((directory / HEAD_NAME).read_text())
        return Head(int(data["seq"]), str(data["hash"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _scan_head(log: Path) -> Head:
    """The last valid record of the log (when the head file is missing)."""
    head = Head()
    for record in read_records(log):
        head = Head(record["seq"], record["hash"])
    return head


class AuditLog:
    """Appends events to ``audit.jsonl`` from a background thread, in batches, under a lock.

    ``write`` only appends to a list (a run never waits on the disk, nor wakes a thread per
    event); the writer wakes every WRITE_INTERVAL seconds, or at once on ``flush``, which
    the agent calls when a run ends. A failure to write is logged once and counted in
    ``dropped``, with the first error in ``failure``: nothing is lost silently.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOG_NAME
        self.dropped = 0
        self.failure: str | None = None
        self._pending: list[Event] = []
        self._accepted = 0  # events handed to write()
        self._settled = 0  # events written or counted as dropped
        self._lock = threading.Lock()
        self._settled_changed = threading.Condition()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="podium-audit", daemon=True)
        self._thread.start()

    def write(self, event: Event) -> None:
        """Accept ``event`` for the log (a tracer sink)."""
        with self._lock:
            self._accepted += 1
            if len(self._pending) >= QUEUE_LIMIT:
                overflow = True
            else:
                self._pending.append(event)
                overflow = False
        if overflow:
            self._settle(0, "the audit backlog is full (the disk is too slow or stuck)", 1)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event accepted so far is written (or failed); False on timeout."""
        with self._lock:
            target = self._accepted
        self._wake.set()
        with self._settled_changed:
            return self._settled_changed.wait_for(lambda: self._settled >= target, timeout)

    def _settle(self, written: int, failure: str | None = None, dropped: int = 0) -> None:
        if failure is not None:
            self.dropped += dropped
            if self.failure is None:
                self.failure = failure
                logger.warning(
                    "audit log %s: %s; events are not being recorded", self.path, failure
                )
        with self._settled_changed:
            self._settled += written + dropped
            self._settled_changed.notify_all()

    def _run(self) -> None:
        while True:
            self._wake.wait(WRITE_INTERVAL)
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                self._append(batch)
            except OSError as error:
                self._settle(0, error.strerror or str(error), len(batch))
            else:
                self._settle(len(batch))

    def _append(self, events: list[Event]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several processes may share one home
            try:
                head = _read_head(self.directory) or _scan_head(self.path)
                handle.seek(0, os.SEEK_END)
                lines = []
                if handle.tell() > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":  # a record cut short by a crash
                        lines.append(b"\n")
                for event in events:
                    line, digest = record_line(head.seq + 1, head.hash, event.model_dump_json())
                    lines.append(line.encode())
                    head = Head(head.seq + 1, digest)
                handle.write(b"".join(lines))
                handle.flush()
                temporary = self.directory / f".{HEAD_NAME}.{os.getpid()}"
                temporary.write_text(json.dumps({"seq": head.seq, "hash": head.hash}))
                os.replace(temporary, self.directory / HEAD_NAME)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_logs: dict[Path, AuditLog] = {}
_logs_lock = threading.Lock()


def audit_log(directory: Path) -> AuditLog:
    """The process's one writer for ``directory`` (shared by every agent using it)."""
    key = directory.resolve()
    with _logs_lock:
        if key not in _logs:
            _logs[key] = AuditLog(key)
        return _logs[key]


def read_records(log: Path) -> Iterator[dict[str, Any]]:
    """The log's records that parse, in order (a line cut short by a crash is skipped)."""
    with contextlib.suppress(FileNotFoundError), log.open(encoding="utf-8") as handle:
        for line in handle:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and "event" in record:
                    yield record


@dataclass
class Verification:
    """What ``verify`` found: records checked, problems (each naming its line), warnings."""

    records: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Whether no record was edited, inserted or deleted."""
        return not self.problems


def verify(directory: Path) -> Verification:
    """Walk the chain of ``directory``'s log and name every break in it."""
    result = Verification()
    log = directory / LOG_NAME
    if not log.exists():
        result.warnings.append(f"no audit log at {log}")
        return result
    expected = Head()
    lines = log.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        match = RECORD.match(line)
        try:
            if match is None:
                raise ValueError("not a record line")
            json.loads(match.group(4))
        except ValueError:
            # A record cut short by a crash was never chained to: the next record links to
            # the one before it. A complete record destroyed later breaks the chain (or the
            # head) and is reported there.
            result.warnings.append(f"line {number}: incomplete record (a crash mid-write?)")
            continue
        seq, prev, digest = int(match.group(1)), match.group(2), match.group(3)
        event = match.group(4)
        result.records += 1
        if record_hash(seq, prev, event) != digest:
            result.problems.append(f"line {number} (record {seq}): edited, its hash does not match")
        elif seq != expected.seq + 1 or prev != expected.hash:
            result.problems.append(
                f"line {number} (record {seq}): does not follow record {expected.seq} "
                "(a record was deleted or inserted before it)"
            )
        expected = Head(seq, digest)
    head = _read_head(directory)
    if head is None:
        result.warnings.append("no head file: deletions at the end cannot be detected")
    elif (head.seq, head.hash) != (expected.seq, expected.hash):
        result.problems.append(
            f"the log ends at record {expected.seq} but its head says {head.seq}: "
            "records were deleted from the end or the log was replaced"
        )
    return result
