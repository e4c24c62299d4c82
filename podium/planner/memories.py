"""Long-term memory within a run: what is recalled into the prompt, what a run leaves behind.

Memory is untrusted data twice over: it is written from requests, tool outputs and notes the
planner saves, and every later run of the tenant reads it. So every text is screened on its
way in and again on its way out: the memory screen, which also runs the checks that withhold
a tool's output (podium.guardrails.screens), and with ``guards=None`` still podium's own
injection rules for memory. A flagged text is not stored at all (an episode whole, a note
refused), nor recalled: part of an instruction left behind would still be one. What is
recalled carries its provenance into the prompt: which parts it holds (request, tool,
answer) or which tool saved it, and the thread and run that left it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from langgraph.runtime import Runtime

from podium.guardrails.injection import MEMORY_KINDS, scan
from podium.planner.context import RunContext
from podium.planner.state import RecalledMemory, RunState, Update
from podium.tools.outcomes import Verdict
from podium.tracing.events import GuardDecided, MemoryUsed

SALIENT_RESULTS, SALIENT_CHARS = 3, 300


def screen(ctx: RunContext, subject: str, text: str) -> Verdict:
    """The memory screen's verdict on ``text``; without screens, podium's injection rules."""
    if ctx.screens is not None:
        return ctx.screen("memory", subject, text)
    started = time.perf_counter()
    findings = scan(text, MEMORY_KINDS)
    if not findings:
        return Verdict(action="allow", text=text, reasons=[])
    kinds = ", ".join(dict.fromkeys(f.kind.replace("_", " ") for f in findings))
    reasons = [f"possible prompt injection ({kinds})"]
    ctx.tracer.emit(
        GuardDecided(
            trace_id=ctx.tracer.trace_id,
            boundary="memory",
            subject=subject,
            action="block",
            reasons=reasons,
            evidence=[finding.describe() for finding in findings],
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
    )
    return Verdict(action="block", text=text, reasons=reasons)


async def recall(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Bring back memories similar to the request that fit the memory token budget."""
    ctx = runtime.context
    if ctx.memory is None:
        return {"memories": []}
    try:
        found = await asyncio.to_thread(
            ctx.memory.recall,
            state["request"],
            ctx.principal.tenant,
            ctx.recall_limit,
            ctx.recall_threshold,
        )
    except Exception as error:  # memory is an aid: without it, the run goes on
        ctx.tracer.emit(
            MemoryUsed(
                trace_id=ctx.tracer.trace_id, operation="unavailable", count=0, detail=str(error)
            )
        )
        return {"memories": []}
    kept: list[RecalledMemory] = []
    # Upper bounds (no tokenizer) while they fit the budget, since the counts then fit too;
    # from the first memory they do not settle, exact counts, of what was kept as well.
    used, exact = 0, False
    for memory in found:
        verdict = screen(ctx, "recall", memory.text)
        if verdict["action"] == "block":  # instructions planted in memory never reach the plan
            continue
        text = verdict["text"]
        cost = ctx.counter.count(text) if exact else ctx.counter.at_most(text)
        if not exact and used + cost > ctx.memory_tokens:
            exact = True
            used = sum(ctx.counter.count(m["text"]) for m in kept)
            cost = ctx.counter.count(text)
        if used + cost > ctx.memory_tokens:
            break
        where = memory.provenance
        kept.append(
            RecalledMemory(
                text=text, source=where["source"], thread=where["thread"], run=where["run"]
            )
        )
        used += cost
    ctx.tracer.emit(MemoryUsed(trace_id=ctx.tracer.trace_id, operation="recall", count=len(kept)))
    return {"memories": kept}


def note_guard(ctx: RunContext) -> Callable[[str], tuple[str | None, str]]:
    """The memory screen for a note a tool saves: the text to store, or None and why not."""

    def guard(text: str) -> tuple[str | None, str]:
        verdict = screen(ctx, "memory_save", text)
        if verdict["action"] == "block":
            return None, "; ".join(verdict["reasons"])
        return verdict["text"], ""

    return guard


def recall_guard(ctx: RunContext) -> Callable[[str], str | None]:
    """The memory screen for a memory a tool reads back: the text to show, or None."""

    def guard(text: str) -> str | None:
        verdict = screen(ctx, "recall", text)
        return None if verdict["action"] == "block" else verdict["text"]

    return guard


def _line(text: str) -> str:
    """A part of an episode on one line: no part can start a line that poses as another."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def episode(state: RunState) -> tuple[str, str]:
    """What a run leaves in memory, and the sources of its parts.

    The request, the tool results that mattered (the latest successful ones, what the answer
    was built on, cut short) and the answer, a line each.
    """
    done = [o for o in state.get("outcomes", []) if o["status"] == "ok"][-SALIENT_RESULTS:]
    lines = [f"Request: {_line(state['request'])}"]
    lines += [f"Result of {o['name']}: {_line(o['output'][:SALIENT_CHARS])}" for o in done]
    lines.append(f"Answer: {_line(state.get('answer') or '')}")
    sources = dict.fromkeys(["request", *(f"tool:{o['name']}" for o in done), "answer"])
    return "\n".join(lines), ", ".join(sources)


async def remember_run(ctx: RunContext, state: RunState) -> None:
    """Store what an answered run established, unless the memory screen flags any of it.

    A run no call succeeded in established nothing ("No tool fits", a denied or failed
    call, the model's own text): it is remembered only with ``remember_answers``.
    """
    if ctx.memory is None:
        return
    if not ctx.remember_answers and not any(o["status"] == "ok" for o in state.get("outcomes", [])):
        return
    text, parts = episode(state)
    verdict = screen(ctx, "remember", text)
    if verdict["action"] == "block":
        return
    try:
        await asyncio.to_thread(
            ctx.memory.remember,
            verdict["text"],
            ctx.principal.tenant,
            {"thread": ctx.thread_id, "run": ctx.tracer.trace_id, "source": "run", "parts": parts},
        )
        ctx.tracer.emit(MemoryUsed(trace_id=ctx.tracer.trace_id, operation="remember", count=1))
    except Exception as error:  # a memory failure must not lose the answer
        ctx.tracer.emit(
            MemoryUsed(
                trace_id=ctx.tracer.trace_id, operation="unavailable", count=0, detail=str(error)
            )
        )
