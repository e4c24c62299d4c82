"""Typed run events and the tracer that hands them to sinks."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)


class Event(BaseModel):
    """Base of every run event: which trace, when."""

    trace_id: str
    time: float = Field(default_factory=time.time)


class RunStarted(Event):
    """A run began."""

    kind: Literal["run_started"] = "run_started"
    thread_id: str
    model: str
    request: str


class NodeFinished(Event):
    """A graph node finished."""

    kind: Literal["node"] = "node"
    node: str
    duration_ms: float


class ModelCalled(Event):
    """The planner asked the model."""

    kind: Literal["model_call"] = "model_call"
    model: str
    step: int
    input_tokens: int
    output_tokens: int
    latency_ms: float
    tool_calls: list[str]


class ToolCalled(Event):
    """A tool call finished, failed, or was refused."""

    kind: Literal["tool_call"] = "tool_call"
    call_id: str
    name: str
    arguments_digest: str
    status: str
    duration_ms: float


class GuardDecided(Event):
    """The checks at one boundary decided about one text."""

    kind: Literal["guard"] = "guard"
    boundary: str
    subject: str
    action: str
    reasons: list[str]
    duration_ms: float


class PolicyDecided(Event):
    """The policy allowed or denied one call."""

    kind: Literal["policy"] = "policy"
    tool: str
    call_id: str
    outcome: str
    reason: str


class MemoryUsed(Event):
    """Memories were recalled or stored, or the memory failed."""

    kind: Literal["memory"] = "memory"
    operation: Literal["recall", "remember", "unavailable"]
    count: int
    detail: str = ""


class RunFinished(Event):
    """A run ended; ``stop_reason`` says why."""

    kind: Literal["run_finished"] = "run_finished"
    stop_reason: str
    steps: int
    answer: str


AnyEvent = Annotated[
    RunStarted
    | NodeFinished
    | ModelCalled
    | ToolCalled
    | GuardDecided
    | PolicyDecided
    | MemoryUsed
    | RunFinished,
    Field(discriminator="kind"),
]
Sink = Callable[[Event], None]


def digest(arguments: dict[str, Any]) -> str:
    """A short, stable fingerprint of call arguments (the trace never holds them in clear)."""
    encoded = json.dumps(arguments, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


class Tracer:
    """Collects one run's events and forwards each to the sinks; a failing sink is logged."""

    def __init__(self, trace_id: str, sinks: list[Sink] | None = None) -> None:
        self.trace_id = trace_id
        self.events: list[Event] = []
        self.sinks = list(sinks or [])

    def emit(self, event: Event) -> None:
        """Record ``event`` and pass it to every sink."""
        self.events.append(event)
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:  # a broken sink must not end the run
                logger.exception("trace sink %r failed", sink)
