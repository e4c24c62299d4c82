"""RunState: what the graph carries between nodes and checkpoints after each one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from podium.tools.outcomes import CallOutcome, Status


class Usage(TypedDict):
    """Tokens, cost and model calls of one run."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    model_calls: int
    unpriced: NotRequired[bool]  # some call had no known price: the cost is a lower bound
    steps: NotRequired[int]  # the planner's turns this run (sub-agents' not counted)


class PendingCall(TypedDict):
    """A call the planner asked for, waiting for authorization and execution."""

    id: str
    name: str
    arguments: dict[str, Any]
    parse_error: str | None
    denial: str | None
    repeat: NotRequired[bool]
    # How a refused call is reported when not "denied" (by policy): "blocked" by a guard, or
    # "invalid_arguments" when a guard asks for a corrected call.
    refused_as: NotRequired[Status]


class RecalledMemory(TypedDict):
    """A memory brought back for the planner, with where it came from.

    ``source`` names what wrote it: the parts of an earlier run ("request, tool:calendar,
    answer"), "memory_save", "cli"; ``thread`` and ``run`` the thread and run that left it.
    """

    text: str
    source: str
    thread: str
    run: str


def extend_or_reset(old: list[CallOutcome], new: list[CallOutcome] | None) -> list[CallOutcome]:
    """Reducer for a run's outcomes: None starts a new run, a list extends the current one."""
    if new is None:
        return []
    return [*old, *new]


def tool_message(outcome: CallOutcome) -> ToolMessage:
    """The result of one call as the planner's thread keeps it."""
    return ToolMessage(
        content=outcome["output"],
        tool_call_id=outcome["call_id"],
        name=outcome["name"],
        status="success" if outcome["status"] == "ok" else "error",
    )


def zero_usage() -> Usage:
    """Usage at the start of a run."""
    return Usage(input_tokens=0, output_tokens=0, cost_usd=0.0, model_calls=0, steps=0)


def steps_taken(state: Mapping[str, Any]) -> int:
    """How many turns the planner has taken in this run.

    A run checkpointed before the count moved into ``usage`` has it in ``step``: resumed,
    it goes on counting from there instead of getting its whole step budget again.
    """
    usage = state.get("usage") or {}
    if "steps" in usage:
        return int(usage["steps"])
    return int(state.get("step", 0))


def planned_reply(state: RunState) -> AIMessage | None:
    """The last message when it is a reply asking for calls (the round act runs), else None."""
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    if isinstance(last, AIMessage) and (last.tool_calls or last.invalid_tool_calls):
        return last
    return None


def calls_of(reply: AIMessage) -> list[PendingCall]:
    """The calls a reply asks for, in order, those with unparseable arguments last."""
    calls = [
        PendingCall(
            id=c["id"] or "", name=c["name"], arguments=c["args"], parse_error=None, denial=None
        )
        for c in reply.tool_calls
    ]
    calls += [
        PendingCall(
            id=c["id"] or "",
            name=c.get("name") or "",
            arguments={},
            parse_error=c.get("error") or "unparseable arguments",
            denial=None,
        )
        for c in reply.invalid_tool_calls
    ]
    return calls


def planned_calls(state: RunState) -> list[PendingCall]:
    """The calls of this round: those the planner changed before they run, or its reply's."""
    if state.get("pending"):
        return state["pending"]
    reply = planned_reply(state)
    return calls_of(reply) if reply is not None else []


class RunState(TypedDict, total=False):
    """The state of one thread; the per-run fields are reset when a run starts.

    Each channel a node returns is one more pending write and blob at every checkpoint, so
    what can be read from another channel is not kept twice: the calls a round runs are
    the last reply's (``pending`` only holds calls changed before they run, a refused typed
    answer), the step count is in ``usage``, and the edges read where a run stands from
    ``stop_reason`` and the last message.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    run_id: str
    request: str
    principal: dict[str, Any]
    memories: list[RecalledMemory]
    pending: list[PendingCall]
    outcomes: Annotated[list[CallOutcome], extend_or_reset]
    usage: Usage
    stop_reason: str | None
    output: NotRequired[dict[str, Any] | None]  # the typed output, validated, as JSON data
    answer: str | None
    # The step count as checkpoints written before it moved into ``usage`` hold it. Declared
    # so that LangGraph reads it back from them (it restores declared channels only); no
    # node writes it, so it costs a new checkpoint nothing.
    step: NotRequired[int]


# What a node returns: the fields of RunState it changes.
Update = dict[str, Any]
