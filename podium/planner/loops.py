"""Loop and stall detection: a planner that repeats itself learns so, then is stopped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from podium.tools.outcomes import CallOutcome, performed


def call_key(name: str, arguments: dict[str, Any]) -> str:
    """The identity of a call: its tool and its arguments, whatever their order."""
    return f"{name}:{json.dumps(arguments, sort_keys=True, default=str)}"


class CallKeys:
    """Call keys by step and call id, computed once per call for the whole run.

    A call id is unique within its step only: a model that omits ids gets the same ones
    in every step, and a key cached by id alone would be another call's.
    """

    def __init__(self) -> None:
        self._keys: dict[tuple[int, str], str] = {}

    def __call__(self, outcome: CallOutcome) -> str:
        """The key of an outcome's call."""
        which = (outcome["step"], outcome["call_id"])
        key = self._keys.get(which)
        if key is None:
            key = call_key(outcome["name"], outcome["arguments"])
            self._keys[which] = key
        return key


def earlier_result(
    outcomes: Sequence[CallOutcome], name: str, arguments: dict[str, Any], keys: CallKeys
) -> CallOutcome | None:
    """The first outcome of the same call in this run that ran, if any.

    A call that ran counts whether it succeeded, was replayed from the ledger after a
    resume, or had its output withheld by a guard: running it again would repeat it.
    """
    key = call_key(name, arguments)
    return next((o for o in outcomes if performed(o) and keys(o) == key), None)


def repeat_note(previous: CallOutcome) -> str:
    """What the planner reads instead of running a call again."""
    return (
        f"not run again: '{previous['name']}' was already called with these arguments in step "
        f"{previous['step']}, and returned: {previous['output'][:500]}. Use that result, try "
        "something else, or answer."
    )


def stalled(outcomes: Sequence[CallOutcome], rounds: int, keys: CallKeys) -> bool:
    """Whether each of the last ``rounds`` rounds of tool calls brought nothing new.

    A round brings nothing new when its calls were all refused as repeats, or returned
    results already seen for the same calls.
    """
    steps = sorted({o["step"] for o in outcomes})
    if len(steps) < rounds:
        return False
    first = steps[-rounds]
    seen = {(keys(o), o["output"]) for o in outcomes if o["step"] < first}
    for step in steps[-rounds:]:
        current = [o for o in outcomes if o["step"] == step]
        if not all(o["status"] == "repeated" or (keys(o), o["output"]) in seen for o in current):
            return False
        seen.update((keys(o), o["output"]) for o in current)
    return True
