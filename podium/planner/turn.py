"""One model turn: the prompt it sees, the call with retries and fallback, what it cost."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    BaseMessageChunk,
    SystemMessage,
    ToolMessage,
    message_chunk_to_message,
)
from langchain_core.runnables import Runnable
from tenacity import retry_if_exception

from podium.planner.budget import cost_usd, trim_history
from podium.planner.context import RunContext
from podium.planner.failures import ModelOutputError, describe_model_error, is_transient
from podium.planner.prompts import memory_block, spotlight
from podium.planner.state import PendingCall, RunState, Usage, calls_of, steps_taken
from podium.retries import backoff
from podium.tools.outcomes import UNUSABLE
from podium.tracing.events import FallbackUsed, Retried
from podium.tracing.live import TokensDiscarded, TokenStreamed

ANSWER_RESERVE = 1024  # tokens kept free for the model's reply


def build_prompt(ctx: RunContext, state: RunState) -> list[BaseMessage]:
    """The system prompt (with memories, labeled as data) and the history that fits."""
    system = ctx.system_prompt
    if state.get("memories"):
        system += "\n\n" + memory_block(state["memories"])
    # One id for the run's system prompt (fixed within a run), so it is counted once.
    messages = [
        SystemMessage(content=system, id=f"system-{ctx.tracer.trace_id}"),
        *(_labeled(ctx, m) for m in state["messages"]),
    ]
    budget = ctx.context_window - ANSWER_RESERVE
    # When even the upper bounds fit, the exact counts do too, and trimming keeps the same
    # messages: a short thread is never tokenized.
    fits = sum(ctx.at_most(m) for m in messages) <= budget
    return trim_history(messages, ctx.at_most if fits else ctx.tokens, budget)


def _labeled(ctx: RunContext, message: BaseMessage) -> BaseMessage:
    """Tool output as the model sees it: delimited and labeled as data (spotlighting).

    Podium's own notes (errors, refusals) are not tool output and stay as they are. Each
    message is labeled once per run (by its id), not again on every later turn.
    """
    if not isinstance(message, ToolMessage) or message.status != "success":
        return message
    known = ctx.labeled.get(message.id) if message.id else None
    if known is not None:
        return known
    content = spotlight(message.name or "tool", str(message.content))
    labeled = message.model_copy(update={"content": content})
    if message.id:
        ctx.labeled[message.id] = labeled
    return labeled


def pending_calls(reply: AIMessage) -> list[PendingCall]:
    """The calls a reply asks for, those with unparseable arguments included.

    Every call gets an id of its own, written back into the reply, so that each tool result
    answers exactly one call (a model may omit ids or repeat them).
    """
    taken: set[str] = set()
    for index, item in enumerate([*reply.tool_calls, *reply.invalid_tool_calls]):
        given = item.get("id") or f"call_{index}"
        unique = given if given not in taken else f"{given}_{index}"
        item["id"] = unique
        taken.add(unique)
    _refuse_unstorable(reply)
    return calls_of(reply)


MAX_INTEGER = 2**63 - 1  # what a checkpoint stores; a larger one is no real argument
MAX_DEPTH = 32


def _unstorable(value: object, depth: int = 0) -> str | None:
    """Why an argument value cannot be kept in a checkpoint, or None when it can."""
    if depth > MAX_DEPTH:
        return f"it nests deeper than {MAX_DEPTH} levels"
    if isinstance(value, bool) or value is None or isinstance(value, float | str):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            return f"an integer of {len(str(abs(value)))} digits is out of range"
        return None
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return f"a {type(value).__name__} is not a JSON value"
    for item in items:
        reason = _unstorable(item, depth + 1)
        if reason is not None:
            return reason
    return None


def _refuse_unstorable(reply: AIMessage) -> None:
    """Move calls whose arguments no checkpoint could hold to the reply's invalid calls.

    The reply is saved with the thread: one absurd argument must not make the run fail.
    """
    kept = []
    for item in reply.tool_calls:
        reason = _unstorable(item["args"])
        if reason is None:
            kept.append(item)
            continue
        reply.invalid_tool_calls.append(
            {
                "type": "invalid_tool_call",
                "id": item["id"],
                "name": item["name"],
                "args": None,
                "error": f"{UNUSABLE}{reason}",
            }
        )
    reply.tool_calls = kept


def count_usage(
    ctx: RunContext, state: RunState, prompt: list[BaseMessage], reply: AIMessage, model: str
) -> Usage:
    """The run's usage after this turn: reported tokens, or counted ones when none are.

    A model that reads no tokens (the offline router, which is no language model) and
    reports none spends none, whatever the prompt.

    The turn is counted too (``steps``): the step count travels in the same channel.
    """
    reported = reply.usage_metadata
    if reported and reported.get("total_tokens"):
        spent_in, spent_out = reported["input_tokens"], reported["output_tokens"]
    elif model in ctx.tokenless:
        spent_in, spent_out = 0, 0
    else:  # a model that reports nothing (a scripted one, say): count what it read and wrote
        spent_in = sum(ctx.tokens(m) for m in prompt)
        spent_out = ctx.tokens(reply)
    before = state["usage"]
    cost = cost_usd(model, spent_in, spent_out, ctx.prices)
    return Usage(
        input_tokens=before["input_tokens"] + spent_in,
        output_tokens=before["output_tokens"] + spent_out,
        cost_usd=before["cost_usd"] + (cost or 0.0),
        model_calls=before["model_calls"] + 1,
        unpriced=before.get("unpriced", False) or cost is None,
        steps=steps_taken(state) + 1,
    )


async def _reply(
    ctx: RunContext, model: Runnable[Any, BaseMessage], prompt: list[BaseMessage], step: int
) -> BaseMessage:
    """The model's reply; streamed piece by piece to the run's watcher when it has one."""
    if ctx.live is None:
        return await model.ainvoke(prompt)
    total: BaseMessageChunk | None = None
    streamed = False
    try:
        async for piece in model.astream(prompt):
            chunk = cast("BaseMessageChunk", piece)
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                streamed = True
                ctx.live(TokenStreamed(trace_id=ctx.tracer.trace_id, step=step, text=text))
            total = chunk if total is None else total + chunk
    except BaseException:
        if streamed:  # a retry streams the reply again from its start
            reason = "the model call failed after streaming part of its reply"
            ctx.live(TokensDiscarded(trace_id=ctx.tracer.trace_id, step=step, reason=reason))
        raise
    if total is None:
        raise ModelOutputError("the model streamed nothing")
    return message_chunk_to_message(total)


async def ask(
    ctx: RunContext,
    prompt: list[BaseMessage],
    deadline: float,
    first_round: bool = False,
    step: int = 0,
) -> tuple[BaseMessage, str]:
    """The model's reply, and which model gave it.

    Transient failures are retried with backoff, then the fallback model (if any) is asked;
    TimeoutError when the run's time runs out. Before the run's first tool round the model
    is asked with the run's forced tool choice, if it has one.
    """
    model = ctx.first_model if first_round and ctx.first_model is not None else ctx.model
    candidates = [(ctx.model_name, model)]
    if ctx.fallback_model is not None:
        candidates.append((ctx.fallback_name, ctx.fallback_model))
    failure: Exception | None = None
    for name, model in candidates:
        if failure is not None:
            ctx.tracer.emit(
                FallbackUsed(
                    trace_id=ctx.tracer.trace_id,
                    target="model",
                    name=ctx.model_name,
                    fallback=name,
                    reason=describe_model_error(failure),
                )
            )

        def announce(
            attempt: int, error: BaseException | None, wait: float, name: str = name
        ) -> None:
            ctx.tracer.emit(
                Retried(
                    trace_id=ctx.tracer.trace_id,
                    target="model",
                    name=name,
                    attempt=attempt,
                    wait_seconds=wait,
                    error=describe_model_error(error) if error else "",
                )
            )

        async def attempt_once(model: Runnable[Any, BaseMessage] = model) -> BaseMessage:
            timeout = max(deadline - time.monotonic(), 0.001)
            async with asyncio.timeout(timeout):  # no task of its own, as wait_for makes
                return await _reply(ctx, model, prompt, step)

        try:
            try:  # most calls succeed at once: the retry loop is built only after a failure
                return await attempt_once(), name
            except Exception as error:
                first: Exception | None = error
            retrying = backoff(
                ctx.model_retries + 1,
                deadline,
                ctx.model_retry_wait,
                10.0,
                retry_if_exception(is_transient),
                announce,
            )
            async for attempt in retrying:
                with attempt:
                    if first is not None:  # the first try's failure, decided like any other
                        failed, first = first, None
                        raise failed
                    reply = await attempt_once()
            return reply, name
        except TimeoutError:
            raise
        except Exception as error:
            failure = error
    assert failure is not None
    raise failure
