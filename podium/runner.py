"""Runs the planner graph for an agent: one session per call, over the thread's checkpoints."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from langgraph.types import StreamMode

from podium.errors import InvalidRequest
from podium.planner.approvals import Approval, ApprovalRequest, normalize
from podium.planner.compensation import compensate
from podium.planner.graph import build_graph, recursion_limit
from podium.redaction import redact_secrets, without_secrets
from podium.results import RunResult, RunUsage
from podium.tracing.events import NodeFinished, RunFinished, Tracer

if TYPE_CHECKING:
    from langgraph.pregel import Pregel

    from podium.planner.context import RunContext
    from podium.storage.base import Storage
    from podium.tracing.audit import AuditLog

INTERRUPT = "__interrupt__"
Durability = Literal["sync", "async", "exit"]
STREAM_MODES: list[StreamMode] = ["updates", "values"]


class Session:
    """The compiled graph over the thread checkpoints of one backend, for one call."""

    def __init__(
        self, graph: Pregel[Any, Any, Any, Any], max_steps: int, durability: Durability
    ) -> None:
        self.graph = graph
        self.max_steps = max_steps
        self.durability: Durability = durability

    def config(self, thread: str) -> Any:
        """The LangGraph config for ``thread``."""
        return {
            "configurable": {"thread_id": thread},
            "recursion_limit": recursion_limit(self.max_steps),
        }

    async def run(
        self, graph_input: Any, thread: str, context: RunContext, model: str, audit: AuditLog | None
    ) -> RunResult:
        """Stream the graph to its end or its next interrupt; build the RunResult."""
        tracer = context.tracer
        started = time.perf_counter()
        dropped_before = audit.dropped if audit else 0
        final: dict[str, Any] = {}
        waiting: list[ApprovalRequest] = []
        mark = time.perf_counter()
        try:
            async for mode, chunk in self.graph.astream(
                graph_input,
                self.config(thread),
                context=context,
                stream_mode=STREAM_MODES,
                durability=self.durability,
            ):
                if not isinstance(chunk, dict):
                    continue
                if mode == "values":
                    final = chunk
                    continue
                now = time.perf_counter()
                for node, update in chunk.items():
                    if node == INTERRUPT:
                        waiting = [
                            ApprovalRequest.model_validate(r)
                            for i in update
                            for r in i.value["approvals"]
                        ]
                        continue
                    tracer.emit(
                        NodeFinished(
                            trace_id=tracer.trace_id,
                            node=node,
                            duration_ms=round((now - mark) * 1000, 3),
                        )
                    )
                mark = now
        except asyncio.CancelledError:  # the caller gave up: undo what this run did
            if context.compensate_on_failure:
                snapshot = await self.graph.aget_state(self.config(thread))
                await compensate(context, snapshot.values.get("outcomes", []))
            raise
        result = _result(final, thread, tracer, model, started, waiting)
        if audit is not None:
            await asyncio.to_thread(audit.flush)
            lost = audit.dropped - dropped_before
            if lost:
                result.warnings.append(
                    f"audit log {audit.path}: {audit.failure}; "
                    f"{lost} event(s) of this run not recorded"
                )
        return result


@asynccontextmanager
async def session(
    storage: Storage, max_steps: int, durability: Durability
) -> AsyncIterator[Session]:
    """Open the thread checkpoints of ``storage`` for the duration of one call."""
    async with storage.checkpointer() as saver:
        yield Session(build_graph().compile(checkpointer=saver), max_steps, durability)


def _result(
    state: dict[str, Any],
    thread: str,
    tracer: Tracer,
    model: str,
    started: float,
    waiting: list[ApprovalRequest],
) -> RunResult:
    usage = state.get("usage") or {}
    # The RunResult is a sink too: no secret leaves in it, whatever the guards did. Calls
    # waiting for approval show what their checkpoint holds, which is what will run.
    waiting = without_secrets(waiting)
    if waiting:
        stop_reason = "awaiting_approval"
        answer = "Waiting for approval: " + "; ".join(
            f"{r.tool}({', '.join(f'{k}={v!r}' for k, v in r.arguments.items())}) [{r.call_id}]"
            for r in waiting
        )
    else:
        stop_reason = state.get("stop_reason") or "error"
        answer = state.get("answer") or ""
    answer = redact_secrets(answer)
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    tracer.emit(
        RunFinished(
            trace_id=tracer.trace_id,
            stop_reason=stop_reason,
            steps=state.get("step", 0),
            answer=answer,
            model=model,
            duration_ms=latency_ms,
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cost_usd=round(usage.get("cost_usd", 0.0), 8),
        )
    )
    return RunResult(
        answer=answer,
        stop_reason=stop_reason,
        tool_calls=without_secrets(state.get("outcomes") or []),
        usage=RunUsage(
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cost_usd=round(usage.get("cost_usd", 0.0), 8),
            model_calls=usage.get("model_calls", 0),
            steps=state.get("step", 0),
            latency_ms=latency_ms,
        ),
        trace_id=tracer.trace_id,
        thread_id=thread,
        model=model,
        events=tracer.events,
        pending_approvals=waiting,
    )


def resumption(snapshot: Any, thread_id: str, decisions: dict[str, bool | Approval] | None) -> Any:
    """What resumes a thread: approval decisions, or None to continue after a crash."""
    if snapshot.interrupts:
        requests = [
            ApprovalRequest.model_validate(r)
            for i in snapshot.interrupts
            for r in i.value["approvals"]
        ]
        if decisions is None:
            raise InvalidRequest(
                f"thread {thread_id} waits for approval of "
                f"{', '.join(r.call_id for r in requests)}",
                "pass decisions={call_id: True or False, ...}",
            )
        return {k: v.model_dump() for k, v in normalize(requests, decisions).items()}
    if not snapshot.next:
        state = "finished" if snapshot.values else "never ran"
        raise InvalidRequest(
            f"thread {thread_id} has nothing to resume: its last run {state}",
            "start a new run with invoke()",
        )
    if decisions:
        raise InvalidRequest(
            f"thread {thread_id} has no call waiting for approval",
            "resume without decisions to continue its interrupted run",
        )
    return None
