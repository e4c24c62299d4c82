"""Runs the planner graph for an agent: one session per call, over the thread's checkpoints."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

from langgraph.types import StreamMode

from podium.errors import InvalidRequest
from podium.identity import Principal
from podium.planner.approvals import Approval, ApprovalRequest, normalize
from podium.planner.compensation import compensate, to_undo
from podium.planner.cut_short import cut_short
from podium.planner.graph import build_graph, recursion_limit
from podium.planner.state import steps_taken
from podium.redaction import redact_secrets, without_secrets
from podium.results import RunResult, RunUsage, ThreadView
from podium.tracing.events import NodeFinished, RunFinished, RunStopped, Tracer

if TYPE_CHECKING:
    from langgraph.pregel import Pregel

    from podium.planner.context import RunContext
    from podium.planner.state import RunState
    from podium.storage.base import IndexedRun, Storage
    from podium.tracing.audit import AuditLog

logger = logging.getLogger(__name__)

INTERRUPT = "__interrupt__"
# Set (to the reasons it may be cancelled, the last one current) by a queue worker, or by
# `podium run` ("pause"): a cancelled run then keeps its progress and effects, for another
# worker or `podium resume` to resume, or the worker to interrupt or roll back.
CANCEL_REASON: ContextVar[list[str] | None] = ContextVar("podium_cancel_reason", default=None)
# The stop reason of a run cancelled before it finished, once its side effects are undone.
CANCELLED = "cancelled"
# Why a worker cancels a run that then ends (not resumed elsewhere): its open round is cut.
_ENDED = ("interrupt", "rollback")
Durability = Literal["sync", "async", "exit"]
STREAM_MODES: list[StreamMode] = ["updates", "values"]


class Session:
    """The compiled graph over the thread checkpoints of one backend, for one call."""

    def __init__(
        self,
        graph: Pregel[Any, Any, Any, Any],
        storage: Storage,
        max_steps: int,
        durability: Durability,
    ) -> None:
        self.graph = graph
        self.storage = storage
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
        """Stream the graph to its end or its next interrupt; build the RunResult.

        A failure inside the run (anything but the store itself failing) ends it with the
        stop reason ``error``: its side effects are compensated and the thread stays usable.
        """
        tracer = context.tracer
        started = time.perf_counter()
        dropped_before = audit.dropped if audit else 0
        final: dict[str, Any] = {}
        waiting: list[ApprovalRequest] = []
        try:
            final, waiting = await self._stream(graph_input, thread, context)
        except asyncio.CancelledError:  # the caller gave up: undo what this run did
            # A worker's run cancelled (shutdown, interrupt, rollback) keeps what it did: it
            # is resumed elsewhere (its open round runs again), or the worker undoes it.
            reason = CANCEL_REASON.get()
            await self._save_round(thread, context, reason is None or reason[-1] in _ENDED)
            if context.compensate_on_failure and reason is None:
                snapshot = await self.graph.aget_state(self.config(thread))
                values = snapshot.values or {}
                undo = to_undo(context, values.get("outcomes", []))
                run_id = _run_id(graph_input, values)
                remaining = await compensate(context, undo, run_id)
                await self._end_cancelled(thread, run_id, remaining)
            raise
        except Exception as error:
            if self.storage.failure(error) is not None:
                raise
            final = await self._failed(thread, context, error, graph_input)
        result = _result(final, thread, tracer, model, started, waiting)
        if audit is not None:
            flushed = await asyncio.to_thread(audit.flush)
            if (warning := audit.run_warning(dropped_before, flushed)) is not None:
                result.warnings.append(warning)
        result.warnings.extend(tracer.sink_failures.values())
        return result

    async def _stream(
        self, graph_input: Any, thread: str, context: RunContext
    ) -> tuple[dict[str, Any], list[ApprovalRequest]]:
        tracer = context.tracer
        final: dict[str, Any] = {}
        waiting: list[ApprovalRequest] = []
        mark = time.perf_counter()
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
        return final, waiting

    async def _save_round(self, thread: str, context: RunContext, cut: bool) -> None:
        """Checkpoint the round a run was in when it was cut short.

        A round act ran before it was cut short planning the next one is saved as it ran;
        with ``cut``, a round cut short while its calls ran is saved with a result for each
        (podium/planner/cut_short.py). The thread then holds every call with its result (no
        call the model would be shown unanswered), and compensation and a worker's rollback
        find its side effects.
        """
        unsaved, context.unsaved = context.unsaved, None
        config = self.config(thread)
        try:
            if unsaved is not None:
                await self.graph.aupdate_state(config, unsaved, as_node="act")
                return
            if not cut:
                return
            snapshot = await self.graph.aget_state(config)
            if snapshot.next == ("act",) and not snapshot.interrupts:
                update = cut_short(snapshot.values, context.executor.performed)
                await self.graph.aupdate_state(config, update, as_node="act")
        except Exception:  # the store failing here must not keep the run's effects undone
            logger.exception("the round of thread %s could not be checkpointed", thread)

    async def _end_cancelled(self, thread: str, run_id: str, remaining: list[str]) -> None:
        """End a cancelled run whose side effects were undone: it is not resumed.

        Resumed, it would replay from the ledger the results of effects that were undone,
        and the planner would go on as if they stood.
        """
        answer = "The run was cancelled before it finished; its side effects were undone."
        if remaining:
            answer += "\nSide effects that may remain: " + "; ".join(remaining)
        update = {"stop_reason": CANCELLED, "answer": answer, "pending": []}
        try:
            await self.graph.aupdate_state(self.config(thread), update, as_node="finish")
            await asyncio.to_thread(self.storage.runs().end, thread, run_id, [])
        except Exception:  # the store failing: the run stays unfinished, as it was before
            logger.exception("the cancelled run of thread %s could not be ended", thread)

    async def _failed(
        self, thread: str, context: RunContext, error: Exception, graph_input: Any
    ) -> dict[str, Any]:
        """End the run as failed: compensate, record the stop, finish the thread's run."""
        await self._save_round(thread, context, cut=True)
        config = self.config(thread)
        snapshot = await self.graph.aget_state(config)
        answer = f"The run failed: {type(error).__name__}: {error}"
        if context.compensate_on_failure:
            saved = snapshot.values.get("outcomes", [])
            run_id = _run_id(graph_input, snapshot.values)
            remaining = await compensate(context, to_undo(context, saved), run_id)
            if remaining:
                answer += "\nSide effects that may remain: " + "; ".join(remaining)
        context.tracer.emit(
            RunStopped(trace_id=context.tracer.trace_id, reason="error", detail=answer)
        )
        update: dict[str, Any] = {
            "stop_reason": "error",
            "answer": answer,
            "pending": [],
        }
        await self.graph.aupdate_state(config, update, as_node="finish")
        return {**snapshot.values, **update}


