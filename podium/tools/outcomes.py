"""What a tool call is and what became of it: the data the executor and planner share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, NotRequired

from pydantic import BaseModel
from typing_extensions import TypedDict

Status = Literal[
    "ok",
    "error",
    "invalid_arguments",
    "unknown_tool",
    "timeout",
    "blocked",
    "denied",
    "repeated",
    "replayed",
    "aborted",
]
MAX_OUTPUT_CHARS = 20_000
MAX_ARGUMENT_CHARS = 100_000
# Marks the parse error of arguments the planner refused to keep (see planner/turn.py).
UNUSABLE = "unusable: "


def shown(text: str, limit: int = 80) -> str:
    """Text from the model as it may safely appear in a message: one line, short, printable."""
    flat = " ".join(text.split())
    clipped = flat[:limit] + ("..." if len(flat) > limit else "")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in clipped)


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for: arguments parsed, or the reason they could not be."""

    id: str
    name: str
    arguments: dict[str, Any]
    parse_error: str | None = None


@dataclass(frozen=True)
class Failed:
    """A call that could not be made or did not succeed, and the message the planner reads."""

    status: Status
    message: str


class DelegatedReply(BaseModel):
    """What a sub-agent returns as a tool: its answer, and what it consumed."""

    answer: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model_calls: int = 0
    trace_id: str = ""


@dataclass(frozen=True)
class Performed:
    """A call that succeeded (or was replayed), with its output text."""

    status: Status
    text: str
    delegated: DelegatedReply | None = None


class CallOutcome(TypedDict):
    """What happened to one call; stored in the run state and shown to the planner."""

    call_id: str
    name: str
    arguments: dict[str, Any]
    status: Status
    output: str
    duration_ms: float
    step: int
    delegated: NotRequired[DelegatedReply]
    # A side effect that ran although its status says otherwise (a guard withheld or
    # rejected its output): a failed run undoes it as it undoes those that succeeded.
    performed: NotRequired[bool]


# The statuses of a call that ran to its end: run now, or replayed from the ledger.
COMPLETED: frozenset[Status] = frozenset({"ok", "replayed"})


def performed(outcome: CallOutcome) -> bool:
    """Whether the call ran: it succeeded, was replayed, or ran and a guard withheld its output."""
    return outcome["status"] in COMPLETED or outcome.get("performed", False)


class Verdict(TypedDict):
    """A screen's decision on one text: allow it, a fixed version, ask again, a person, or block."""

    action: Literal["allow", "fix", "reask", "escalate", "block"]
    text: str
    reasons: list[str]


ScreenFn = Callable[[str, str], Awaitable[Verdict]]


def render_output(value: Any) -> str:
    """Turn a tool's return value into the text the planner reads."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, BaseModel):
        text = value.model_dump_json()
    else:
        try:
            text = json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"... [truncated, {len(text)} characters in all]"
    return text
