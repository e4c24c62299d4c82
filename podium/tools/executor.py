"""Runs a round of tool calls concurrently; every failure becomes a message the planner reads."""

from __future__ import annotations

import asyncio
import contextvars
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from tenacity import retry_if_exception_type

from podium.errors import AbortRun, PodiumError
from podium.retries import backoff
from podium.storage.base import EffectLedger
from podium.tools.breaker import CircuitBreaker
from podium.tools.outcomes import (
    MAX_ARGUMENT_CHARS,
    UNUSABLE,
    CallOutcome,
    DelegatedReply,
    Failed,
    Performed,
    ScreenFn,
    Status,
    ToolCall,
    render_output,
    shown,
)
from podium.tools.registry import Tool, ToolContext, ToolRegistry
from podium.tracing.events import CircuitOpened, Event, FallbackUsed, Retried
from podium.workers import TOOL_POOL

# What a tool raises when the call was wrong, not the tool: bad values, unknown keys,
# missing files. They reach the planner like any failure but never switch the tool off.
_CALLERS_FAULT = (
    ValueError,
    TypeError,
    LookupError,
    ArithmeticError,
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
    PodiumError,
)


def is_outage(error: BaseException) -> bool:
    """Whether a tool's failure says the tool is down (counts for its circuit breaker).

    A model that keeps sending a calculator bad expressions must not switch the calculator
    off for every other run; a server that keeps timing out or refusing connections should.
    """
    return not isinstance(error, _CALLERS_FAULT)


def _ran(tool: Tool, outcome: CallOutcome) -> CallOutcome:
    """``outcome`` of a call that ran, marked so when the tool has side effects."""
    if tool.side_effects:
        outcome["performed"] = True
    return outcome


def _validation_message(tool: Tool, error: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in error.errors()
    )
    return (
        f"error: invalid arguments for '{tool.name}': {problems}. "
        f"Call it again with arguments matching its schema."
    )