def _run_id(graph_input: Any, values: dict[str, Any]) -> str:
    """The id of the run being made: a new run's input names it, a resumed one's state."""
    if isinstance(graph_input, dict) and graph_input.get("run_id"):
        return str(graph_input["run_id"])
    return str(values.get("run_id", ""))


def unfinished(snapshot: Any) -> bool:
    """Whether the thread's last run has not reached its end (it waits, or was cut short).

    A run killed after a node's writes were saved, but before the next checkpoint, has no
    task left to start (``next`` is empty) and yet has not finished: its tasks remain.
    """
    return bool(snapshot.tasks)


@asynccontextmanager
async def session(
    storage: Storage, max_steps: int, durability: Durability
) -> AsyncIterator[Session]:
    """Open the thread checkpoints of ``storage`` for the duration of one call.

    A failure of the store itself (busy, damaged) comes out as its typed error.
    """
    try:
        async with storage.checkpointer() as saver:
            graph = _compiled().copy(update={"checkpointer": saver})
            yield Session(graph, storage, max_steps, durability)
    except Exception as error:
        typed = storage.failure(error)
        if typed is None or typed is error:
            raise
        raise typed from error


@functools.cache
def _compiled() -> Pregel[Any, Any, Any, Any]:
    # Compiling takes about 15 ms; the graph holds no configuration, so every session
    # shares one compiled graph and only swaps in its checkpointer.
    return build_graph().compile()


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
            steps=steps_taken(state),
            answer=answer,
            model=model,
            duration_ms=latency_ms,
            input_tokens=usage.get("input_tokens", 0),
            output_tokens=usage.get("output_tokens", 0),
            cost_usd=round(usage.get("cost_usd", 0.0), 8),
            cost_known=not usage.get("unpriced", False),
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
            cost_known=not usage.get("unpriced", False),
            model_calls=usage.get("model_calls", 0),
            steps=steps_taken(state),
            latency_ms=latency_ms,
        ),
        trace_id=tracer.trace_id,
        thread_id=thread,
        model=model,
        events=tracer.events,
        output=state.get("output"),
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
    if not unfinished(snapshot):
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


def indexed(thread: str, run_id: str, who: Principal, request: str) -> IndexedRun:
    """The run index's record of a run that starts (or resumes) now."""
    from podium.storage.base import IndexedRun

    return IndexedRun(
        thread_id=thread,
        run_id=run_id,
        owner=who.id,
        request=request,
        principal=who.model_dump_json(),
        state="running",
        calls=(),
        since=time.time(),
    )


def first_input(run: IndexedRun, principal: Principal | None = None) -> RunState:
    """The graph's input that starts ``run``: its request, acting for its principal."""
    from langchain_core.messages import HumanMessage

    from podium.planner.state import zero_usage

    who = principal or Principal.model_validate_json(run.principal)
    return {
        "messages": [HumanMessage(content=run.request)],
        "run_id": run.run_id,
        "request": run.request,
        "principal": who.model_dump(mode="json"),
        "memories": [],
        "pending": [],
        "outcomes": None,  # type: ignore[typeddict-item]  # the reducer's reset signal
        "usage": zero_usage(),
        "stop_reason": None,
        "answer": None,
        "output": None,
    }


def lost(last: IndexedRun | None, snapshot: Any) -> bool:
    """Whether the thread's last run began but its request never reached the checkpoints.

    The index records a run before it starts; a process killed before the graph saved the
    run's input leaves the index saying "running" over checkpoints of an earlier run.
    """
    return (
        last is not None
        and last.state == "running"
        and (snapshot.values or {}).get("run_id") != last.run_id
    )


def thread_view(thread_id: str, snapshot: Any, last: IndexedRun | None) -> ThreadView:
    """A thread as its checkpoints (and the run index) describe it."""
    values = snapshot.values or {}
    recorded = values.get("principal") or {}
    gone = lost(last, snapshot)
    return ThreadView(
        thread_id=thread_id,
        exists=bool(values) or last is not None,
        owner=recorded.get("id") or (last.owner if last else None),
        unfinished=unfinished(snapshot) or gone,
        waiting=[
            ApprovalRequest.model_validate(r)
            for i in snapshot.interrupts
            for r in i.value["approvals"]
        ],
        decided=[c for i in snapshot.interrupts for c in i.value.get("decided", [])],
        stop_reason=None if gone else values.get("stop_reason"),
        request=last.request if gone and last else values.get("request"),
    )
