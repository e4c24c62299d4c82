"""Typed output from the offline router: a final answer filled from the tool results.

Deterministic and plain: each field of the output's schema takes the result of the tool
whose name shares a word with the field's (``stock`` <- ``stock_level``), or the only
result when there is one result and one field; numbers, booleans and text by the field's
type. A required field nothing fills leaves no answer (the planner then says it could not).
"""

from __future__ import annotations

import re
from typing import Any

from podium.planner.router.text import name_parts

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def fill_output(
    schema: dict[str, Any], results: list[tuple[str, dict[str, Any], str]]
) -> dict[str, Any] | None:
    """The final answer's arguments from ``results``, or None when a required field is unfilled."""
    fields: dict[str, Any] = schema.get("properties") or {}
    answer: dict[str, Any] = {}
    for field, spec in fields.items():
        source = _source(field, fields, results)
        if source is None:
            continue
        value = _typed(source, spec.get("type"))
        if value is not None:
            answer[field] = value
    missing = [name for name in schema.get("required", []) if name not in answer]
    return None if missing else answer


def _source(
    field: str, fields: dict[str, Any], results: list[tuple[str, dict[str, Any], str]]
) -> str | None:
    wanted = set(name_parts(field))
    for name, _, output in reversed(results):  # the latest result of a matching tool
        if wanted & set(name_parts(name)):
            return str(output)
    if len(results) == 1 and len(fields) == 1:
        return str(results[0][2])
    return None


def _typed(text: str, kind: Any) -> Any:
    if kind in ("integer", "number"):
        found = NUMBER.search(text)
        if found is None:
            return None
        number = float(found.group())
        return int(number) if kind == "integer" and number.is_integer() else number
    if kind == "boolean":
        lowered = text.strip().lower()
        return lowered in ("true", "yes", "ok", "1") if lowered else None
    return text
