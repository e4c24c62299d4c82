"""RunState: what the graph carries between nodes and checkpoints after each one."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from langchain_core.messages import AnyMessage
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


def zero_usage() -> Usage:
    """Usage at the start of a run."""
    return Usage(input_tokens=0, output_tokens=0, cost_usd=0.0, model_calls=0)


class RunState(TypedDict, total=False):
    """The state of one thread; the per-run fields are reset when a run starts."""

    messages: Annotated[list[AnyMessage], add_messages]
    run_id: str
    request: str
    principal: dict[str, Any]
    step: int
    memories: list[RecalledMemory]
    pending: list[PendingCall]
    outcomes: Annotated[list[CallOutcome], extend_or_reset]
    usage: Usage
    route: str
    stop_reason: str | None
    output: NotRequired[dict[str, Any] | None]  # the typed output, validated, as JSON data
    answer: str | None


# What a node returns: the fields of RunState it changes.
Update = dict[str, Any]
