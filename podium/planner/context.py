"""RunContext: everything the nodes of one run depend on (LangGraph runtime context)."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel

from podium.config import Limits, Price
from podium.guardrails.policy import Policy
from podium.identity import Principal
from podium.planner.budget import TokenCounter
from podium.planner.loops import CallKeys
from podium.storage.base import EffectLedger
from podium.tools.breaker import CircuitBreaker
from podium.tools.executor import Executor
from podium.tools.outcomes import Verdict
from podium.tools.registry import ToolRegistry
from podium.tracing.events import Event, GuardDecided, Tracer

if TYPE_CHECKING:
    from podium.guardrails.screens import Boundary, GuardDecision, Screens
    from podium.memory.store import MemoryStore


@dataclass
class RunContext:
    """The parts and limits a run uses; built by Agent for each run."""

    model: Runnable[Any, BaseMessage]
    model_name: str
    registry: ToolRegistry
    policy: Policy
    counter: TokenCounter
    limits: Limits
    context_window: int
    tracer: Tracer
    principal: Principal
    thread_id: str
    sandbox: Path
    system_prompt: str
    screens: Screens | None = None
    # Whoever watches the run live (tokens, corrections): not the tracer's sinks.
    live: Callable[[Event], None] | None = None
    max_output_tokens: int | None = None
    # Typed output: the model the answer must validate as, and whether the model is asked
    # natively (response_format) rather than through the final-answer tool.
    output_type: type[BaseModel] | None = None
    output_native: bool = False
    # The model as the run's first round asks it (tool_choice required or a tool's name).
    first_model: Runnable[Any, BaseMessage] | None = None
    fallback_model: Runnable[Any, BaseMessage] | None = None
    fallback_name: str = ""
    model_retries: int = 2
    model_retry_wait: float = 0.5
    memory: MemoryStore | None = None
    # Remember runs that established nothing (no call succeeded): their answer is the
    # model's own text, unverified. Off: memory keeps what tool results showed.
    remember_answers: bool = False
    prices: dict[str, Price] = field(default_factory=dict)
    tool_timeout: float = 30.0
    breaker: CircuitBreaker | None = None
    ledger: EffectLedger | None = None
    compensate_on_failure: bool = True
    recall_limit: int = 5
    # Measured on the BFCL retrieval set: 0.25 loses no relevant memory from the top 5, 0.35
    # lost 2% of them (benchmarks/memory_retrieval.py, BENCHMARKS.md).
    recall_threshold: float = 0.25
    memory_tokens: int = 800
    call_keys: CallKeys = field(default_factory=CallKeys)
    # When this call (a run, or its resumption) started: the time limit counts from here,
    # so that waiting for a person or a crash does not count against it.
    started_at: float = field(default_factory=time.time)
    # Token counts by message id, so a long thread is not re-counted every round.
    token_cache: dict[str, int] = field(default_factory=dict)
    bound_cache: dict[str, int] = field(default_factory=dict)
    # Models that read no tokens (the offline router): a turn of theirs costs none.
    tokenless: frozenset[str] = frozenset()
    # Decisions this run resumed with, counting those of earlier resumes of the same round
    # (the interrupted round reads them all, then none is left for a later round).
    resumes: int = 0
    # Tool messages as the model sees them (labeled as data), by message id: built once.
    labeled: dict[str, BaseMessage] = field(default_factory=dict)
    # Calls refused by a reask check, per tool: bounded by the screens' max_reasks.
    reasks: Counter[str] = field(default_factory=Counter)
    # A round's update while act plans the next round: what the checkpoint lacks until the
    # plan comes back (a cancelled or failed run writes it first; podium/runner.py).
    unsaved: dict[str, Any] | None = None

    def at_most(self, message: BaseMessage) -> int:
        """An upper bound of ``tokens(message)`` without the tokenizer, once per message id."""
        return _once(self.bound_cache, message, self.counter.message_at_most)

    def tokens(self, message: BaseMessage) -> int:
        """Tokens of one message, counted once per message id."""
        return _once(self.token_cache, message, self.counter.count_message)

    @functools.cached_property
    def executor(self) -> Executor:
        """The executor for this run, with the argument and output screens wired in."""
        screened = self.screens is not None
        return Executor(
            registry=self.registry,
            default_timeout=self.tool_timeout,
            screen_output=self.screen_output if screened else None,
            breaker=self.breaker,
            ledger=self.ledger,
            emit=self.tracer.emit,
            trace_id=self.tracer.trace_id,
        )

    def screen(
        self, boundary: Boundary, subject: str, text: str, metadata: dict[str, Any] | None = None
    ) -> Verdict:
        """Run one boundary's checks and trace the decision; no screens means allow."""
        if self.screens is None or not self.screens.checks(boundary, subject):
            return Verdict(action="allow", text=text, reasons=[])
        verdict, decision = self.screens.run(boundary, subject, text, metadata)
        self._trace(decision)
        return verdict

    async def ascreen(
        self, boundary: Boundary, subject: str, text: str, metadata: dict[str, Any] | None = None
    ) -> Verdict:
        """``screen`` for the event loop (tool rounds screen their calls at once)."""
        if self.screens is None or not self.screens.checks(boundary, subject):
            return Verdict(action="allow", text=text, reasons=[])
        verdict, decision = await self.screens.arun(boundary, subject, text, metadata)
        self._trace(decision)
        return verdict

    def _trace(self, decision: GuardDecision) -> None:
        self.tracer.emit(
            GuardDecided(
                trace_id=self.tracer.trace_id,
                boundary=decision.boundary,
                subject=decision.subject,
                action=decision.action,
                reasons=decision.reasons,
                evidence=decision.evidence,
                duration_ms=decision.duration_ms,
            )
        )

    async def screen_output(self, tool: str, text: str) -> Verdict:
        """The executor's hook after a call; a sub-agent's answer also passes its screen."""
        verdict = await self.ascreen("output", tool, text)
        if verdict["action"] in ("allow", "fix") and self.is_subagent(tool):
            again = await self.ascreen("subagent", tool, verdict["text"])
            if again["action"] != "allow":
                return again
        return verdict

    def is_subagent(self, tool: str) -> bool:
        """Whether ``tool`` delegates to another agent."""
        from podium.tools.subagents import SUBAGENT_TAG

        found = self.registry.get(tool)
        return found is not None and SUBAGENT_TAG in found.tags


def _once(
    cache: dict[str, int], message: BaseMessage, measure: Callable[[BaseMessage], int]
) -> int:
    """``measure(message)``, kept by message id (a message without one is measured again)."""
    key = message.id
    if key is None:
        return measure(message)
    if key not in cache:
        cache[key] = measure(message)
    return cache[key]
