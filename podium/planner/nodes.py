"""The planner's nodes; each is a small function of (state, runtime context) -> state update."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import cast

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.runtime import Runtime

from podium.guardrails.screens import INLINE_CHARS
from podium.planner.authorize import authorize
from podium.planner.compensation import NOT_FAILURES, compensate
from podium.planner.context import RunContext
from podium.planner.failures import describe_model_error
from podium.planner.loops import earlier_result, repeat_note, stalled
from podium.planner.memories import note_guard, recall, recall_guard, remember_run
from podium.planner.output import FINAL_ANSWER, OUTPUT_RETRIES, checked, retry_note
from podium.planner.state import (
    PendingCall,
    RunState,
    Update,
    Usage,
    extend_or_reset,
    steps_taken,
    tool_message,
)
from podium.planner.turn import ask, build_prompt, count_usage, pending_calls
from podium.redaction import redact_secrets
from podium.tools.outcomes import COMPLETED, CallOutcome, ToolCall
from podium.tools.registry import ToolContext
from podium.tracing.events import (
    SUCCEEDED,
    CallShown,
    ModelCalled,
    RunStopped,
    ToolCalled,
    digest,
)
from podium.tracing.live import TokensDiscarded
from podium.workers import POOL


def _stop(ctx: RunContext, state: RunState, reason: str, why: str) -> Update:
    """End the run early with a partial answer built from what this run already did."""
    done = [o for o in state.get("outcomes", []) if o["status"] == "ok"]
    lines = [f"Stopped before finishing: {why.rstrip('.')}."]
    if done:
        lines.append("Done so far:")
        lines += [f"- {o['name']}: {o['output'][:300]}" for o in done]
    answer = redact_secrets("\n".join(lines))  # a model error may quote the key it was sent
    ctx.tracer.emit(RunStopped(trace_id=ctx.tracer.trace_id, reason=reason, detail=why))
    stop: Update = {
        "messages": [AIMessage(content=answer)],
        "answer": answer,
        "stop_reason": reason,
    }
    if state.get("pending"):
        stop["pending"] = []
    return stop


def typed_answer(
    ctx: RunContext, state: RunState, reply: AIMessage, calls: list[PendingCall]
) -> Update | None:
    """The run's typed output from this reply, a retry, or None for an ordinary tool round."""
    assert ctx.output_type is not None
    final = next((c for c in calls if c["name"] == FINAL_ANSWER), None)
    if final is None and calls:
        return None  # tool calls first; the answer comes later
    data, problems = checked(ctx.output_type, final["arguments"] if final else reply.content)
    if data is not None:
        answer = json.dumps(data)
        replies = [
            ToolMessage(
                content="accepted" if c is final else "not run: the final answer was given",
                tool_call_id=c["id"],
                name=c["name"],
            )
            for c in calls
        ]
        return {
            "messages": [reply, *replies, AIMessage(content=answer)],
            "answer": answer,
            "output": data,
            "stop_reason": "answered",
        }
    ctx.reasks["(output)"] += 1
    if ctx.reasks["(output)"] > OUTPUT_RETRIES:
        why = f"the answer did not fit {ctx.output_type.__name__} after {OUTPUT_RETRIES} retries"
        return _stop(ctx, state, "output_invalid", f"{why} ({problems})")
    note = retry_note(ctx.output_type, problems, ctx.output_native)
    if final is not None:  # the call comes back refused, with the errors, like a bad call
        refused = PendingCall(**{**final, "denial": note, "refused_as": "invalid_arguments"})
        return {"pending": [refused if c is final else c for c in calls]}  # on to act
    return {"messages": [reply, HumanMessage(content=note, name="guard")]}  # back to plan


def _cut_off(ctx: RunContext, state: RunState, reply: AIMessage) -> Update:
    """End a run whose reply hit the output limit: its calls may be cut, so none runs."""
    limit = f" ({ctx.max_output_tokens} tokens)" if ctx.max_output_tokens else ""
    stop = _stop(
        ctx,
        state,
        "output_limit",
        f"the model's reply was cut off at its output limit{limit}; raise "
        "PODIUM_MAX_OUTPUT_TOKENS or ask for less",
    )
    written = reply.content if isinstance(reply.content, str) else ""
    if written:
        stop["answer"] += f"\nThe reply so far: {written[:2000]}"
        stop["messages"] = [AIMessage(content=stop["answer"])]
    return stop