@dataclass
class Executor:
    """Runs calls with validation, per-call timeouts and screens, all calls of a round at once."""

    registry: ToolRegistry
    default_timeout: float = 30.0
    screen_output: ScreenFn | None = None
    breaker: CircuitBreaker | None = None
    emit: Callable[[Event], None] | None = None
    trace_id: str = ""
    retry_wait: float = 0.2
    ledger: EffectLedger | None = None
    # The side effects this run performed or replayed, as each completes (before its output
    # is screened: a cancel may come while it is): a run cancelled or failing mid-round,
    # before any checkpoint holds them, still undoes them. Each keeps its output as the
    # tool returned it; it goes to the tool's own compensate function only.
    performed: list[CallOutcome] = field(default_factory=list)

    async def run_round(
        self,
        calls: Sequence[ToolCall],
        context: Callable[[ToolCall], ToolContext],
        time_left: float,
        step: int,
    ) -> list[CallOutcome]:
        """Run ``calls`` concurrently; outcomes come back in call order with their call ids."""
        if len(calls) == 1:  # nothing to run beside it: no task to gather
            return [await self._run_one(calls[0], context(calls[0]), time_left, step)]
        return list(
            await asyncio.gather(*(self._run_one(c, context(c), time_left, step) for c in calls))
        )

    async def _run_one(
        self, call: ToolCall, context: ToolContext, time_left: float, step: int
    ) -> CallOutcome:
        """Check the call, perform it, screen its output; every failure is an outcome."""
        started = time.perf_counter()

        def outcome(status: Status, output: str) -> CallOutcome:
            elapsed = (time.perf_counter() - started) * 1000
            return CallOutcome(
                call_id=call.id,
                name=call.name,
                arguments=call.arguments,
                status=status,
                output=output,
                duration_ms=round(elapsed, 3),
                step=step,
            )

        checked = await self._check(call)
        if isinstance(checked, Failed):
            return outcome(checked.status, checked.message)
        tool, arguments = checked
        performed = await self._perform(tool, arguments, call, context, time_left)
        if isinstance(performed, Failed):
            return outcome(performed.status, performed.message)
        status, text, delegated = performed.status, performed.text, performed.delegated
        if tool.side_effects:
            self.performed.append(outcome(status, text))
        if self.screen_output is not None:
            verdict = await self.screen_output(tool.name, text)
            reasons = "; ".join(verdict["reasons"])
            if verdict["action"] == "reask":
                return _ran(
                    tool,
                    outcome(
                        "error",
                        f"error: the output of '{tool.name}' was rejected by a guard "
                        f"({reasons}). Call it differently, or go on without it.",
                    ),
                )
            if verdict["action"] != "allow" and verdict["action"] != "fix":
                # Quarantined: the planner learns that and why, never what the output said.
                return _ran(
                    tool,
                    outcome(
                        "blocked",
                        f"the output of '{tool.name}' was withheld by a guard ({reasons}); "
                        "do not rely on it",
                    ),
                )
            text = verdict["text"]
        result = outcome(status, text)
        if delegated is not None:
            result["delegated"] = delegated
        return result

    async def _check(self, call: ToolCall) -> tuple[Tool, BaseModel] | Failed:
        """The tool and validated arguments, or what is wrong with the call."""
        tool = self.registry.get(call.name)
        if tool is None:
            available = ", ".join(self.registry.names()) or "none"
            return Failed(
                "unknown_tool",
                (
                    f"error: there is no tool named '{shown(call.name)}'. Available tools: "
                    f"{available}. Call one of these, or answer without a tool."
                ),
            )
        if call.parse_error is not None and call.parse_error.startswith(UNUSABLE):
            return Failed(
                "invalid_arguments",
                (
                    f"error: the arguments for '{tool.name}' cannot be used "
                    f"({call.parse_error.removeprefix(UNUSABLE)}). Call it again with values "
                    "in range."
                ),
            )
        if call.parse_error is not None:
            return Failed(
                "invalid_arguments",
                (
                    f"error: the arguments for '{tool.name}' were not valid JSON "
                    f"({shown(call.parse_error, 300)}). Send them again as one JSON object "
                    "matching its schema."
                ),
            )
        size = len(json.dumps(call.arguments, default=str))
        if size > MAX_ARGUMENT_CHARS:
            return Failed(
                "invalid_arguments",
                (
                    f"error: the arguments for '{tool.name}' are {size} characters, over the limit "
                    f"of {MAX_ARGUMENT_CHARS}. Pass large content by reference (a file, an id)."
                ),
            )
        try:
            arguments = tool.arguments.model_validate(call.arguments)
        except ValidationError as error:
            return Failed("invalid_arguments", _validation_message(tool, error))
        return tool, arguments

    async def _perform(
        self,
        tool: Tool,
        arguments: BaseModel,
        call: ToolCall,
        context: ToolContext,
        time_left: float,
    ) -> Performed | Failed:
        """Run the call, or replay it from the ledger; Failed once retries and fallback fail."""
        if tool.side_effects and self.ledger is not None:
            recorded = await asyncio.to_thread(self.ledger.get, context.idempotency_key)
            if recorded is not None:  # it completed before a crash: never run it twice
                return Performed("replayed", recorded)
        deadline = time.monotonic() + time_left
        succeeded, result = await self._attempts(tool, arguments, context, deadline)
        if not succeeded and tool.fallback and result[0] != "aborted":
            succeeded, result = await self._fallback(tool, call, context, deadline, result)
        if not succeeded:
            return Failed(*result)
        delegated = result if isinstance(result, DelegatedReply) else None
        text = delegated.answer if delegated else render_output(result)
        if tool.side_effects and self.ledger is not None:  # recorded before anything can fail
            await asyncio.to_thread(self.ledger.put, context.idempotency_key, tool.name, text)
        return Performed("ok", text, delegated)

    def _emit(self, event: Event) -> None:
        if self.emit is not None:
            self.emit(event)

    async def _attempts(
        self, tool: Tool, arguments: BaseModel, context: ToolContext, deadline: float
    ) -> tuple[bool, Any]:
        """(True, value), or (False, (status, message)) once retries are spent."""
        if self.breaker is not None and not self.breaker.allows(tool.name):
            return False, (
                "error",
                f"error: tool '{tool.name}' is switched off for now: it "
                f"failed {self.breaker.threshold} times in a row. Use another tool "
                "or try again later.",
            )

        def announce(attempt: int, error: BaseException | None, wait: float) -> None:
            self._emit(
                Retried(
                    trace_id=self.trace_id,
                    target="tool",
                    name=tool.name,
                    attempt=attempt,
                    wait_seconds=wait,
                    call_id=context.call_id,
                    error=f"{type(error).__name__}: {error}",
                )
            )

        timeout = 0.0

        async def attempt_once() -> Any:
            nonlocal timeout
            timeout = min(
                tool.timeout or self.default_timeout, max(deadline - time.monotonic(), 0.001)
            )
            async with asyncio.timeout(timeout):  # no task of its own, as wait_for makes
                return await self._invoke(tool, arguments, context)

        try:
            if tool.retries == 0:  # one try: no retry loop to build (most tools)
                value = await attempt_once()
            else:
                retrying = backoff(
                    tool.retries + 1,
                    deadline,
                    self.retry_wait,
                    5.0,
                    retry_if_exception_type(tool.retry_on),
                    announce,
                )
                async for attempt in retrying:
                    with attempt:
                        value = await attempt_once()
        except AbortRun as error:  # the tool ends the run; nothing retries or falls back
            failure = ("aborted", f"aborted by '{tool.name}': {error}")
        except TimeoutError:
            failure = (
                "timeout",
                f"error: tool '{tool.name}' did not finish within "
                f"{timeout:.3g}s and was cancelled. Try other arguments or another tool.",
            )
        except Exception as error:  # the tool's failure is news for the planner, not a crash
            failure = (
                "error",
                f"error: tool '{tool.name}' failed: {type(error).__name__}: {error}",
            )
            if not is_outage(error):  # the call's fault (bad input): the tool works
                return False, failure
        else:
            self._record(tool.name, ok=True)
            return True, value
        self._record(tool.name, ok=False)
        return False, failure

    def _record(self, name: str, ok: bool) -> None:
        if self.breaker is not None and self.breaker.record(name, ok):
            self._emit(
                CircuitOpened(
                    trace_id=self.trace_id,
                    name=name,
                    failures=self.breaker.failures(name),
                    cooldown_seconds=self.breaker.cooldown,
                )
            )

    async def _fallback(
        self,
        tool: Tool,
        call: ToolCall,
        context: ToolContext,
        deadline: float,
        failure: tuple[Status, str],
    ) -> tuple[bool, Any]:
        """Call the tool's fallback with the same arguments."""
        status, message = failure
        backup = self.registry.get(tool.fallback or "")
        if backup is None:
            return False, (status, f"{message} (its fallback '{tool.fallback}' is not registered)")
        try:
            arguments = backup.arguments.model_validate(call.arguments)
        except ValidationError:
            return False, (
                status,
                f"{message} (its fallback '{backup.name}' does not take these arguments)",
            )
        self._emit(
            FallbackUsed(
                trace_id=self.trace_id,
                target="tool",
                name=tool.name,
                fallback=backup.name,
                reason=message,
                call_id=call.id,
            )
        )
        return await self._attempts(backup, arguments, context, deadline)

    @staticmethod
    async def _invoke(tool: Tool, arguments: BaseModel, context: ToolContext) -> Any:
        kwargs = tool.bind(arguments, context)
        if tool.is_async:
            return await tool.function(**kwargs)
        return await run_in_thread(tool.function, kwargs)


async def run_in_thread(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Run a sync function on a daemon worker thread (reused) and await its result.

    Not the loop's default executor: a call that hangs past its timeout is abandoned (Python
    cannot kill a thread), and ``asyncio.run`` would wait for every executor thread at exit,
    while a daemon thread holds up neither the caller nor other tools.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any = None, error: BaseException | None = None) -> None:
        if future.done():  # the caller timed out and moved on
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def target() -> None:
        try:
            value = context.run(function, **kwargs)
        except BaseException as error:  # handed to the awaiting coroutine, not lost
            outcome: tuple[Any, BaseException | None] = (None, error)
        else:
            outcome = (value, None)
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, *outcome)

    TOOL_POOL.submit(target)
    return await future
