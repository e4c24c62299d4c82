"""Typed run events and the tracer that hands them to sinks."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from podium.redaction import redact

logger = logging.getLogger(__name__)


# The statuses of calls that gave the planner a result (run now, or earlier in the run).
SUCCEEDED = frozenset({"ok", "replayed", "repeated"})


def succeeded(stop_reason: str, statuses: list[str]) -> bool:
    """Whether a run ended as asked: answered, and with a result from a call if it made any."""
    return stop_reason == "answered" and (not statuses or any(s in SUCCEEDED for s in statuses))


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
    cost_usd: float = 0.0
    priced: bool = True  # False: no price is known for this model (cost_usd is 0, unknown)
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
    # Why a call did not succeed: the error's class and message, as the planner read it
    # (redacted like every free text). Empty for a call that succeeded.
    error: str = ""


class CallShown(Event):
    """A finished call's arguments and output, for whoever watches the run live.

    Never recorded: the trace keeps only a digest of the arguments (ToolCalled). Only the
    watchers of one run see it (a stream's caller, who gets the same in its RunResult).
    """

    kind: Literal["call_shown"] = "call_shown"
    call_id: str
    name: str
    arguments: dict[str, Any]
    status: str
    output: str
    duration_ms: float


class GuardDecided(Event):
    """The checks at one boundary decided about one text."""

    kind: Literal["guard"] = "guard"
    boundary: str
    subject: str
    action: str
    reasons: list[str]
    duration_ms: float
    # What the checks saw (excerpts); for people reading the trace, never for the planner.
    evidence: list[str] = []


class PolicyDecided(Event):
    """The policy allowed or denied one call."""

    kind: Literal["policy"] = "policy"
    tool: str
    call_id: str
    outcome: str
    reason: str


class ApprovalRequested(Event):
    """A call waits for a person's decision."""

    kind: Literal["approval_requested"] = "approval_requested"
    call_id: str
    tool: str
    reason: str


class ApprovalDecided(Event):
    """A person approved or rejected a call."""

    kind: Literal["approval_decided"] = "approval_decided"
    call_id: str
    tool: str
    approved: bool
    by: str
    reason: str


class Retried(Event):
    """A failed tool or model call is tried again after a wait."""

    kind: Literal["retry"] = "retry"
    target: Literal["tool", "model"]
    name: str
    attempt: int
    error: str
    wait_seconds: float
    call_id: str = ""


class FallbackUsed(Event):
    """A failing tool or model was replaced by its fallback."""

    kind: Literal["fallback"] = "fallback"
    target: Literal["tool", "model"]
    name: str
    fallback: str
    reason: str
    call_id: str = ""


class CircuitOpened(Event):
    """A tool failed too often in a row and is switched off for a while."""

    kind: Literal["circuit_opened"] = "circuit_opened"
    name: str
    failures: int
    cooldown_seconds: float


class Compensated(Event):
    """A completed side effect was undone (or its undoing failed) after the run failed."""

    kind: Literal["compensation"] = "compensation"
    call_id: str
    name: str
    ok: bool
    detail: str


class MemoryUsed(Event):
    """Memories were recalled or stored, or the memory failed."""

    kind: Literal["memory"] = "memory"
    operation: Literal["recall", "remember", "unavailable"]
    count: int
    detail: str = ""


class RunStopped(Event):
    """A run ended before its answer: a limit, a blocked request, a model failure."""

    kind: Literal["run_stopped"] = "run_stopped"
    reason: str
    detail: str


class RunFinished(Event):
    """A run ended; ``stop_reason`` says why, with what it consumed."""

    kind: Literal["run_finished"] = "run_finished"
    stop_reason: str
    steps: int
    answer: str
    model: str = ""
    duration_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_known: bool = True  # False: a model without a known price took part


class AuditRecovered(Event):
    """The audit writer found the log not as it left it, and says what it did about it.

    Not a run event (``trace_id`` is ``"audit"``): the writer appends it before the events
    it was about to write. ``tampering`` is True when no crash explains what it found.
    """

    kind: Literal["audit_recovered"] = "audit_recovered"
    detail: str
    tampering: bool = False


AnyEvent = Annotated[
    RunStarted
    | NodeFinished
    | ModelCalled
    | ToolCalled
    | GuardDecided
    | PolicyDecided
    | ApprovalRequested
    | ApprovalDecided
    | Retried
    | FallbackUsed
    | CircuitOpened
    | Compensated
    | MemoryUsed
    | RunStopped
    | RunFinished,
    Field(discriminator="kind"),
]
Sink = Callable[[Event], None]


def digest(arguments: dict[str, Any]) -> str:
    """A short, stable fingerprint of call arguments (the trace never holds them in clear)."""
    encoded = json.dumps(arguments, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


# The fields that carry free text (from users, models, tools); the others hold ids, names
# and numbers that podium itself produced.
FREE_TEXT = ("request", "answer", "reasons", "evidence", "detail", "reason", "error")


@functools.cache
def _free_text(kind: type[BaseModel]) -> tuple[str, ...]:
    """The free-text fields an event class has."""
    return tuple(name for name in FREE_TEXT if name in kind.model_fields)


def redacted(event: Event) -> Event:
    """The event with secrets and personal data in its free-text fields replaced by [KIND]."""
    changes: dict[str, Any] = {}
    for name in _free_text(type(event)):
        value = getattr(event, name, None)
        if isinstance(value, str) and value:
            text, found = redact(value)
            if found:
                changes[name] = text
        elif isinstance(value, list) and value and isinstance(value[0], str):
            texts = [redact(item)[0] for item in value]
            if texts != value:
                changes[name] = texts
    return event.model_copy(update=changes) if changes else event


class Tracer:
    """Collects one run's events and forwards each to the sinks; a failing sink is logged.

    Every event is redacted once, here, so that no sink (and no RunResult) holds secrets or
    personal data in clear.
    """

    def __init__(
        self, trace_id: str, sinks: list[Sink] | None = None, watchers: list[Sink] | None = None
    ) -> None:
        self.trace_id = trace_id
        self.events: list[Event] = []
        self.sinks = list(sinks or [])
        self.watchers = list(watchers or [])  # live views of this run: they also get shown()
        self.sink_failures: dict[int, str] = {}  # per sink, the first failure: a run warning

    def emit(self, event: Event) -> None:
        """Record ``event`` (redacted) and pass it to every sink."""
        event = redacted(event)
        self.events.append(event)
        for index, sink in enumerate(self.sinks):
            try:
                sink(event)
            except Exception as error:  # a broken sink must not end the run
                logger.exception("trace sink %r failed", sink)
                name = getattr(sink, "__qualname__", type(sink).__name__)
                self.sink_failures.setdefault(
                    index,
                    f"trace sink {name} failed: {type(error).__name__}: {str(error)[:200]}; "
                    "it may lack events of this run",
                )

    def show(self, event: Event) -> None:
        """Pass ``event`` to the watchers only: it is neither recorded nor sent to a sink."""
        for watcher in self.watchers:
            try:
                watcher(event)
            except Exception:  # a broken view must not end the run
                logger.exception("run watcher %r failed", watcher)


def describe(event: Event) -> str | None:
    """One plain line (no markup) for a decision or reliability event, or None for others.

    Guard, policy, memory, approval, retry, fallback, circuit and compensation events, and
    early stops; shared by the terminal (``-v``) and ``podium trace show``, which escape it.
    """
    if isinstance(event, GuardDecided):
        why = f": {'; '.join(event.reasons)}" if event.reasons else ""
        seen = f" [{'; '.join(event.evidence)}]" if event.evidence else ""
        return f"guard {event.boundary} ({event.subject}) {event.action}{why}{seen}"
    if isinstance(event, PolicyDecided):
        return f"policy {event.tool} {event.outcome}: {event.reason}"
    if isinstance(event, MemoryUsed):
        return f"memory {event.operation} {event.count}" + (
            f": {event.detail}" if event.detail else ""
        )
    if isinstance(event, ApprovalRequested):
        return f"approval requested for {event.tool} [{event.call_id}]: {event.reason}"
    if isinstance(event, ApprovalDecided):
        verdict = "approved" if event.approved else "rejected"
        who = f" by {event.by}" if event.by else ""
        return f"{event.tool} [{event.call_id}] {verdict}{who}" + (
            f": {event.reason}" if event.reason else ""
        )
    if isinstance(event, Retried):
        return (
            f"retry {event.target} {event.name} after attempt {event.attempt} "
            f"({event.error}), waiting {event.wait_seconds:.2f}s"
        )
    if isinstance(event, FallbackUsed):
        return f"fallback {event.target} {event.name} -> {event.fallback}: {event.reason[:120]}"
    if isinstance(event, CircuitOpened):
        return (
            f"circuit opened for {event.name} after {event.failures} failures, "
            f"{event.cooldown_seconds:g}s"
        )
    if isinstance(event, Compensated):
        return f"compensation of {event.name} [{event.call_id}]: " + (
            "undone" if event.ok else f"failed: {event.detail}"
        )
    if isinstance(event, RunStopped):
        return f"stopped: {event.reason}: {event.detail}"
    return None
