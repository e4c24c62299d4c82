"""Compensation (saga): when a run fails, undo its completed side effects in reverse order."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import Any

from podium.planner.context import RunContext
from podium.tools.executor import run_in_thread
from podium.tools.outcomes import CallOutcome, performed
from podium.tools.registry import idempotency_key
from podium.tracing.events import Compensated

NOT_FAILURES = frozenset({"answered", "awaiting_approval"})


def _keywords(
    compensate: Any, outcome: CallOutcome, ctx: RunContext, recorded: str | None
) -> dict[str, Any]:
    accepted = inspect.signature(compensate).parameters
    keywords = {k: v for k, v in outcome["arguments"].items() if k in accepted}
    if "result" in accepted:
        # What the tool returned, as the ledger recorded it before any guard screened it:
        # an output a guard withheld or redacted still names what to undo.
        keywords["result"] = outcome["output"] if recorded is None else recorded
    if "thread_id" in accepted:
        keywords["thread_id"] = ctx.thread_id
    return keywords


def to_undo(ctx: RunContext, saved: Sequence[CallOutcome]) -> list[CallOutcome]:
    """The run's outcomes as checkpointed, then the side effects it performed since.

    What a run cancelled or failing outside its nodes undoes: a round's outcomes reach the
    checkpoint with the plan that follows them (and with durability=exit only at the end),
    so the executor's own record of what it performed completes the checkpoint's.
    """
    known = {(o["step"], o["call_id"]) for o in saved}
    since = [o for o in ctx.executor.performed if (o["step"], o["call_id"]) not in known]
    return [*saved, *since]


async def compensate(
    ctx: RunContext, outcomes: Sequence[CallOutcome], run_id: str
) -> list[str]:
    """Undo run ``run_id``'s completed side effects, newest first; return those that may remain.

    Each compensation is traced, and recorded in the ledger under the call's own key (its
    run, step, call id and arguments) so that a resumed run does not undo anything twice,
    and another run's call with the same step and id is undone all the same. A compensation
    that fails is recorded and the others still run.
    """
    remaining: list[str] = []
    for outcome in reversed(outcomes):
        tool = ctx.registry.get(outcome["name"])
        if tool is None or not tool.side_effects or not performed(outcome):
            continue
        shown = f"{tool.name}({', '.join(f'{k}={v!r}' for k, v in outcome['arguments'].items())})"
        if tool.compensate is None:
            remaining.append(f"{shown}: no way to undo it")
            continue
        call = idempotency_key(
            ctx.thread_id,
            run_id,
            outcome["step"],
            outcome["call_id"],
            outcome["name"],
            outcome["arguments"],
        )
        key = f"compensate:{call}"
        recorded = None
        if ctx.ledger is not None:
            if await asyncio.to_thread(ctx.ledger.get, key) is not None:
                continue
            recorded = await asyncio.to_thread(ctx.ledger.get, call)
        try:
            keywords = _keywords(tool.compensate, outcome, ctx, recorded)
            if inspect.iscoroutinefunction(tool.compensate):
                await tool.compensate(**keywords)
            else:
                await run_in_thread(tool.compensate, keywords)
        except Exception as error:  # one failed undo must not stop the others
            ok, detail = False, f"{type(error).__name__}: {error}"
            remaining.append(f"{shown}: undoing it failed ({detail})")
        else:
            ok, detail = True, "undone"
            if ctx.ledger is not None:
                await asyncio.to_thread(ctx.ledger.put, key, tool.name, "compensated")
        ctx.tracer.emit(
            Compensated(
                trace_id=ctx.tracer.trace_id,
                call_id=outcome["call_id"],
                name=tool.name,
                ok=ok,
                detail=detail,
            )
        )
    return remaining
