"""Request templates filled from an event's payload, by plain field names only.

Payloads are untrusted: ``{order_id}`` takes the payload's value as text, with no attribute
access, no second pass over what was filled in, and a bound on each value's length. The
request then passes the input screen like any other. Triggers and the event bus use it.
"""

from __future__ import annotations

import re
from typing import Any

from podium.errors import InvalidRequest
from podium.inputs import check_text

FIELD = re.compile(r"\{(\w+)\}")
MAX_FIELD_CHARS = 4_000


def fill(template: str, payload: dict[str, Any], what: str) -> str:
    """``template`` with ``{name}`` replaced by payload values (plain names only)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in payload:
            raise InvalidRequest(
                f"{what} needs field {name!r}, which the payload lacks",
                f"send a JSON object with {', '.join(sorted(set(FIELD.findall(template))))}",
            )
        text = str(payload[name])
        if len(text) > MAX_FIELD_CHARS:
            raise InvalidRequest(
                f"payload field {name!r} is {len(text)} characters long",
                f"keep each field under {MAX_FIELD_CHARS}",
            )
        check_text(text, f"{what}: payload field {name!r}")  # (no store keeps a NUL)
        return text

    return FIELD.sub(value, template)
