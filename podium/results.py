"""RunResult: what a caller gets back from a run."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from podium.planner.approvals import ApprovalRequest
from podium.tools.outcomes import CallOutcome, DelegatedReply
from podium.tracing.events import AnyEvent, succeeded


class RunUsage(BaseModel):
    """What one run consumed."""

    input_tokens: int
    output_tokens: int
    cost_usd: float
    model_calls: int
    cost_known: bool = True  # False: a model without a known price took part; see cost_usd
    steps: int
    latency_ms: float


class RunResult(BaseModel):
    """The outcome of one run: the answer, why it stopped, the calls made, usage, trace.

    A run that waits for approval stops with ``stop_reason == "awaiting_approval"`` and
    lists ``pending_approvals``; ``Agent.resume`` continues it.
    """

    answer: str
    stop_reason: str
    tool_calls: list[CallOutcome]
    usage: RunUsage
    trace_id: str
    thread_id: str
    model: str
    events: list[AnyEvent]
    pending_approvals: list[ApprovalRequest] = []
    warnings: list[str] = []
    output: Any = None  # with output_type: the answer as that pydantic model

    @property
    def ok(self) -> bool:
        """Whether the run ended with an answer (not a limit, a block, an error or a wait)."""
        return self.stop_reason == "answered"

    @property
    def fulfilled(self) -> bool:
        """Whether the run did what was asked: it answered, and a call gave a result if any ran.

        A run whose every call failed, or was denied or blocked, answered nothing it found
        (the CLI exits 1 for it; ``podium stats`` counts it as a failure).
        """
        return succeeded(self.stop_reason, [c["status"] for c in self.tool_calls])

    def reply(self, name: str) -> DelegatedReply:
        """What this run gives back to the agent that delegated to it as the tool ``name``."""
        usage = self.usage
        stopped = f"{name} stopped ({self.stop_reason}): {self.answer}"
        return DelegatedReply(
            answer=self.answer if self.ok else stopped,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            model_calls=usage.model_calls,
            trace_id=self.trace_id,
        )


class ThreadView(BaseModel):
    """What a thread's checkpoints say: whose it is, and whether its last run has ended."""

    thread_id: str
    exists: bool
    owner: str | None = None  # the principal its runs act for
    unfinished: bool = False  # waiting for approval, or cut short (resume it)
    waiting: list[ApprovalRequest] = []
    # Calls of the waiting round decided already: the run goes on once ``waiting`` are too.
    decided: list[str] = []
    stop_reason: str | None = None
    request: str | None = None  # the last run's request
