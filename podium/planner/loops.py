"""Loop and stall detection: a planner that repeats itself learns so, then is stopped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podium.tools.executor import CallOutcome


def call_key(name: str, arguments: dict[str, Any]) -> str:
    """The identity of a call: its tool and its arguments, whatever their order."""
    return f"{name}:{json.dumps(arguments, sort_keys=True, default=str)}"


def earlier_result(
    outcomes: Sequence[CallOutcome], name: str, arguments: dict[str, Any]
) -> CallOutcome | None:
    """The first completed outcome of the same call in this run, if any."""
    key = call_key(name, arguments)
    return next(
        (o for o in outcomes if o["status"] == "ok" and call_key(o["name"], o["arguments"]) == key),
        None,
    )


def repeat_note(previous: CallOutcome) -> str:
    """What the planner reads instead of running a call again."""
    return (
        f"not run again: '{previous['name']}' was already called with these arguments in step "
        f"{previous['step']}, and returned: {previous['output'][:500]}. Use that result, try "
        "something else, or answer."
    )


def _stale(round_outcomes: list[CallOutcome], before: list[CallOutcome]) -> bool:
    """A round that brought nothing new: only repeats, or results seen before."""
    seen = {(call_key(o["name"], o["arguments"]), o["output"]) for o in before}
    return all(
        o["status"] == "repeated" or (call_key(o["name"], o["arguments"]), o["output"]) in seen
        for o in round_outcomes
    )


def stalled(outcomes: Sequence[CallOutcome], rounds: int) -> bool:
    """Whether each of the last ``rounds`` rounds of tool calls brought nothing new."""
    steps = sorted({o["step"] for o in outcomes})
    if len(steps) < rounds:
        return False
    for step in steps[-rounds:]:
        before = [o for o in outcomes if o["step"] < step]
        if not _stale([o for o in outcomes if o["step"] == step], before):
            return False
    return True
