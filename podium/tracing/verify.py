"""Checking the audit log: every line a record, every record chained, the head in place.

``verify`` reads the log and ``head.json`` under a shared lock (a writer holds the exclusive
one while it appends and moves the head, so the two are always read as one state) and
names each problem on its own line. The views read only the records it accepts.
"""

from __future__ import annotations

import fcntl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.tracing.records import (
    HEAD_NAME,
    LOG_NAME,
    RECOVERED,
    Head,
    Record,
    parse_record,
    read_head,
)


@dataclass
class Verification:
    """What ``verify`` found: records checked, problems (each naming its line), warnings.

    ``events`` holds the events of the records that passed every check, in log order;
    ``newest`` is the last of those records (``SEQ:HASH``, to keep elsewhere for ``--head``).
    """

    records: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    newest: Head | None = None
    signed: bool = False  # signatures were checked
    empty: bool = False  # no log and no head: nothing was ever recorded here

    @property
    def intact(self) -> bool:
        """Whether no record was edited, inserted or deleted (and no line forged)."""
        return not self.problems


def _snapshot(directory: Path) -> tuple[bytes | None, Head | None]:
    """The log's bytes (None when there is no log) and its head, read as one state."""
    while True:
        try:
            handle = (directory / LOG_NAME).open("rb")
            break
        except FileNotFoundError:
            head = read_head(directory)
            if head is None or not (directory / LOG_NAME).exists():
                return None, head
            # a writer created the log between the two reads: read both under its lock
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            return handle.read(), read_head(directory)
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class _Checked:
    """A record line and whether it passed its own checks."""

    number: int
    record: Record
    passed: bool


def verify(directory: Path, key: str | None = None, expect: Head | None = None) -> Verification:
    """Check ``directory``'s audit log and name every break in it.

    Args:
        directory: Where the log and its head live.
        key: The signing key (``PODIUM_AUDIT_KEY``): every record must carry its signature.
        expect: A head kept elsewhere earlier: the log must still hold that record.
    """
    result = Verification(signed=key is not None)
    data, head = _snapshot(directory)
    lines = (data or b"").split(b"\n")
    torn = lines.pop()  # b"" when the log ends with a newline, as it should
    checked = _check_lines(lines, key, result)
    if torn and (record := parse_record(torn)) is not None:  # complete but for its newline
        checked.append(_check(record, len(lines) + 1, _last(checked), key, result))
    elif torn:
        result.warnings.append(
            f"line {len(lines) + 1}: an incomplete last record (cut short by a crash "
            "mid-write, or by truncation)"
        )
    _keep_confirmed(checked, result)
    _check_head(directory, data, head, [c.record for c in checked], result)
    if expect is not None and not any(
        (c.record.seq, c.record.hash) == (expect.seq, expect.hash) for c in checked
    ):
        result.problems.append(
            f"the log does not hold record {expect.seq} with hash {expect.hash[:16]}… "
            "(given by --head): records were deleted or the log was replaced"
        )
    return result


def _last(checked: list[_Checked]) -> Head:
    return Head(checked[-1].record.seq, checked[-1].record.hash) if checked else Head()


def _check_lines(lines: list[bytes], key: str | None, result: Verification) -> list[_Checked]:
    """Check each complete line; the well-formed records, with their line numbers."""
    checked: list[_Checked] = []
    for number, line in enumerate(lines, start=1):
        record = parse_record(line)
        if record is None:
            result.problems.append(f"line {number}: not a record (forged, or damaged)")
            continue
        checked.append(_check(record, number, _last(checked), key, result))
    if key is None and any(c.record.mac for c in checked):
        result.warnings.append(
            "the records are signed, but PODIUM_AUDIT_KEY is not set: signatures not checked"
        )
    return checked


def _check(
    record: Record, number: int, before: Head, key: str | None, result: Verification
) -> _Checked:
    """Check one record: its hash, its link to the record before, its signature."""
    result.records += 1
    where = f"line {number} (record {record.seq})"
    hashed = record.hash_matches()
    signed = key is None or record.signed_by(key)
    linked = record.follows(before)
    if not hashed:
        result.problems.append(f"{where}: edited, its hash does not match")
    elif not linked:
        result.problems.append(
            f"{where}: does not follow record {before.seq} "
            "(a record was deleted or inserted before it)"
        )
    if not signed:
        result.problems.append(f"{where}: not signed with the audit key (forged?)")
    if hashed and signed and (note := record.event).get("kind") == RECOVERED:
        # The writer's own finding, read even where the chain is broken (it is about that).
        detail = note.get("detail", "")
        if note.get("tampering"):
            result.problems.append(f"{where}: the writer found the log tampered with: {detail}")
        else:
            result.warnings.append(f"{where}: recovered after a crash: {detail}")
    return _Checked(number, record, hashed and signed and linked)


def _keep_confirmed(checked: list[_Checked], result: Verification) -> None:
    """Keep the events of the records both neighbours agree with.

    A record that passed its own checks but that the next record does not link to may be
    the forgery (the next one is then genuine, and fails): neither is shown.
    """
    for index, line in enumerate(checked):
        after = checked[index + 1].record if index + 1 < len(checked) else None
        record = line.record
        if not line.passed or (
            after is not None and not after.follows(Head(record.seq, record.hash))
        ):
            continue
        result.events.append(record.event)
        result.newest = Head(record.seq, record.hash, None)


def _check_head(
    directory: Path,
    data: bytes | None,
    head: Head | None,
    records: list[Record],
    result: Verification,
) -> None:
    """The head must name a record of the log; what follows it must be a crash's leftovers."""
    if not data and head is None:
        result.empty = True
        return
    if head is None:
        result.problems.append(
            f"{directory / HEAD_NAME} is missing but the log holds {len(records)} records: "
            "records may have been deleted from the end"
        )
        return
    if not data:
        if head.seq > 0:
            result.problems.append(
                f"the log is missing or empty but its head says it held {head.seq} records: "
                "the log was deleted or replaced"
            )
        else:
            result.empty = True
        return
    at = next(
        (i for i, r in enumerate(records) if (r.seq, r.hash) == (head.seq, head.hash)),
        -1 if head.seq == 0 else None,
    )
    if at is None:
        last = records[-1].seq if records else 0
        result.problems.append(
            f"the log ends at record {last} but its head says {head.seq}: "
            "records were deleted from the end or the log was replaced"
            if last < head.seq
            else f"no record of the log is its head, record {head.seq}: the log was rewritten"
        )
        return
    beyond = records[at + 1 :]
    if beyond:
        result.warnings.append(
            f"records {beyond[0].seq}..{beyond[-1].seq} come after the head: written "
            "just before a crash (the next write takes them into the head and says so)"
        )
