"""The secret values podium was configured with, redacted by value wherever they appear.

A pattern finds a key by its shape; a custom model server's key may have none, and a server
that quotes it back in an error (a 401 naming the key it refused) would put it in the audit
log, a checkpoint or the answer. So podium registers every secret it is given (the
``SecretStr`` settings, a chat model's own key, the server's bearer tokens) when it starts,
and redaction replaces each of them, by value, before any sink sees a text.

One set per process, as the configuration it comes from; values are only ever added.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from pydantic import BaseModel, SecretStr

# Shorter values would redact ordinary words; no real key is this short.
MIN_LENGTH = 8
# Stand-ins some clients insist on when a local server needs no key: no secret at all.
PLACEHOLDERS = frozenset({"not-needed", "sk-no-key-required"})

_lock = threading.Lock()
_values: tuple[str, ...] = ()  # longest first, so that a key containing another goes whole


def add(values: Iterable[str | SecretStr | None]) -> None:
    """Register secret values (empty, short and placeholder values are ignored)."""
    global _values
    plain = {v.get_secret_value() if isinstance(v, SecretStr) else v for v in values if v}
    wanted = {v.strip() for v in plain if v and len(v.strip()) >= MIN_LENGTH}
    wanted -= PLACEHOLDERS
    with _lock:
        if wanted <= set(_values):
            return
        _values = tuple(sorted(set(_values) | wanted, key=lambda v: (-len(v), v)))


def registered() -> tuple[str, ...]:
    """The registered values, longest first."""
    return _values


def version() -> int:
    """How many values are registered: a result computed with fewer is out of date."""
    return len(_values)


def spans(text: str) -> list[tuple[int, int]]:
    """Each (start, end) of a registered value in ``text``, not overlapping."""
    found: list[tuple[int, int]] = []
    for value in _values:
        start = text.find(value)
        while start != -1:
            end = start + len(value)
            if not any(s < end and start < e for s, e in found):
                found.append((start, end))
            start = text.find(value, end)
    return found


def of(model: object) -> list[SecretStr]:
    """The ``SecretStr`` fields of a pydantic model (a chat model's key, settings), if any."""
    if not isinstance(model, BaseModel):
        return []
    fields = type(model).model_fields
    return [value for name in fields if isinstance(value := getattr(model, name, None), SecretStr)]
