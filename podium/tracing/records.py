"""The audit log's record format: one JSON line per event, chained by hashes, maybe signed.

A record is exactly this line (the writer builds it as text, so that the event's JSON is
hashed byte for byte as it is stored, and ``verify`` reads it back the same)::

    {"seq": 7, "prev": "<hash of record 6>", "hash": "<sha256>", "mac": "<hmac>", "event": {...}}

``hash`` is SHA-256 over ``seq|prev|event``; ``mac``, present when the log is kept with a
key (``PODIUM_AUDIT_KEY``), is HMAC-SHA256 over ``hash`` with that key. ``head.json`` beside
the log names the newest record (its number and hash) and the log's size up to it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError

from podium.tracing.events import Event

GENESIS = "0" * 64
LOG_NAME = "audit.jsonl"
HEAD_NAME = "head.json"
RECOVERED = "audit_recovered"  # the event kind of the writer's own notes (AuditRecovered)
RECORD = re.compile(
    r'^\{"seq": (\d+), "prev": "([0-9a-f]{64})", "hash": "([0-9a-f]{64})", '
    r'(?:"mac": "([0-9a-f]{64})", )?"event": (\{.*\})\}$'
)


def record_hash(seq: int, prev: str, event_json: str) -> str:
    """The hash that chains one record to the one before, over the event's exact JSON."""
    return hashlib.sha256(f"{seq}|{prev}|{event_json}".encode()).hexdigest()


def record_mac(key: str, digest: str) -> str:
    """The signature of a record: HMAC-SHA256 over its hash with the log's key."""
    return hmac.digest(key.encode(), digest.encode(), "sha256").hex()


def record_line(seq: int, prev: str, event_json: str, key: str | None = None) -> tuple[str, str]:
    """The log line for one event (newline included), and its hash."""
    digest = record_hash(seq, prev, event_json)
    mac = f'"mac": "{record_mac(key, digest)}", ' if key else ""
    return (
        f'{{"seq": {seq}, "prev": "{prev}", "hash": "{digest}", {mac}"event": {event_json}}}\n',
        digest,
    )


def _escaped(value: Any) -> Any:
    """``value`` with every string made encodable (lone surrogates as backslash escapes)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def event_json(event: Event) -> str:
    r"""The event as the JSON a record holds; text UTF-8 cannot carry is escaped, not fatal.

    A lone surrogate (``"\udfff"``, which a request can carry in from a JSON body) cannot be
    encoded as UTF-8; it is stored as the visible text ``\udfff``, so the line is valid
    UTF-8, its hash is over what is stored, and the views can print it.
    """
    try:
        return event.model_dump_json()
    except PydanticSerializationError:
        data = _escaped(event.model_dump(mode="json"))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Record:
    """One record line, parsed (not yet checked)."""

    seq: int
    prev: str
    hash: str
    mac: str | None
    event_json: str
    event: dict[str, Any] = field(compare=False, repr=False)

    def hash_matches(self) -> bool:
        """Whether the stored hash is the hash of the stored content."""
        return record_hash(self.seq, self.prev, self.event_json) == self.hash

    def signed_by(self, key: str) -> bool:
        """Whether the record carries a valid signature made with ``key``."""
        return self.mac is not None and hmac.compare_digest(self.mac, record_mac(key, self.hash))

    def follows(self, head: Head) -> bool:
        """Whether the record is the one that comes right after ``head`` in the chain."""
        return self.seq == head.seq + 1 and self.prev == head.hash

    def valid_after(self, head: Head, key: str | None) -> bool:
        """Whether the record continues the chain after ``head`` (and is signed, with a key)."""
        return self.hash_matches() and self.follows(head) and (key is None or self.signed_by(key))


def parse_record(line: bytes) -> Record | None:
    """The record on ``line`` (no newline), or None when the line is not a record."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    match = RECORD.match(text)
    if match is None:
        return None
    try:
        event = json.loads(match.group(5))
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    return Record(
        int(match.group(1)), match.group(2), match.group(3), match.group(4), match.group(5), event
    )


@dataclass(frozen=True)
class Head:
    """The newest record: its number and hash, and the log's size in bytes up to its end.

    ``size`` is None in heads written before it was kept (it is then found by a scan).
    """

    seq: int = 0
    hash: str = GENESIS
    size: int | None = 0

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def read_head(directory: Path) -> Head | None:
    """The head file of ``directory``, or None when it is missing or unreadable."""
    try:
        data = json.loads((directory / HEAD_NAME).read_text(encoding="utf-8"))
        size = data.get("size")
        return Head(int(data["seq"]), str(data["hash"]), None if size is None else int(size))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_head(directory: Path, head: Head) -> None:
    """Replace the head file atomically (the caller holds the log's exclusive lock)."""
    temporary = directory / f".{HEAD_NAME}.tmp"
    temporary.write_text(json.dumps({"seq": head.seq, "hash": head.hash, "size": head.size}))
    os.replace(temporary, directory / HEAD_NAME)


def parse_head(text: str) -> Head:
    """A head given as ``SEQ:HASH`` (as ``podium trace verify`` prints it)."""
    seq, _, digest = text.strip().partition(":")
    if not seq.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"{text!r} is not SEQ:HASH (a record number and its 64-hex hash)")
    return Head(int(seq), digest, None)
