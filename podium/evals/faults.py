"""Malformed model outputs, generated from a seed: what a broken or hostile model may send."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage

KINDS = (
    "invalid_json",
    "unknown_tool",
    "wrong_types",
    "missing_argument",
    "huge_payload",
    "control_characters",
    "empty_name",
    "missing_id",
    "many_calls",
    "nested_junk",
    "duplicate_ids",
)


def _junk(rng: random.Random, size: int) -> str:
    alphabet = string.printable + "\x00\x07\x1b\u200b\ufeff"
    return "".join(rng.choice(alphabet) for _ in range(size))


def _call(name: str, args: dict[str, Any], call_id: str | None) -> dict[str, Any]:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def malformed_output(kind: str, rng: random.Random, tool: str = "add") -> AIMessage:
    """One malformed reply of ``kind`` aimed at ``tool`` (a tool taking ints ``a`` and ``b``)."""
    number = rng.randint(0, 10**6)
    if kind == "invalid_json":
        text = rng.choice(['{"a": 1,', "{a: 1}", "[1, 2", '{"a": 1}}', _junk(rng, 20), ""])
        return AIMessage(
            content="",
            invalid_tool_calls=[
                {
                    "name": tool,
                    "args": text,
                    "id": f"bad_{number}",
                    "error": "JSONDecodeError",
                    "type": "invalid_tool_call",
                }
            ],
        )
    calls = {
        "unknown_tool": [_call(f"tool_{_junk(rng, 8)}", {"a": 1}, f"u_{number}")],
        "wrong_types": [_call(tool, {"a": _junk(rng, 5), "b": [1, 2]}, f"w_{number}")],
        "missing_argument": [_call(tool, {"a": 1}, f"m_{number}")],
        "huge_payload": [
            _call(tool, {"a": "9" * rng.randint(200_000, 1_000_000), "b": 1}, f"h_{number}")
        ],
        "control_characters": [_call(f"{tool}\x00\x1b[31m", {"a\n": "\x07"}, f"c_{number}")],
        "empty_name": [_call("", {"a": 1, "b": 2}, f"e_{number}")],
        "missing_id": [_call(tool, {"a": 1, "b": 2}, None)],
        "many_calls": [_call(tool, {"a": i, "b": "x"}, f"n_{number}_{i}") for i in range(50)],
        "nested_junk": [
            _call(tool, {"a": {"b": [1, {"c": None}]}, "b": {"d": _junk(rng, 10)}}, f"j_{number}")
        ],
        "duplicate_ids": [
            _call(tool, {"a": 1, "b": "y"}, "same"),
            _call(tool, {"a": "z", "b": 2}, "same"),
        ],
    }[kind]
    return AIMessage(content="", tool_calls=calls)


def malformed_outputs(count: int, seed: int = 0) -> Iterator[tuple[str, AIMessage]]:
    """``count`` malformed replies, every kind in turn, reproducible from ``seed``."""
    rng = random.Random(seed)
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        yield kind, malformed_output(kind, rng)
