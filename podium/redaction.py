"""Finds personal data and secrets in text and in values, and redacts them.

The patterns (podium.text_patterns) are plain regular expressions with checksums where the
format has one, importable without guardrails-ai: the guard validators use them, and so does
the tracer, so that no sink ever receives them in clear. Secrets are found by their shape
(key formats, ``name=value`` and its JSON, YAML, header and URL forms) and, for the values
podium was configured with, by value (podium.known_secrets). ``without_secrets`` takes them
out of whole values (a checkpoint, a result) and remembers what it found clean.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import weakref
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from podium import known_secrets
from podium.text_patterns import (
    _FORMAT_HINT,
    _MAYBE,
    _NAMED_HINT,
    _NEEDS_NAME,
    _QUOTED_VALUE,
    PATTERNS,
    PERSONAL,
    SECRET,
    SECRET_VALUE,
    SECRETS,
    _span,
    iban_ok,
    luhn_ok,
)

__all__ = [
    "PATTERNS",
    "PERSONAL",
    "SECRETS",
    "find",
    "iban_ok",
    "luhn_ok",
    "redact",
    "redact_secrets",
    "without_secrets",
]

T = TypeVar("T")


def find(text: str, kinds: tuple[str, ...] = tuple(PATTERNS)) -> list[tuple[str, int, int]]:
    """Each (kind, start, end) of ``kinds`` found in ``text``, earlier kinds winning overlaps.

    With "secret" among ``kinds``, the registered secret values (podium.known_secrets) are
    found first, wherever they are, whatever their shape.
    """
    spans: list[tuple[str, int, int]] = []
    known = known_secrets.spans(text) if "secret" in kinds else []
    if not known and not _MAYBE.search(text):
        return spans
    taken = bytearray(len(text))  # characters already inside a found span
    for start, end in known:
        spans.append(("secret", start, end))
        taken[start:end] = b"\x01" * (end - start)
    named = bool(_NAMED_HINT.search(text))
    skipped = {pattern for pattern in _NEEDS_NAME if not named}
    if not _FORMAT_HINT.search(text):
        skipped.add(SECRET)
    if not named and not _QUOTED_VALUE.search(text):  # the only values it takes unnamed
        skipped.add(SECRET_VALUE)
    for kind in kinds:
        for pattern, check in PATTERNS[kind]:
            if pattern in skipped:
                continue
            for match in pattern.finditer(text):
                start, end = _span(match)
                if any(taken[start:end]):
                    continue
                if check is None or check(match):
                    spans.append((kind, start, end))
                    taken[start:end] = b"\x01" * (end - start)
    return sorted(spans, key=lambda span: span[1])


def redact(text: str, kinds: tuple[str, ...] = tuple(PATTERNS)) -> tuple[str, list[str]]:
    """``text`` with each of ``kinds`` replaced by [KIND]; the kinds found, once per match."""
    if len(text) <= _SHORT:  # the same short texts come back at every step (policy reasons)
        redacted, found = _redacted_short(text, tuple(kinds), known_secrets.version())
        return redacted, list(found)
    return _redact(text, kinds)


_SHORT = 2_000  # longer texts are not kept in the cache below: it would hold them all


@functools.lru_cache(maxsize=4_096)
def _redacted_short(text: str, kinds: tuple[str, ...], version: int) -> tuple[str, tuple[str, ...]]:
    redacted, found = _redact(text, kinds)
    return redacted, tuple(found)


def _redact(text: str, kinds: tuple[str, ...]) -> tuple[str, list[str]]:
    spans = find(text, kinds)
    for kind, start, end in reversed(spans):
        text = f"{text[:start]}[{kind.upper()}]{text[end:]}"
    return text, [kind for kind, _, _ in spans]


def redact_secrets(text: str) -> str:
    """``text`` with every secret, by its shape or a registered value, replaced by [SECRET]."""
    redacted = _redacted(text, known_secrets.version())
    return text if redacted is None else redacted


# Checkpoints hold every message of a thread and are written after every node: a text is
# scanned once per process (per set of registered secrets), not once per checkpoint. None
# for a text without secrets, so that the caller keeps its own object (an equal text seen
# before is another object: the walk below tells a change by identity).
@functools.lru_cache(maxsize=16_384)
def _redacted(text: str, version: int) -> str | None:
    redacted = _redact(text, SECRETS)[0]
    return None if redacted == text else redacted


# Models already found to hold no secret, by identity: a thread's history is serialized at
# every checkpoint, and its messages would otherwise be walked again each time. An entry
# holds a fingerprint of the model's fields (their identities, and the sizes of those that
# can grow in place) and the number of registered secrets: a field replaced or grown, or a
# secret registered since, and the model is walked again. It goes when the model does.
_CLEAN: dict[int, tuple[weakref.ref[BaseModel], tuple[int, ...], int]] = {}
_GROWS = (list, dict)  # and their subclasses: the containers the walk looks into


def _fingerprint(model: BaseModel) -> tuple[int, ...]:
    fields = vars(model).values()
    return (*map(id, fields), *[len(field) for field in fields if isinstance(field, _GROWS)])


def _known_clean(model: BaseModel, version: int) -> bool:
    entry = _CLEAN.get(id(model))
    return (
        entry is not None
        and entry[2] == version
        and entry[0]() is model
        and entry[1] == _fingerprint(model)
    )


def _note_clean(model: BaseModel, version: int) -> None:
    key = id(model)
    try:
        ref = weakref.ref(model, lambda _: _CLEAN.pop(key, None))
    except TypeError:  # a model that takes no weak reference is simply walked each time
        return
    _CLEAN[key] = (ref, _fingerprint(model), version)


def without_secrets(value: T) -> T:
    """``value`` with secrets redacted from every text inside it.

    Walks strings, dicts, lists, tuples, pydantic models (langchain messages among them) and
    dataclasses; anything else is kept as it is. What holds no secret comes back as the same
    object, so nothing is copied for nothing.
    """
    return cast("T", _scrubbed(value, known_secrets.version()))


# Values with no text inside, returned as they are without a look (most leaves of a state).
_ATOMS = frozenset({int, float, bool, type(None), bytes})


def _scrubbed(value: Any, version: int) -> Any:
    kind = type(value)
    if kind is str:
        redacted = _redacted(value, version)
        return value if redacted is None else redacted
    if kind in _ATOMS:
        return value
    if kind is dict or isinstance(value, dict):
        return _scrubbed_dict(value, version)
    if kind is list or isinstance(value, list | tuple):
        return _scrubbed_sequence(value, version)
    if isinstance(value, str):  # a str subclass (an enum's value, say)
        return redact_secrets(value)
    return _scrubbed_fields(value, version)


# The two walks below copy a container only once something in it changed (most hold no
# secret), and look at a text or a number without a call of their own.


def _scrubbed_dict(value: dict[Any, Any], version: int) -> dict[Any, Any]:
    changed: dict[Any, Any] | None = None
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            new = _redacted(item, version)
            if new is None:
                continue
        elif kind in _ATOMS:
            continue
        else:
            new = _scrubbed(item, version)
            if new is item:
                continue
        if changed is None:
            changed = dict(value)
        changed[key] = new
    return value if changed is None else changed


def _scrubbed_sequence(value: list[Any] | tuple[Any, ...], version: int) -> Any:
    cleaned: list[Any] | None = None
    for index, item in enumerate(value):
        kind = type(item)
        if kind is str:
            new = _redacted(item, version)
            if new is None:
                continue
        elif kind in _ATOMS:
            continue
        else:
            new = _scrubbed(item, version)
            if new is item:
                continue
        if cleaned is None:
            cleaned = list(value)
        cleaned[index] = new
    if cleaned is None:
        return value
    if isinstance(value, list):
        return cleaned
    return type(value)(*cleaned) if hasattr(value, "_fields") else type(value)(cleaned)


def _scrubbed_fields(value: Any, version: int) -> Any:
    """A pydantic model or dataclass with its fields scrubbed; anything else as it is."""
    if isinstance(value, BaseModel):
        if _known_clean(value, version):
            return value
        names: Iterable[str] = type(value).model_fields
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [field.name for field in dataclasses.fields(value)]
    else:
        return value
    changed = {}
    for name in names:
        old = getattr(value, name, None)
        new = _scrubbed(old, version)
        if new is not old:
            changed[name] = new
    if not changed:
        if isinstance(value, BaseModel):
            _note_clean(value, version)
        return value
    if isinstance(value, BaseModel):
        return value.model_copy(update=changed)
    clone = copy.copy(value)
    for name, new in changed.items():
        object.__setattr__(clone, name, new)  # frozen dataclasses too
    return clone
