"""Where the audit writer goes on: the head, advanced over what a crash left behind.

A writer appends its records, then replaces ``head.json``. Killed in between, it leaves
complete records the head does not name yet; killed mid-write, half a line. The next writer
(under the log's exclusive lock) finds both past the head's size: records that continue the
chain are taken into it, a torn last line is cut off, and the writer notes either in the log
itself. What no crash explains (a log shorter than its head, a missing head, lines that are
not the chain's) is left in place, noted as tampering, and the chain goes on from the head,
so that ``verify`` keeps reporting it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from podium.tracing.records import Head, parse_record, read_head, write_head

logger = logging.getLogger("podium.tracing.audit")

_SEQ = re.compile(rb'^\{"seq": (\d+)')


@dataclass
class Start:
    """Where the next record goes: after ``head``, once the log is cut to ``truncate``."""

    head: Head
    truncate: int | None = None
    notes: list[str] = field(default_factory=list)
    tampering: bool = False

    def note(self, detail: str, tampering: bool = False) -> None:
        """Add what the writer found (and did) to the record it logs about it."""
        self.notes.append(detail)
        self.tampering = self.tampering or tampering
        (logger.warning if tampering else logger.info)("audit log: %s", detail)


def where_to_start(handle: BinaryIO, directory: Path, key: str | None) -> Start:
    """Find the head to chain from in the log open in ``handle`` (locked exclusively)."""
    size = os.fstat(handle.fileno()).st_size
    head = read_head(directory)
    if head is None:
        if size == 0:
            # The head exists before the first record, so that records with no head beside
            # them always mean a deleted head, never a crash before the first head update.
            write_head(directory, Head())
            return Start(Head())
        return _without_head(handle, size)
    if head.size is None:  # a head written before sizes were kept
        head = _locate(handle, head)
        if head.size is None:
            start = Start(head)
            start.note(
                f"the log does not hold its head record {head.seq}: records were deleted "
                "or the log was replaced; the chain goes on from the head",
                tampering=True,
            )
            return start
    if head.size == size:
        return Start(head)
    if head.size > size:
        start = Start(head)
        found = f"has {size} bytes" if size else "is missing or empty"
        start.note(
            f"the log {found} but its head (record {head.seq}) ends at byte {head.size}: "
            "records were deleted from the end or the log was replaced; the chain goes on "
            "from the head",
            tampering=True,
        )
        return start
    handle.seek(max(head.size - 1, 0))
    data = handle.read()
    if head.size > 0 and not data.startswith(b"\n"):
        start = Start(head)
        start.note(
            f"the log was changed before its head (record {head.seq}): the chain goes on "
            "from the head",
            tampering=True,
        )
        return start
    return _past_head(data[1:] if head.size > 0 else data, head, key)


def _past_head(data: bytes, head: Head, key: str | None) -> Start:
    """Take the records a crash left after the head into the chain; cut a torn last line."""
    start = Start(head)
    *lines, last = data.split(b"\n")
    offset = head.size or 0
    advanced = 0
    for line in lines:
        record = parse_record(line)
        if record is None or not record.valid_after(start.head, key):
            start.note(
                f"a line after record {start.head.seq} is not a record of this chain: "
                "it was inserted or edited; the chain goes on from record "
                f"{start.head.seq}",
                tampering=True,
            )
            return _counted(start, head, advanced)
        offset += len(line) + 1
        start.head = Head(record.seq, record.hash, offset)
        advanced += 1
    if last:
        record = parse_record(last)
        if record is not None and record.valid_after(start.head, key):
            advanced += 1  # complete but for its newline, which the writer adds
            start.head = Head(record.seq, record.hash, offset + len(last) + 1)
        else:
            start.truncate = offset
            start.note(_torn(last))
    return _counted(start, head, advanced)


def _counted(start: Start, head: Head, advanced: int) -> Start:
    if advanced:
        start.notes.insert(
            0,
            f"head advanced over {advanced} record(s) ({head.seq + 1}..{start.head.seq}) "
            "written before a crash, before head.json was updated",
        )
        logger.info("audit log: %s", start.notes[0])
    return start


def _torn(line: bytes) -> str:
    """What a torn last line was, for the note about dropping it."""
    seq = _SEQ.match(line)
    what = f"the start of record {int(seq.group(1))}" if seq else "no record number"
    return (
        f"dropped the incomplete record a crash mid-write left as the last line ({what}, "
        f"{len(line)} bytes, sha256 {hashlib.sha256(line).hexdigest()})"
    )


def _without_head(handle: BinaryIO, size: int) -> Start:
    """The log has records but head.json is gone: go on from the last record, say so."""
    handle.seek(0)
    data = handle.read()
    *lines, last = data.split(b"\n")
    start = Start(Head())
    if last:
        start.truncate = size - len(last)
        start.note(_torn(last))
    offset = 0
    for line in lines:
        offset += len(line) + 1
        record = parse_record(line)
        if record is not None:
            start.head = Head(record.seq, record.hash, offset)
    start.note(
        f"head.json was missing while the log held records (the last, record "
        f"{start.head.seq}): records may have been deleted from the end; the chain goes on "
        f"from record {start.head.seq}",
        tampering=True,
    )
    return start


def _locate(handle: BinaryIO, head: Head) -> Head:
    """The head with its size: the end of the line holding its record (None if absent)."""
    handle.seek(0)
    offset = 0
    for line in handle:
        offset += len(line)
        record = parse_record(line.rstrip(b"\n"))
        if record is not None and (record.seq, record.hash) == (head.seq, head.hash):
            return Head(head.seq, head.hash, offset if line.endswith(b"\n") else None)
    if head.seq == 0:
        return Head(head.seq, head.hash, 0)
    return Head(head.seq, head.hash, None)
