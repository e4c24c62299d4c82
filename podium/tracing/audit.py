"""The audit log's writer: every run event as a JSON line, chained by hashes so edits show.

Each record carries the hash of the one before (and, with ``PODIUM_AUDIT_KEY``, a signature
over its hash); ``head.json`` beside the log names the newest record, so records deleted from
the end show too. ``podium.tracing.verify`` checks all of it; ``podium.tracing.records``
holds the format; ``podium.tracing.recovery`` takes over what a crashed writer left.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from podium.tracing.events import AuditRecovered, Event
from podium.tracing.records import LOG_NAME, Head, event_json, record_line, write_head
from podium.tracing.recovery import where_to_start

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000
WRITE_INTERVAL = 0.2  # seconds: at most this much is lost if the process is killed


@dataclass(frozen=True)
class AuditStatus:
    """How the audit log is doing, for a health check (``AuditLog.status()``).

    Attributes:
        ok: The writer is running and its latest write recorded every event it held.
        path: The log file.
        written: Events recorded since the process started.
        dropped: Events that could not be recorded (counted, never silently lost).
        pending: Events accepted and not written yet.
        failure: Why the latest failed write failed (None if none ever did).
    """

    ok: bool
    path: str
    written: int
    dropped: int
    pending: int
    failure: str | None


class AuditLog:
    """Appends events to ``audit.jsonl`` from a background thread, in batches, under a lock.

    ``write`` only appends to a list (a run never waits on the disk, nor wakes a thread per
    event); the writer wakes every WRITE_INTERVAL seconds, or at once on ``flush``, which
    the agent calls when a run ends. Whatever goes wrong writing a batch or one event is
    caught, logged when the log goes from working to failing, and counted in ``dropped``
    with the reason in ``failure``; the writer goes on with the next batch. Nothing is lost
    silently, and one bad event cannot switch the log off.
    """

    def __init__(self, directory: Path, key: str | None = None) -> None:
        self.directory = directory
        self.path = directory / LOG_NAME
        self.key = key or None
        self.written = 0
        self.dropped = 0
        self.failure: str | None = None
        self._failing = False
        self._pending: list[Event] = []
        self._accepted = 0  # events handed to write()
        self._settled = 0  # events written or counted as dropped
        self._lock = threading.Lock()
        self._settled_changed = threading.Condition()
        self._wake = threading.Event()
        self._thread = self._start_writer()

    def _start_writer(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="podium-audit", daemon=True)
        thread.start()
        return thread

    def write(self, event: Event) -> None:
        """Accept ``event`` for the log (a tracer sink)."""
        with self._lock:
            self._accepted += 1
            overflow = len(self._pending) >= QUEUE_LIMIT
            if not overflow:
                self._pending.append(event)
        if overflow:
            self._settle(0, 1, "the audit backlog is full (the disk is too slow or stuck)")

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every event accepted so far is written (or failed); False on timeout.

        A writer thread that is gone (it cannot end by itself, but the interpreter may stop
        it) is started again rather than waited for.
        """
        with self._lock:
            target = self._accepted
        deadline = time.monotonic() + timeout
        with self._settled_changed:
            while self._settled < target:
                self._ensure_writer()
                self._wake.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._settled_changed.wait(min(remaining, 0.1))
        return True

    def _ensure_writer(self) -> None:
        with self._lock:
            if not self._thread.is_alive():
                logger.warning("audit log %s: the writer had stopped; started again", self.path)
                self._thread = self._start_writer()

    def status(self) -> AuditStatus:
        """The log's health: whether it records, and what it wrote, dropped and holds.

        Cheap and thread-safe, for a health endpoint: ``ok`` is False while the writer is
        down or its latest write lost events; ``failure`` says why.
        """
        with self._lock:
            pending = len(self._pending)
            alive = self._thread.is_alive()
        return AuditStatus(
            ok=alive and not self._failing,
            path=str(self.path),
            written=self.written,
            dropped=self.dropped,
            pending=pending,
            failure=self.failure,
        )

    def run_warning(self, dropped_before: int, flushed: bool) -> str | None:
        """What a run's result should say about the log: events lost, or not yet written.

        Args:
            dropped_before: ``dropped`` when the run started.
            flushed: What ``flush`` returned when the run ended.
        """
        lost = self.dropped - dropped_before
        if lost:
            return (
                f"audit log {self.path}: {self.failure}; {lost} event(s) of this run not recorded"
            )
        if not flushed:
            return (
                f"audit log {self.path}: events of this run not written yet "
                "(the disk is slow or stuck); they are written when it catches up"
            )
        return None

    def _settle(self, written: int, dropped: int = 0, failure: str | None = None) -> None:
        with self._settled_changed:
            self.written += written
            if dropped:
                self.dropped += dropped
                self.failure = failure or "unknown error"
                if not self._failing:
                    logger.warning(
                        "audit log %s: %s; events are not being recorded", self.path, self.failure
                    )
            elif written and self._failing:
                logger.warning("audit log %s: recording again", self.path)
            if dropped or written:
                self._failing = bool(dropped)
            self._settled += written + dropped
            self._settled_changed.notify_all()

    def _run(self) -> None:
        while True:
            self._wake.wait(WRITE_INTERVAL)
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._write_batch(batch)

    def _write_batch(self, batch: list[Event]) -> None:
        settled = False
        try:
            failures = self._append(batch)
        except OSError as error:
            self._settle(0, len(batch), error.strerror or str(error))
            settled = True
        except Exception as error:  # whatever it is, the next batch must still be written
            logger.exception("audit log %s: writing a batch failed", self.path)
            self._settle(0, len(batch), f"{type(error).__name__}: {error}")
            settled = True
        else:
            self._settle(len(batch) - len(failures), len(failures), "; ".join(failures) or None)
            settled = True
        finally:
            if not settled:  # the thread itself is being stopped: count the batch as lost
                self._settle(0, len(batch), "the audit writer was stopped")

    def _append(self, events: list[Event]) -> list[str]:
        """Write ``events`` after the chain's head; the reasons for any event not written."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several processes may share one home
            try:
                start = where_to_start(handle, self.directory, self.key)
                if start.truncate is not None:
                    handle.truncate(start.truncate)
                size = os.fstat(handle.fileno()).st_size
                lines = []
                if size > 0:
                    handle.seek(size - 1)
                    if handle.read(1) != b"\n":
                        lines.append(b"\n")
                notes: list[Event] = []
                if start.notes:
                    detail = "; ".join(start.notes)
                    notes.append(
                        AuditRecovered(trace_id="audit", detail=detail, tampering=start.tampering)
                    )
                head = start.head
                failures = []
                for event in [*notes, *events]:
                    try:
                        text = event_json(event)
                    except Exception as error:  # one event that cannot be written, not all
                        failures.append(f"an event could not be written: {error}")
                        continue
                    line, digest = record_line(head.seq + 1, head.hash, text, self.key)
                    lines.append(line.encode())
                    head = Head(head.seq + 1, digest)
                data = b"".join(lines)
                if data:
                    handle.write(data)
                    handle.flush()
                    write_head(self.directory, Head(head.seq, head.hash, size + len(data)))
                return failures
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


_logs: dict[tuple[Path, str | None], AuditLog] = {}
_logs_lock = threading.Lock()


def audit_log(directory: Path, key: str | None = None) -> AuditLog:
    """The process's one writer for ``directory`` (shared by every agent using it).

    Args:
        directory: Where the log and its head live.
        key: The signing key (``PODIUM_AUDIT_KEY``); None keeps the records unsigned.
    """
    index = (directory.resolve(), key or None)
    with _logs_lock:
        if index not in _logs:
            _logs[index] = AuditLog(index[0], index[1])
        return _logs[index]


def flush_all(timeout: float) -> bool:
    """Write what every open audit log has accepted, within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    with _logs_lock:
        logs = list(_logs.values())
    flushed = [log.flush(max(deadline - time.monotonic(), 0.0)) for log in logs]  # each one
    return all(flushed)
