"""A round cut short mid-way (cancelled, or failing, while its calls ran): what its thread keeps.

The thread's last message then asks for calls that have no result. Shown to a model on a
later run, such a message is refused by OpenAI-compatible APIs (every call must be followed
by its result), and a rollback reading the thread would not find the side effects that
completed. Each call gets a result saying what became of it; a side effect that ran is
marked as performed, so that it is undone; its output is not kept (it was never screened).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podium.planner.state import Update, planned_calls, steps_taken, tool_message
from podium.tools.outcomes import CallOutcome

RAN = "the run was cancelled after this call ran; its result was not kept"
NOT_RUN = "error: the run was cancelled before this call finished"


def cut_short(values: dict[str, Any], performed: Sequence[CallOutcome]) -> Update:
    """The update that answers every call of the round in ``values`` the checkpoint left open."""
    step = steps_taken(values)
    ran = {o["call_id"] for o in performed if o["step"] == step}
    outcomes: list[CallOutcome] = []
    for call in planned_calls(values):  # type: ignore[arg-type]
        outcome = CallOutcome(
            call_id=call["id"],
            name=call["name"],
            arguments=call["arguments"],
            status="error",
            output=RAN if call["id"] in ran else NOT_RUN,
            duration_ms=0.0,
            step=step,
        )
        if call["id"] in ran:
            outcome["performed"] = True
        outcomes.append(outcome)
    return {"messages": [tool_message(o) for o in outcomes], "outcomes": outcomes, "pending": []}