async def begin(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Check the user's request, then recall memories for it; a blocked request ends the run.

    One node for both: recall only reads, so a run killed inside it starts again from the
    checks, which decide the same way.
    """
    checked = await _screen_input(state, runtime)
    if checked.get("stop_reason"):
        return checked
    request = checked.get("request", state["request"])
    return {**checked, **await recall(cast("RunState", {**state, "request": request}), runtime)}


async def _screen_input(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Run the input checks on the user's request; a blocked request ends the run."""
    ctx = runtime.context
    if ctx.screens is None:
        return {}
    verdict = await ctx.ascreen("input", "request", state["request"])
    if verdict["action"] == "block":
        return _stop(
            ctx,
            state,
            "input_blocked",
            "a guard blocked the request: " + "; ".join(verdict["reasons"]),
        )
    if verdict["action"] == "fix":
        last = state["messages"][-1]
        fixed = last.model_copy(update={"content": verdict["text"]})
        return {"messages": [fixed], "request": verdict["text"]}
    return {}


async def plan(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Ask the model for the next calls or the answer, within the run's budgets."""
    ctx = runtime.context
    step = steps_taken(state)
    elapsed = time.time() - ctx.started_at
    usage = state["usage"]
    spent = ctx.limits.exceeded(
        step,
        elapsed,
        len(state.get("outcomes", [])),
        usage["input_tokens"] + usage["output_tokens"],
        usage["cost_usd"],
    )
    if spent is not None:
        return _stop(ctx, state, *spent)
    aborted = next((o for o in state.get("outcomes", []) if o["status"] == "aborted"), None)
    if aborted is not None:  # a tool ended the run: its side effects are undone in finish
        return _stop(ctx, state, "aborted", aborted["output"])
    if stalled(state.get("outcomes", []), ctx.limits.max_repeats, ctx.call_keys):
        return _stop(
            ctx,
            state,
            "loop_detected",
            f"the last {ctx.limits.max_repeats} rounds only repeated earlier calls or results",
        )
    remaining = ctx.limits.max_seconds - elapsed
    prompt = build_prompt(ctx, state)
    started = time.perf_counter()
    try:
        first_round = not state.get("outcomes")
        reply, used = await ask(ctx, prompt, time.monotonic() + remaining, first_round, step + 1)
    except TimeoutError:
        return _stop(
            ctx,
            state,
            "time_limit",
            f"the time limit ({ctx.limits.max_seconds:g}s) passed while the model was answering",
        )
    except Exception as error:  # the model's failure ends this run, not the process
        return _stop(ctx, state, "model_error", describe_model_error(error))
    if not isinstance(reply, AIMessage):
        reply = AIMessage(content=str(reply.content))
    if isinstance(reply.content, str) and len(reply.content) > INLINE_CHARS:
        await _without_secrets(reply.content)  # the checkpoint's serializer finds it scanned
    usage = count_usage(ctx, state, prompt, reply, used)
    calls = pending_calls(reply)
    ctx.tracer.emit(
        ModelCalled(
            trace_id=ctx.tracer.trace_id,
            model=used,
            step=step + 1,
            input_tokens=usage["input_tokens"] - state["usage"]["input_tokens"],
            output_tokens=usage["output_tokens"] - state["usage"]["output_tokens"],
            cost_usd=usage["cost_usd"] - state["usage"]["cost_usd"],
            priced=used in ctx.prices,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            tool_calls=[c["name"] for c in calls],
        )
    )
    update: Update = {"messages": [reply], "usage": usage}  # act reads the calls from the reply
    if ctx.output_type is not None:
        typed = typed_answer(ctx, state, reply, calls)
        if typed is not None:
            return {**update, **typed}
    if reply.response_metadata.get("finish_reason") == "length":  # cut off mid-reply
        return {**update, **_cut_off(ctx, {**state, "usage": usage}, reply)}
    if calls:
        return update
    answer = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    return {**update, "answer": answer, "stop_reason": "answered"}


def _unless_repeated(
    ctx: RunContext, call: PendingCall, outcomes: list[CallOutcome]
) -> PendingCall:
    """The call, or, when it repeats a completed call of this run, a refusal with its result."""
    tool = ctx.registry.get(call["name"])
    if call["denial"] is not None or tool is None or tool.repeatable:
        return call
    previous = earlier_result(outcomes, call["name"], call["arguments"], ctx.call_keys)
    if previous is None:
        return call
    return PendingCall(**{**call, "denial": repeat_note(previous), "repeat": True})


def failure(outcome: CallOutcome) -> str:
    """Why a call did not succeed, as the trace keeps it (its error class and message)."""
    if outcome["status"] in SUCCEEDED:
        return ""
    return outcome["output"].removeprefix("error: ")[:500]


async def act(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Run this round's calls, then plan the next round: one node, one checkpoint a step.

    The checkpoint after a round's calls is the one before the next plan, so the two are
    one write: a run killed while planning starts the round again from its authorization,
    which decides the same way, and the ledger replays the side effects that completed
    instead of repeating them; a tool that only reads runs again, and the plan is asked
    for again (no plan is lost that anything acted on). Two kinds of round are checkpointed
    before the next plan instead (act goes on to plan): one a person decided calls of,
    since their decision is spent once the round has run, and one whose calls could not be
    replayed (a sub-agent's, whose own run would start afresh; a side effect that failed,
    which the ledger does not record). While the next round is planned, the round's update
    waits on the context (``unsaved``): a run cancelled or failing then writes it to the
    checkpoint first (podium/runner.py), so the thread keeps every call with its result and
    its side effects can be undone.
    """
    ctx = runtime.context
    ran, settle = await run_round(state, runtime)
    if settle:
        return ran
    ctx.unsaved = ran  # left there if planning raises or is cancelled: the runner saves it
    planned = await plan(applied(state, ran), runtime)
    ctx.unsaved = None
    return {
        **ran,
        **planned,
        "messages": [*ran["messages"], *planned.get("messages", [])],
        "outcomes": [*ran["outcomes"], *planned.get("outcomes", [])],
    }


async def run_round(state: RunState, runtime: Runtime[RunContext]) -> tuple[Update, bool]:
    """Authorize the planned calls, then run those allowed; and whether to checkpoint now.

    The round is checkpointed before the next plan when a person decided some of its calls
    or one of them could not be replayed (see act).
    """
    ctx = runtime.context
    decided, asked = await authorize(state, runtime)
    done = await execute(RunState(**{**state, **decided}), runtime)  # type: ignore[typeddict-item]
    if state.get("pending"):  # calls the planner changed were kept for this round only
        done["pending"] = []
    return done, asked or any(_unreplayable(ctx, o) for o in done["outcomes"])


def _unreplayable(ctx: RunContext, outcome: CallOutcome) -> bool:
    """Whether running the call again would not be a replay from the ledger.

    A sub-agent's run is new at each call (its keys with it), and a side effect that
    failed or timed out may have happened without a record: either could be repeated.
    """
    if ctx.is_subagent(outcome["name"]):
        return True
    tool = ctx.registry.get(outcome["name"])
    return tool is not None and tool.side_effects and outcome["status"] not in COMPLETED


def applied(state: RunState, update: Update) -> RunState:
    """``state`` as the graph's reducers make it with ``update``: what the next plan reads.

    The new messages get their ids here, as the graph would give them, so that what is
    worked out per message id (labels, token counts) is worked out once.
    """
    messages = update.get("messages", [])
    for message in messages:
        if message.id is None:
            message.id = str(uuid.uuid4())
    merged = {**state, **update, "messages": [*state["messages"], *messages]}
    if "outcomes" in update:
        merged["outcomes"] = extend_or_reset(state.get("outcomes", []), update["outcomes"])
    return cast("RunState", merged)


async def execute(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Run the allowed calls of this round concurrently; answer every call id in order."""
    ctx = runtime.context
    step = steps_taken(state)
    pending = [_unless_repeated(ctx, c, state.get("outcomes", [])) for c in state["pending"]]
    allowed = [
        ToolCall(c["id"], c["name"], c["arguments"], c["parse_error"])
        for c in pending
        if c["denial"] is None
    ]

    guard_note, guard_recalled = note_guard(ctx), recall_guard(ctx)

    def tool_context(call: ToolCall) -> ToolContext:
        return ToolContext(
            call_id=call.id,
            thread_id=ctx.thread_id,
            run_id=state["run_id"],
            step=step,
            principal=ctx.principal,
            sandbox=ctx.sandbox,
            memory=ctx.memory,
            memory_guard=guard_note,
            recall_guard=guard_recalled,
            tool=call.name,
            arguments=call.arguments,
        )

    remaining = ctx.limits.max_seconds - (time.time() - ctx.started_at)
    ran = iter(await ctx.executor.run_round(allowed, tool_context, remaining, step))
    outcomes: list[CallOutcome] = []
    for call in pending:
        if call["denial"] is not None:
            outcomes.append(
                CallOutcome(
                    call_id=call["id"],
                    name=call["name"],
                    arguments=call["arguments"],
                    status=call.get("refused_as")
                    or ("repeated" if call.get("repeat") else "denied"),
                    output=call["denial"],
                    duration_ms=0.0,
                    step=step,
                )
            )
        else:
            outcomes.append(next(ran))
    # No secret enters the state (the model, checkpoints, the answer, memory), guards or not:
    # an error quoting a key is as much a tool's output as its result.
    for outcome in outcomes:
        outcome["output"] = await _without_secrets(outcome["output"])
    messages = []
    for outcome in outcomes:
        ctx.tracer.emit(
            ToolCalled(
                trace_id=ctx.tracer.trace_id,
                call_id=outcome["call_id"],
                name=outcome["name"],
                arguments_digest=digest(outcome["arguments"]),
                status=outcome["status"],
                duration_ms=outcome["duration_ms"],
                error=failure(outcome),
            )
        )
        ctx.tracer.show(
            CallShown(
                trace_id=ctx.tracer.trace_id,
                call_id=outcome["call_id"],
                name=outcome["name"],
                arguments=outcome["arguments"],
                status=outcome["status"],
                output=outcome["output"],
                duration_ms=outcome["duration_ms"],
            )
        )
        messages.append(tool_message(outcome))
    update: Update = {"messages": messages, "outcomes": outcomes}
    delegated = [o["delegated"] for o in outcomes if "delegated" in o]
    if delegated:  # sub-agents' consumption is the run's too, for its budgets and report
        usage = state["usage"]
        update["usage"] = Usage(
            **{
                **usage,  # the step count and whether every call had a price
                "input_tokens": usage["input_tokens"] + sum(d.input_tokens for d in delegated),
                "output_tokens": usage["output_tokens"] + sum(d.output_tokens for d in delegated),
                "cost_usd": usage["cost_usd"] + sum(d.cost_usd for d in delegated),
                "model_calls": usage["model_calls"] + sum(d.model_calls for d in delegated),
            }
        )
    return update


async def _without_secrets(text: str) -> str:
    """``redact_secrets`` of a tool's output or a reply; a long one is scanned off the loop.

    The scan is remembered per text, so the checkpoints' serializer finds it done: the
    redacted text is scanned there too (the text the state keeps).
    """
    if len(text) <= INLINE_CHARS:
        return redact_secrets(text)

    def scanned() -> str:
        redacted = redact_secrets(text)
        redact_secrets(redacted)
        return redacted

    return await asyncio.wrap_future(POOL.submit(scanned))


async def finish(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Check the answer; then undo a failed run's side effects, or remember what it learned.

    An answer a check rejects goes back to plan (no stop reason) and nothing else is done.
    """
    checked = await _screen_output(state, runtime)
    if "stop_reason" in checked and checked["stop_reason"] is None:
        return checked
    answer = checked.get("answer", state.get("answer"))
    ended = await _ended(cast("RunState", {**state, "answer": answer}), runtime)
    return {**checked, **ended}


async def _screen_output(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Run the answer checks: redact what they fix, withhold what they block."""
    ctx = runtime.context
    answer = state.get("answer") or ""
    if ctx.screens is None or not answer:
        return {}
    verdict = await ctx.ascreen("answer", "answer", answer)
    if verdict["action"] == "allow":
        return {}
    reasons = "; ".join(verdict["reasons"])
    if verdict["action"] == "reask" and state.get("stop_reason") == "answered":
        ctx.reasks["(answer)"] += 1
        if ctx.reasks["(answer)"] <= ctx.screens.max_reasks:
            note = HumanMessage(
                content=f"A guard rejected that answer ({reasons}). Answer again without that.",
                name="guard",
            )
            return {"messages": [note], "answer": None, "stop_reason": None}  # back to plan
    if verdict["action"] == "fix":
        text = verdict["text"]
    else:
        text = f"The answer was withheld by a guard: {reasons}"
    if ctx.live is not None:  # what was streamed is not the answer: a watcher replaces it
        ctx.live(
            TokensDiscarded(
                trace_id=ctx.tracer.trace_id,
                step=steps_taken(state),
                reason=f"a guard on the answer {verdict['action']}ed it: {reasons}",
                replacement=text,
            )
        )
    last = state["messages"][-1]
    return {"answer": text, "messages": [last.model_copy(update={"content": text})]}


async def _ended(state: RunState, runtime: Runtime[RunContext]) -> Update:
    """Undo a failed run's side effects; remember what an answered run learned."""
    ctx = runtime.context
    if ctx.compensate_on_failure and state.get("stop_reason") not in NOT_FAILURES:
        remaining = await compensate(ctx, state.get("outcomes", []), state["run_id"])
        if remaining:
            note = "\nSide effects that may remain: " + "; ".join(remaining)
            return {"answer": (state.get("answer") or "") + note}
        return {}
    if state.get("stop_reason") == "answered":
        await remember_run(ctx, state)
    return {}
